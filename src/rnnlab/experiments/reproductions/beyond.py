"""Beyond one-shot sentiment: the measured runs behind docs/results/beyond.md.

Four comparisons, each driven by the training configs in `configs/beyond/`:

- `compare_stateful`: IMDB reviews read whole in chunks of 100 tokens by a stateful LSTM,
  against the same LSTM reading only the first or the last 100 tokens (and reading up to 800
  tokens in one pass, for reference);
- `rating_task`: IMDB star ratings as 8 classes, beside a majority-class and a TF-IDF +
  logistic regression baseline;
- `digits_task`: scikit-learn digits as 8-step sequences of 8 pixels, three stacked LSTMs,
  beside a logistic regression on the 64 pixels;
- `amazon_inputs`: title and body as two inputs (concatenated, or the body encoder started
  from the title encoder's state) against one concatenated text input.

Every model is trained with `rnnlab.training.engine.fit`, so each row can also be reproduced with
`rnnlab train CONFIG`. Seeds vary the initial weights and the batch order; the data split is
fixed (seed 0) so that rows differ only in what is being compared.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from rnnlab import configfile
from rnnlab.encoding.prepare import load_splits
from rnnlab.encoding.split import split_validation
from rnnlab.errors import InvalidInputError
from rnnlab.files import write_json
from rnnlab.training.engine import config_from_recipe, fit, prepare_for, resolve
from rnnlab.training.metrics import classification_metrics

CONFIG_DIR = configfile.CONFIG_DIR / "beyond"
STATEFUL_CONFIGS = ("imdb-stateful", "imdb-first100", "imdb-last100", "imdb-whole800")
AMAZON_CONFIGS = ("amazon-single", "amazon-title-body", "amazon-title-state-body")


def _config(name: str, config_dir: Path | None) -> Path:
    path = Path(config_dir or CONFIG_DIR) / f"{name}.json"
    if not path.is_file():
        raise InvalidInputError(f"Training config {path} not found; pass the folder holding the beyond configs.")
    return path


def _train_seeds(config: Path, seeds, *, epochs=None, limit=None, early_stopping=None, verbose=0) -> dict:
    """Train one config once per seed on one fixed data split; per-run and summary figures."""

    spec, recipe = resolve(config, epochs=epochs)
    data = prepare_for(spec, recipe, seed=0, limit=limit)
    runs = []
    for seed in seeds:
        config = config_from_recipe(recipe, seed=seed, early_stopping=early_stopping)
        result = fit(spec, data, config, recipe=recipe, verbose=verbose)
        runs.append({"seed": seed, "test": result.test, "params": result.params,
                     "train_seconds": round(result.train_seconds, 1),
                     "epochs_run": len(next(iter(result.history.values()), [])), "history": result.history})
    accuracies = np.array([r["test"]["accuracy"] for r in runs])
    return {"config": str(config), "model": spec.name, "spec": spec.to_dict(), "recipe": recipe.to_dict(),
            "data": dict(data.info), "runs": runs, "params": runs[0]["params"],
            "accuracy_mean": float(accuracies.mean()), "accuracy_std": float(accuracies.std(ddof=1)) if len(runs) > 1
            else 0.0, "train_seconds_mean": float(np.mean([r["train_seconds"] for r in runs])), "_data": data}


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _save(out: Path | None, name: str, result: dict) -> dict:
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / f"{name}.json", result, indent=2)
    return result


def _pct(mean: float, std: float | None = None) -> str:
    return f"{100 * mean:.2f}%" + (f" ± {100 * std:.2f}" if std else "")


# ------------------------------------------------------------------ stateful
def compare_stateful(out: Path | None = None, *, seeds=(0,), epochs: int | None = None, limit: int | None = None,
                     configs=STATEFUL_CONFIGS, config_dir: Path | None = None, verbose=0) -> dict:
    """Stateful chunked reading of whole reviews vs the same LSTM on the first/last 100 tokens."""
    rows, lengths = [], None
    for name in configs:
        row = _train_seeds(_config(name, config_dir), seeds, epochs=epochs, limit=limit, verbose=verbose)
        if name == "imdb-stateful":
            n_tokens = (row["_data"].x_test != 0).sum(axis=1)
            lengths = {"test_reviews": int(len(n_tokens)), "mean_tokens": float(n_tokens.mean()),
                       "share_over_100": float((n_tokens > 100).mean()),
                       "share_at_cap_800": float((n_tokens >= 800).mean())}
        rows.append(_public(row))
    table = ["| model | reads | params | test accuracy | train s / run |", "|---|---|---:|---:|---:|"]
    for row in rows:
        spec = row["spec"]
        reads = (f"whole review (≤{spec['maxlen']} tokens) in chunks of {spec['chunk_length']}, state carried"
                 if spec.get("stateful") else
                 f"{'last' if row['recipe']['truncating'] == 'pre' else 'first'} {spec['maxlen']} tokens"
                 + (" in one pass" if spec["maxlen"] > 100 else ""))
        table.append(f"| {row['model']} | {reads} | {row['params']:,} | "
                     f"{_pct(row['accuracy_mean'], row['accuracy_std'])} | {row['train_seconds_mean']:.0f} |")
    return _save(out, "stateful", {"rows": rows, "lengths": lengths, "seeds": list(seeds), "table": "\n".join(table)})


# ------------------------------------------------------------------- ratings
def _collapsed_binary_accuracy(test: dict) -> float:
    """Accuracy of pos/neg read off the 8-class prediction (rating >= 7 is positive)."""
    cm = np.asarray(test["confusion_matrix"])
    positive = np.asarray([float(n) >= 7 for n in test["class_names"]])
    agree = cm[np.ix_(positive, positive)].sum() + cm[np.ix_(~positive, ~positive)].sum()
    return float(agree / cm.sum())


def _text_baselines(data, class_names, limit: int | None = None) -> dict:
    """Majority class and TF-IDF + logistic regression, trained on the same training rows."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train, test = load_splits("imdb-ratings", seed=0, limit=limit)
    keep, _ = split_validation(len(train), data.info["validation_split"], 0)  # the rows prepare() trained on
    texts = [train.texts[i] for i in keep]
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(max_features=50_000, ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    x_train = vectorizer.fit_transform(texts)
    model = LogisticRegression(max_iter=1000, C=2.0).fit(x_train, train.labels[keep])
    probs = model.predict_proba(vectorizer.transform(test.texts))
    tfidf = classification_metrics(test.labels, probs, class_names)
    tfidf["train_seconds"] = round(time.perf_counter() - started, 1)
    majority = np.bincount(train.labels[keep], minlength=len(class_names)).argmax()
    majority_probs = np.eye(len(class_names))[np.full(len(test), majority)]
    return {"tfidf_logreg": tfidf, "majority": classification_metrics(test.labels, majority_probs, class_names)}


def rating_task(out: Path | None = None, *, seeds=(0,), epochs: int | None = None, limit: int | None = None,
                baselines: bool = True, config_dir: Path | None = None, verbose=0) -> dict:
    """IMDB star ratings as an 8-class task: accuracy, macro-F1, confusion matrix, rating MAE."""
    row = _train_seeds(_config("imdb-ratings-lstm", config_dir), seeds, epochs=epochs, limit=limit, verbose=verbose)
    result = {"model": _public(row), "seeds": list(seeds)}
    for run in row["runs"]:
        run["test"]["binary_accuracy"] = _collapsed_binary_accuracy(run["test"])
    if baselines:
        result["baselines"] = _text_baselines(row["_data"], row["_data"].class_names, limit)
        for metrics in result["baselines"].values():
            metrics["binary_accuracy"] = _collapsed_binary_accuracy(metrics)
    table = ["| model | accuracy | macro-F1 | rating MAE | pos/neg accuracy |", "|---|---:|---:|---:|---:|"]
    entries = [(f"{row['model']} (seed {r['seed']})", r["test"]) for r in row["runs"]]
    entries += [(name, m) for name, m in result.get("baselines", {}).items()]
    for name, m in entries:
        table.append(f"| {name} | {_pct(m['accuracy'])} | {m['macro_f1']:.3f} | {m['rating_mae']:.2f} | "
                     f"{_pct(m['binary_accuracy'])} |")
    result["table"] = "\n".join(table)
    return _save(out, "ratings", result)


# -------------------------------------------------------------------- digits
def digits_task(out: Path | None = None, *, seeds=(0, 1, 2), epochs: int | None = None,
                config_dir: Path | None = None, verbose=0) -> dict:
    """Digits as row sequences: stacked LSTMs vs logistic regression on the same split."""
    from sklearn.linear_model import LogisticRegression

    row = _train_seeds(_config("digits-stacked-lstm", config_dir), seeds, epochs=epochs, verbose=verbose)
    data = row["_data"]
    flat = lambda x: x.reshape(len(x), -1)  # noqa: E731
    # The baseline sees the same rows (training part only) with the same scaling.
    baseline = LogisticRegression(max_iter=5000).fit(flat(data.x_train), data.y_train)
    lr = classification_metrics(data.y_test, baseline.predict_proba(flat(data.x_test)), data.class_names)
    result = {"model": _public(row), "logistic_regression": lr, "seeds": list(seeds)}
    result["table"] = "\n".join([
        "| model | params | test accuracy | macro-F1 |", "|---|---:|---:|---:|",
        f"| {row['model']} (3 x LSTM(32), {len(seeds)} seeds) | {row['params']:,} | "
        f"{_pct(row['accuracy_mean'], row['accuracy_std'])} | "
        f"{np.mean([r['test']['macro_f1'] for r in row['runs']]):.3f} |",
        f"| logistic regression on the 64 pixels | {baseline.coef_.size + baseline.intercept_.size:,} | "
        f"{_pct(lr['accuracy'])} | {lr['macro_f1']:.3f} |",
    ])
    return _save(out, "digits", result)


# -------------------------------------------------------------------- amazon
def amazon_inputs(out: Path | None = None, *, seeds=(0, 1, 2, 3, 4), epochs: int | None = None,
                  early_stopping: int | None = 2, configs=AMAZON_CONFIGS, config_dir: Path | None = None,
                  verbose=0) -> dict:
    """Title + body as two inputs vs one concatenated input, on a fixed stratified holdout."""
    rows = [_public(_train_seeds(_config(name, config_dir), seeds, epochs=epochs, early_stopping=early_stopping,
                                 verbose=verbose)) for name in configs]
    table = ["| model | inputs | params | test accuracy (mean ± sd) | per seed |", "|---|---|---:|---:|---|"]
    for row in rows:
        inputs = row["spec"]["inputs"]
        described = ("one: 'Title: body'" if not inputs else " + ".join(
            f"{e['name']}" + (f" (starts from {e['initial_state_from']}'s state)" if e["initial_state_from"] else "")
            for e in inputs))
        per_seed = ", ".join(f"{100 * r['test']['accuracy']:.1f}" for r in row["runs"])
        table.append(f"| {row['model']} | {described} | {row['params']:,} | "
                     f"{_pct(row['accuracy_mean'], row['accuracy_std'])} | {per_seed} |")
    return _save(out, "amazon", {"rows": rows, "seeds": list(seeds), "early_stopping": early_stopping,
                                 "table": "\n".join(table)})
