"""The user's own data: tables with their own column names and labels, folders per class, test files,
the data profile, and `rnnlab train auto` from a `review,sentiment` CSV to predictions in the user's labels."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.data import TextDataset, load_imdb
from rnnlab.data.profile import covering_length, profile
from rnnlab.encoding.prepare import load_splits
from rnnlab.errors import InvalidInputError

runner = CliRunner()


@pytest.fixture(scope="module")
def reviews(imdb_archive):
    """Real IMDB reviews, balanced, in a fixed order."""
    return load_imdb("train").sample(1200, seed=3)


def _write_csv(path, rows, header):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def review_csv(tmp_path_factory, reviews):
    """The common Kaggle layout: `review,sentiment` with positive / negative."""
    path = tmp_path_factory.mktemp("own") / "reviews.csv"
    names = {0: "negative", 1: "positive"}
    return _write_csv(path, [(t, names[int(y)]) for t, y in zip(reviews.texts, reviews.labels)],
                      ["review", "sentiment"])


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_train_auto_on_a_review_sentiment_csv(review_csv, tmp_path):
    out = tmp_path / "auto"
    result = runner.invoke(app, ["train", "auto", "--dataset", str(review_csv), "--epochs", "4", "--out", str(out),
                                 "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    # 960 training reviews, 240 test reviews (a standard error of about 0.03). Measured: NBSVM
    # 0.879, the recurrent model 0.725; chance is 0.5.
    assert summary["baseline"]["name"] == "nbsvm" and summary["baseline"]["test_accuracy"] > 0.8
    assert summary["test_accuracy"] > 0.65
    assert summary["settings"]["maxlen"] % 50 == 0 and 2_000 <= summary["settings"]["vocab_size"] <= 30_000
    assert summary["profile"]["train"]["classes"] == {"negative": 480, "positive": 480}
    # What is kept is the best on validation of the recurrent model, the n-gram model, the document vectors
    # and the blend of the three.
    candidates = summary["candidates"]
    assert set(candidates) == {"auto-bigru", "nbsvm", "doc-vectors", "blend"}
    assert candidates["doc-vectors"]["test_accuracy"] > 0.65
    best = max(figures["validation_accuracy"] for figures in candidates.values())
    chosen = summary["chosen"]
    assert summary["model"] == ("auto-bigru" if chosen == "auto-bigru" else f"auto-{chosen}")
    assert candidates[chosen]["validation_accuracy"] == best
    assert summary["test_accuracy"] == candidates[chosen]["test_accuracy"]
    assert summary["recurrent"]["test_accuracy"] == pytest.approx(candidates["auto-bigru"]["test_accuracy"], abs=1e-5)
    assert (out / "stack.json").exists() == (chosen != "auto-bigru")

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["class_names"] == ["negative", "positive"]
    assert metrics["data"]["columns"] == {"text": "review", "label": "sentiment"}
    assert metrics["auto"]["baseline"]["test_accuracy"] == summary["baseline"]["test_accuracy"]
    assert metrics["recipe"]["dataset"] == str(review_csv)

    evaluated = runner.invoke(app, ["evaluate", str(out), "--json"])  # the same file, columns and split again
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["accuracy"] == pytest.approx(summary["test_accuracy"], abs=1e-6)

    predicted = runner.invoke(app, ["predict", str(out), "An absolute masterpiece, moving and beautifully acted.",
                                    "The worst film I have ever seen, a boring waste of time.", "--json"])
    assert predicted.exit_code == 0, predicted.output
    labels = [json.loads(line)["label"] for line in predicted.stdout.strip().splitlines()]
    assert labels == ["positive", "negative"]  # the user's own labels come back


@pytest.mark.timeout(300)
def test_named_model_with_columns_a_test_file_and_labels_of_any_type(reviews, tmp_path):
    stars = {0: -1, 1: 1}
    rows = [(i, t, stars[int(y)]) for i, (t, y) in enumerate(zip(reviews.texts, reviews.labels))]
    train_file = tmp_path / "train.tsv"
    with open(train_file, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow(["id", "opinion", "verdict"])
        writer.writerows(rows[:900])
    test_file = tmp_path / "test.jsonl"
    test_file.write_text("".join(json.dumps({"opinion": t, "verdict": v}) + "\n" for _, t, v in rows[900:]))
    spec = tmp_path / "gru-max.json"
    spec.write_text(json.dumps({"name": "gru-max", "vocab_size": 8000, "maxlen": 200, "embedding_dim": 32,
                                "mask_zero": True, "cell": "gru", "units": 16, "pooling": "max",
                                "optimizer": "adam", "learning_rate": 0.004}))
    out = tmp_path / "bundle"
    result = runner.invoke(app, ["train", str(spec), "--dataset", str(train_file), "--text-column", "opinion",
                                 "--label-column", "verdict", "--test", str(test_file), "--epochs", "3",
                                 "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["class_names"] == ["-1", "1"]
    assert metrics["test"]["examples"] == 300  # the test file, whole; the training file is not split
    assert metrics["data"]["train_examples"] + metrics["data"]["validation_examples"] == 900
    assert metrics["test"]["accuracy"] > 0.6
    assert metrics["recipe"]["test"] == str(test_file)


def test_folders_per_class_with_their_own_test_split(reviews, tmp_path):
    root = tmp_path / "movies"
    for split, part in (("train", reviews.subset(range(300))), ("test", reviews.subset(range(300, 400)))):
        for i, (text, label) in enumerate(zip(part.texts, part.labels)):
            folder = root / split / ("good" if label else "bad")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{i}.txt").write_text(text, encoding="utf-8")
    train, test = load_splits(str(root))
    assert (len(train), len(test)) == (300, 100)
    assert train.class_names == test.class_names == ("bad", "good")
    assert sorted(test.texts) == sorted(reviews.subset(range(300, 400)).texts)


def test_parquet_with_a_held_out_share(reviews, tmp_path):
    import pyarrow as pa  # a dev dependency, heavy to import: loaded here only
    import pyarrow.parquet as pq

    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"body": reviews.texts[:500], "is_positive": [bool(y) for y in reviews.labels[:500]]}),
                   path)
    train, test = load_splits(str(path), test_fraction=0.3, seed=1)
    assert (len(train), len(test)) == (350, 150)
    assert train.columns == {"text": "body", "label": "is_positive"}
    assert train.class_names == ("0", "1")  # booleans are the class ids 0 and 1


def test_profile_counts_lengths_and_warns():
    texts = [f"review number {i} " + "word " * (i % 40) for i in range(200)]
    labels = np.array([0] * 195 + [1] * 5)
    found = profile(TextDataset(texts, labels, ("common", "rare")))
    assert found.classes == {"common": 195, "rare": 5}
    assert found.words["max"] == 42 and found.words["median"] == pytest.approx(22.5)
    assert any("'rare' has only 5 of 200" in w for w in found.warnings)

    swapped = TextDataset(["pos"] * 30, np.arange(30), tuple(f"a long review text number {i}" for i in range(30)))
    assert any("swapped" in w for w in profile(swapped).warnings)
    conflicting = TextDataset(["same words here"] * 2 + ["other words here"], np.array([0, 1, 1]), ("a", "b"))
    assert any("more than one label" in w for w in profile(conflicting).warnings)
    clean = TextDataset([f"a review of film {i}" for i in range(40)], np.arange(40) % 2, ("a", "b"))
    assert profile(clean).warnings == []


def test_one_class_only_is_refused(tmp_path):
    path = _write_csv(tmp_path / "one.csv", [(f"text number {i}", "good") for i in range(10)], ["text", "label"])
    with pytest.raises(InvalidInputError, match="two or more classes"):
        load_splits(str(path))


def test_covering_length_follows_the_length_statistics():
    texts = ["w " * n for n in range(1, 101)]  # 1..100 words
    assert covering_length(texts) == 100  # 90% are at most 91 words: rounded up to 100
    assert covering_length(texts, 0.4) == 50  # 41 words
    assert covering_length(["one two"] * 5) == 50 and covering_length(["w " * 5000]) == 800  # the bounds


@pytest.mark.timeout(300)
def test_auto_saves_each_kind_of_kept_model_over_the_other(reviews, tmp_path):
    """The recurrent model, blends and one model alone, saved in turn into one folder, each load back."""
    from rnnlab.encoding.prepare import prepare
    from rnnlab.experiments.recipes.auto import AutoResult, save_auto
    from rnnlab.inference.bundle import Bundle
    from rnnlab.inference.stack import Blend
    from rnnlab.models import ModelSpec
    from rnnlab.training import TrainingConfig
    from rnnlab.training.engine import fit
    from rnnlab.training.docvectors import DocVectorModel
    from rnnlab.training.linear import NgramModel

    part = reviews.subset(range(400))
    data = prepare(part, None, vocab_size=2000, maxlen=80, validation_split=0.2)
    spec = ModelSpec(name="tiny-gru", vocab_size=2000, maxlen=80, embedding_dim=8, mask_zero=True, cell="gru", units=4)
    result = fit(spec, data, TrainingConfig(epochs=1, batch_size=64), verbose=0)
    ngram = NgramModel(C=0.1, class_names=part.class_names).fit(part.texts, part.labels)
    docvec = DocVectorModel(dim=8, epochs=2, min_count=1, class_names=part.class_names).fit(part.texts, part.labels)
    recurrent, ngrams, vectors = ("tiny-gru", "recipe", result), ("nbsvm", "ngram", ngram), \
        ("doc-vectors", "docvec", docvec)
    texts = ["A wonderful film.", "Dull and far too long."]
    out = tmp_path / "kept"
    for chosen, stack, members in (("tiny-gru", None, None),
                                   ("blend", ([recurrent, ngrams], Blend([0.5, 1.0], [0.0, 0.0])), 2),
                                   ("nbsvm", ([ngrams], Blend([1.0], [0.0, 0.0])), 1),
                                   ("blend", ([recurrent, ngrams, vectors], Blend([0.5, 1.0, 0.7], [0.1, -0.1])), 3),
                                   ("doc-vectors", ([vectors], Blend([1.0], [0.0, 0.0])), 1),
                                   ("tiny-gru", None, None)):
        auto = AutoResult(result, {}, None, 0.0, choice={"chosen": chosen, "candidates": {chosen: {}}})
        save_auto(auto, stack, out)
        loaded = Bundle.load(out)
        assert loaded.predict_proba(texts).shape == (2, 2)
        if members is None:
            assert not (out / "stack.json").exists() and loaded.model.count_params() == result.params
        else:
            assert [m.name for m in loaded.members] == [name for name, _, _ in stack[0]]
            # The saved blend of the saved members predicts what the blend of the trained ones does.
            expected = [Bundle.load(out / "members" / name).predict_proba(texts) if kind == "recipe"
                        else model.predict_proba(texts) for name, kind, model in stack[0]]
            assert np.allclose(loaded.predict_proba(texts), stack[1](expected), atol=1e-6)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_dataframes_train_where_table_files_do(reviews, tmp_path):
    pandas = pytest.importorskip("pandas")
    from rnnlab.experiments.recipes.auto import train_auto
    from rnnlab.inference.bundle import Bundle
    from rnnlab.training.engine import train

    texts, labels = reviews.texts, reviews.labels
    frame = pandas.DataFrame({"review": texts[:700], "sentiment": [["negative", "positive"][y] for y in labels[:700]]})
    result = train("lstm", dataset=frame, epochs=1, maxlen=60, vocab_size=2_000, out=tmp_path / "named")
    assert result.class_names == ("negative", "positive") and result.test["examples"] == 140  # a held-out 20%
    recorded = json.loads((tmp_path / "named" / "metrics.json").read_text())["recipe"]["dataset"]
    assert recorded == "DataFrame (700 rows: review, sentiment)"
    auto = train_auto(frame.iloc[:500], test=frame.iloc[500:], out=tmp_path / "auto", epochs=2, verbose=0,
                      unlabelled=pandas.DataFrame({"text": texts[700:900]}))
    summary = auto.summary()
    assert auto.result.test["examples"] == 200 and auto.result.data_info["unlabelled"]["examples"] == 200
    assert summary["baseline"]["test_accuracy"] > 0.6 and summary["test_accuracy"] > 0.6
    assert Bundle.load(tmp_path / "auto").predict(["A wonderful film."])[0].label in ("negative", "positive")


def test_auto_document_vectors_keep_every_ngram_of_a_small_corpus_only():
    from rnnlab.experiments.recipes.auto import SMALL_CORPUS, doc_vector_model

    small, large = doc_vector_model(SMALL_CORPUS - 1, ("a", "b"), 3), doc_vector_model(SMALL_CORPUS, ("a", "b"), 3)
    assert (small.dim, small.epochs, small.min_count, small.seed) == (50, 20, 1, 3)
    assert (large.dim, large.epochs, large.min_count) == (100, 15, 5)  # the IMDB-measured defaults
