"""Turn an experiment folder into report.md, report.html, results.csv, results.json and figures.

Works on partial experiments: runs that failed, are still pending or were interrupted are
listed as such, and every statistic uses the runs that finished.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from rnnlab.errors import RnnlabError
from rnnlab.experiments.results import write_results
from rnnlab.experiments.reports import figures
from rnnlab.experiments.sweeps.config import ExperimentConfig
from rnnlab.experiments.sweeps.datasets import DataCache
from rnnlab.experiments.reports.document import Document
from rnnlab.experiments.sweeps.runner import ensure_baselines
from rnnlab.experiments.reports.stats import CONFIDENCE, RESAMPLES, summarise
from rnnlab.experiments.sweeps.store import ExperimentStore, RunRecord, owner_alive
from rnnlab.experiments.reports.study import Answer, answer_questions, best_claim
from rnnlab.files import write_text

FIGURES = {"boxplot": "accuracy_boxplot.png", "curves": "training_curves.png", "heatmap": "differences_heatmap.png"}
KERAS_DEFAULT_RATES = {"adam": 0.001, "rmsprop": 0.001, "sgd": 0.01, "adamw": 0.001, "nadam": 0.001}


@dataclass
class ReportData:
    """Everything the report shows, gathered from the experiment database."""

    directory: Path
    config: ExperimentConfig
    runs: list[RunRecord]
    status: dict[tuple[str, int], str]
    accuracies: dict[str, dict[int, float]]
    models: list[dict]
    settings: list[tuple[str, str]]
    baselines: list[dict]
    answers: list[Answer] = field(default_factory=list)
    claims: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        found = {}
        for s in self.status.values():
            found[s] = found.get(s, 0) + 1
        return found

    @property
    def baseline_accuracy(self) -> float | None:
        values = [b["accuracy"] for b in self.baselines]
        return sum(values) / len(values) if values else None


def collect(directory: str | Path, *, baseline: bool = True, cache=None) -> ReportData:
    """Read the experiment in `directory`; score missing baselines when `baseline` is set."""
    directory = Path(directory)
    with ExperimentStore(directory, create=False) as store:
        config = store.config()
        if config is None:
            raise RnnlabError(f"{directory} holds no experiment config; run the experiment first.")
        notes = []
        if baseline and config.baseline:
            try:
                ensure_baselines(store, config, cache or DataCache())
            except RnnlabError as exc:
                notes.append(f"The text baseline could not be scored: {exc}")
        runs, baselines = store.runs(), list(store.baselines().values())
    by_key = {(r.model, r.run_index): r for r in runs}
    status = {}
    for planned in config.plan():
        record = by_key.get((planned.model, planned.run_index))
        state = record.status if record else "missing"
        if state == "running" and not owner_alive(record.owner):
            state = "interrupted"
        status[(planned.model, planned.run_index)] = state
    accuracies = {m: {r.run_index: r.test_accuracy for r in runs if r.model == m and r.status == "done"
                      and r.test_accuracy is not None} for m in config.model_names}
    data = ReportData(directory, config, runs, status, accuracies, _model_rows(config, runs, status),
                      _settings(config, runs), baselines, notes=notes)
    options = {"confidence": CONFIDENCE, "resamples": RESAMPLES, "seed": config.seed}
    data.answers = answer_questions(accuracies, **options)
    best = best_claim(accuracies, **options)
    data.claims = ([best] if best else []) + [a.claim_check() for a in data.answers]
    return data


def _model_rows(config: ExperimentConfig, runs: list[RunRecord], status) -> list[dict]:
    rows = []
    for model in config.model_names:
        done = [r for r in runs if r.model == model and r.status == "done"]
        states = [s for (m, _), s in status.items() if m == model]
        _, recipe = config.spec_and_recipe(model)
        seconds = [r.train_seconds for r in done if r.train_seconds is not None]
        rows.append({
            "model": model, "planned": config.runs,
            **{s: states.count(s) for s in ("done", "failed", "pending", "running", "interrupted", "missing")},
            "accuracy": summarise(r.test_accuracy for r in done if r.test_accuracy is not None),
            "params": done[0].params if done else None,
            "train_seconds_mean": sum(seconds) / len(seconds) if seconds else None,
            "published_accuracy": recipe.published_accuracy,
        })
    return rows


def _settings(config: ExperimentConfig, runs: list[RunRecord]) -> list[tuple[str, str]]:
    resolved = {m: config.spec_and_recipe(m) for m in config.model_names}

    def common(getter) -> str:
        values = {m: getter(spec, recipe) for m, (spec, recipe) in resolved.items()}
        distinct = list(dict.fromkeys(map(str, values.values())))
        return distinct[0] if len(distinct) == 1 else "per model: " + ", ".join(f"{m} {v}" for m, v in values.items())

    def rate(spec, recipe) -> str:
        if spec.learning_rate is not None:
            return str(spec.learning_rate)
        default = KERAS_DEFAULT_RATES.get(spec.optimizer)
        return f"Keras default ({default})" if default else "Keras default"

    done = [r for r in runs if r.status == "done" and r.data]
    sizes = lambda key: ", ".join(sorted({f"{r.data.get(key, 0):,}" for r in done})) or "-"  # noqa: E731
    backends = sorted({f"{r.backend} ({', '.join(f'{k} {v}' for k, v in (r.versions or {}).items())})"
                       for r in done if r.backend})
    limit = config.data.get("limit")
    return [
        ("models", ", ".join(config.model_names)),
        ("runs per model", str(config.runs)),
        ("dataset", common(lambda s, r: r.dataset)),
        ("subsample", f"{limit:,} train and {limit:,} test examples, drawn before the length rule" if limit
         else "none (full dataset)"),
        ("tokenizer", common(lambda s, r: r.tokenizer)),
        ("vocabulary size", common(lambda s, r: s.vocab_size)),
        ("sequence length (maxlen)", common(lambda s, r: s.maxlen)),
        ("length rule", common(lambda s, r: r.length_rule)),
        ("padding / truncating", common(lambda s, r: f"{r.padding} / {r.truncating}")),
        ("validation split", common(lambda s, r: r.validation_split)),
        ("training / validation / test examples", f"{sizes('train_examples')} / {sizes('validation_examples')} / "
                                                  f"{sizes('test_examples')}"),
        ("epochs", common(lambda s, r: r.epochs)),
        ("batch size", common(lambda s, r: r.batch_size)),
        ("optimizer", common(lambda s, r: s.optimizer)),
        ("learning rate", common(rate)),
        ("data order", "reshuffled every epoch (Keras fit shuffle=True), seeded per run"),
        ("initial weights", "Keras default initialisers; " + (
            "each run its own (init seed per model and run)" if config.vary_init
            else "every run of a model starts from the same weights (one init seed per model)")),
        ("validation split per run", "each run shuffles before splitting (its own split)" if config.vary_split
         else "one split shared by all runs"),
        ("seed", str(config.seed)),
        ("backend", "; ".join(backends) or "-"),
    ]


# ------------------------------------------------------------------ writing
def write_report(directory: str | Path, *, baseline: bool = True, cache=None) -> dict[str, Path]:
    """Write the report files into `directory`; returns {kind: path}."""

    data = collect(directory, baseline=baseline, cache=cache)
    directory = data.directory
    paths = {"markdown": directory / "report.md", "html": directory / "report.html",
             "csv": directory / "results.csv", "json": directory / "results.json"}
    paths["boxplot"] = figures.plot_accuracy_boxes(data.accuracies, directory / FIGURES["boxplot"],
                                                   data.baseline_accuracy)
    histories = {m: [r.history for r in data.runs if r.model == m and r.status == "done" and r.history]
                 for m in data.config.model_names}
    paths["curves"] = figures.plot_mean_curves(histories, directory / FIGURES["curves"])
    if data.answers:
        paths["heatmap"] = figures.plot_difference_heatmaps(data.answers, directory / FIGURES["heatmap"])
    document = build_document(data, {k: p.name for k, p in paths.items() if k in FIGURES})
    write_text(paths["markdown"], document.markdown())
    write_text(paths["html"], document.html())
    write_text(paths["csv"], results_csv(data))
    write_results(directory, "sweep", data.config.name, results_json(data))
    return paths


def _pct(value, digits: int = 2) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}"


def build_document(data: ReportData, figure_files: dict[str, str]) -> Document:
    config, counts = data.config, data.counts
    doc = Document(f"Experiment: {config.name}")
    total = len(data.status)
    unfinished = total - counts.get("done", 0)
    state = "complete" if not unfinished else "partial"
    doc.paragraph(f"{counts.get('done', 0)} of {total} runs done ({state}); "
                  + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s != "done" and n) + "."
                  if unfinished else f"All {total} runs done.")
    for note in data.notes:
        doc.paragraph(note)

    doc.heading("Report card")
    rows = []
    for m in data.models:
        a = m["accuracy"]
        others = ", ".join(f"{m[s]} {s}" for s in ("failed", "interrupted", "running", "pending", "missing") if m[s])
        rows.append([m["model"], f"{m['params']:,}" if m["params"] else "-", f"{m['done']}/{m['planned']}"
                     + (f" ({others})" if others else ""), _pct(a["mean"]), _pct(a["std"]),
                     _pct(a["min"]), _pct(a["max"]),
                     "-" if m["train_seconds_mean"] is None else f"{m['train_seconds_mean']:.1f}"])
    if data.baselines:
        b = summarise(x["accuracy"] for x in data.baselines)
        rows.append(["TF-IDF + logistic regression", "-", f"{b['n']} split(s)", _pct(b["mean"]), _pct(b["std"]),
                     _pct(b["min"]), _pct(b["max"]), f"{sum(x['seconds'] for x in data.baselines) / b['n']:.1f}"])
    doc.table(["model", "parameters", "runs done", "mean acc. (%)", "std", "min", "max", "mean train s"], rows)
    if "boxplot" in figure_files:
        doc.image(figure_files["boxplot"], "Test accuracy per model over runs (dashed: text baseline)")

    if any(m["published_accuracy"] is not None for m in data.models):
        _published_table(doc, data)
    _baseline_section(doc, data)
    if data.answers:
        _questions_section(doc, data, figure_files)
    doc.heading("Training curves")
    doc.image(figure_files["curves"], "Mean validation accuracy per epoch, over each model's finished runs")
    _runs_section(doc, data)
    doc.heading("Settings")
    doc.table(["setting", "value"], [list(s) for s in data.settings], right=set())
    return doc


def _published_table(doc: Document, data: ReportData) -> None:
    doc.heading("Comparison with the published accuracies")
    rows = []
    for m in data.models:
        a, pub = m["accuracy"], m["published_accuracy"]
        ours = "-" if a["mean"] is None else f"{100 * a['mean']:.2f} ± {_pct(a['std']) if a['std'] is not None else '-'}"
        diff = f"{100 * a['mean'] - pub:+.2f}" if a["mean"] is not None and pub is not None else "-"
        rows.append([m["model"], f"{m['params']:,}" if m["params"] else "-",
                     "-" if m["train_seconds_mean"] is None else f"{m['train_seconds_mean']:.1f}",
                     f"{ours} (n={a['n']})", "-" if pub is None else f"{pub:.2f}", diff])
    doc.table(["model", "parameters", "train seconds (mean)", "test accuracy % (mean ± std)", "published %",
               "difference (points)"], rows)


def _baseline_section(doc: Document, data: ReportData) -> None:
    doc.heading("Linear baseline")
    if not data.baselines:
        doc.paragraph("No baseline was scored (turned off, or the data could not be read).")
        return
    first = data.baselines[0]
    doc.paragraph(f"{first['vectorizer']} + {first['classifier']}, trained on the same training texts as the "
                  "runs (validation part excluded) and scored on the same test examples, once per data split.")
    doc.table(["split seed", "training texts", "test texts", "n-gram features", "test accuracy (%)"],
              [[b["data"]["split_seed"], f"{b['train_examples']:,}", f"{b['test_examples']:,}",
                f"{b['n_features']:,}", _pct(b["accuracy"])] for b in data.baselines])


def _questions_section(doc: Document, data: ReportData, figure_files: dict[str, str]) -> None:
    doc.heading("The study's questions")
    doc.paragraph(f"Each table reads right minus left, in percentage points of test accuracy. Intervals are "
                  f"{100 * CONFIDENCE:.0f}% percentile bootstrap intervals ({RESAMPLES:,} resamples) of the mean "
                  "difference; runs are paired by run index (same split and data order) when both models finished "
                  "the same runs, otherwise the two samples are resampled independently. A pair counts as a "
                  "difference only when its interval excludes 0. With a handful of runs the percentile bootstrap "
                  "is somewhat narrower than a t-interval, so read verdicts near the boundary with care.")
    for answer in data.answers:
        q = answer.question
        doc.heading(q.title, 3)
        rows = []
        for pair, c in answer.comparisons:
            if c.verdict == "too few runs":
                rows.append([pair.left, pair.right, f"{c.n_left}/{c.n_right}", "-", "-", "-", "-", c.verdict])
                continue
            pairing = f"paired ({c.n_pairs} runs)" if c.paired else f"unpaired ({c.n_left} vs {c.n_right})"
            wins = f"{c.wins} of {c.n_pairs}" if c.paired else "n/a (unpaired)"
            rows.append([pair.left, pair.right, pairing, f"{100 * c.mean_difference:+.2f}",
                         f"{100 * c.ci_low:+.2f} to {100 * c.ci_high:+.2f}", wins, c.verdict])
        doc.table(["left", "right", "runs", "mean diff.", "95% CI", "right wins", "verdict"], rows, right={3, 4, 5})
        doc.paragraph(answer.verdict())
    if "heatmap" in figure_files:
        doc.image(figure_files["heatmap"], "Difference tables as heat maps (green: right better, red: left better)")
    doc.heading("The study's claims", 3)
    doc.table(["claim", "ours", "status", "detail"],
              [[c["claim"], c["ours"], c["status"], c["detail"]] for c in data.claims], right=set())


def _runs_section(doc: Document, data: ReportData) -> None:
    unfinished = [(m, i, s) for (m, i), s in data.status.items() if s != "done"]
    if not unfinished:
        return
    doc.heading("Runs not done")
    errors = {(r.model, r.run_index): r.error for r in data.runs}
    items = []
    for model, index, state in unfinished:
        line = f"{model} run {index + 1}: {state}"
        error = errors.get((model, index))
        if state == "failed" and error:
            line += f" ({error.strip().splitlines()[-1]})"
        items.append(line)
    doc.bullets(items)
    doc.paragraph("Rerun the same command to run pending and interrupted runs; failed runs are retried with "
                  "--retry-failed.")


# ------------------------------------------------------------- data files
CSV_COLUMNS = ("model", "run_index", "status", "init_seed", "data_seed", "split_seed", "test_accuracy", "params",
               "train_seconds", "epochs_run", "final_val_accuracy", "init_weights_hash", "started", "finished",
               "error")


def results_csv(data: ReportData) -> str:
    by_key = {(r.model, r.run_index): r for r in data.runs}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for (model, index), state in data.status.items():
        r = by_key.get((model, index))
        history = (r.history if r else None) or {}
        val = history.get("val_accuracy") or []
        error = (r.error or "").strip().splitlines()[-1] if r and r.error else ""
        writer.writerow([model, index, state, *(getattr(r, k, "") if r else "" for k in (
            "init_seed", "data_seed", "split_seed", "test_accuracy", "params", "train_seconds")),
            len(history.get("loss", [])) or "", val[-1] if val else "", r.init_weights_hash if r else "",
            r.started if r else "", r.finished if r else "", error])
    return out.getvalue()


def results_json(data: ReportData) -> dict:
    return {
        "config": data.config.to_dict(),
        "counts": data.counts,
        "settings": dict(data.settings),
        "models": data.models,
        "baselines": data.baselines,
        "questions": [{"key": a.question.key, "title": a.question.title, "verdict": a.verdict(),
                       "comparisons": [{"row": p.row, "column": p.column, **c.to_dict()} for p, c in a.comparisons]}
                      for a in data.answers],
        "claims": data.claims,
        "runs": [{**r.to_dict(), "status": data.status.get((r.model, r.run_index), r.status)} for r in data.runs],
        "notes": data.notes,
    }
