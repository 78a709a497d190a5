"""Document vectors (PV-DBOW) as a stack member: learnt from unlabelled texts, exact after a reload."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.experiments.recipes.stack import run_stack, stack_members
from rnnlab.inference import Bundle
from rnnlab.training.docvectors import DocVectorModel, gensim_tables

pytestmark = pytest.mark.timeout(300)

SMALL = {"dim": 32, "epochs": 8, "min_count": 2}


@pytest.fixture(scope="module")
def reviews(imdb_archive):
    from rnnlab.data import load_imdb

    train, test = load_imdb("train"), load_imdb("test")
    rng = np.random.default_rng(1)
    rows, held = rng.choice(len(train), 2000, replace=False), rng.choice(len(test), 400, replace=False)
    return ([train.texts[i] for i in rows], np.asarray(train.labels)[rows], [test.texts[i] for i in held],
            np.asarray(test.labels)[held])


def test_doc_vectors_learn_reload_exactly_and_infer_the_same_vector_in_any_order(reviews, tmp_path):
    texts, labels, held, held_labels = reviews
    model = DocVectorModel(**SMALL, class_names=("neg", "pos")).fit(texts, labels)
    probs = model.predict_proba(held)
    assert probs.shape == (400, 2) and np.allclose(probs.sum(axis=1), 1)
    assert (probs.argmax(axis=1) == held_labels).mean() > 0.65  # chance is 0.5
    # A text's vector does not depend on what was inferred before it.
    np.testing.assert_array_equal(model.predict_proba(held[::-1])[::-1], probs)
    model.save(tmp_path / "dv")
    again = DocVectorModel.load(tmp_path / "dv")
    np.testing.assert_array_equal(again.predict_proba(held), probs)
    # ... and in other processes, whose string hashes differ
    import subprocess
    import sys

    script = ("import json, sys; from rnnlab.training.docvectors import DocVectorModel; "
              "print(json.dumps(DocVectorModel.load(sys.argv[1]).predict_proba(json.loads(sys.argv[2])).tolist()))")
    for hash_seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "dv"), json.dumps(held[:5])],
                              capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": hash_seed})
        np.testing.assert_allclose(np.array(json.loads(done.stdout)), probs[:5], rtol=0, atol=1e-12)
    assert again.class_names == ("neg", "pos") and again.params == model.params
    assert model.params == len(model.words) * 32 + 32 + 1
    # One worker trains the same model bit for bit.
    half = DocVectorModel(**SMALL).fit(texts[:1000], labels[:1000])
    np.testing.assert_array_equal(DocVectorModel(**SMALL).fit(texts[:1000], labels[:1000]).predict_proba(held[:20]),
                                  half.predict_proba(held[:20]))
    # Unlabelled texts join what the vectors learn from (the vocabulary grows), not the regression.
    more = DocVectorModel(**SMALL).fit(texts[:1000], labels[:1000], unlabelled=texts[1000:])
    assert len(more.words) > len(half.words) and more.coef.shape == half.coef.shape
    assert (more.predict_proba(held).argmax(axis=1) == held_labels).mean() > 0.6


def test_the_inferring_model_is_the_one_gensim_builds_from_the_saved_counts(reviews):
    from gensim.models.doc2vec import Doc2Vec, TaggedDocument

    texts, labels, held, _ = reviews
    documents = [TaggedDocument(DocVectorModel().grams(t), [i]) for i, t in enumerate(texts[:1000])]
    for sample in (1e-4, 1e-3, 0.0):  # the tables of a vocabulary gensim built from texts
        trained = Doc2Vec(dm=0, vector_size=8, negative=5, hs=0, min_count=2, sample=sample, workers=1, seed=0)
        trained.build_vocab(documents)
        counts = [trained.wv.get_vecattr(w, "count") for w in trained.wv.index_to_key]
        sample_int, cum_table = gensim_tables(counts, sample)
        np.testing.assert_array_equal(sample_int, trained.wv.expandos["sample_int"])
        np.testing.assert_array_equal(cum_table, trained.cum_table)
    # gensim's own model of the saved counts (its per-word loops), the output weights placed by n-gram
    model = DocVectorModel(dim=8, epochs=3, min_count=2).fit(texts[:1000], labels[:1000])
    built = Doc2Vec(dm=0, vector_size=8, negative=5, hs=0, min_count=1, sample=model.sample, epochs=3, workers=1,
                    seed=0)
    built.build_vocab_from_freq(dict(zip(model.words, model.counts.tolist())))
    built.syn1neg[[built.wv.key_to_index[w] for w in model.words]] = model.output.astype(np.float32)
    fast = model._inference
    assert fast.wv.index_to_key == built.wv.index_to_key
    for text in held[:25]:
        vectors = []
        for gensim_model in (built, fast):
            gensim_model.random = np.random.RandomState(0)
            vectors.append(gensim_model.infer_vector(model.grams(text), epochs=3))
        np.testing.assert_array_equal(*vectors)


def test_doc_vectors_refuse_bad_settings_and_damaged_files(reviews, tmp_path):
    texts, labels, _, _ = reviews
    for bad, message in (({"dim": 0}, "dim must be an integer >= 2"), ({"ngram_range": [1, 4]}, "ngram_range"),
                         ({"sample": 1.5}, "sample"), ({"C": 0}, "C must be > 0"), ({"epochs": 2.5}, "epochs")):
        with pytest.raises(InvalidInputError, match=message):
            DocVectorModel(**bad)
    with pytest.raises(InvalidInputError, match="class"):
        DocVectorModel(**SMALL).fit(texts[:50], np.zeros(50, dtype=int))
    with pytest.raises(InvalidInputError, match="no n-gram occurs 1000 times"):
        DocVectorModel(dim=8, epochs=1, min_count=1000).fit(texts[:20], labels[:20])
    with pytest.raises(RnnlabError, match="not fitted"):
        DocVectorModel().predict_proba(["a film"])
    model = DocVectorModel(dim=8, epochs=1, min_count=3).fit(texts[:200], labels[:200])
    model.save(tmp_path / "dv")
    settings = json.loads((tmp_path / "dv" / "docvec.json").read_text())
    (tmp_path / "dv" / "docvec.json").write_text(json.dumps({**settings, "words": settings["words"][:-1]}))
    with pytest.raises(RnnlabError, match="damaged"):
        DocVectorModel.load(tmp_path / "dv")
    (tmp_path / "dv" / "docvec.npz").write_bytes(b"not a numpy file")
    (tmp_path / "dv" / "docvec.json").write_text(json.dumps(settings))
    with pytest.raises(RnnlabError, match="damaged"):
        DocVectorModel.load(tmp_path / "dv")


def test_doc_vectors_learn_label_sets(goemotions_dir):
    from rnnlab.data import load_goemotions

    comments = load_goemotions("train")
    train, test = comments.sample(3000, seed=0), load_goemotions("test").sample(300, seed=0)
    # Short comments give the vectors little to learn from: 10,000 more comments, without their labels.
    model = DocVectorModel(dim=32, epochs=20, min_count=2, sample=0.0, class_names=train.class_names)
    model.fit(train.texts, train.labels, unlabelled=comments.sample(10_000, seed=1).texts)
    probs = model.predict_proba(test.texts)
    assert model.multi_label and probs.shape == (300, len(train.class_names))
    assert model.rows == len(train.class_names) and np.all((probs > 0) & (probs < 1))
    # The five most common labels are more probable on the comments that hold them (four of five at least).
    held = np.asarray(test.labels) == 1
    gaps = [probs[held[:, j], j].mean() - probs[~held[:, j], j].mean()
            for j in np.argsort(-np.asarray(train.labels).sum(axis=0))[:5]]
    assert sum(gap > 0 for gap in gaps) >= 4 and np.mean(gaps) > 0.05, gaps


STACK = {
    "kind": "stack", "name": "dv-stack",
    "data": {"dataset": "imdb", "validation_split": 0.25, "seed": 0, "limit": 800},
    "members": [
        {"name": "nb-lr", "ngram_range": [1, 2], "C": 0.1},
        {"name": "dv", "doc_vectors": SMALL},
    ],
}


def test_a_doc_vector_member_trains_on_unlabelled_texts_blends_predicts_explains_and_serves(tmp_path, imdb_archive):
    from fastapi.testclient import TestClient

    from rnnlab.data import load_imdb
    from rnnlab.serve.app import create_app

    unsup = tmp_path / "unsup.txt"
    unsup.write_text("\n".join(t.replace("\n", " ") for t in load_imdb("unsup").texts[:600]), encoding="utf-8")
    members = [STACK["members"][0], {"name": "dv", "doc_vectors": {**SMALL, "unlabelled": str(unsup)}}]
    results = run_stack({**STACK, "members": members}, tmp_path / "run")
    assert [m["kind"] for m in results["members"]] == ["ngram", "docvec"]
    assert results["test_accuracy"] > 0.7 and results["members"][1]["test_accuracy"] > 0.6
    bundle = Bundle.load(tmp_path / "run" / "bundle")
    [prediction] = bundle.predict("A superb, moving film!")
    assert set(prediction.parts) == {"nb-lr", "dv"}
    explained = bundle.explain("A superb film, but an awful ending.")
    assert set(explained.parts) == {"nb-lr", "dv"} and "ngrams" not in explained.parts["dv"]

    # A stack of document vectors alone reads raw texts through the member and serves.
    alone = run_stack({**STACK, "name": "dv-only", "members": [{"name": "dv", "doc_vectors": SMALL}]},
                      tmp_path / "alone")
    assert alone["test_accuracy"] > 0.6
    with TestClient(create_app(tmp_path / "alone" / "bundle", max_texts=4)) as client:
        info = client.get("/v1/model").json()
        assert info["spec"] is None and [m["name"] for m in info["members"]] == ["dv"]
        answer = client.post("/v1/predict", json={"texts": ["A superb film.", "Dull and awful."]}).json()
        assert len(answer["predictions"]) == 2
        explained = client.post("/v1/explain", json={"text": "A superb film."}).json()
        assert explained["method"] == "weights" and set(explained["parts"]) == {"dv"}


@pytest.mark.parametrize("member, message", [
    ({"name": "dv", "doc_vectors": {"dims": 10}}, "dims"),
    ({"name": "dv", "doc_vectors": {"dim": 0}}, "dim must be"),
    ({"name": "dv", "doc_vectors": {"dim": 8}, "ngram_range": [1, 2]}, "must be one of"),
    ({"name": "dv", "doc_vectors": "big"}, "table"),
])
def test_bad_doc_vector_members_fail_with_one_clear_line(member, message):
    with pytest.raises(InvalidInputError, match=message):
        stack_members({**STACK, "members": [member]})


def test_a_missing_unlabelled_file_is_refused_before_anything_trains(tmp_path):
    member = {"name": "dv", "doc_vectors": {**SMALL, "unlabelled": str(tmp_path / "nosuch.txt")}}
    with pytest.raises(InvalidInputError, match="nosuch.txt is not a file"):
        run_stack({**STACK, "members": [STACK["members"][0], member]}, tmp_path / "out")
    assert not (tmp_path / "out" / "bundle").exists()
