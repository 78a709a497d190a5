"""Train real small models on real IMDB subsets, save bundles, reload them, classify raw text."""

import json

import numpy as np
import pytest

import rnnlab
from rnnlab.inference.bundle import Bundle
from rnnlab.errors import InvalidInputError
from rnnlab.training.engine import train

OOV_REVIEW = "Zorblax quixotrane flibbertigibbet snarfwobble glorptastic vexillogrumph!"


@pytest.mark.smoke
def test_training_beats_chance_and_reports_metrics(lstm_bundle):
    trained, out = lstm_bundle
    assert trained["params"] == 264_353
    assert trained["test"]["examples"] == 5000
    assert trained["test"]["accuracy"] > 0.65, trained["test"]
    cm = np.array(trained["test"]["confusion_matrix"])
    assert cm.sum() == 5000 and cm.shape == (2, 2)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["params"] == 264_353
    assert metrics["test"]["accuracy"] == trained["test"]["accuracy"]
    assert len(metrics["history"]["val_accuracy"]) == 4
    assert metrics["history"]["val_accuracy"] == trained["history"]["val_accuracy"]
    assert metrics["backend"] in ("jax", "torch", "tensorflow")
    assert metrics["seed"] == 1
    assert {"model.keras", "preprocessing.json", "spec.json", "metrics.json", "training_curves.png", "logs"} <= {
        p.name for p in out.iterdir()}
    assert {p.parent.name for p in (out / "logs").rglob("events.out.tfevents.*")} == {"train", "validation"}


@pytest.mark.smoke
def test_bundle_round_trip_gives_identical_predictions(lstm_bundle):
    trained, out = lstm_bundle
    texts = trained["reference"]["texts"]  # two reviews, then OOV_REVIEW
    assert texts[2] == OOV_REVIEW
    direct = trained["reference"]["probabilities"]  # the trained model's, in memory, before saving
    loaded = rnnlab.load(out)
    predictions = loaded.predict(texts)
    np.testing.assert_allclose([p.probabilities["pos"] for p in predictions], direct, rtol=1e-5, atol=1e-6)
    assert [p.label for p in predictions][:2] == ["pos", "neg"]
    oov = predictions[2]
    assert oov.n_tokens == 6 and oov.n_oov == 6  # every word unknown, none dropped
    assert 0.0 <= oov.probability <= 1.0


def test_bundle_rejects_bad_input(lstm_bundle):
    _, out = lstm_bundle
    loaded = Bundle.load(out)
    with pytest.raises(InvalidInputError, match="empty"):
        loaded.predict(["   "])
    with pytest.raises(InvalidInputError):
        loaded.predict([])


def test_same_seed_same_result(imdb_archive):
    first = train("gru", limit=600, epochs=1, seed=3, verbose=0)
    second = train("gru", limit=600, epochs=1, seed=3, verbose=0)
    assert first.history == second.history
    assert first.test_accuracy == second.test_accuracy


def test_amazon_nltk_recipe_trains(amazon_file):
    result = train("amazon-stacked-lstm", seed=0, epochs=2, verbose=0)
    assert result.params == 381_025
    assert result.preprocessor.mode == "nltk"
    assert result.test["examples"] == 200  # 20% held out of the 1,000 reviews, stratified
