"""Batch prediction: records streamed from every format, predictions streamed to CSV/JSONL, and Ray Data
on a 2-node loopback cluster giving the same rows in the same order."""

from __future__ import annotations

import csv
import json
import sys

import numpy as np
import pytest
from raytools import HERE, imdb_rows, isolated, result_line, write_csv
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.errors import InvalidInputError, RnnlabError

runner = CliRunner()


@pytest.fixture(scope="module")
def reviews(imdb_archive):
    return imdb_rows()


# --------------------------------------------------------- batch prediction
def test_load_splits_without_test_opens_no_test_data(tmp_path, reviews):
    from rnnlab.encoding.prepare import load_splits

    train = write_csv(tmp_path / "train.csv", reviews[:300])
    fit, test = load_splits(str(train), test=str(tmp_path / "absent.csv"), with_test=False, limit=100)
    assert test is None and len(fit) == 100
    with pytest.raises(RnnlabError, match="absent.csv"):
        load_splits(str(train), test=str(tmp_path / "absent.csv"))
    carved, none = load_splits(str(train), with_test=False)
    kept, held = load_splits(str(train))
    assert none is None and list(carved.texts) == list(kept.texts) and len(held) == 60


def test_records_stream_in_chunks_from_every_format(tmp_path, reviews, monkeypatch, small_bundle):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from rnnlab.data import tables
    from rnnlab.encoding.records import count_records, iter_records, read_records
    from rnnlab.inference import Bundle

    monkeypatch.setattr(tables, "STREAM_ABOVE", 0)  # parse every file as it is read
    inputs = Bundle.load(small_bundle).inputs
    texts = [t.replace("\n", " ") for t, _ in reviews[:250]]
    files = [write_csv(tmp_path / "r.csv", [(t, "x") for t in texts]), tmp_path / "r.jsonl", tmp_path / "r.txt",
             tmp_path / "r.parquet"]
    files[1].write_text("".join(json.dumps({"review": t}) + "\n" for t in texts), encoding="utf-8")
    files[2].write_text("\n".join(texts) + "\n\n", encoding="utf-8")
    pq.write_table(pa.table({"review": texts}), files[3], row_group_size=100)
    for path in files:
        chunks = list(iter_records(path, inputs, chunk=100))
        assert [len(c) for c in chunks] == [100, 100, 50], path
        assert [r for c in chunks for r in c] == texts == read_records(path, inputs)
        assert count_records(path, inputs) == 250
    with pytest.raises(InvalidInputError, match="no column 'body'"):
        iter_records(files[0], inputs, text_column="body")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"text\nfine\n\xff\xfe broken\n")
    with pytest.raises(RnnlabError, match="line 3: not UTF-8"):
        list(iter_records(bad, inputs))


def test_predict_file_streams_to_csv_and_jsonl(tmp_path, reviews, small_bundle):
    from rnnlab.inference import Bundle
    from rnnlab.inference.batch import predict_file

    loaded = Bundle.load(small_bundle)
    texts = [t for t, _ in reviews[:120]]
    source = write_csv(tmp_path / "in.csv", [(t, s) for t, s in reviews[:120]])
    stats = predict_file(loaded, source, tmp_path / "out.csv", chunk=50, progress=False)
    assert stats["records"] == 120 and sum(stats["labels"].values()) == 120
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = loaded.predict(texts)
    assert [r["text"] for r in rows] == texts and [r["label"] for r in rows] == [p.label for p in expected]
    assert np.allclose([float(r["probability"]) for r in rows], [p.probability for p in expected], atol=1e-5)
    result = runner.invoke(app, ["predict", str(small_bundle), "--input", str(source), "--output",
                                 str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0 and "120 predictions written" in result.output
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [line["label"] for line in lines] == [r["label"] for r in rows]
    for bad_output, message in [("out.txt", ".csv or .jsonl"), ("", "folder")]:
        result = runner.invoke(app, ["predict", str(small_bundle), "--input", str(source), "--output",
                                     str(tmp_path / bad_output)])
        assert result.exit_code == 2 and message in result.output
    result = runner.invoke(app, ["predict", str(small_bundle), "hello", "--address", "auto"])
    assert result.exit_code == 2 and "--input FILE and --output FILE" in result.output


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ray_data_prediction_matches_local_prediction_in_order(tmp_path, reviews, small_bundle):
    from rnnlab.inference import Bundle
    from rnnlab.inference.batch import predict_file

    source = write_csv(tmp_path / "in.csv", reviews[:300])
    predict_file(Bundle.load(small_bundle), source, tmp_path / "local.csv", progress=False)
    report = result_line(isolated([sys.executable, str(HERE / "ray_checks.py"), "predict", str(small_bundle),
                                   str(source), str(tmp_path / "ray.csv")], timeout=200))
    assert report["records"] == 300 and report["workers"] == 2
    with open(tmp_path / "local.csv", newline="") as a, open(tmp_path / "ray.csv", newline="") as b:
        local, remote = list(csv.reader(a)), list(csv.reader(b))
    assert local[0] == remote[0] and [r[0] for r in local] == [r[0] for r in remote]  # same order
    assert [r[1] for r in local] == [r[1] for r in remote]
    assert np.allclose([float(r[2]) for r in local[1:]], [float(r[2]) for r in remote[1:]], atol=1e-5)


