"""Stacking: n-gram members, blend weights fitted on validation, one bundle that predicts, explains and serves."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.experiments.kinds import run_config
from rnnlab.experiments.recipes.stack import choose_members, run_stack, stack_members
from rnnlab.inference import Bundle
from rnnlab.inference.stack import Blend, StackBundle
from rnnlab.training.linear import NgramModel

pytestmark = pytest.mark.timeout(300)
runner = CliRunner()

TINY_GRU = {"vocab_size": 2000, "maxlen": 100, "embedding_dim": 16, "mask_zero": True, "cell": "gru", "units": 8,
            "pooling": "max", "optimizer": "adam", "learning_rate": 0.01}
STACK = {
    "kind": "stack", "name": "tiny-stack",
    "data": {"dataset": "imdb", "validation_split": 0.25, "seed": 0, "limit": 800},
    "members": [
        {"name": "nb-lr", "ngram_range": [1, 2], "C": 0.1},
        {"name": "gru", "model": TINY_GRU, "training": {"epochs": 2, "batch_size": 32, "buckets": 2}},
    ],
}


@pytest.fixture(scope="module")
def stacked(tmp_path_factory, imdb_archive):
    out = tmp_path_factory.mktemp("stack")
    return out, run_config(STACK, out)


def test_ngram_model_learns_saves_and_reloads_exactly(tmp_path, imdb_archive):
    from rnnlab.data import load_imdb

    train, test = load_imdb("train"), load_imdb("test")
    rng = np.random.default_rng(0)
    rows, held = rng.choice(len(train), 1500, replace=False), rng.choice(len(test), 500, replace=False)
    model = NgramModel(C=0.1, class_names=train.class_names).fit([train.texts[i] for i in rows], train.labels[rows])
    texts = [test.texts[i] for i in held]
    probs = model.predict_proba(texts)
    assert probs.shape == (500, 2) and np.allclose(probs.sum(axis=1), 1)
    assert (probs.argmax(axis=1) == test.labels[held]).mean() > 0.75  # chance is 0.5
    model.save(tmp_path / "nb")
    again = NgramModel.load(tmp_path / "nb")
    np.testing.assert_allclose(again.predict_proba(texts), probs, atol=1e-6)
    grams = dict(again.contributions("A wonderful film, but the ending was awful."))
    assert grams["wonderful"] > 0 > grams["awful"]
    # The same NBSVM on exact n-gram columns (a vocabulary of the training n-grams) agrees: the
    # hashed model holds only filled buckets, and the NB ratios are normalised over those alone.
    from rnnlab.experiments.recipes.baseline import _vectorizer
    from rnnlab.training.linear import NBSVM

    vectorizer = _vectorizer("nbsvm", (1, 2), len(rows))
    exact = NBSVM(C=0.1).fit(vectorizer.fit_transform([train.texts[i] for i in rows]), train.labels[rows])
    agree = (exact.predict_proba(vectorizer.transform(texts)).argmax(axis=1) == probs.argmax(axis=1)).mean()
    assert agree >= 0.99
    assert model.nonzero == again.nonzero and 100_000 < model.nonzero < 1_000_000
    # A model saved with dense weights (before 0.7) still loads, to the same predictions.
    small = NgramModel(C=0.1, n_features=2 ** 16).fit([train.texts[i] for i in rows[:300]], train.labels[rows[:300]])
    small.save(tmp_path / "small")
    dense = np.zeros((1, 2 ** 16), dtype=np.float32)
    dense[:, small.columns] = small.values
    np.savez_compressed(tmp_path / "small" / "ngram.npz", weights=dense, biases=small.biases)
    np.testing.assert_allclose(NgramModel.load(tmp_path / "small").predict_proba(texts), small.predict_proba(texts),
                               atol=1e-6)
    (tmp_path / "nb" / "ngram.npz").write_bytes(b"not a numpy file")
    with pytest.raises(RnnlabError, match="damaged"):
        NgramModel.load(tmp_path / "nb")


def test_fit_blend_gives_a_useless_member_no_weight():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 2000)
    informative = np.where(labels[:, None] == np.arange(2), 0.8, 0.2)
    noise = rng.dirichlet([1, 1], 2000)
    blend = Blend.fit([informative, noise], labels)
    assert blend.weights[0] > 0.5 and blend.weights[1] < 0.05 * blend.weights[0]
    assert blend([informative, noise]).argmax(axis=1).tolist() == labels.tolist()


def test_stack_trains_blends_on_validation_and_scores_test_once(stacked):
    out, results = stacked
    stored = json.loads((out / "results.json").read_text())
    assert stored["test_accuracy"] == results["test_accuracy"] and stored["kind"] == "stack"
    assert stored["format"] == "rnnlab.results/1" and stored["versions"]["keras"] and stored["machine"]["cpu_count"]
    assert stored["test_accuracy"] == stored["test"]["accuracy"] > 0.7 and stored["validation"]["examples"] == 200
    # The blend is fitted by likelihood (no temperature of its own); its calibration error is reported.
    calibration = stored["test"]["calibration"]
    assert calibration["temperature"] is None and 0 <= calibration["ece"] < 0.2
    assert sum(row["count"] for row in calibration["reliability"]) == 800
    assert stored["test_examples"] == 800 and stored["validation_examples"] == 200 and stored["train_examples"] == 600
    members = {m["name"]: m for m in stored["members"]}
    assert set(members) == {"nb-lr", "gru"} and all(0 <= m["weight"] for m in members.values())
    assert members["nb-lr"]["test_accuracy"] > 0.7 and members["gru"]["params"] > 0
    assert stored["test_standard_error"] == pytest.approx(
        np.sqrt(stored["test_accuracy"] * (1 - stored["test_accuracy"]) / 800), abs=1e-5)


def test_choose_members_ranks_every_subset_within_a_budget(stacked):
    out, results = stacked
    ranked = choose_members(out)
    assert len(ranked) == 3 and {tuple(r["members"]) for r in ranked} == {("nb-lr",), ("gru",), ("nb-lr", "gru")}
    accuracies = [r["validation_accuracy"] for r in ranked]
    assert accuracies == sorted(accuracies, reverse=True)
    full = next(r for r in ranked if len(r["members"]) == 2)
    assert full["validation_accuracy"] == results["validation_accuracy"]
    alone = {r["members"][0]: r for r in ranked if len(r["members"]) == 1}
    assert alone["nb-lr"]["validation_accuracy"] == next(m for m in results["members"]
                                                          if m["name"] == "nb-lr")["validation_accuracy"]
    cheap = choose_members(out, budget_seconds=alone["nb-lr"]["seconds"] + 0.05)
    assert [r["members"] for r in cheap] == [["nb-lr"]]


def test_stack_bundle_predicts_the_blend_of_its_members_and_explains_its_parts(stacked):
    out, results = stacked
    bundle = Bundle.load(out / "bundle")
    assert isinstance(bundle, StackBundle) and bundle.kind == "text" and bundle.test_accuracy == results["test_accuracy"]
    texts = ["A wonderful, moving film with a superb cast.", "Dull, awful and far too long. A waste of time."]
    parts = [Bundle.load(out / "bundle" / "members" / "gru").predict_proba(texts),
             NgramModel.load(out / "bundle" / "members" / "nb-lr").predict_proba(texts)]
    weights = {m["name"]: m["weight"] for m in results["members"]}
    expected = Blend([weights["nb-lr"], weights["gru"]], results["biases"])(parts[::-1])
    np.testing.assert_allclose(bundle.predict_proba(texts), expected, atol=1e-6)
    predictions = bundle.predict(texts)
    assert [p.label for p in predictions] == ["pos", "neg"]
    assert set(predictions[0].parts) == {"nb-lr", "gru"} and "parts" in predictions[0].to_dict(tokens=False)
    explanation = bundle.explain(texts[0])
    assert explanation.tokens and set(explanation.parts) == {"nb-lr", "gru"}
    assert explanation.parts["nb-lr"]["ngrams"][0]["ngram"] in texts[0].lower()
    np.testing.assert_allclose(explanation.probabilities, expected[0], atol=1e-6)


def test_stack_bundle_through_the_cli_and_the_service(stacked):
    out, _ = stacked
    result = runner.invoke(app, ["predict", str(out / "bundle"), "A superb film.", "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output.splitlines()[-1])["parts"]) == {"nb-lr", "gru"}
    result = runner.invoke(app, ["explain", str(out / "bundle"), "A superb film, a little long."])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())  # the console wraps long lines
    assert "member nb-lr: P(pos)" in shown and "member gru: P(pos)" in shown and "n-grams: " in shown

    from fastapi.testclient import TestClient

    from rnnlab.serve.app import create_app

    with TestClient(create_app(out / "bundle", max_texts=4)) as client:
        answer = client.post("/v1/predict", json={"texts": ["A superb film."]})
        assert answer.status_code == 200 and set(answer.json()["predictions"][0]["parts"]) == {"nb-lr", "gru"}
        explained = client.post("/v1/explain", json={"text": "A superb film."}).json()
        assert explained["parts"]["nb-lr"]["ngrams"]
        assert client.get("/v1/model").json()["name"] == "tiny-stack"


def test_bundle_member_must_come_from_the_same_split(stacked, tmp_path):
    out, _ = stacked
    member = out / "bundle" / "members" / "gru"
    reused = {**STACK, "members": [STACK["members"][0], {"name": "old", "bundle": str(member)}]}
    again = run_stack({**reused, "name": "reused"}, tmp_path / "same", validation_only=True)
    assert again["members"][1]["params"] > 0 and "test_accuracy" not in again
    assert not (tmp_path / "same" / "bundle").exists()  # validation only: nothing saved
    moved = {**reused, "data": {**STACK["data"], "seed": 3}}
    with pytest.raises(InvalidInputError, match="validation rows would not be held out"):
        run_stack(moved, tmp_path / "moved", validation_only=True)


def test_a_missing_bundle_member_with_a_recipe_is_trained_here(tmp_path, imdb_archive):
    lines = []
    member = {**STACK["members"][1], "bundle": str(tmp_path / "absent")}
    results = run_stack({**STACK, "members": [STACK["members"][0], member]}, tmp_path / "out", progress=lines.append)
    assert [m["kind"] for m in results["members"]] == ["ngram", "recipe"] and results["test_accuracy"] > 0.6
    assert any("no bundle at" in line and "its recipe trains it here" in line for line in lines)
    assert Bundle.load(tmp_path / "out" / "bundle").predict("A superb film.")[0].parts.keys() == {"nb-lr", "gru"}
    # Once the bundle is there it is reused, not trained again.
    member["bundle"] = str(tmp_path / "out" / "bundle" / "members" / "gru")
    again = run_stack({**STACK, "members": [STACK["members"][0], member]}, tmp_path / "again", validation_only=True)
    assert [m["kind"] for m in again["members"]] == ["ngram", "bundle"]
    assert again["members"][1]["validation_accuracy"] == results["members"][1]["validation_accuracy"]


@pytest.mark.parametrize("change, message", [
    ({"members": []}, "needs \\[\\[members\\]\\]"),
    ({"members": [STACK["members"][1], {**STACK["members"][1]}]}, "Two members are named"),
    ({"members": [{"name": "x", "C": 1.0, "recipe": "imdb-fast"}]}, "must be one of"),
    ({"members": [{"name": "bad name!", "recipe": "imdb-fast"}]}, "needs a name"),
    ({"members": [{"name": "a", "ngram_range": [3, 1]}, STACK["members"][1]]}, "ngram_range"),
    ({"data": {"validation_split": 0.0}}, "validation_split"),
    ({"blend": {"l3": 1}}, "l3"),
    ({"blend": {"refit": "yes"}}, "refit must be true or false"),
    ({"members": [{"name": "x", "recipe": "arrangements"}]}, "not a recipe"),
    ({"members": [{"name": "x", "bundle": "no/such/bundle"}]}, "no bundle at no/such/bundle"),
])
def test_bad_stack_configs_fail_with_one_clear_line(change, message, tmp_path):
    with pytest.raises(InvalidInputError, match=message):
        config = {**STACK, **change}
        stack_members(config)
        run_stack(config, tmp_path, validation_only=True)


def test_damaged_stack_bundle_is_one_clear_error(stacked, tmp_path):
    out, _ = stacked
    copy = tmp_path / "copy"
    shutil.copytree(out / "bundle", copy)
    (copy / "stack.json").write_text('{"format": "rnnlab.stack", "members": 3}')
    with pytest.raises(RnnlabError, match="damaged"):
        Bundle.load(copy)
    shutil.rmtree(copy / "members" / "gru")
    (copy / "stack.json").write_text((out / "bundle" / "stack.json").read_text())
    with pytest.raises(RnnlabError, match="gru"):
        Bundle.load(copy)


def test_a_stack_of_ngram_models_only_predicts_explains_and_serves(tmp_path, imdb_archive):
    config = {**STACK, "name": "ngrams", "members": [{"name": "bi", "ngram_range": [1, 2], "C": 0.1},
                                                     {"name": "tri", "ngram_range": [1, 3], "C": 0.3}]}
    results = run_stack(config, tmp_path)
    assert results["test_accuracy"] > 0.7 and len(results["members"]) == 2
    bundle = Bundle.load(tmp_path / "bundle")
    assert bundle.model is None and bundle.spec is None and bundle.name == "ngrams"
    [prediction] = bundle.predict("A superb, moving film!")
    assert prediction.label == "pos" and prediction.tokens == ["a", "superb", "moving", "film", "!"]
    explanation = bundle.explain("A superb film, but an awful ending.")
    scores = dict(zip(explanation.tokens, explanation.scores))
    assert explanation.method == "weights" and scores["superb"] > 0 > scores["awful"]

    from fastapi.testclient import TestClient

    from rnnlab.serve.app import create_app

    with TestClient(create_app(tmp_path / "bundle", max_texts=4)) as client:
        info = client.get("/v1/model").json()
        assert info["explain_method"] == "weights" and info["spec"] is None
        assert [m["name"] for m in info["members"]] == ["bi", "tri"]
        explained = client.post("/v1/explain", json={"text": "A superb film."}).json()
        assert explained["method"] == "weights" and set(explained["parts"]) == {"bi", "tri"}


def test_the_gpu_stack_config_runs_at_toy_scale_on_the_cpu(tmp_path, imdb_archive):
    """configs/imdb-gpu.toml as committed, each recurrent member shrunk (and without word2vec) to run here."""
    from rnnlab.configfile import read_config

    config = read_config("imdb-gpu")
    tiny = {"vocab_size": 2000, "maxlen": 80, "embedding_dim": 16, "units": 8, "pretrained_embeddings": None}
    members = []
    for member in config["members"]:
        if "recipe" in member:
            member = {**member, "model": {**member["model"], **tiny},
                      "training": {**member["training"], "epochs": 1, "members": 1, "batch_size": 32}}
        members.append(member)
    config = {**config, "members": members, "data": {**config["data"], "limit": 600, "validation_split": 0.25}}
    results = run_stack(config, tmp_path, verbose=0)
    assert [m["name"] for m in results["members"]] == ["nb-lr-12", "nb-lr-13", "bigru", "bilstm"]
    assert results["test_accuracy"] > 0.7 and results["test_examples"] == 600
    assert Bundle.load(tmp_path / "bundle").predict("A superb film.")[0].parts.keys() == {
        "nb-lr-12", "nb-lr-13", "bigru", "bilstm"}


def test_refit_fits_the_ngram_members_again_on_every_labelled_row(tmp_path, imdb_archive):
    from rnnlab.experiments.recipes.stack import load_stack_split
    from rnnlab.training.linear import NgramModel

    members = [{"name": "bi", "ngram_range": [1, 2], "C": 0.1}, {"name": "tri", "ngram_range": [1, 3], "C": 0.3}]
    config = {**STACK, "name": "refit", "members": members, "blend": {"refit": True}}
    results = run_stack(config, tmp_path)
    split = load_stack_split(stack_members(config)[0])
    rows = np.concatenate([split.fit_rows, split.val_rows])
    assert len(rows) > results["train_examples"]
    assert [m["refit_examples"] for m in results["members"]] == [len(rows)] * 2
    texts = ["A superb, moving film!", "Dull, and far too long."]
    bundle = Bundle.load(tmp_path / "bundle")
    for member, settings in zip(bundle.members, members):
        again = NgramModel(ngram_range=settings["ngram_range"], C=settings["C"], class_names=split.class_names)
        again.fit([split.train.texts[i] for i in rows], split.labels[rows])
        assert np.allclose(member.predict_proba(texts), again.predict_proba(texts))
    assert results["test_accuracy"] > 0.7
