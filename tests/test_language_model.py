"""Language model pre-training and ULMFiT-style fine-tuning, end to end on real IMDB reviews.

Everything runs at toy scale (2,000 texts, a 3,000-id vocabulary, LSTMs of 48 units) so the
file stays quick on a small CPU; the committed config is the full-scale recipe.
"""

import json
import math
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import keras
import numpy as np
import pytest

from rnnlab.inference.bundle import Bundle
from rnnlab.errors import InvalidInputError
from rnnlab.experiments.kinds import run_config
from rnnlab.experiments.recipes.finetune import run_lm_finetune
from rnnlab.training.finetune import (FinetuneSettings, LayerRateAdam, classifier_preprocessor, classifier_spec,
                             fine_tune, labelled_data, layer_rates, transfer_encoder)
from rnnlab.training.language_model import LanguageModel, LMSettings, NextTokenLoss, token_stream, windows

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "imdb-lm-finetune.toml"

TINY = {
    "kind": "lm-finetune",
    "name": "tiny-lm-finetune",
    "data": {"vocab_size": 3000, "maxlen": 100, "validation_split": 0.2, "seed": 0, "limit": 2000},
    "pretrain": {"embedding_dim": 32, "units": [48, 48], "window": 30, "batch_size": 32, "epochs": 1.0,
                 "learning_rate": 3e-3, "num_sampled": 256, "limit": 2000},
    # Discriminative rates barely decay here: a language model this small has learned little
    # worth protecting, and its embedding must still learn sentiment in a few epochs.
    "finetune": {"batch_size": 16, "learning_rate": 3e-3, "unfreeze_epochs": [1, 1], "epochs": 3,
                 "patience": 2, "head_units": 16, "layer_rate_decay": 1.3},
}


@pytest.fixture(scope="module")
def run(tmp_path_factory, imdb_archive):
    """The whole protocol at toy scale: (results dict, output folder, seconds the call took)."""
    out = tmp_path_factory.mktemp("lm-finetune")
    started = time.perf_counter()
    results = run_config(TINY, out)
    return results, out, time.perf_counter() - started


@pytest.fixture(scope="module")
def lm(run):
    return LanguageModel.load(run[1] / "lm")


def _weights(model, name):
    return [np.asarray(w) for w in model.get_layer(name).get_weights()]


def _same(a, b) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b))


def test_language_model_learns_context(run):
    lm = run[0]["lm"]
    assert math.isfinite(lm["perplexity"])
    # Uniform guessing scores the vocabulary size; a unigram model about 270 on this data.
    assert lm["perplexity"] < lm["uniform_perplexity"] / 10
    assert lm["perplexity"] < 250
    assert lm["trained_tokens"] > 0.9 * lm["train_tokens"]


def test_saved_language_model_reloads(run, lm):
    out = run[1]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no staging left
    assert lm.settings.units == [48, 48] and lm.settings.vocab_size == 3000
    stream = token_stream(lm.preprocessor, lm.preprocessor.tokenizer.tokenize_many(
        ["a great movie with a great cast and a story that works from start to finish"] * 8))
    perplexity = lm.evaluate_perplexity(stream)
    assert 1.0 < perplexity < 3000


def test_windows_shift_targets_by_one():
    x, y = windows(np.arange(23, dtype=np.int32), 5, offset=2)
    assert x.shape == y.shape == (4, 5)
    assert x[0].tolist() == [2, 3, 4, 5, 6] and y[0].tolist() == [3, 4, 5, 6, 7]
    assert y[-1, -1] == 22


def test_next_token_loss_is_exact_at_inference_and_finite_when_sampled():
    layer = NextTokenLoss(50, num_sampled=10, seed=1)
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(2, 3, 4)).astype("float32")
    targets = rng.integers(0, 50, size=(2, 3)).astype("int32")
    exact = np.asarray(layer([hidden, targets], training=False))
    logits = hidden @ np.asarray(layer.kernel).T + np.asarray(layer.bias)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_probs, targets[..., None], -1)[..., 0]
    np.testing.assert_allclose(exact, expected, rtol=1e-5, atol=1e-5)
    sampled = np.asarray(layer([hidden, targets], training=True))
    assert sampled.shape == (2, 3) and np.isfinite(sampled).all() and (sampled >= 0).all()


def test_transfer_copies_encoder_weights_exactly(lm):
    settings = FinetuneSettings(maxlen=50)
    model = classifier_spec(lm, settings).build(compile=False)
    copied = transfer_encoder(lm, model)
    assert copied == ["embedding", "lstm_1", "lstm_2"]
    for name in copied:
        assert _same(_weights(model, name), _weights(lm.model, name)), name
    wider = classifier_spec(lm, settings).replace(units=[48, 64]).build(compile=False)
    with pytest.raises(InvalidInputError, match="lstm_2"):
        transfer_encoder(lm, wider)


@pytest.mark.smoke
def test_layer_rate_factor_zero_keeps_a_layer_fixed_inside_fit():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12,), dtype="int32")
    x = keras.layers.Embedding(40, 8, name="embedding")(inputs)
    x = keras.layers.LSTM(8, name="lstm_1")(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="output")(x))
    optimizer = LayerRateAdam({"embedding": 0.0, "lstm_1": 0.5}, learning_rate=0.05)
    model.compile(optimizer=optimizer, loss="binary_crossentropy")
    assert [optimizer.rate_factor(v) for v in model.trainable_variables] == [0.0, 0.5, 0.5, 0.5, 1.0, 1.0]
    before = {name: _weights(model, name) for name in ("embedding", "lstm_1", "output")}
    rng = np.random.default_rng(0)
    model.fit(rng.integers(1, 40, size=(64, 12)), rng.integers(0, 2, size=(64, 1)), batch_size=16, epochs=2,
              verbose=0)
    assert _same(_weights(model, "embedding"), before["embedding"])
    assert not _same(_weights(model, "lstm_1"), before["lstm_1"])
    assert not _same(_weights(model, "output"), before["output"])
    restored = LayerRateAdam.from_config(optimizer.get_config())
    assert restored.layer_rates == {"embedding": 0.0, "lstm_1": 0.5}


def test_layer_rates_decay_down_the_stack():
    rates = layer_rates(["embedding", "lstm_1", "lstm_2"], 2.0)
    assert rates == {"embedding": 0.125, "lstm_1": 0.25, "lstm_2": 0.5}


def test_first_unfreezing_stage_trains_the_head_only(lm):
    settings = FinetuneSettings(maxlen=60, batch_size=32, unfreeze_epochs=[0.5], epochs=0, head_units=8)
    data = labelled_data(classifier_preprocessor(lm, settings), validation_split=0.25, seed=1, limit=400)
    keras.utils.set_random_seed(3)
    untrained = classifier_spec(lm, settings).build(compile=False)
    tuned = fine_tune(lm, data, settings, seed=3, verbose=0)
    assert [r["stage"] for r in tuned.data_info["records"]] == ["head"]
    for name in lm.encoder_layers:
        assert _same(_weights(tuned.model, name), _weights(lm.model, name)), name
    assert not _same(_weights(tuned.model, "output"), _weights(untrained, "output"))
    assert all(layer.trainable for layer in tuned.model.layers)  # saved fully trainable


def test_run_writes_a_bundle_that_predicts(run):
    results, out, _ = run
    bundle = Bundle.load(results["bundle"])
    prediction = bundle.predict(["great movie"])[0]
    assert prediction.label in ("neg", "pos") and 0.0 <= prediction.probability <= 1.0
    assert prediction.tokens == ["great", "movie"] and prediction.n_oov == 0
    assert bundle.preprocessor.vocabulary.word_index == LanguageModel.load(out / "lm").preprocessor.vocabulary.word_index
    assert bundle.spec.pooling == "concat" and bundle.spec.mask_zero
    json.dumps(results)  # JSON-able as returned


def test_bundle_loads_in_a_fresh_process(run):
    # A new interpreter has imported none of the modules that register the custom layers.
    code = "import sys, rnnlab; print(rnnlab.load(sys.argv[1]).predict(['great movie'])[0].label)"
    done = subprocess.run([sys.executable, "-c", code, run[0]["bundle"]], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] in ("neg", "pos")


def test_run_reports_and_chooses_on_validation(run):
    results = run[0]
    assert [r["stage"] for r in results["history"]][:2] == ["head", "head+top1"]
    best = max(r["val_accuracy"] for r in results["history"])
    assert results["validation_accuracy"] == pytest.approx(best, abs=1e-5)
    assert results["data"]["test_examples"] == 2000
    # Every step reports the time it took (each does real work: more than the 1 ms its figure is
    # rounded to), the steps fit in the total (rounded to 0.1 s), and the total in the time the
    # call took here.
    parts = [results["seconds"][key] for key in ("pretrain", "data", "finetune", "test", "save")]
    assert all(part > 0 for part in parts), results["seconds"]
    assert sum(parts) <= results["total_seconds"] + 0.06 and results["total_seconds"] <= run[2] + 0.05, results
    assert sum(results["seconds"]["stages"].values()) <= results["seconds"]["finetune"] + 0.005
    assert results["params"] > 0 and results["machine"]["backend"] == keras.backend.backend()
    # Above chance on 2,000 unseen test reviews after training on 1,600 (about 0.7 measured).
    assert results["test_accuracy"] > 0.6


def test_committed_config_is_valid(tmp_path):
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    assert config["kind"] == "lm-finetune"
    LMSettings(vocab_size=config["data"]["vocab_size"], **config["pretrain"])
    FinetuneSettings(maxlen=config["data"]["maxlen"], **config["finetune"])
    with pytest.raises(InvalidInputError, match="unfreez"):
        run_lm_finetune({**config, "finetune": {"unfreezing": 1}}, tmp_path)
