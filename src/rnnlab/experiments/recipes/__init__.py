"""Final-run protocols (recipe, stack, search, language-model fine-tuning, auto) and linear baselines."""
