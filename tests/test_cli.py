"""The `rnnlab` command on real data: listings, prediction files, and the errors users see."""

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from rnnlab.cli import app

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def rnnlab(*args, env=None):
    """Run the real console entry point in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "rnnlab.cli", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_models_json_lists_exact_counts():
    rows = {r["name"]: r["params"] for r in json.loads(invoke("models", "--json"))}
    assert rows["rnn"] == 258_113 and rows["lstm"] == 264_353 and rows["gru"] == 262_273
    assert rows["bilstm"] == 272_705 and rows["stacked-lstm"] == 272_673
    assert rows["amazon-stacked-lstm"] == 381_025 and rows["MS_RSF_biGRU"] == 485_505
    assert len(rows) == 20


def test_weights_and_summary():
    rows = json.loads(invoke("weights", "bilstm", "--json"))
    assert [r["params"] for r in rows] == [8_320, 8_320] and all(r["ok"] for r in rows)
    assert "264,353" in invoke("summary", "lstm")


def test_predict_json_and_files(lstm_bundle, tmp_path):
    _, bundle = lstm_bundle
    lines = invoke("predict", bundle, "An excellent movie!", "Awful, boring, a waste of time.", "--json")
    objects = [json.loads(line) for line in lines.splitlines()]
    assert [o["text"] for o in objects] == ["An excellent movie!", "Awful, boring, a waste of time."]
    assert all({"label", "probability", "tokens", "n_oov"} <= set(o) for o in objects)
    assert objects[0]["tokens"] == ["an", "excellent", "movie"]

    source = tmp_path / "reviews.txt"
    source.write_text("A wonderful film.\n\nTerrible plot and worse acting.\n", encoding="utf-8")
    output = tmp_path / "preds.csv"
    invoke("predict", bundle, "--input", source, "--output", output)
    rows = output.read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("text,label,probability,p_neg,p_pos") and len(rows) == 3

    table = tmp_path / "reviews.csv"
    table.write_text('id,text\n1,"Great, great, great."\n', encoding="utf-8")
    invoke("predict", bundle, "--input", table, "--output", output)
    assert output.read_text(encoding="utf-8").splitlines()[1].startswith("\"Great, great, great.\"")


def test_data_stats_writes_histogram(amazon_file, tmp_path):
    stats = json.loads(invoke("data", "stats", "--dataset", "amazon", "--maxlen", "100", "--plot",
                              tmp_path / "len.png", "--json"))
    assert stats["count"] == 1000 and 0 < stats["coverage"] <= 1
    assert (tmp_path / "len.png").stat().st_size > 1000


def test_unknown_model_suggests_name():
    result = rnnlab("train", "bilstn")
    assert result.returncode == 2
    assert "Unknown model 'bilstn'" in result.stderr and "Did you mean 'bilstm'" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_dataset_lists_places_searched(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = rnnlab("train", "lstm", "--limit", "10",
                    env={"RNNLAB_DATA_DIR": str(empty), "RNNLAB_CACHE_DIR": str(tmp_path / "cache"),
                         "RNNLAB_OFFLINE": "1"})
    assert result.returncode == 2
    assert "Could not find 'aclImdb_v1.tar.gz'" in result.stderr
    assert str(empty) in result.stderr and "ai.stanford.edu" in result.stderr


def test_corrupt_archive_is_reported(tmp_path, imdb_archive):
    broken = tmp_path / "aclImdb_v1.tar.gz"
    broken.write_bytes(imdb_archive.read_bytes()[: 1_000_000])
    result = rnnlab("train", "lstm", "--dataset", broken, "--limit", "10")
    assert result.returncode == 2
    assert str(broken) in result.stderr and "Traceback" not in result.stderr


def test_empty_text_is_rejected(lstm_bundle):
    _, bundle = lstm_bundle
    result = rnnlab("predict", bundle, "   ")
    assert result.returncode == 2
    assert "empty" in result.stderr and "Traceback" not in result.stderr


def test_export_keras_format_loads_back(imdb_archive, tmp_path):
    from rnnlab.text.keras_format import load_keras_imdb, load_keras_word_index

    invoke("data", "export-keras", "--out", tmp_path, "--limit", "200")
    (x_train, y_train), (x_test, y_test) = load_keras_imdb(tmp_path / "imdb.npz", num_words=1000)
    assert len(x_train) == len(y_train) == 200 and len(x_test) == 200
    assert all(seq[0] == 1 and max(seq) < 1000 for seq in x_train)  # start_char, num_words cap
    index = load_keras_word_index(tmp_path / "imdb_word_index.json")
    assert index["the"] == 1  # the most frequent word ranks first
