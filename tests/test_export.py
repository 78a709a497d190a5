"""`rnnlab export --format onnx`: the model as ONNX, its preprocessing as JSON and a reader without rnnlab;
the reader's token ids equal rnnlab's and onnxruntime's probabilities equal the bundle's."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.encoding.prepare import load_splits, prepare
from rnnlab.errors import InvalidInputError
from rnnlab.inference.bundle import Bundle
from rnnlab.inference.export import export_bundle
from rnnlab.inference.onnx_reader import Reader
from rnnlab.models import ModelSpec, get
from rnnlab.training import TrainingConfig
from rnnlab.training.engine import fit

pytest.importorskip("jax2onnx")
pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.timeout(600)
runner = CliRunner()

SPECS = {
    "lstm": lambda: get("lstm").spec,  # the textbook's: last state of LSTM(32), no mask
    "bilstm": lambda: get("bilstm").spec,
    "gru-max-masked": lambda: ModelSpec(name="gru-max", cell="gru", units=16, mask_zero=True, pooling="max",
                                        embedding_dim=32, optimizer="adam"),
    "bigru-attention": lambda: ModelSpec(name="bigru-attention", cell="gru", units=16, bidirectional=True,
                                         mask_zero=True, pooling="attention", embedding_dim=32, optimizer="adam"),
}


@pytest.fixture(scope="module")
def imdb(imdb_archive):
    train, test = load_splits("imdb", seed=0, limit=800)
    return train, test


def _bundle(spec, imdb, folder, *, score=False):
    train, test = imdb
    data = prepare(train, test.sample(200, seed=0), vocab_size=3_000, maxlen=120, validation_split=0.2, seed=0)
    data_spec = spec.replace(vocab_size=3_000, maxlen=120)
    if score:
        train_scores, test_scores = load_splits("imdb-score", seed=0, limit=800)
        data = prepare(train_scores, test_scores.sample(200, seed=0), vocab_size=3_000, maxlen=120,
                       validation_split=0.2, seed=0)
    fit(data_spec, data, TrainingConfig(epochs=1, batch_size=64)).save(folder)
    return folder


@pytest.mark.parametrize("name", sorted(SPECS))
def test_an_export_predicts_what_the_bundle_predicts(imdb, tmp_path, name):
    bundle = _bundle(SPECS[name](), imdb, tmp_path / "bundle")
    written = export_bundle(bundle, tmp_path / "onnx")
    assert {"model.onnx", "preprocessing.json", "rnnlab_reader.py"} <= set(written["files"])
    assert written["largest_difference"] <= 1e-5
    texts = imdb[1].texts[:200]
    reader, loaded = Reader(tmp_path / "onnx"), Bundle.load(bundle)
    assert np.array_equal(np.asarray(reader.ids(texts)), loaded.preprocessor.transform(texts))
    assert np.abs(reader.probabilities(texts) - loaded.predict_proba(texts)).max() <= 1e-5
    assert [p["label"] for p in reader.predict(texts[:50])] == [p.label for p in loaded.predict(texts[:50])]


def test_a_regression_export_gives_the_numbers(imdb, tmp_path):
    spec = ModelSpec(name="gru-score", cell="gru", units=16, mask_zero=True, pooling="max", optimizer="adam")
    bundle = _bundle(spec, imdb, tmp_path / "bundle", score=True)
    export_bundle(bundle, tmp_path / "onnx")
    texts = imdb[1].texts[:100]
    reader = Reader(tmp_path / "onnx")
    values = Bundle.load(bundle).predictor.predict_values(texts)
    assert np.abs(reader.probabilities(texts)[:, 0] - values).max() <= 1e-5
    assert reader.predict(texts[:1])[0]["value"] == pytest.approx(values[0], abs=1e-5)


def test_the_reader_needs_only_the_standard_library_for_token_ids(imdb, tmp_path):
    bundle = _bundle(SPECS["lstm"](), imdb, tmp_path / "bundle")
    outcome = runner.invoke(app, ["export", str(bundle), "--out", str(tmp_path / "onnx"), "--json"])
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.stdout)["largest_difference"] <= 1e-5
    source = (tmp_path / "onnx" / "rnnlab_reader.py").read_text()
    nodes = list(ast.walk(ast.parse(source)))
    top = {alias.name.split(".")[0] for node in nodes if isinstance(node, ast.Import) for alias in node.names}
    top |= {node.module.split(".")[0] for node in nodes if isinstance(node, ast.ImportFrom)}
    assert "rnnlab" not in top and top <= {"__future__", "json", "re", "pathlib", "numpy", "onnxruntime"}
    texts = imdb[1].texts[:300]
    # -I -S: no site-packages (no rnnlab, no numpy) and not this checkout: the ids from the plain reader.
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from rnnlab_reader import Reader; "
            "print(json.dumps(Reader(sys.argv[1]).ids(json.load(open(sys.argv[2])))))")
    (tmp_path / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    ran = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(tmp_path / "onnx"), str(tmp_path / "texts.json")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert np.array_equal(np.asarray(json.loads(ran.stdout)), Bundle.load(bundle).preprocessor.transform(texts))


def test_what_cannot_be_exported_is_refused_in_one_line(imdb, tmp_path, amazon_file):
    with pytest.raises(InvalidInputError, match="Unknown export format"):
        export_bundle(tmp_path, tmp_path / "x", format="tflite")
    train, test = load_splits("amazon", seed=0, limit=300)
    data = prepare(train, test, mode="nltk", vocab_size=1_000, maxlen=40, validation_split=0.2)
    fit(ModelSpec(vocab_size=1_000, maxlen=40, units=8), data, TrainingConfig(epochs=1)).save(tmp_path / "nltk")
    refused = runner.invoke(app, ["export", str(tmp_path / "nltk"), "--out", str(tmp_path / "out")])
    assert refused.exit_code != 0 and "'nltk' mode" in refused.output and not (tmp_path / "out").exists()


def test_a_two_field_bundle_exports_with_one_input_per_field(amazon_file, tmp_path):
    from rnnlab.encoding.fields import prepare_fields
    from rnnlab.models.inputs import EncoderSpec

    train, test = load_splits("amazon", seed=0)
    spec = ModelSpec(name="title-body", vocab_size=2_000, embedding_dim=16, units=8, mask_zero=True,
                     inputs=[EncoderSpec("title", maxlen=12), EncoderSpec("body", maxlen=60)])
    fit(spec, prepare_fields(train, test, spec), TrainingConfig(epochs=1)).save(tmp_path / "bundle")
    export_bundle(tmp_path / "bundle", tmp_path / "onnx")
    reader, loaded = Reader(tmp_path / "onnx"), Bundle.load(tmp_path / "bundle")
    assert reader.spec["fields"] == {"title": 12, "body": 60}
    records = [{"title": t, "body": b} for t, b in zip(test.fields["title"], test.fields["body"])]
    records[0]["title"] = "   "  # a blank field is all padding
    ids = reader.ids(records)
    expected = loaded.preprocessor.transform(records)
    assert all(np.array_equal(np.asarray(ids[name]), expected[name]) for name in ("title", "body"))
    assert np.abs(reader.probabilities(records) - loaded.predict_proba(records)).max() <= 1e-5


def test_a_multi_label_export_gives_the_label_sets(goemotions_dir, tmp_path):
    train, test = load_splits("goemotions", seed=0, limit=600)
    data = prepare(train, test.sample(100, seed=0), vocab_size=2_000, maxlen=30, validation_split=0.2, seed=0)
    spec = ModelSpec(name="gru-labels", cell="gru", units=16, vocab_size=2_000, maxlen=30, mask_zero=True,
                     pooling="max", optimizer="adam", learning_rate=0.01)
    fit(spec, data, TrainingConfig(epochs=1, batch_size=64)).save(tmp_path / "bundle")
    export_bundle(tmp_path / "bundle", tmp_path / "onnx")
    reader, loaded = Reader(tmp_path / "onnx"), Bundle.load(tmp_path / "bundle")
    assert reader.spec["output"]["kind"] == "sigmoids" and len(reader.spec["output"]["thresholds"]) == 28
    texts = test.texts[:100]
    assert np.abs(reader.probabilities(texts) - loaded.predict_proba(texts)).max() <= 1e-5
    assert [p["labels"] for p in reader.predict(texts)] == [p.labels for p in loaded.predict(texts)]


def test_a_numeric_sequence_bundle_exports_its_scaling_and_padding(tmp_path):
    from rnnlab.data.numeric import load_digits_sequences
    from rnnlab.encoding.sequences import prepare_sequences
    from rnnlab.encoding.split import split_holdout

    # Digits as 8 rows of 8 pixels, masked (a padded step is all zeros) and stacked two deep.
    train, test = split_holdout(load_digits_sequences(), 0.2, seed=0)
    data = prepare_sequences(train.sample(400, seed=0), test, maxlen=10, padding="pre", validation_split=0.1)
    spec = ModelSpec(name="digits", features=8, maxlen=10, mask_value=0.0, units=[12, 8], num_classes=10,
                     optimizer="adam")
    fit(spec, data, TrainingConfig(epochs=1, batch_size=32)).save(tmp_path / "bundle")
    outcome = runner.invoke(app, ["export", str(tmp_path / "bundle"), "--out", str(tmp_path / "onnx")])
    assert outcome.exit_code == 0, outcome.output
    reader, loaded = Reader(tmp_path / "onnx"), Bundle.load(tmp_path / "bundle")
    rules = reader.spec["sequences"]
    assert rules["maxlen"] == 10 and rules["padding"] == "pre" and len(rules["mean"]) == 8
    # Sequences shorter than maxlen, as long, and longer (cut from the front): the same input to the bit.
    records = [s.tolist() for s in test.sequences[:40]] + [np.tile(test.sequences[0], (2, 1)).tolist(),
                                                          test.sequences[1][:3].tolist()]
    assert np.array_equal(reader.steps(records), loaded.preprocessor.transform(records))
    assert np.abs(reader.probabilities(records) - loaded.predict_proba(records)).max() <= 1e-5
    assert [p["label"] for p in reader.predict(records)] == [p.label for p in loaded.predict(records)]
    with pytest.raises(ValueError, match=r"\(steps, 8\)"):
        reader.steps([[[1.0, 2.0]]])
