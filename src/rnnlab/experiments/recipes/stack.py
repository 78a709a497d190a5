"""Stacking: train several members on one split, blend them on its validation fold, save one bundle.

A stack config (TOML) has ``kind = "stack"`` and these tables:

* ``[data]``: ``dataset``, ``validation_split`` (> 0: the blend is fitted on it), ``seed``,
  ``limit`` and, for a data file, ``test``, ``test_fraction``, ``text_column``,
  ``label_column``, ``label_separator`` (several labels a text). Every member trains on the
  same rows (the training split minus the validation fold, exactly as
  `rnnlab.encoding.split.split_validation` draws it);
* ``[[members]]``, one table per member, each with a ``name`` and one of:

  - ``ngram_range``, ``C``, ``n_features``: naive-Bayes-weighted logistic regression on hashed
    word n-grams (`rnnlab.training.linear.NgramModel`);
  - ``recipe = "NAME or PATH"``: a recipe config (`rnnlab.experiments.recipes.recipe`), trained here on
    the stack's data; optional ``[members.model]`` / ``[members.training]`` tables change its
    fields; or ``model`` and ``training`` tables alone, an inline recipe;
  - ``bundle = "PATH"``: a bundle trained earlier on the same split (checked), copied in; with a
    recipe beside it (``recipe``, ``[members.model]`` / ``[members.training]``) the bundle is
    reused when it is there and the recipe trained when it is not, so a stack of earlier runs'
    members also runs from a clean checkout;
  - a ``[members.doc_vectors]`` table: document vectors learnt from the member's training texts
    and any unlabelled ones, with a logistic regression on top
    (`rnnlab.training.docvectors.DocVectorModel`). Its keys are the model's arguments
    (``ngram_range``, ``dim``, ``epochs``, ``min_count``, ``sample``, ``negative``, ``C``,
    ``workers``, ``seed``: by default the stack's) plus ``unlabelled`` (``"imdb"`` for IMDB's
    unsup reviews, or a file, as `rnnlab.data.load_unlabelled` reads) and ``unlabelled_column``;

* ``[blend]``: ``l2`` (default 0.01), the penalty on the blend weights; ``refit = true`` fits the
  n-gram members again on every labelled row (fit and validation) once the blend weights are
  fitted, a few seconds each (their validation figures are those of the first fit; the other
  members keep theirs);
* ``[selection]``: free text recording how the settings were chosen.

The blend weights are fitted on the validation fold (which no member trained on; a recurrent
member does use it to pick its epoch); the test split is read once, after everything is
trained, and every member is scored on it beside the stack. Data with several labels a text
blend each label's log-odds (`rnnlab.inference.stack.Blend`) and tune a threshold per label on
the validation fold; members and stack are then compared by macro-F1 (``validation_macro_f1``,
``test_macro_f1``), each member at thresholds tuned on the same fold. A stack of one member is that
member, scored the same way. ``OUT/results.json`` holds the figures and ``OUT/bundle`` the
stack bundle (`rnnlab.inference.stack`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.configfile import check_keys, find_config, read_config
from rnnlab.data import UNLABELLED_NAMES, load_unlabelled
from rnnlab.data.textcache import write_npz
from rnnlab.encoding.prepare import load_splits
from rnnlab.encoding.split import split_validation
from rnnlab.errors import InvalidInputError
from rnnlab.experiments.recipes.recipe import recipe_parts
from rnnlab.files import staged_folder, write_json
from rnnlab.inference.bundle import Bundle
from rnnlab.inference.stack import STACK_FILE, Blend, Member, StackBundle, write_stack
from rnnlab.training.docvectors import DocVectorModel
from rnnlab.training.engine import fit, prepare_for
from rnnlab.training.linear import NgramModel
from rnnlab.training.metrics import headline_score, scored_probabilities, tune_thresholds

__all__ = ["run_stack", "stack_members", "choose_members"]

TOP_KEYS = ("kind", "name", "description", "data", "members", "blend", "selection")
DATA_KEYS = ("dataset", "validation_split", "seed", "limit", "test", "test_fraction", "text_column", "label_column",
             "label_separator")
MEMBER_KEYS = ("name", "recipe", "bundle", "model", "training", "ngram_range", "C", "n_features", "doc_vectors")
DOCVEC_KEYS = ("ngram_range", "dim", "epochs", "min_count", "sample", "negative", "C", "workers", "seed", "unlabelled",
               "unlabelled_column")
NGRAM_KEYS = ("ngram_range", "C", "n_features")
SPLIT_KEYS = ("dataset", "validation_split", "seed", "limit")
VALIDATION_FILE = "validation.npz"


def stack_members(config: dict) -> tuple[dict, list[dict]]:
    """Check a ``kind = "stack"`` config; returns its [data] table and its members, each with a ``kind``."""
    check_keys("a stack config", config, TOP_KEYS)
    data = check_keys("[data]", config.get("data", {}), DATA_KEYS)
    data.setdefault("dataset", "imdb")
    data.setdefault("seed", 0)
    data.setdefault("validation_split", 0.1)
    if not 0 < float(data["validation_split"]) < 1:
        raise InvalidInputError(f"[data] validation_split must be between 0 and 1 (the blend is fitted on it), got "
                                f"{data['validation_split']!r}.")
    blend = check_keys("[blend]", config.get("blend", {}), ("l2", "refit"))
    if not isinstance(blend.get("refit", False), bool):
        raise InvalidInputError(f"[blend] refit must be true or false, got {blend['refit']!r}.")
    members = config.get("members")
    if not isinstance(members, list) or not members:
        raise InvalidInputError("A stack config needs [[members]] tables, one per member.")
    checked, names = [], set()
    for i, member in enumerate(members):
        member = dict(check_keys(f"[[members]] {i + 1}", member, MEMBER_KEYS))
        name = str(member.get("name") or "")
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise InvalidInputError(f"[[members]] {i + 1} needs a name of letters, digits, - and _ (got {name!r}).")
        if name in names:
            raise InvalidInputError(f"Two members are named {name!r}; give each its own name.")
        names.add(name)
        kinds = [k for k, present in (("ngram", any(k in member for k in NGRAM_KEYS)),
                                      ("bundle", "bundle" in member),
                                      ("docvec", "doc_vectors" in member),
                                      ("recipe", _has_recipe(member))) if present]
        if kinds == ["bundle", "recipe"]:  # reuse the bundle, or train the recipe where it is missing
            kinds = ["bundle"]
        if len(kinds) != 1:
            raise InvalidInputError(f"Member {name!r} must be one of: an n-gram model (ngram_range, C), a recipe "
                                    "(recipe = NAME or [model] / [training] tables), bundle = PATH or a "
                                    "[members.doc_vectors] table.")
        member["kind"] = kinds[0]
        if member["kind"] == "ngram":
            NgramModel(**{k: member[k] for k in NGRAM_KEYS if k in member})  # checks the settings now
        elif member["kind"] == "docvec":
            member["doc_vectors"] = dict(check_keys(f"[members.doc_vectors] of {name!r}", member["doc_vectors"],
                                                    DOCVEC_KEYS))
            _doc_vector_model(member, data, None)  # checks the settings now
        checked.append(member)
    return data, checked


def _doc_vector_model(member: dict, data: dict, class_names) -> DocVectorModel:
    """The member's (unfitted) document-vector model; its seed defaults to the stack's."""
    settings = {k: v for k, v in member["doc_vectors"].items() if not k.startswith("unlabelled")}
    settings.setdefault("seed", int(data["seed"]))
    return DocVectorModel(class_names=class_names, **settings)


def _has_recipe(member: dict) -> bool:
    return "recipe" in member or "model" in member


def _recipe_config(member: dict, data: dict) -> dict:
    """The member's recipe config with the stack's split forced onto its [data]."""
    base = read_config(find_config(member["recipe"]), "Recipe config") if "recipe" in member else {}
    if base and base.get("kind", "sweep") != "recipe":
        raise InvalidInputError(f"Member {member['name']!r}: {member['recipe']} is a {base.get('kind', 'sweep')} "
                                "config, not a recipe.")
    config = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    config["kind"], config["name"] = "recipe", member["name"]
    config["data"] = {**config.get("data", {}), **{k: v for k, v in data.items() if k != "limit"}}
    for table in ("model", "training"):
        config[table] = {**config.get(table, {}), **member.get(table, {})}
    return config


def _score(probabilities: np.ndarray, labels: np.ndarray, thresholds=None) -> float:
    """`headline_score` to five places: accuracy, or for label sets the macro-F1 at ``thresholds``."""
    return round(headline_score(labels, probabilities, thresholds), 5)


def score_name(labels) -> str:
    """What stacks of these labels are compared by: ``accuracy``, or ``macro_f1`` for label sets."""
    return "macro_f1" if np.ndim(labels) == 2 else "accuracy"


def _tuned(probabilities: np.ndarray, labels: np.ndarray):
    """Each label's threshold tuned on these rows for label sets; None for one label a text."""
    return tune_thresholds(labels, probabilities) if np.ndim(labels) == 2 else None


def _check_bundle(member: dict, bundle, data: dict, n_train: int) -> None:
    """A bundle member must have trained on this stack's fit rows: same dataset, split, seed and size."""
    recipe = bundle.metrics.get("recipe") or {}
    trained = {"dataset": str(recipe.get("dataset")), "validation_split": recipe.get("validation_split"),
               "seed": bundle.metrics.get("seed"),
               "train_examples": (bundle.metrics.get("data") or {}).get("train_examples")}
    wanted = {"dataset": str(data["dataset"]), "validation_split": data["validation_split"], "seed": data["seed"],
              "train_examples": n_train}
    differ = [k for k in wanted if trained[k] is not None and trained[k] != wanted[k]]
    if differ:
        raise InvalidInputError(f"Member {member['name']!r}: {member['bundle']} was trained with "
                                f"{ {k: trained[k] for k in differ} }, the stack uses { {k: wanted[k] for k in differ} }; "
                                "its validation rows would not be held out. Train it as a recipe member instead.")


@dataclass
class StackSplit:
    """The stack's rows: every member fits on ``fit_rows`` of ``train``; the blend on ``val_rows``."""

    train: object
    fit_rows: np.ndarray
    val_rows: np.ndarray

    @property
    def labels(self) -> np.ndarray:
        return np.asarray(self.train.labels)

    @property
    def val_texts(self) -> list[str]:
        return [self.train.texts[i] for i in self.val_rows]

    @property
    def val_labels(self) -> np.ndarray:
        return self.labels[self.val_rows]

    @property
    def class_names(self) -> list[str]:
        return list(self.train.class_names)


def _load(data: dict, *, with_test: bool):
    """The stack's (train, test) splits of its [data] table."""
    source = {k: v for k, v in data.items() if k not in SPLIT_KEYS}
    train, test = load_splits(data["dataset"], seed=data["seed"], limit=data.get("limit"), with_test=with_test,
                              **source)
    if train.numeric:
        raise InvalidInputError(f"{data['dataset']}: a stack blends class probabilities, and these labels are "
                                "numbers; train one regression model with `rnnlab train MODEL --numeric-labels`.")
    return train, test


def load_stack_split(data: dict) -> StackSplit:
    """The training split of the stack's dataset, cut into fit and validation rows (test not read)."""
    train, _ = _load(data, with_test=False)
    fit_rows, val_rows = split_validation(len(train), float(data["validation_split"]), int(data["seed"]),
                                          required=True)
    return StackSplit(train, fit_rows, val_rows)


def train_member(member: dict, data: dict, split: StackSplit, folder: Path, verbose="auto") -> tuple[object, int | None]:
    """Train (or copy in) one member into ``folder``; returns it loaded, and its parameter count."""
    if member["kind"] == "ngram":
        loaded = _fit_ngram(member, split, split.fit_rows, folder)
        params = loaded.params
    elif member["kind"] == "docvec":
        model = _doc_vector_model(member, data, split.class_names)
        options = member["doc_vectors"]
        extra = (load_unlabelled(options["unlabelled"], options.get("unlabelled_column")).texts
                 if options.get("unlabelled") else ())
        model.fit([split.train.texts[i] for i in split.fit_rows], split.labels[split.fit_rows], unlabelled=extra)
        model.save(folder)
        loaded, params = DocVectorModel.load(folder), model.params
    elif member["kind"] == "recipe":
        parts = recipe_parts(_recipe_config(member, data))
        prepared = prepare_for(parts.spec, parts.recipe, seed=parts.training.seed, limit=data.get("limit"),
                               cache=True, with_test=False)
        result = fit(parts.spec, prepared, parts.training, recipe=parts.recipe, verbose=verbose)
        result.save(folder)
        loaded, params = Bundle.load(folder), result.params
    else:
        shutil.copytree(Path(member["bundle"]), folder)
        loaded = Bundle.load(folder)
        _check_bundle(member, loaded, data, len(split.fit_rows))
        params = int(loaded.metrics.get("params") or loaded.model.count_params())
    if list(loaded.class_names) != split.class_names:
        raise InvalidInputError(f"Member {member['name']!r} predicts {list(loaded.class_names)}, the data "
                                f"has {split.class_names}.")
    return loaded, params


def _fit_ngram(member: dict, split: StackSplit, rows: np.ndarray, folder: Path) -> NgramModel:
    """The n-gram member fitted with its settings on ``rows`` of the training split, saved into ``folder`` and
    loaded back (what the stack bundle will predict with)."""
    model = NgramModel(class_names=split.class_names, **{k: member[k] for k in NGRAM_KEYS if k in member})
    model.fit([split.train.texts[i] for i in rows], split.labels[rows]).save(folder)
    return NgramModel.load(folder)


def refit_ngram_members(members: list[dict], trained: list[Member], figures: list[dict], split: StackSplit,
                        staging: Path, progress) -> None:
    """``[blend] refit``: each n-gram member fitted again, with its settings, on the fit and validation rows."""
    rows = np.concatenate([split.fit_rows, split.val_rows])
    for member, part, figure in zip(members, trained, figures):
        if member["kind"] != "ngram":
            continue
        started = time.perf_counter()
        part.model = _fit_ngram(member, split, rows, staging / "members" / member["name"])
        figure["params"] = part.model.params
        figure["refit_examples"] = len(rows)
        figure["refit_seconds"] = round(time.perf_counter() - started, 1)
        progress(f"member {member['name']}: fitted again on {len(rows):,} rows ({figure['refit_seconds']:.0f} s)")


def score_stack_test(stack: StackBundle, data: dict, figures: list[dict], member_thresholds=None) -> dict:
    """Read the test split once: the stack's metrics, and each member's test accuracy (macro-F1 for label
    sets, at ``member_thresholds``) into ``figures``."""
    _, test = _load(data, with_test=True)
    labels = np.asarray(test.labels)
    member_probs = stack.predictor.parts(test.texts)
    score = score_name(labels)
    for figure, probs, tuned in zip(figures, member_probs, member_thresholds or [None] * len(figures)):
        figure[f"test_{score}"] = _score(probs, labels, tuned)
    metrics = scored_probabilities(labels, stack.predictor.blend(member_probs), stack.class_names,
                                   thresholds=stack.thresholds)
    found = {"test_accuracy": round(metrics["accuracy"], 5), "test_examples": len(labels), "test": metrics}
    if score != "accuracy":
        found[f"test_{score}"] = round(metrics[score], 5)
    return found


def run_stack(config: dict, out: Path, *, validation_only: bool = False, progress=None,
              verbose: str | int = "auto") -> dict:
    """Train every member, fit the blend on validation, score the test split once, save ``out/bundle``.

    The ``kind = "stack"`` runner of `rnnlab.experiments.kinds` (`run_config` writes
    ``out/results.json``); ``progress`` gets a line per trained member.
    """
    progress = progress or (lambda line: None)
    data, members = stack_members(config)
    for member in members:  # before anything trains
        if member["kind"] == "bundle" and not Path(str(member["bundle"])).is_dir():
            if not _has_recipe(member):
                raise InvalidInputError(f"Member {member['name']!r}: no bundle at {member['bundle']}; train it first, "
                                        "or give the member the recipe that trains it (recipe = NAME).")
            progress(f"member {member['name']}: no bundle at {member['bundle']}, so its recipe trains it here")
            member["kind"] = "recipe"
        source = member.get("doc_vectors", {}).get("unlabelled")
        if source and str(source).strip().lower() not in UNLABELLED_NAMES and not Path(str(source)).is_file():
            raise InvalidInputError(f"Member {member['name']!r}: unlabelled texts {source} is not a file; give a file "
                                    f"or {' or '.join(UNLABELLED_NAMES)}.")
    name = str(config.get("name", "stack"))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    split = load_stack_split(data)
    figures, trained, val_probs, tuned = [], [], [], []
    score = score_name(split.val_labels)
    # A validation-only run (choosing settings) trains in a folder that is removed at the end.
    holder = (tempfile.TemporaryDirectory(prefix=".stack-", dir=out) if validation_only
              else staged_folder(out / "bundle", marker=STACK_FILE, what="an rnnlab stack bundle"))
    with holder as staging:
        staging = Path(staging)
        for member in members:
            started = time.perf_counter()
            loaded, params = train_member(member, data, split, staging / "members" / member["name"], verbose)
            val_probs.append(loaded.predict_proba(split.val_texts))
            tuned.append(_tuned(val_probs[-1], split.val_labels))
            trained.append(Member(member["name"], 1.0, loaded))
            figures.append({"name": member["name"], "kind": member["kind"], "params": params,
                            f"validation_{score}": _score(val_probs[-1], split.val_labels, tuned[-1]),
                            "seconds": round(time.perf_counter() - started, 1)})
            progress(f"member {member['name']}: validation {score.replace('_', '-')} "
                     f"{100 * figures[-1][f'validation_{score}']:.2f}% ({figures[-1]['seconds']:.0f} s)")
        # Every member's validation probabilities, for choosing members: `choose_members` reads them.
        write_npz(out / VALIDATION_FILE, {"labels": split.val_labels, "names": np.array([f["name"] for f in figures]),
                                          "seconds": np.array([f["seconds"] for f in figures]),
                                          "probabilities": np.stack(val_probs)})
        blend = Blend.fit(val_probs, split.val_labels, float(config.get("blend", {}).get("l2", 0.01)))
        for member, weight, figure in zip(trained, blend.weights, figures):
            member.weight = figure["weight"] = float(weight)
        blended = blend(val_probs)
        thresholds = _tuned(blended, split.val_labels)
        if config.get("blend", {}).get("refit") and not validation_only:
            refit_ngram_members(members, trained, figures, split, staging, progress)
        stack = StackBundle(trained, blend.biases, split.class_names, {}, name=name, thresholds=thresholds)
        results = {"name": name, "members": figures, "biases": [float(b) for b in blend.biases],
                   "params": sum(f["params"] for f in figures), "train_examples": int(len(split.fit_rows)),
                   "validation_examples": int(len(split.val_rows)),
                   f"validation_{score}": _score(blended, split.val_labels, thresholds)}
        if thresholds is not None:
            results["thresholds"] = {c: float(t) for c, t in zip(split.class_names, thresholds)}
        if not validation_only:
            results.update(score_stack_test(stack, data, figures, tuned))
        write_stack(staging, name, split.class_names, blend, [(f["name"], f["kind"]) for f in figures])
        # `rnnlab evaluate` reads the dataset, split and seed from "recipe" and "seed", as for any bundle.
        write_json(staging / "metrics.json", {**results, "config": config, "seed": data["seed"], "recipe": data,
                                              "class_names": split.class_names}, indent=2)
    if not validation_only:
        results["bundle"] = str(out / "bundle")
    return {**results, "config": config}


def choose_members(folder, *, budget_seconds: float | None = None, fixed_seconds: float = 0.0,
                   l2: float = 0.01) -> list[dict]:
    """Every subset of a stack run's members, blended on its validation fold, best first.

    Reads ``folder/validation.npz`` (written by every stack run, validation-only ones included).
    A subset's cost is ``fixed_seconds`` (loading the data, starting up) plus its members'
    seconds; with ``budget_seconds`` the subsets over it are left out. The validation accuracy of
    a blend fitted on the same rows is optimistic by a little, the same for every subset.
    """
    from itertools import combinations

    with np.load(Path(folder) / VALIDATION_FILE, allow_pickle=False) as saved:
        labels, names, seconds, probs = (saved[k] for k in ("labels", "names", "seconds", "probabilities"))
    found, key = [], f"validation_{score_name(labels)}"
    for size in range(1, len(names) + 1):
        for subset in combinations(range(len(names)), size):
            cost = fixed_seconds + float(seconds[list(subset)].sum())
            if budget_seconds is not None and cost > budget_seconds:
                continue
            parts = [probs[i] for i in subset]
            blend = Blend.fit(parts, labels, l2)
            blended = blend(parts)
            found.append({"members": [str(names[i]) for i in subset], "seconds": round(cost, 1),
                          "weights": [round(float(w), 4) for w in blend.weights],
                          key: _score(blended, labels, _tuned(blended, labels))})
    return sorted(found, key=lambda f: (-f[key], f["seconds"]))
