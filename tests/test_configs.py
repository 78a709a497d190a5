"""The one config loader, the one training config and the layering's promises, without training.

Every committed config is read by name and turned into what its runner takes; unknown keys,
wrong types and undecodable files fail with one clear line; pre-0.2 module names still import.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import rnnlab
from rnnlab.configfile import CONFIG_DIR, find_config, named_configs, read_config
from rnnlab.encoding.split import split_holdout, split_validation
from rnnlab.errors import InvalidInputError
from rnnlab.experiments.sweeps.config import load_config
from rnnlab.experiments.recipes.recipe import recipe_parts
from rnnlab.models import ModelSpec
from rnnlab.models.modes import Chunks, NamedFields, NumericSteps, TokenIds
from rnnlab.training.config import EarlyStopping, TrainingConfig, read_training_config

pytestmark = pytest.mark.timeout(300)


def test_committed_configs_ship_inside_the_package_and_are_found_by_name():
    assert CONFIG_DIR == Path(rnnlab.__file__).resolve().parent / "configs"
    names = named_configs()
    assert {"imdb-best-cpu", "imdb-fast", "arrangements", "beyond/digits-stacked-lstm"} <= set(names)
    assert find_config("imdb-fast") == CONFIG_DIR / "imdb-fast.toml"
    with pytest.raises(InvalidInputError, match="Did you mean 'imdb-fast'"):
        find_config("imdb-fats")


@pytest.mark.parametrize("name", named_configs())
def test_every_committed_config_reads_into_what_its_runner_takes(name):
    data = read_config(name)
    kind = data.get("kind", "spec" if name.startswith("beyond/") else "sweep")
    if name.startswith("beyond/"):
        spec, recipe = read_training_config(name)
        model = spec.replace(batch_size=spec.batch_size or (32 if spec.stateful else None)).build(compile=False)
        assert model.count_params() > 0 and recipe.epochs >= 1
    elif kind == "recipe":
        parts = recipe_parts(data)
        assert parts.spec.name == data["name"] and parts.training.epochs >= 1
        assert parts.spec.replace(maxlen=None if parts.training.buckets else parts.spec.maxlen).build(compile=False)
    elif kind == "lm-finetune":
        assert {"data", "pretrain", "finetune"} <= set(data)
    elif kind == "stack":
        from rnnlab.experiments.recipes.stack import _recipe_config, stack_members

        split, members = stack_members(data)
        assert split["validation_split"] > 0 and members
        if name == "budget-60min":  # the 60-minute budget is for recurrent models only
            assert all(member["kind"] != "ngram" for member in members)
        for member in members:
            if member["kind"] == "recipe":
                assert recipe_parts(_recipe_config(member, split)).training.epochs >= 1
    elif kind == "tune":
        from rnnlab.experiments.recipes.tune import read_search, recipe_config

        settings = read_search(data)
        assert settings.trials >= 1 and settings.dimensions
        assert recipe_parts(recipe_config(data)).spec.build(compile=False)
    else:
        assert load_config(name).runs >= 1


def test_unknown_keys_name_the_key_and_the_valid_ones(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text('{"cell": "gru", "unitz": 8}', encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"unitz.*did you mean 'units'.*Valid: .*vocab_size"):
        read_training_config(spec)
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('kind = "recipe"\n[model]\ncell = "gru"\n[training]\nepoch = 2\n', encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"\[training\].*epoch.*did you mean 'epochs'"):
        recipe_parts(read_config(recipe))
    with pytest.raises(InvalidInputError, match="early_stopping.*monitr"):
        TrainingConfig(early_stopping={"monitr": "val_loss"})


def test_config_files_that_cannot_be_read_get_one_line(tmp_path):
    latin = tmp_path / "latin.toml"
    latin.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        read_config(latin)
    broken = tmp_path / "broken.json"
    broken.write_text('{"cell": ', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        read_config(broken)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="object of config fields"):
        read_config(listed)


def test_a_spec_file_may_be_toml(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text('[spec]\ncell = "gru"\nunits = 8\n[recipe]\nepochs = 1\n', encoding="utf-8")
    spec, recipe = read_training_config(path)
    assert spec.cell == "gru" and spec.units == 8 and recipe.epochs == 1


def test_training_config_schedules_are_keras_schedules():
    config = TrainingConfig(epochs=2, schedule="cosine", warmup_epochs=0.5, final_rate=0.1)
    schedule = config.learning_rate_schedule(1e-3, steps_per_epoch=10)
    rate = [float(np.asarray(schedule(step))) for step in (0, 5, 20)]
    assert rate[0] == pytest.approx(0.0) and rate[1] == pytest.approx(1e-3)  # warm-up from 0 to the peak
    assert rate[2] == pytest.approx(1e-4, rel=1e-3)  # cosine down to final_rate x peak
    assert TrainingConfig().learning_rate_schedule(2e-3, 10) == 2e-3  # constant: a plain rate
    fast = recipe_parts(read_config("imdb-fast")).training
    decay = fast.learning_rate_schedule(4e-3, steps_per_epoch=100)
    assert float(np.asarray(decay(150))) == pytest.approx(4e-4, rel=1e-3)  # 1.5 epochs to a tenth, then flat
    assert float(np.asarray(decay(199))) == pytest.approx(4e-4, rel=1e-3)


def test_training_config_round_trips_and_checks_values():
    config = TrainingConfig(epochs=3, early_stopping=EarlyStopping("val_accuracy", patience=2), buckets=(40, 80))
    assert config.early_stopping.mode == "max"
    assert TrainingConfig.from_dict(config.to_dict()) == config
    assert TrainingConfig(early_stopping=3).early_stopping == EarlyStopping("val_loss", "min", 3)
    for bad in ({"epochs": 0}, {"batch_size": 1.5}, {"schedule": "linear"}, {"members": 0}, {"final_rate": 2}):
        with pytest.raises(InvalidInputError):
            TrainingConfig(**bad)


def test_one_split_function_shuffles_then_keeps_the_last_rows_for_validation():
    fit_rows, val_rows = split_validation(100, 0.2, seed=3)
    order = np.random.default_rng(3).permutation(100)
    assert np.array_equal(np.concatenate([fit_rows, val_rows]), order) and len(val_rows) == 20
    with pytest.raises(InvalidInputError, match="empty validation"):
        split_validation(3, 0.1, required=True)
    from rnnlab.data.numeric import load_digits_sequences

    train, test = split_holdout(load_digits_sequences(), 0.2, seed=0)
    assert len(test) == math.ceil(0.2 * (len(train) + len(test))) and set(test.labels) == set(train.labels)


def test_input_modes_are_types_and_conflicts_fail_once():
    assert isinstance(ModelSpec().input_mode, TokenIds) and ModelSpec().chunks is None
    assert ModelSpec(features=8, mask_value=0.0).input_mode == NumericSteps(8, 0.0)
    fields = ModelSpec(inputs=[{"name": "title", "maxlen": 10}, {"name": "body"}]).input_mode
    assert isinstance(fields, NamedFields) and [e.name for e in fields.encoders] == ["title", "body"]
    assert ModelSpec(stateful=True, chunk_length=20, batch_size=8).chunks == Chunks(20, 8)
    assert {TokenIds.kind, NumericSteps.kind, NamedFields.kind} == {"text", "sequences", "fields"}
    with pytest.raises(InvalidInputError, match="keep one of them"):
        ModelSpec(features=8, inputs=[{"name": "title"}])
    with pytest.raises(InvalidInputError, match="numeric input, which has no embedding"):
        ModelSpec(features=8, mask_zero=True)
    with pytest.raises(InvalidInputError, match="reads one input"):
        ModelSpec(stateful=True, chunk_length=20, inputs=[{"name": "title"}])


def test_pre_0_2_module_names_still_import_with_a_warning():
    for old, new in (("rnnlab.train", "rnnlab.training.engine"), ("rnnlab.bundle", "rnnlab.inference.bundle"),
                     ("rnnlab.prepare", "rnnlab.encoding.prepare")):
        sys.modules.pop(old, None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = importlib.import_module(old)
        assert module is importlib.import_module(new)
        assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in caught)
        assert module.__spec__.name == new  # the target module is left as it was
    with pytest.raises(ImportError, match="imdb-fast"):
        importlib.import_module("rnnlab.fast_recipe")


@pytest.mark.timeout(400)
@pytest.mark.parametrize("name, options", [
    ("imdb-fast", ["--limit", "200", "--epochs", "1"]),
    ("quick-gru-vs-lstm", ["--limit", "200", "--epochs", "1", "--runs", "1", "--models", "lstm"]),
    ("arrangements", ["--limit", "200", "--epochs", "1", "--runs", "1", "--models", "MS_RST_biGRU"]),
    ("goemotions", ["--limit", "300", "--epochs", "1"]),
])
def test_committed_configs_run_at_toy_scale(name, options, imdb_archive, tmp_path):
    # The success path of `rnnlab experiment run` for committed configs. imdb-best-cpu and
    # imdb-lm-finetune train word vectors or a language model on all 75,000 reviews even at
    # --limit (minutes): their parts are tested in test_recipe.py and test_language_model.py.
    from typer.testing import CliRunner

    from rnnlab.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["experiment", "run", name, "--out", str(out), *options])
    assert result.exit_code == 0, result.output[-3000:]
    results = json.loads((out / "results.json").read_text())
    if read_config(name).get("kind") == "recipe":  # trained once, scored once, saved
        assert results["epochs_run"] == [1] and results["test_examples"] > 0, results
        assert (Path(results["bundle"]) / "model.keras").is_file()
    else:  # a sweep exits 0 even when runs fail: its one run must be done
        assert results["counts"] == {"pending": 0, "running": 0, "done": 1, "failed": 0}, results["counts"]
        assert [run["status"] for run in results["runs"]] == ["done"], results["runs"]


def test_sweep_options_are_refused_for_a_recipe_config():
    from typer.testing import CliRunner

    from rnnlab.cli import app

    result = CliRunner().invoke(app, ["experiment", "run", "imdb-fast", "--runs", "2"])
    assert result.exit_code == 2 and "apply to sweeps only" in result.output
