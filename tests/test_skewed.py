"""Skewed classes: class weights in the one engine (`TrainingConfig.class_weight`, `rnnlab train --class-weight`),
and the per-class figures and precision-recall curves of every test block."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.data import TextDataset, load_imdb
from rnnlab.encoding.prepare import prepare
from rnnlab.errors import InvalidInputError, UnknownNameError
from rnnlab.models import ModelSpec
from rnnlab.training import TrainingConfig
from rnnlab.training.engine import class_weights, fit
from rnnlab.training.metrics import RECALL_LEVELS, precision_recall_curves, probabilities

pytestmark = pytest.mark.timeout(300)


def _prepared(labels, names=("neg", "pos")):
    texts = [f"text number {i}" for i in range(len(labels))]
    return prepare(TextDataset(texts, np.asarray(labels), names), None, vocab_size=50, maxlen=5, validation_split=0.0)


def test_balanced_weights_make_every_class_weigh_the_same_in_total():
    data = _prepared([0] * 90 + [1] * 10)
    weights = class_weights("balanced", data)
    assert weights == pytest.approx({0: 100 / (2 * 90), 1: 100 / (2 * 10)})
    counts = np.bincount(data.y_train)
    assert weights[0] * counts[0] == pytest.approx(weights[1] * counts[1])
    assert class_weights({"pos": 3}, data) == {0: 1.0, 1: 3.0}
    assert class_weights({"0": 2, 1: 0.5}, data) == {0: 2.0, 1: 0.5}
    assert class_weights(None, data) is None
    with pytest.raises(UnknownNameError, match="class in class_weight"):
        class_weights({"positive": 2}, data)
    for bad in ("inverse", {"pos": 0}, {"pos": -1}, {}, 3):
        with pytest.raises(InvalidInputError, match="class_weight"):
            TrainingConfig(class_weight=bad)
    sets = prepare(TextDataset(["a b", "c d", "e f"], np.array([[1, 0], [0, 1], [1, 1]]), ("x", "y")), None,
                   vocab_size=20, maxlen=3, validation_split=0.0)
    with pytest.raises(InvalidInputError, match="binary_focal_crossentropy"):
        class_weights("balanced", sets)


def test_balanced_weights_find_more_of_the_rare_class(imdb_archive):
    reviews = load_imdb("train")
    rng = np.random.default_rng(0)
    rows = rng.permutation(np.concatenate([rng.choice(np.flatnonzero(reviews.labels == 0), 1_200, replace=False),
                                           rng.choice(np.flatnonzero(reviews.labels == 1), 120, replace=False)]))
    skewed = reviews.subset(rows)
    test = load_imdb("test").sample(1_000, seed=1)  # balanced: recall of positives is what changes
    data = prepare(skewed, test, vocab_size=5_000, maxlen=150, validation_split=0.0, seed=0)
    spec = ModelSpec(name="skewed", vocab_size=5_000, maxlen=150, embedding_dim=32, mask_zero=True, cell="gru",
                     units=16, pooling="max", optimizer="adam", learning_rate=0.005)
    recall = {}
    for weighting in (None, "balanced"):
        result = fit(spec, data, TrainingConfig(epochs=3, batch_size=32, class_weight=weighting), verbose=0)
        predicted = probabilities(result.model, data.x_test, spec=result.spec, padding="pre").argmax(axis=1)
        recall[weighting] = float((predicted[data.y_test == 1] == 1).mean())
    assert recall["balanced"] > recall[None] + 0.2, recall


def test_skewed_classes_are_named_before_training_and_weighted_by_train_auto():
    from rnnlab.data.profile import profile
    from rnnlab.experiments.recipes.auto import class_weighting

    skewed = TextDataset([f"text {i}" for i in range(60)], np.array([0] * 50 + [1] * 10), ("neg", "pos"))
    assert any("skewed 5.0:1 ('neg' against 'pos')" in w for w in profile(skewed).warnings)
    assert class_weighting(skewed) == "balanced"
    even = TextDataset([f"text {i}" for i in range(60)], np.array([0] * 40 + [1] * 20), ("neg", "pos"))
    assert not any("skewed" in w for w in profile(even).warnings) and class_weighting(even) is None
    sets = TextDataset(["a", "b", "c", "d", "e"], np.array([[1, 0]] * 4 + [[0, 1]]), ("x", "y"))
    assert class_weighting(sets) is None  # label sets take a focal loss instead


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 300), k=st.integers(2, 4))
def test_precision_recall_curves_agree_with_scikit_learn(seed, n, k):
    from sklearn.metrics import average_precision_score, precision_recall_curve

    rng = np.random.default_rng(seed)
    y = rng.random((n, k)) < 0.3
    probs = np.clip(0.4 * y + rng.random((n, k)) * 0.6, 0, 1).round(2)  # ties included
    curves = precision_recall_curves(y, probs, [f"c{j}" for j in range(k)])
    for j in range(k):
        curve = curves[f"c{j}"]
        if not y[:, j].any():
            assert curve is None
            continue
        precision, recall, _ = precision_recall_curve(y[:, j], probs[:, j])
        assert curve["average_precision"] == pytest.approx(average_precision_score(y[:, j], probs[:, j]), abs=1e-6)
        for level, got in zip(RECALL_LEVELS, curve["precision"]):
            assert got == pytest.approx(precision[recall >= level].max(), abs=1e-6)


def test_every_bundle_reports_each_class_and_its_precision_recall_curve(lstm_bundle):
    _, out = lstm_bundle
    test = json.loads((out / "metrics.json").read_text())["test"]
    per_class = test["per_class"]
    assert set(per_class) == {"neg", "pos"}
    assert sum(row["support"] for row in per_class.values()) == test["examples"]
    # Recall of a class is its diagonal cell over its row of the confusion matrix.
    matrix = np.asarray(test["confusion_matrix"])
    assert per_class["pos"]["recall"] == pytest.approx(matrix[1, 1] / matrix[1].sum())
    for name in ("neg", "pos"):
        curve = test["precision_recall"][name]
        assert 0.5 < curve["average_precision"] <= 1 and len(curve["precision"]) == len(RECALL_LEVELS)
        assert all(a >= b - 1e-12 for a, b in zip(curve["precision"], curve["precision"][1:]))  # interpolated
    assert (out / "precision_recall.png").stat().st_size > 10_000


def test_decision_threshold_settings_and_rule():
    from rnnlab.training.metrics import decide, tune_decision_threshold

    probs = np.array([[0.8, 0.2], [0.6, 0.4], [0.3, 0.7]])
    assert decide(probs).tolist() == [0, 0, 1] and decide(probs, 0.35).tolist() == [0, 1, 1]
    assert decide(np.array([[0.2, 0.5, 0.3]]), 0.1).tolist() == [1]  # more than two classes: the most probable
    # The rare positives score 0.3-0.45: a threshold under them gets every row right.
    y = np.array([0] * 8 + [1] * 2)
    p1 = np.array([0.05, 0.1, 0.1, 0.15, 0.2, 0.1, 0.05, 0.2, 0.3, 0.45])
    threshold = tune_decision_threshold(y, np.stack([1 - p1, p1], axis=1))
    assert 0.2 < threshold <= 0.3 and (decide(np.stack([1 - p1, p1], axis=1), threshold) == y).all()
    for bad in (0, 1, 1.5, -0.2, "best", True):
        with pytest.raises(InvalidInputError, match="decision_threshold"):
            TrainingConfig(decision_threshold=bad)
    three = prepare(TextDataset(["a b", "c d", "e f"] * 4, np.array([0, 1, 2] * 4), ("x", "y", "z")), None,
                    vocab_size=20, maxlen=3, validation_split=0.25)
    spec = ModelSpec(name="tiny", vocab_size=20, maxlen=3, embedding_dim=4, cell="gru", units=2)
    with pytest.raises(InvalidInputError, match="two classes"):
        fit(spec, three, TrainingConfig(epochs=1, decision_threshold=0.3), verbose=0)
    two = _prepared([0, 1] * 10)  # no validation rows
    with pytest.raises(InvalidInputError, match="validation rows"):
        fit(spec, two, TrainingConfig(epochs=1, decision_threshold="tune"), verbose=0)


def test_tuned_decision_threshold_is_stored_and_decides_every_prediction(imdb_archive, tmp_path):
    from typer.testing import CliRunner

    from rnnlab.cli import app
    from rnnlab.inference import Bundle

    reviews = load_imdb("train")
    rng = np.random.default_rng(1)
    rows = rng.permutation(np.concatenate([rng.choice(np.flatnonzero(reviews.labels == 0), 1_000, replace=False),
                                           rng.choice(np.flatnonzero(reviews.labels == 1), 100, replace=False)]))
    test = load_imdb("test").sample(600, seed=2)
    data = prepare(reviews.subset(rows), test, vocab_size=3_000, maxlen=120, validation_split=0.3, seed=0)
    spec = ModelSpec(name="skewed", vocab_size=3_000, maxlen=120, embedding_dim=16, mask_zero=True, cell="gru",
                     units=8, pooling="max", optimizer="adam", learning_rate=0.01)
    result = fit(spec, data, TrainingConfig(epochs=2, batch_size=32, decision_threshold="tune"), verbose=0)
    threshold = result.decision_threshold
    assert 0 < threshold < 1 and result.test["decision_threshold"] == threshold
    # The test block decides by the threshold: its confusion matrix counts the rows at or above it.
    probs = result.model.predict(data.x_test, verbose=0).reshape(-1)
    positives = scale_binary(probs, result.temperature) >= threshold
    assert np.asarray(result.test["confusion_matrix"])[:, 1].sum() == positives.sum()
    out = result.save(tmp_path / "bundle")
    bundle = Bundle.load(out)
    assert bundle.decision_threshold == threshold
    texts = test.texts[:40]
    predictions = bundle.predict(texts)
    assert [p.label == "pos" for p in predictions] == [p.probabilities["pos"] >= threshold for p in predictions]
    # rnnlab train takes a number too, and refuses nonsense in one line.
    runner = CliRunner()
    outcome = runner.invoke(app, ["train", "lstm", "--decision-threshold", "2"])
    assert outcome.exit_code != 0 and "--decision-threshold" in outcome.output


def scale_binary(positive: np.ndarray, temperature) -> np.ndarray:
    from rnnlab.training.calibration import scale

    return scale(np.stack([1 - positive, positive], axis=1), temperature)[:, 1]
