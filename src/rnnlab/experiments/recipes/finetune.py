"""``kind = "lm-finetune"``: pre-train (or reuse) a language model, fine-tune it into a classifier.

The config (``configs/imdb-lm-finetune.toml``) has ``[data]`` (shared by both steps),
``[pretrain]`` (`LMSettings` fields, or ``path`` of a language model saved earlier) and
``[finetune]`` (`FinetuneSettings` fields). A newly trained language model is saved to
``out/lm``, the classifier as a bundle to ``out/bundle``. The training pieces live in
`rnnlab.training.language_model` and `rnnlab.training.finetune`; this is the protocol around
them: choose the epoch on validation, read the test split once.
"""

from __future__ import annotations

import time
from dataclasses import fields, replace
from pathlib import Path

from rnnlab.configfile import check_keys
from rnnlab.errors import InvalidInputError
from rnnlab.training.finetune import FinetuneSettings, classifier_preprocessor, fine_tune, labelled_data
from rnnlab.training.language_model import LanguageModel, LMSettings, pretrain
from rnnlab.training.metrics import evaluate

DATA_KEYS = ("dataset", "vocab_size", "maxlen", "validation_split", "seed", "limit")
TOP_KEYS = ("kind", "name", "description", "data", "pretrain", "finetune", "selection")
KIND = "lm-finetune"


def _table(config: dict, name: str, known) -> dict:
    return check_keys(f"[{name}]", config.get(name) or {}, known)


def run_lm_finetune(config: dict, out: str | Path, *, validation_only: bool = False, progress=None,
                    verbose: str | int = "auto") -> dict:
    """Pre-train (or reuse) the language model, fine-tune the classifier, test it once.

    The ``kind = "lm-finetune"`` runner of `rnnlab.experiments.kinds` (`run_config` writes
    ``out/results.json``). With ``validation_only`` the test split is not scored and no
    classifier bundle is saved. Returns a JSON-able dict of settings, perplexity, accuracies
    and timings.
    """
    progress = progress or (lambda line: None)
    total_started = time.perf_counter()
    check_keys("an lm-finetune config", config, TOP_KEYS)
    if config.get("kind", KIND) != KIND:
        raise InvalidInputError(f"run_lm_finetune runs configs with kind = {KIND!r}, got {config.get('kind')!r}.")
    name = str(config.get("name", KIND))
    data_cfg = _table(config, "data", DATA_KEYS)
    lm_fields = {f.name for f in fields(LMSettings)} - {"vocab_size", "seed"}
    pretrain_cfg = _table(config, "pretrain", lm_fields | {"path"})
    finetune_cfg = _table(config, "finetune", {f.name for f in fields(FinetuneSettings)} - {"maxlen"})
    dataset = str(data_cfg.get("dataset", "imdb"))
    seed = int(data_cfg.get("seed", 0))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float | dict] = {}

    started = time.perf_counter()
    lm_path = pretrain_cfg.pop("path", None)
    reused = bool(lm_path)
    if reused:  # the saved model's own settings apply; other [pretrain] keys are not read
        lm = LanguageModel.load(lm_path)
        wanted = data_cfg.get("vocab_size", lm.settings.vocab_size)
        if wanted != lm.settings.vocab_size:
            raise InvalidInputError(f"[data] vocab_size = {wanted}, but the language model at {lm_path} has "
                                    f"{lm.settings.vocab_size}; drop one of them.")
    else:
        settings = LMSettings(vocab_size=data_cfg.get("vocab_size", LMSettings.vocab_size), seed=seed, **pretrain_cfg)
        imdb_path = None if dataset == "imdb" else dataset
        lm = pretrain(settings, path=imdb_path, verbose=verbose)
        lm_path = lm.save(out / "lm")
    seconds["pretrain"] = round(time.perf_counter() - started, 3)
    progress(f"language model: perplexity {lm.perplexity:.1f} ({seconds['pretrain']:.0f} s)")

    started = time.perf_counter()
    settings = FinetuneSettings(maxlen=data_cfg.get("maxlen", FinetuneSettings.maxlen), **finetune_cfg)
    preprocessor = classifier_preprocessor(lm, settings)
    data = labelled_data(preprocessor, dataset, validation_split=float(data_cfg.get("validation_split", 0.1)),
                         seed=seed, limit=data_cfg.get("limit"), with_test=not validation_only)
    x_test, y_test = data.x_test, data.y_test
    data = replace(data, x_test=None, y_test=None)  # not read until training is over
    seconds["data"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    tuned = fine_tune(lm, data, settings, seed=seed, verbose=verbose, name=name)
    seconds["finetune"] = round(time.perf_counter() - started, 3)
    seconds["stages"] = tuned.data_info["stage_seconds"]
    lm_summary = {"path": str(lm_path), "reused": reused, "settings": lm.settings.to_dict(),
                  **{k: v for k, v in lm.metrics.items() if k != "history"}}
    results = {
        "kind": KIND,
        "name": name,
        "lm": lm_summary,
        "lm_perplexity": lm.perplexity,
        "lm_seconds": seconds["pretrain"],
        "finetune": settings.to_dict(),
        "params": tuned.params,
        "validation_accuracy": round(tuned.data_info["best"]["validation_accuracy"], 5),
        "validation_examples": int(len(data.x_val)) if data.x_val is not None else 0,
        "best": tuned.data_info["best"],
        "history": tuned.data_info["records"],
        "data": {**data.info, "dataset": dataset},
        "seconds": seconds,
        "config": config,
    }
    if not validation_only:
        started = time.perf_counter()
        test = evaluate(tuned.model, x_test, y_test, data.class_names, spec=tuned.spec, padding=preprocessor.padding)
        seconds["test"] = round(time.perf_counter() - started, 3)
        recipe = replace(tuned.recipe, dataset=dataset, validation_split=float(data_cfg.get("validation_split", 0.1)))
        info = {**data.info, "test_examples": int(len(x_test)), "language_model": lm_summary}
        result = replace(tuned, recipe=recipe, test=test, train_seconds=seconds["finetune"], data_info=info)
        started = time.perf_counter()
        bundle = result.save(out / "bundle")
        seconds["save"] = round(time.perf_counter() - started, 3)
        results.update(test_accuracy=round(test["accuracy"], 5), test_examples=int(len(x_test)), test=test,
                       bundle=str(bundle))
        results["data"]["test_examples"] = int(len(x_test))
    results["total_seconds"] = round(time.perf_counter() - total_started, 3)
    return results
