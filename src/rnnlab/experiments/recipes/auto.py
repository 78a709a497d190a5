"""`rnnlab train auto`: a strong recurrent model for data nobody has tuned for, beside a linear baseline.

The settings come from the data, as the tutorials advise:

* the vocabulary keeps the words seen at least twice in the training part (2,000 to 30,000 ids);
* the maximum length covers 90% of the training texts (rounded up to 50 tokens, 32 to 800);
* the model is a bidirectional GRU (32 units a side) over a masked 64-wide embedding, max-pooled
  over every step: the pooling gives each word a short gradient path, which is what small
  datasets need. Small data overfit within three epochs, so it is regularised hard: spatial
  dropout 0.3 on the embedding, dropout 0.5 on the GRU inputs;
* training is Adam at 2e-3 with a cosine decay over up to 10 epochs, length buckets, and early
  stopping on validation accuracy (patience 2, the best epoch kept); batches of 32 below
  5,000 training rows, 64 below 20,000, else 128.

Chosen on two held-out splits of 3,000 IMDB training reviews (never the test reviews): this
recipe reached 86.8% and 86.0% where the same model with dropout 0.3 and no spatial dropout
reached 82.2% and 81.5%.

The linear baseline (NBSVM on word 1-3 grams, by default) is tuned on the same validation rows
and scored on the same test rows, so the two test accuracies compare like with like.

What `train auto` returns is the best on validation of the recurrent model, the n-gram model
(NBSVM with the baseline's settings on hashed n-grams, trained on the same rows), document vectors
(PV-DBOW over words and bigrams, `rnnlab.training.docvectors`, learnt from the fit rows' texts and
any unlabelled ones, a logistic regression on the fit rows' labels on top) and the blend of the
three (`rnnlab.inference.stack.Blend`, weights fitted on the validation rows). Each is judged by
its two-fold cross-fitted validation accuracy (what is fitted on validation rows fitted on one
half, scored on the other), so no fitting flatters it. A blend is saved as a stack bundle of its
members of non-zero weight, the n-gram model or the document vectors alone as a stack bundle of
one, the recurrent model as a plain bundle. This happens with the NBSVM baseline (the default),
whose settings the n-gram model takes. On the 3,000-review CSV of docs/own-data.md the document
vectors alone trailed NBSVM by 2-3 points on validation, but their blend with it was about 2 points
ahead of it (docs/results/semi-supervised.md): n-grams and vectors learnt from the user's own texts
err differently.

Classes more skewed than 4:1 (one label a text) train with balanced class weights
(`class_weighting`); the data profile says so before training.

Data with several labels a row (``label_separator``, or list cells) train the same model with one
sigmoid per label and binary focal cross-entropy, early stopping on the validation loss and a
threshold per label tuned on the validation rows. Their n-gram model is NBSVM for each label (C
chosen on validation macro-F1, `label_set_ngram`), the document vectors fit a regression per label,
and the choice between the candidates is made on validation macro-F1, every candidate's thresholds
and blend weights cross-fitted on halves of the validation rows.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlab._backend import backend_name
from rnnlab.configfile import check_keys
from rnnlab.data import TextDataset, load_unlabelled
from rnnlab.data.tables import is_dataframe
from rnnlab.data.profile import SKEWED_RATIO, covering_length
from rnnlab.encoding.prepare import load_splits, prepare
from rnnlab.errors import InvalidInputError, unknown_name
from rnnlab.experiments.recipes.baseline import BASELINE_NAMES, run_baseline
from rnnlab.models import ModelSpec, Recipe
from rnnlab.training import EarlyStopping, TrainingConfig
from rnnlab.files import staged_folder, write_json
from rnnlab.inference.stack import STACK_FILE, Blend, write_stack
from rnnlab.training.engine import TrainResult, add_unlabelled, describe_source, fit
from rnnlab.training.forward import Forward
from rnnlab.training.docvectors import DocVectorModel
from rnnlab.training.linear import NgramModel
from rnnlab.training.calibration import scale
from rnnlab.training.metrics import headline_score, label_sets, scored_probabilities, tune_thresholds
from rnnlab.training.saving import MODEL_FILE

VALIDATION_SPLIT = 0.15
_WORD = re.compile(r"[\w']+")
MAX_EPOCHS = 10
# Virtual adversarial training (`rnnlab.training.objectives`), on every training text and any
# unlabelled ones: chosen on three held-out splits of the 3,000-review CSV (never the reported one).
VIRTUAL_ADVERSARIAL = 1.0
PERTURBATION = 0.05
NGRAM_NAME, DOCVEC_NAME = "nbsvm", "doc-vectors"
# Document vectors for small corpora, chosen on the validation rows of splits 1-3 of the 3,000-review CSV
# (docs/results/semi-supervised.md); `DocVectorModel`'s defaults (measured on IMDB) from SMALL_CORPUS texts on.
SMALL_CORPUS = 10_000
SMALL_DOC_VECTORS = {"dim": 50, "epochs": 20, "min_count": 1}


@dataclass
class AutoResult:
    """The trained model, the settings chosen for it, and the baseline's result on the same split."""

    result: TrainResult
    settings: dict
    baseline: dict | None
    seconds: float
    profile: dict = field(default_factory=dict)
    choice: dict | None = None  # what `choose` found: the chosen model, each candidate's figures

    def summary(self) -> dict:
        test = self.result.test or {}
        base = self.baseline or {}
        choice = self.choice or {}
        recurrent = {"model": self.result.spec.name, "test_accuracy": test.get("accuracy"),
                     "validation_accuracy": max(self.result.history.get("val_accuracy", [float("nan")]))}
        if self.result.spec.multi_label:  # Keras' val_accuracy is per label (0/1 cells right), not per text
            recurrent.update(validation_accuracy=None, test_macro_f1=test.get("macro_f1"),
                             test_micro_f1=test.get("micro_f1"),
                             validation_macro_f1=max(self.result.history.get("val_macro_f1", [float("nan")])))
        chosen = choice.get("candidates", {}).get(choice.get("chosen"), recurrent)
        kept = choice.get("chosen", self.result.spec.name)
        params = chosen.get("params", self.result.params)
        return {
            "model": saved_name(self.result.spec.name, choice.get("chosen")),
            "chosen": kept,
            "params": params,
            "settings": self.settings,
            "test_accuracy": chosen.get("test_accuracy", (chosen.get("test") or {}).get("accuracy")),
            "validation_accuracy": chosen.get("validation_accuracy"),
            **({"test_macro_f1": chosen.get("test_macro_f1"), "validation_macro_f1": chosen.get("validation_macro_f1")}
               if self.result.spec.multi_label else {}),
            "recurrent": recurrent,
            "candidates": {name: {k: v for k, v in figures.items() if k != "test"}
                           for name, figures in choice["candidates"].items()} if choice else None,
            "train_seconds": round(self.result.train_seconds, 2),
            "baseline": {k: base[k] for k in ("name", "test_accuracy", "validation_accuracy", "test_macro_f1",
                                               "validation_macro_f1", "seconds", "C", "ngram_range") if k in base}
            or None,
            "seconds": round(self.seconds, 2),
            "profile": self.profile,
        }


def choose_settings(train: TextDataset, *, vocab_size: int | None = None, maxlen: int | None = None) -> dict:
    """Vocabulary size, maximum length and batch size from the training texts (see the module docstring)."""
    if vocab_size is None:
        # A quick count of lower-cased words, not the tokenizer's: it only sizes the vocabulary.
        counts = Counter(w for text in train.texts for w in _WORD.findall(text.lower()))
        vocab_size = int(min(30_000, max(2_000, sum(1 for c in counts.values() if c >= 2) + 2)))
    if maxlen is None:
        maxlen = covering_length(train.texts)
    rows = len(train) * (1 - VALIDATION_SPLIT)
    batch_size = 32 if rows < 5_000 else 64 if rows < 20_000 else 128
    return {"vocab_size": vocab_size, "maxlen": maxlen, "batch_size": batch_size}


def class_weighting(train: TextDataset) -> str | None:
    """``"balanced"`` when the commonest class outnumbers the rarest more than `SKEWED_RATIO` to 1 (one label a
    text; the data profile warns alike), else None. Measured on IMDB at 1 positive in 10: recall of the rare class
    0.40 -> 0.58 (docs/results/multilabel.md)."""
    if train.multi_label:
        return None
    counts = train.class_counts()
    counts = counts[counts > 0]
    return "balanced" if len(counts) > 1 and counts.max() / counts.min() > SKEWED_RATIO else None


def auto_spec(settings: dict, name: str = "auto-bigru") -> ModelSpec:
    return ModelSpec.from_dict({
        "name": name, "vocab_size": settings["vocab_size"], "maxlen": settings["maxlen"], "embedding_dim": 64,
        "mask_zero": True, "spatial_dropout": 0.3, "cell": "gru", "units": 32, "bidirectional": True,
        "pooling": "max", "dropout": 0.5, "optimizer": "adam", "learning_rate": 0.002})


def auto_config(settings: dict, *, seed: int = 0, epochs: int = MAX_EPOCHS, multi_label: bool = False
                ) -> TrainingConfig:
    """The training settings; virtual adversarial training where it runs (JAX), recorded in ``settings``; early
    stopping on the validation accuracy, or for several labels a row on the validation loss (the macro-F1 at
    0.5 stays 0 for the first epochs while every label's probability is below one half). Label sets train
    without virtual adversarial training: beside the small focal loss it kept every label at its prior on
    3,000 GoEmotions comments (macro-F1 0.11 on test)."""
    vat = VIRTUAL_ADVERSARIAL if backend_name() == "jax" and not multi_label else 0.0
    settings["virtual_adversarial"] = vat
    return TrainingConfig(epochs=epochs, batch_size=settings["batch_size"], schedule="cosine", buckets=4,
                          early_stopping=EarlyStopping("val_loss", "min", 2) if multi_label
                          else EarlyStopping("val_accuracy", "max", 2),
                          seed=seed,
                          virtual_adversarial=vat, perturbation=PERTURBATION)


def _source(value):
    """A data source as a recipe keeps it: a path or name as text, a pandas DataFrame as it is, None as None."""
    return value if value is None or is_dataframe(value) else str(value)


def train_auto(dataset: str, *, out: str | Path | None = None, seed: int = 0, limit: int | None = None,
               text_column: str | None = None, label_column: str | None = None, test: str | None = None,
               test_fraction: float = 0.2, vocab_size: int | None = None, maxlen: int | None = None,
               epochs: int = MAX_EPOCHS, baseline: str | None = "nbsvm", tokenizer: str = "keras",
               verbose: str | int = "auto", on_data=None, with_test: bool = True, blend: bool = True,
               unlabelled: str | None = None, unlabelled_column: str | None = None,
               label_separator: str | None = None, sheet: str | None = None) -> AutoResult:
    """Choose settings from ``dataset``, train the recurrent model and the baseline on one split.

    Args:
        dataset: a dataset name, a file/folder path (see `rnnlab.data.load_dataset`) or a pandas DataFrame;
            ``test`` and ``unlabelled`` may be DataFrames too.
        out: bundle folder to write (the baseline's result is recorded in its metrics).
        baseline: ``"nbsvm"``, ``"tfidf-lr"`` or None for none.
        on_data: called with ``(info, settings)`` once the data are loaded, before training:
            ``info`` holds the data's profile and columns (the CLI prints them there).
        with_test: False reads no test data (choosing settings); nothing is scored on test.
        blend: with a baseline, return the best on validation of the recurrent model, the n-gram
            model and their blend (`choose`); False always returns the recurrent model.
        unlabelled, unlabelled_column: more texts without labels for the virtual adversarial term
            (`rnnlab.data.load_unlabelled`); the training texts always serve.
        label_separator: the label cells hold several labels joined by it (a multi-label model, no
            baseline).
        sheet: the sheet of an Excel workbook ``dataset`` (default: its first).

    Example:
        >>> auto = train_auto("reviews.csv", out="runs/mine")  # doctest: +SKIP
        >>> auto.summary()["test_accuracy"], auto.summary()["baseline"]["test_accuracy"]  # doctest: +SKIP
    """
    if baseline is not None and baseline not in BASELINE_NAMES:
        raise unknown_name("baseline", baseline, BASELINE_NAMES)
    started = time.perf_counter()
    recipe = Recipe(dataset=_source(dataset), tokenizer=tokenizer, validation_split=VALIDATION_SPLIT, epochs=epochs,
                    text_column=text_column, label_column=label_column, test=_source(test),
                    test_fraction=test_fraction, source="rnnlab train auto",
                    unlabelled=_source(unlabelled), unlabelled_column=unlabelled_column,
                    label_separator=label_separator, sheet=sheet)
    train_set, test_set = load_splits(recipe.dataset, seed=seed, limit=limit, with_test=with_test,
                                      **recipe.source_options())
    if train_set.numeric:
        raise InvalidInputError(f"{dataset}: `train auto` classifies, and the label column holds numbers; train a "
                                "regression model with a named model, e.g. `rnnlab train gru --dataset FILE "
                                "--numeric-labels`, or rnnlab.TextRegressor in Python.")
    if train_set.multi_label and baseline not in (None, "nbsvm"):
        raise InvalidInputError(f"For several labels a text the linear baseline is nbsvm (one model per label), not "
                                f"{baseline}: leave --baseline out, or give none.")
    settings = choose_settings(train_set, vocab_size=vocab_size, maxlen=maxlen)
    settings["class_weight"] = class_weighting(train_set)
    recipe = dataclasses.replace(recipe, batch_size=settings["batch_size"])
    info = describe_source(train_set, test_set)
    if on_data is not None:
        on_data(info, settings)
    data = prepare(train_set, test_set, mode=tokenizer, vocab_size=settings["vocab_size"], maxlen=settings["maxlen"],
                   validation_split=VALIDATION_SPLIT, seed=seed)
    data.info.update(info)
    unlabelled_texts = ()
    if unlabelled is not None:
        if backend_name() != "jax":
            raise InvalidInputError("--unlabelled feeds virtual adversarial training, which runs on JAX "
                                    "(KERAS_BACKEND=jax); leave it out on this backend.")
        unlabelled_texts = load_unlabelled(unlabelled, unlabelled_column).texts
        data = add_unlabelled(data, unlabelled, unlabelled_column, texts=unlabelled_texts)
    spec = auto_spec(settings)
    if train_set.multi_label:
        # Focal loss, measured best for label sets (docs/results/multilabel.md), and a faster rate: at 2e-3 the
        # rarer labels were still at their prior after 10 epochs on 3,000 GoEmotions comments.
        spec = spec.replace(loss="binary_focal_crossentropy", learning_rate=0.005)
    config = auto_config(settings, seed=seed, epochs=epochs, multi_label=train_set.multi_label)
    config = config.replace(class_weight=settings["class_weight"])
    result = fit(spec, data, config, recipe=recipe, verbose=verbose)
    base = ngram = None
    if baseline is not None and train_set.multi_label:
        ngram, base = label_set_ngram(train_set, test_set, seed=seed)
    elif baseline is not None:
        base = run_baseline(baseline, recipe.dataset, seed=seed, validation_split=VALIDATION_SPLIT, limit=limit,
                            source=recipe.source_options(), with_test=with_test)
    auto = AutoResult(result, settings, base, time.perf_counter() - started, info["profile"])
    stack = None
    if base is not None and base.get("name") == "nbsvm" and blend:
        auto.choice, stack = choose(result, data, train_set, test_set, base, seed=seed, ngram=ngram,
                                    unlabelled_texts=unlabelled_texts)
    result.notes["auto"] = {k: v for k, v in auto.summary().items() if k != "profile"}
    if out is not None:
        save_auto(auto, stack, out)
    auto.seconds = time.perf_counter() - started
    return auto


def doc_vector_model(n_texts: int, class_names, seed: int) -> DocVectorModel:
    """The document-vector candidate's model for a corpus of ``n_texts`` texts (training and unlabelled).

    Below `SMALL_CORPUS` texts: 50 dimensions, 20 epochs, every n-gram kept (`SMALL_DOC_VECTORS`); above, the
    settings measured on IMDB's 72,500 texts (`DocVectorModel`'s defaults), where keeping every n-gram would
    hold millions of them.
    """
    settings = SMALL_DOC_VECTORS if n_texts < SMALL_CORPUS else {}
    return DocVectorModel(class_names=class_names, seed=seed, **settings)


def choose(result: TrainResult, data, train_set: TextDataset, test_set: TextDataset | None, base: dict, *,
           seed: int, ngram: NgramModel | None = None, unlabelled_texts=()
           ) -> tuple[dict, tuple[list[tuple[str, str, object]], Blend] | None]:
    """The recurrent model, the n-gram model, the document vectors or the blend of all three, whichever is
    best on the validation rows.

    Judged by accuracy, or for label sets by macro-F1, each candidate's fitted parts (blend weights, a
    threshold per label) fitted on one half of the validation rows and scored on the other (`_cross_fitted`).
    ``ngram`` is the n-gram model when it is already fitted on the fit rows (label sets, `label_set_ngram`);
    otherwise it is fitted here with ``base``'s settings. The document vectors (`doc_vector_model`) learn
    from the fit rows' texts and ``unlabelled_texts``, with the regression on the fit rows' labels; the
    validation texts stay out of it, so their vectors are inferred as a test text's or a new text's are.
    (With them in, the n-grams only they hold got weights fitted to them, which flatters validation: 85.2%
    against 83.7% for the same settings, mean of splits 1-3 of the 3,000-review CSV.)

    Returns the figures of every candidate (validation; test when ``test_set`` is given, read
    once for each; for label sets each candidate's thresholds, tuned on all validation rows) and
    what to save: None when the recurrent model alone wins, else ``([(name, kind, model)], blend)`` of
    the members that the chosen candidate reads (a blend keeps its members of non-zero weight; a model
    alone is a blend of one).
    """
    from rnnlab.encoding.split import split_validation

    fit_rows, val_rows = split_validation(len(train_set), VALIDATION_SPLIT, seed, required=True)
    labels = np.asarray(train_set.labels)
    val_labels = labels[val_rows]
    val_texts = [train_set.texts[i] for i in val_rows]
    fit_texts = [train_set.texts[i] for i in fit_rows]
    multi = train_set.multi_label
    score = "macro_f1" if multi else "accuracy"
    rnn_name = result.spec.name
    if ngram is None:
        started = time.perf_counter()
        ngram = NgramModel(base["ngram_range"], C=base["C"], class_names=train_set.class_names)
        ngram.fit(fit_texts, labels[fit_rows])
        ngram_seconds = time.perf_counter() - started
    else:  # fitted (and its C chosen) by `label_set_ngram`
        ngram_seconds = base["seconds"]
    read = Forward(result.model, spec=result.spec, padding=data.preprocessor.padding)

    def forward(x):  # what the saved bundle predicts: the probabilities scaled by its temperature
        return scale(read(x), result.temperature, multi)

    members = [(rnn_name, "recipe", result), (NGRAM_NAME, "ngram", ngram)]
    parts = [forward(data.x_val), ngram.predict_proba(val_texts)]
    figures = {rnn_name: {"params": result.params},
               NGRAM_NAME: {"seconds": round(ngram_seconds, 2), "ngram_range": list(ngram.ngram_range), "C": ngram.C,
                            "params": ngram.params}}
    started = time.perf_counter()
    docvec = doc_vector_model(len(fit_texts) + len(unlabelled_texts), train_set.class_names, seed)
    docvec.fit(fit_texts, labels[fit_rows], unlabelled=unlabelled_texts)
    parts.append(docvec.predict_proba(val_texts))
    members.append((DOCVEC_NAME, "docvec", docvec))
    figures[DOCVEC_NAME] = {"seconds": round(time.perf_counter() - started, 2), "params": docvec.params,
                            "dim": docvec.dim, "epochs": docvec.epochs, "min_count": docvec.min_count}
    blend = Blend.fit(parts, val_labels)
    blended = blend(parts)
    names = [name for name, _, _ in members]
    # Each candidate's thresholds for label sets: the recurrent model's own, the others' tuned on all validation rows.
    thresholds = {} if not multi else {
        **{name: tune_thresholds(val_labels, part) for name, part in zip(names[1:], parts[1:])},
        rnn_name: result.thresholds, "blend": tune_thresholds(val_labels, blended)}
    candidates = {name: {f"validation_{score}": _cross_fitted([part], val_labels), **figures[name]}
                  for name, part in zip(names, parts)}
    candidates["blend"] = {f"validation_{score}": _cross_fitted(parts, val_labels),
                           f"validation_{score}_fitted": headline_score(val_labels, blended, thresholds.get("blend")),
                           "weights": {name: float(w) for name, w in zip(names, blend.weights)},
                           "params": sum(figures[name]["params"] for name, w in zip(names, blend.weights) if w > 0)}
    # Ties go to the simpler model: the recurrent one, then the n-gram one, the document vectors, the blend.
    chosen = max(candidates, key=lambda name: candidates[name][f"validation_{score}"])
    if test_set is not None:
        test_parts = [forward(data.x_test), *(model.predict_proba(test_set.texts) for _, _, model in members[1:])]
        test_labels = np.asarray(test_set.labels)
        tested = {**dict(zip(names, test_parts)), "blend": blend(test_parts)}
        for name, probs in tested.items():
            candidates[name][f"test_{score}"] = headline_score(test_labels, probs, thresholds.get(name))
        candidates[chosen]["test"] = scored_probabilities(test_labels, tested[chosen], train_set.class_names,
                                                          thresholds=thresholds.get(chosen))
    found = {"chosen": chosen, "candidates": candidates}
    if multi:
        found["thresholds"] = [float(t) for t in thresholds[chosen]]
    if chosen == rnn_name:
        return found, None
    if chosen != "blend":  # one model alone: a blend of one
        alone = Blend(np.ones(1), np.zeros(len(train_set.class_names)), multi_label=multi)
        return found, ([members[names.index(chosen)]], alone)
    kept = [i for i, w in enumerate(blend.weights) if w > 0]
    return found, ([members[i] for i in kept], Blend(blend.weights[kept], blend.biases, multi_label=multi))


# The n-gram model for label sets: NBSVM per label on hashed word n-grams, C chosen on the validation rows. On
# GoEmotions (seed-0 split of its training comments, validation macro-F1 at tuned thresholds) 1-2 grams beat
# 1-3 grams at every C (0.438 against 0.422 at C=0.1, 0.441 against 0.424 at C=0.3) and fit in 12 s, not 15-23 s.
LABEL_SET_GRID = {"C": (0.1, 0.3, 1.0), "ngram_range": (1, 2)}


def label_set_ngram(train_set: TextDataset, test_set: TextDataset | None, *, seed: int
                    ) -> tuple[NgramModel, dict]:
    """The n-gram model for label sets, fitted on the fit rows with the C best on validation macro-F1 (each
    label's threshold tuned on the same rows), and its figures as `run_baseline` gives them (macro-F1)."""
    from rnnlab.encoding.split import split_validation

    started = time.perf_counter()
    fit_rows, val_rows = split_validation(len(train_set), VALIDATION_SPLIT, seed, required=True)
    labels = np.asarray(train_set.labels)
    fit_texts, val_texts = [train_set.texts[i] for i in fit_rows], [train_set.texts[i] for i in val_rows]
    points, best = [], None
    for C in LABEL_SET_GRID["C"]:
        model = NgramModel(LABEL_SET_GRID["ngram_range"], C=C, class_names=train_set.class_names)
        model.fit(fit_texts, labels[fit_rows])
        probs = model.predict_proba(val_texts)
        tuned = tune_thresholds(labels[val_rows], probs)
        macro = headline_score(labels[val_rows], probs, tuned)
        points.append({"C": C, "validation_macro_f1": macro})
        if best is None or macro > best[0]:
            best = (macro, model, tuned)
    macro, model, tuned = best
    figures = {"name": "nbsvm", "ngram_range": list(model.ngram_range), "C": model.C, "grid": points,
               "validation_macro_f1": macro, "selection": "C grid searched on validation macro-F1, thresholds "
                                                          "tuned on the same rows"}
    if test_set is not None:
        figures["test_macro_f1"] = headline_score(np.asarray(test_set.labels), model.predict_proba(test_set.texts),
                                                  tuned)
    figures["seconds"] = round(time.perf_counter() - started, 2)
    return model, figures


def saved_name(recurrent: str, chosen: str | None) -> str:
    """The kept model's name: the recurrent model's, ``auto-blend``, ``auto-nbsvm`` or ``auto-doc-vectors``."""
    return recurrent if chosen in (None, recurrent) else f"auto-{chosen}"


def _cross_fitted(parts: list[np.ndarray], labels: np.ndarray) -> float:
    """The validation score of the parts' blend (one part: that part) with what is fitted on validation rows
    (blend weights; for label sets each label's threshold) fitted on one half of the rows and scored on the
    other: accuracy, or for label sets the macro-F1 of the label sets decided on both halves."""
    from sklearn.metrics import f1_score

    multi = np.ndim(labels) == 2
    halves = np.arange(len(labels)) % 2 == 0
    decided = np.zeros(labels.shape, dtype=bool if multi else np.int64)
    for fitted, scored in ((halves, ~halves), (~halves, halves)):
        if not scored.any() or (not multi and len(np.unique(labels[fitted])) < 2):
            return 0.0  # too few rows to judge a blend: never chosen
        blend = Blend.fit([p[fitted] for p in parts], labels[fitted])
        probs = blend([p[scored] for p in parts])
        if multi:
            decided[scored] = label_sets(probs, tune_thresholds(labels[fitted], blend([p[fitted] for p in parts])))
        else:
            decided[scored] = probs.argmax(axis=1)
    if multi:
        return float(f1_score(labels > 0, decided, average="macro", zero_division=0))
    return float((decided == labels).mean())


def save_auto(auto: AutoResult, stack: tuple[list[tuple[str, str, object]], Blend] | None, out) -> Path:
    """The kept model at ``out`` (see `choose`): the recurrent model's bundle, or a stack bundle of the members
    the chosen candidate reads (the recurrent model, the n-gram model, the document vectors; one alone is a
    stack of one). Replaces either kind of earlier bundle."""
    result = auto.result
    out = Path(out)
    marker = STACK_FILE if (out / STACK_FILE).exists() else MODEL_FILE
    with staged_folder(out, marker=marker, what="an rnnlab bundle") as staging:
        if stack is None:
            result.save(staging)
            return out
        members, blend = stack
        for name, _, model in members:
            (result if model is result else model).save(staging / "members" / name)
        name = saved_name(result.spec.name, auto.choice["chosen"])
        write_stack(staging, name, result.class_names, blend, [(member, kind) for member, kind, _ in members])
        chosen = auto.choice["candidates"][auto.choice["chosen"]]
        # `rnnlab evaluate` reads the dataset, columns, split and seed from "recipe" and "seed", as for any bundle.
        kept = {"thresholds": dict(zip(result.class_names, auto.choice["thresholds"]))} \
            if "thresholds" in auto.choice else {}
        write_json(staging / "metrics.json", {**result.metrics(), "model": name, "test": chosen.get("test"),
                                              "params": auto.summary()["params"], **kept}, indent=2)
    return out


DATA_KEYS = ("dataset", "seed", "limit", "text_column", "label_column", "test", "test_fraction", "vocab_size",
             "maxlen", "tokenizer", "unlabelled", "unlabelled_column")
TOP_KEYS = ("kind", "name", "description", "data", "training", "baseline", "selection")


def run_auto(config: dict, out: Path, *, validation_only: bool = False, progress=None) -> dict:
    """``kind = "auto"``: `train_auto` from a config; the bundle goes to ``out/bundle``.

    ``[data]`` names the ``dataset`` (a name or a file) and optionally its columns, test file,
    ``limit``, ``seed``, ``vocab_size``, ``maxlen`` and ``tokenizer``; ``[training]`` may set
    ``epochs``; ``baseline`` is ``"nbsvm"`` (default), ``"tfidf-lr"`` or false. With
    ``validation_only`` no test data are read and no bundle is kept.
    """
    progress = progress or (lambda line: None)
    check_keys("an auto config", config, TOP_KEYS)
    data = dict(check_keys("[data]", config.get("data", {}), DATA_KEYS))
    training = check_keys("[training]", config.get("training", {}), ("epochs",))
    if "dataset" not in data:
        raise InvalidInputError("An auto config needs [data] dataset = NAME or a data file.")
    baseline = config.get("baseline", "nbsvm")
    dataset = str(data.pop("dataset"))
    auto = train_auto(dataset, out=None if validation_only else Path(out) / "bundle",
                      baseline=baseline or None, epochs=int(training.get("epochs", MAX_EPOCHS)), verbose=0,
                      with_test=not validation_only,
                      on_data=lambda info, settings: progress(f"settings from the data: {settings}"), **data)
    summary = auto.summary()
    result = auto.result
    has_validation = bool(result.history.get("val_accuracy"))
    figures = {**summary, "name": str(config.get("name", "auto")),
               "validation_examples": int(result.data_info.get("validation_examples") or 0) or None,
               "config": config}
    if not has_validation:
        figures.pop("validation_accuracy", None)
    kept = (auto.choice or {}).get("candidates", {}).get(summary["chosen"], {}).get("test") or result.test
    if kept is not None:
        figures.update(test=kept, test_examples=int(kept.get("examples", 0)))
    if not validation_only:
        figures["bundle"] = str(Path(out) / "bundle")
    return figures
