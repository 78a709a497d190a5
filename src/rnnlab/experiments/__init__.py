"""Studies and final runs built on the training engine, one sub-package per job.

- `sweeps`: models x runs from a config, stored in SQLite, resumable, run here or as Ray tasks;
- `reports`: what a sweep's store says (intervals, paired comparisons, figures, documents);
- `recipes`: the final-run protocols (recipe, stack, search, language-model fine-tuning,
  auto) and the linear baselines beside them;
- `reproductions`: the textbook's five models and the "beyond" tasks;
- `kinds`: the one registry of config kinds (`run_config` runs any of them); `results`: the
  one writer of ``results.json``; `sweep`: the sweep kind's runner (runs, then the report).
"""
