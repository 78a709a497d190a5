"""Label sets in stacks and in `train auto`'s n-gram model: one NBSVM per label, a blend of each label's
log-odds, thresholds tuned on the validation fold, and the stack bundle on every surface."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score
from typer.testing import CliRunner

from reviewfiles import write_csv
from rnnlab.cli import app
from rnnlab.data import load_goemotions
from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.experiments.recipes.stack import choose_members, run_stack
from rnnlab.inference import Bundle
from rnnlab.inference.stack import Blend, StackBundle
from rnnlab.serve import create_app
from rnnlab.training.linear import NgramModel
from rnnlab.training.metrics import label_sets

pytestmark = pytest.mark.timeout(300)
runner = CliRunner()


@pytest.fixture(scope="module")
def comments(goemotions_dir):
    return load_goemotions("train").sample(4_000, seed=3), load_goemotions("test").sample(1_000, seed=3)


def test_an_ngram_model_of_label_sets_learns_each_label_and_reloads_exactly(comments, tmp_path):
    train, test = comments
    model = NgramModel((1, 2), C=0.3, class_names=train.class_names).fit(train.texts, train.labels)
    assert model.multi_label and model.values.shape[0] == 28
    probs = model.predict_proba(test.texts)
    assert probs.shape == (1_000, 28) and not np.allclose(probs.sum(axis=1), 1.0)  # each label's own probability
    # Every label predicted for every comment scores a macro-F1 of about 0.06; a label with plain cue words is learnt.
    sets = label_sets(probs, np.full(28, 0.3))
    assert f1_score(test.labels, sets, average="macro", zero_division=0) > 0.15
    gratitude = train.class_names.index("gratitude")
    assert f1_score(test.labels[:, gratitude], sets[:, gratitude]) > 0.6
    assert model.contributions("thank you so much", target=gratitude)[0][1] > 0
    model.save(tmp_path / "nb")
    again = NgramModel.load(tmp_path / "nb")
    assert again.multi_label and np.array_equal(again.predict_proba(test.texts), probs)
    # One label a text has one model row per class (two classes: one); a label no text holds cannot be learnt.
    with pytest.raises(InvalidInputError, match="admiration"):
        NgramModel(class_names=train.class_names).fit(train.texts[:50], np.zeros((50, 28), dtype=int))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(40, 300), labels=st.integers(1, 6))
def test_a_fitted_blend_of_label_sets_is_never_worse_than_either_member_alone(seed, n, labels):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, labels)) < 0.3).astype(int)
    good = np.clip(np.where(y == 1, 0.7, 0.3) + rng.normal(0, 0.2, y.shape), 0.01, 0.99)
    noise = rng.uniform(0.01, 0.99, y.shape)
    l2 = 0.01
    blend = Blend.fit([good, noise], y, l2=l2)
    assert blend.multi_label and (blend.weights >= 0).all() and blend.biases.shape == (labels,)

    def loss(probs):
        p = np.clip(probs, 1e-7, 1 - 1e-7)
        return -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum() / n

    # Each member alone (weight 1, no bias) is one of the blends searched, so the fitted one is at least as good,
    # up to the weight penalty and the rounding of stored weights.
    fitted = loss(blend([good, noise])) + l2 * float((blend.weights ** 2).sum())
    assert fitted <= min(loss(good), loss(noise)) + l2 + 1e-3
    one = Blend.fit([good], y)
    assert np.allclose(one([good]), good)


@pytest.fixture(scope="module")
def stacked(goemotions_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("labelstack")
    config = {"kind": "stack", "name": "feelings",
              "data": {"dataset": "goemotions", "validation_split": 0.25, "seed": 0, "limit": 3_000},
              "members": [{"name": "words", "ngram_range": [1, 1], "C": 0.3},
                          {"name": "pairs", "ngram_range": [1, 2], "C": 0.3}]}
    return out, run_stack(config, out)


def test_a_stack_of_label_sets_blends_log_odds_and_tunes_thresholds_on_validation(stacked):
    out, results = stacked
    names = load_goemotions("test").class_names
    assert set(results["thresholds"]) == set(names) and results["validation_examples"] == 750
    assert results["test_examples"] == 3_000 and 0.15 < results["test_macro_f1"] <= 1
    assert [set(m) >= {"validation_macro_f1", "test_macro_f1", "weight"} for m in results["members"]] == [True, True]
    # The blend on validation is at least as good as its best member there (both scored at thresholds tuned there).
    assert results["validation_macro_f1"] >= max(m["validation_macro_f1"] for m in results["members"]) - 0.01
    stack = json.loads((out / "bundle" / "stack.json").read_text())
    assert stack["multi_label"] is True and len(stack["biases"]) == 28
    ranked = choose_members(out)
    assert len(ranked) == 3 and all("validation_macro_f1" in r for r in ranked)


def test_a_label_set_stack_bundle_predicts_explains_and_serves_label_sets(stacked, tmp_path):
    out, results = stacked
    bundle = Bundle.load(out / "bundle")
    assert isinstance(bundle, StackBundle) and bundle.multi_label
    assert bundle.thresholds.tolist() == [results["thresholds"][n] for n in bundle.class_names]
    texts = ["Thank you so much, that is so kind!", "lol this is hilarious, I can't stop laughing"]
    probs = bundle.predict_proba(texts)
    assert probs.shape == (2, 28) and not np.allclose(probs.sum(axis=1), 1.0)
    predictions = bundle.predict(texts)
    assert predictions[0].labels[0] == "gratitude" and "amusement" in predictions[1].labels
    for p, row in zip(predictions, probs):
        assert p.labels == [bundle.class_names[j] for j in np.argsort(-row) if label_sets(row[None], bundle.thresholds)[0, j]]
    explanation = bundle.explain(texts[0])
    assert bundle.class_names[explanation.target_id] == "gratitude" and set(explanation.parts) == {"words", "pairs"}
    assert explanation.parts["words"]["share"] > 0 and explanation.parts["words"]["ngrams"][0]["ngram"] == "thank"
    source = tmp_path / "comments.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    written = tmp_path / "labels.csv"
    outcome = runner.invoke(app, ["predict", str(out / "bundle"), "--input", str(source), "--output", str(written)])
    assert outcome.exit_code == 0, outcome.output
    rows = list(csv.DictReader(written.open(encoding="utf-8")))
    assert [r["labels"].split("|") for r in rows] == [p.labels for p in predictions]
    outcome = runner.invoke(app, ["evaluate", str(out / "bundle"), "--limit", "3000", "--json"])  # the run's rows
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.stdout)["macro_f1"] == pytest.approx(results["test_macro_f1"], abs=1e-4)
    client = TestClient(create_app(out / "bundle", warm_up=False))
    answer = client.post("/v1/predict", json={"texts": texts}).json()["predictions"]
    assert [a["labels"] for a in answer] == [p.labels for p in predictions]


def test_a_stack_whose_member_predicts_one_label_a_text_is_refused(stacked, tmp_path):
    import shutil

    out, _ = stacked
    copy = tmp_path / "copy"
    shutil.copytree(out / "bundle", copy)
    described = json.loads((copy / "stack.json").read_text())
    (copy / "stack.json").write_text(json.dumps({**described, "multi_label": False}))
    with pytest.raises(RnnlabError, match="label sets"):
        Bundle.load(copy)
    (copy / "stack.json").write_text(json.dumps({**described, "multi_label": "yes"}))
    with pytest.raises(RnnlabError, match="damaged"):
        Bundle.load(copy)


@pytest.mark.slow
def test_train_auto_on_label_sets_weighs_the_recurrent_model_against_nbsvm_per_label(comments, tmp_path):
    train, _ = comments
    names = train.class_names
    rows = train.sample(3_000, seed=2)
    table = write_csv(tmp_path / "comments.csv", [["comment", "feelings"]] + [
        [text, "|".join(names[j] for j in np.flatnonzero(row))] for text, row in zip(rows.texts, rows.labels)])
    out = tmp_path / "auto"
    outcome = runner.invoke(app, ["train", "auto", "--dataset", str(table), "--label-separator", "|", "--out",
                                  str(out), "--json"])
    assert outcome.exit_code == 0, outcome.output
    summary = json.loads(outcome.stdout)
    recurrent, baseline, candidates = summary["recurrent"], summary["baseline"], summary["candidates"]
    # Every label predicted for every comment scores a macro-F1 of about 0.06 on GoEmotions.
    assert recurrent["test_macro_f1"] > 0.15 and recurrent["test_micro_f1"] > 0.15, recurrent
    assert recurrent["validation_accuracy"] is None  # Keras' per-label accuracy is not a text's
    assert baseline["test_macro_f1"] > 0.15, baseline
    assert baseline["name"] == "nbsvm" and baseline["ngram_range"] == [1, 2] and baseline["C"] in (0.1, 0.3, 1.0)
    assert set(candidates) == {"auto-bigru", "nbsvm", "doc-vectors", "blend"}
    best = max(candidates, key=lambda name: candidates[name]["validation_macro_f1"])
    assert summary["chosen"] == best and summary["test_macro_f1"] == candidates[best]["test_macro_f1"]
    bundle = Bundle.load(out)
    assert bundle.multi_label and set(bundle.class_names) <= set(names)
    assert bundle.thresholds.shape == (len(bundle.class_names),)
    assert bundle.predict(["Thank you, that is very kind!"])[0].labels
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["macro_f1"] == pytest.approx(summary["test_macro_f1"])
    # tf-idf has no model of label sets: refused before anything trains.
    outcome = runner.invoke(app, ["train", "auto", "--dataset", str(table), "--label-separator", "|", "--baseline",
                                  "tfidf-lr"])
    assert outcome.exit_code != 0 and "nbsvm" in outcome.output
