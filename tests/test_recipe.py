"""Recipe configs: one final training run, chosen on validation, test read once."""

import json

import numpy as np
import pytest

from rnnlab.experiments.kinds import run_config
from rnnlab.experiments.recipes.recipe import run_recipe

TINY = {
    "kind": "recipe", "name": "tiny",
    "data": {"validation_split": 0.2, "seed": 1, "limit": 2500},
    "model": {"vocab_size": 5000, "maxlen": 150, "embedding_dim": 32, "mask_zero": True, "cell": "gru",
              "units": 16, "pooling": "concat", "optimizer": "adam", "learning_rate": 0.005},
    "training": {"batch_size": 64, "epochs": 3, "buckets": 3, "warmup_epochs": 0.2, "patience": 1},
}


def test_recipe_config_scores_test_once_with_the_best_validation_epoch(tmp_path, imdb_archive):
    config = TINY
    final = run_config(config, tmp_path / "final")
    stored = json.loads((tmp_path / "final" / "results.json").read_text())
    assert stored["test_accuracy"] == final["test_accuracy"] == stored["test"]["accuracy"] > 0.7
    assert stored["kind"] == "recipe" and stored["validation"]["examples"] == 500 and not stored["validation_only"]
    accuracy = stored["test"]["accuracy"]
    assert stored["test"]["standard_error"] == pytest.approx(np.sqrt(accuracy * (1 - accuracy) / 2500), abs=1e-5)
    assert stored["validation_accuracy"] == pytest.approx(max(stored["history"]["val_accuracy"]), abs=2e-3)
    assert stored["test_examples"] == 2500 and stored["validation_examples"] == 500
    assert (tmp_path / "final" / "bundle").is_dir()


def test_members_are_averaged_into_one_saved_model(tmp_path, imdb_archive):
    from rnnlab.inference.bundle import Bundle
    from rnnlab.training.calibration import scale

    config = {**TINY, "data": {**TINY["data"], "limit": 1000},
              "training": {**TINY["training"], "epochs": 1, "members": 2}}
    results = run_recipe(config, tmp_path, verbose=0)
    assert results["ensemble_members"] == 2 and len(results["member_validation_accuracy"]) == 2
    assert len(results["members"]) == 2
    bundle = Bundle.load(tmp_path / "bundle")
    members = [layer for layer in bundle.model.layers if hasattr(layer, "layers")]
    assert len(members) == 2 and (tmp_path / "members" / "2" / "model.keras").is_file()
    ids = bundle.preprocessor.encode(["A dull, lifeless film.", "Wonderful acting and a clever plot."]).ids
    mean = np.mean([np.asarray(m.predict(ids, verbose=0)) for m in members], axis=0)[:, 0]
    # The average, then the bundle's temperature (fitted on the validation rows after averaging).
    assert bundle.temperature is not None
    expected = scale(np.stack([1 - mean, mean], axis=1), bundle.temperature)[:, 1]
    np.testing.assert_allclose(bundle.predict_proba(["A dull, lifeless film.",
                                                      "Wonderful acting and a clever plot."])[:, 1], expected, atol=1e-5)


def test_unknown_training_key_is_named(tmp_path):
    from rnnlab.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="epoch"):
        run_recipe({**TINY, "training": {"epoch": 2}}, tmp_path)


def test_experiment_run_dispatches_recipe_configs(tmp_path, imdb_archive):
    from typer.testing import CliRunner

    from rnnlab.cli import app

    config = tmp_path / "tiny.toml"
    config.write_text('''kind = "recipe"
name = "tiny-cli"
[data]
validation_split = 0.2
limit = 800
[model]
vocab_size = 2000
maxlen = 100
embedding_dim = 16
mask_zero = true
cell = "gru"
units = 8
pooling = "max"
optimizer = "adam"
learning_rate = 0.005
[training]
epochs = 1
buckets = 2
''')
    result = CliRunner().invoke(app, ["experiment", "run", str(config), "--out", str(tmp_path / "out"),
                                      "--validation-only"])
    assert result.exit_code == 0, result.output
    stored = json.loads((tmp_path / "out" / "results.json").read_text())
    assert "test_accuracy" not in stored and stored["validation_examples"] == 160 and stored["test"] is None
    assert stored["validation_only"] and stored["validation"]["examples"] == 160
    assert not (tmp_path / "out" / "bundle").exists()  # --validation-only: choosing settings, nothing to ship
    bad = tmp_path / "bad.toml"
    bad.write_text('kind = "recipes"\n')
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "rnnlab.cli", "experiment", "run", str(bad)], capture_output=True,
                          text=True, env=dict(os.environ), timeout=120)
    assert done.returncode == 2 and "Did you mean 'recipe'?" in done.stderr + done.stdout
