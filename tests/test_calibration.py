"""Temperature scaling: its arithmetic, its fit, and the bundles and reports that carry it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import rnnlab
from rnnlab.errors import RnnlabError
from rnnlab.training.calibration import calibration_error, fit_temperature, reliability, scale, temperature_of

pytestmark = pytest.mark.timeout(600)

PROBS = st.integers(2, 6).flatmap(lambda k: arrays(np.float64, st.tuples(st.integers(1, 20), st.just(k)),
                                                   elements=st.floats(0.01, 1.0)))


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@settings(max_examples=100, deadline=None)
@given(raw=PROBS, temperature=st.floats(0.3, 3.0))  # no probability so small that 1e-12 clips it
def test_scaling_keeps_decisions_and_undoes_itself(raw, temperature):
    probs = raw / raw.sum(axis=1, keepdims=True)
    scaled = scale(probs, temperature)
    np.testing.assert_allclose(scaled.sum(axis=1), 1.0, atol=1e-9)
    # The most probable class stays so (ties aside), and 1 / T brings the model's probabilities back.
    clear = np.sort(probs, axis=1)[:, -1] - np.sort(probs, axis=1)[:, -2] > 1e-6
    np.testing.assert_array_equal(scaled.argmax(axis=1)[clear], probs.argmax(axis=1)[clear])
    np.testing.assert_allclose(scale(scaled, 1.0 / temperature), probs, atol=1e-7)
    assert scale(probs, None) is probs and scale(probs, 1.0) is probs


@settings(max_examples=50, deadline=None)
@given(p=arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(1, 5)), elements=st.floats(0.01, 0.99)),
       temperature=st.floats(0.3, 1.5))
def test_label_sets_scale_each_sigmoid_keeping_one_half(p, temperature):
    temperatures = np.linspace(temperature, 2 * temperature, p.shape[1])
    scaled = scale(p, temperatures, multi_label=True)
    np.testing.assert_array_equal(scaled > 0.5, p > 0.5)
    np.testing.assert_allclose(scale(scaled, 1.0 / temperatures, multi_label=True), p, atol=1e-7)


def test_fit_recovers_the_temperature_of_an_over_confident_model():
    rng = np.random.default_rng(0)
    logits = rng.normal(0.0, 1.5, size=(20_000, 3))
    truth = _softmax(logits)
    y = np.array([rng.choice(3, p=row) for row in truth])
    over_confident = _softmax(3.0 * logits)  # the calibrated model's log-odds times 3
    temperature = fit_temperature(y, over_confident)
    assert temperature == pytest.approx(3.0, rel=0.05)
    before, after = calibration_error(y, over_confident), calibration_error(y, scale(over_confident, temperature))
    assert after < 0.02 < before
    # Several labels a row: each label's own temperature.
    labels = (rng.random((20_000, 2)) < 1 / (1 + np.exp(-logits[:, :2]))).astype(int)
    sigmoids = 1 / (1 + np.exp(-np.array([4.0, 0.5]) * logits[:, :2]))
    np.testing.assert_allclose(fit_temperature(labels, sigmoids, multi_label=True), [4.0, 0.5], rtol=0.08)


def test_reliability_bins_count_every_row_and_ece_is_their_weighted_gap():
    y = np.array([0, 1, 1, 0])
    probs = np.array([[0.9, 0.1], [0.15, 0.85], [0.65, 0.35], [0.45, 0.55]])
    table = reliability(y, probs, bins=5)
    assert [row["count"] for row in table] == [0, 0, 1, 1, 2]
    # Bins of confidence 0.4-0.6 (0.55, wrong), 0.6-0.8 (0.65, wrong), 0.8-1 (0.9 and 0.85, both right).
    expected = (abs(0.55 - 0) + abs(0.65 - 0) + 2 * abs(0.875 - 1)) / 4
    assert calibration_error(y, probs, bins=5) == pytest.approx(expected)


def test_temperature_of_reads_numbers_and_labels_and_refuses_nonsense():
    assert temperature_of({}, ["a"]) is None
    assert temperature_of({"calibration": {"temperature": 1.5}}, ["a", "b"]) == 1.5
    np.testing.assert_array_equal(temperature_of({"calibration": {"temperature": {"b": 2.0, "a": 0.5}}}, ["a", "b"]),
                                  [0.5, 2.0])
    for bad in (-1, 0, "hot", float("inf"), True, {"a": 1.0}):
        with pytest.raises(RnnlabError, match="temperature"):
            temperature_of({"calibration": {"temperature": bad}}, ["a", "b"])


def test_trained_bundle_stores_its_temperature_and_predicts_scaled(lstm_bundle, tmp_path):
    trained, out = lstm_bundle
    metrics = json.loads((out / "metrics.json").read_text())
    calibration = metrics["calibration"]
    assert calibration["temperature"] == trained["temperature"] > 0
    assert calibration["fitted_on"].endswith("validation rows")
    assert "warning" not in calibration  # a model that learnt something keeps informative probabilities
    # The likelihood fit does not worsen the validation rows' calibration.
    assert calibration["validation_ece"]["after"] <= calibration["validation_ece"]["before"] + 0.01
    test = metrics["test"]["calibration"]
    assert {"ece", "ece_unscaled", "reliability"} <= set(test)
    assert sum(row["count"] for row in test["reliability"]) == metrics["test"]["examples"]
    loaded = rnnlab.load(out)
    assert loaded.temperature == pytest.approx(trained["temperature"])
    texts = trained["reference"]["texts"]
    raw = np.asarray(trained["raw_probabilities"])
    expected = scale(np.stack([1 - raw, raw], axis=1), loaded.temperature)
    np.testing.assert_allclose(loaded.predict_proba(texts), expected, atol=1e-5)
    # A damaged temperature is refused with the file named.
    copy = tmp_path / "bundle"
    shutil.copytree(out, copy)
    metrics["calibration"]["temperature"] = -2
    (copy / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(RnnlabError, match="metrics.json.*temperature"):
        rnnlab.load(copy)


@pytest.mark.timeout(300)
def test_a_model_that_learnt_nothing_is_flattened_and_training_says_why(amazon_file, tmp_path):
    from typer.testing import CliRunner

    from rnnlab.cli import app

    result = CliRunner().invoke(app, ["train", "lstm", "--dataset", "amazon", "--limit", "300", "--epochs", "1",
                                      "--vocab-size", "2000", "--maxlen", "64", "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    calibration = json.loads((tmp_path / "b" / "metrics.json").read_text())["calibration"]
    # One epoch on 240 reviews: the textbook LSTM is at chance, and its temperature at the top of the range.
    assert calibration["temperature"] > 19
    assert "the top of its range" in calibration["warning"] and "warning: the temperature fitted" in result.output
