"""Every command, given bad input, exits 2 with one line saying what is wrong: no traceback.

The table below names, for each command of the Typer app, the bad inputs it is walked
through: missing, empty, truncated, non-UTF-8, wrong-format and wrong-column files, unknown
names and out-of-range options. `test_every_command_is_in_the_table` reads the commands from
the app itself, so a new command fails the suite until its bad inputs are listed here.
"""

from __future__ import annotations

import json
import re

import pytest
import typer.main
from typer.testing import CliRunner

from rnnlab.cli import app

runner = CliRunner()

# Files made once per module; "{name}" in a case is replaced by the path of `name`.
FILES = {
    "empty.csv": b"",
    "empty.txt": b"",
    "empty.json": b"",
    "empty.toml": b"",
    "blank.txt": b"\n  \n\n",
    "binary.csv": b"text,label\n\xff\xfe\xfa bad bytes,1\n",
    "binary.txt": b"\xff\xfe\x00\x81 not utf-8\n",
    "binary.json": b"\xff\xfe{\x00",
    "binary.toml": b'name = "\xff\xfe"\n',
    "truncated.json": b'{"name": "x", "cell": "lst',
    "truncated.toml": b'kind = "sweep"\nmodels = ["lstm", ',
    "truncated.jsonl": b'{"text": "a fine film"}\n{"text": "unfinish',
    "wrongcol.csv": b"title,score\nA fine film.,positive\nDull.,negative\n",
    "good.csv": b"text,label\nA fine film.,1\nDull.,0\n",
    "onelabel.csv": b"text,label\nA fine film.,good\nAnother fine film.,good\nA third one.,good\n",
    "wrongkeys.json": json.dumps({"name": "x", "cell": "lstm", "units": 8, "bogus_key": 1}).encode(),
    "wrongkeys.toml": b'kind = "sweep"\nmodels = ["lstm"]\nbogus_key = 1\n',
    "array.json": b"[1, 2, 3]",
    "image.npz": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "vectors.txt": b"3 4\nthe 0.1 0.2 0.3 0.4\ngood 0.1 0.2\n",
    "notbundle/readme.txt": b"not a bundle",
    "corrupt-bundle/spec.json": b"{not json",
    "corrupt-bundle/model.keras": b"PK\x03\x04 truncated zip",
    "corrupt-bundle/preprocessing.json": b"{}",
    "corrupt-bundle/metrics.json": b"{}",
    "corrupt-store/results.sqlite": b"SQLite format 3\x00 but not really",
    "plainfile": b"I am a file, not a folder",
    # The first bytes of a real workbook: valid UTF-8 (NUL bytes included), so only its kind gives it away.
    "book.xlsx": b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00b\xee\x9dh^\x01\x00\x00[Content_Types].xml",
    "nul.txt": b"a review\x00with a NUL byte\nanother line\n",
}

# command path -> bad invocations (argv after the command path)
CASES: dict[str, list[list[str]]] = {
    "models": [["--bogus"], ["extra-arg"]],
    "summary": [["nosuchmodel"], ["{missing.json}"], ["{empty.json}"], ["{binary.json}"],
                ["{truncated.json}"], ["{wrongkeys.json}"], ["{array.json}"], ["{notbundle}"]],
    "weights": [["nosuchmodel"], ["{binary.json}"], ["{truncated.json}"], ["lstm", "--json", "--bogus"]],
    "train": [["nosuchmodel"], ["{truncated.json}"], ["{binary.json}"],
              ["lstm", "--dataset", "{missing.csv}"], ["lstm", "--dataset", "{empty.csv}"],
              ["lstm", "--dataset", "{binary.csv}"], ["lstm", "--dataset", "{wrongcol.csv}"],
              ["lstm", "--dataset", "nosuchdataset"], ["lstm", "--dataset", "{image.npz}"],
              ["lstm", "--epochs", "0"], ["lstm", "--epochs", "abc"], ["lstm", "--batch-size", "0"],
              ["lstm", "--validation-split", "1.5"], ["lstm", "--validation-split", "-0.1"],
              ["lstm", "--maxlen", "0"], ["lstm", "--vocab-size", "1"], ["lstm", "--lr", "-1"],
              ["lstm", "--limit", "0"], ["lstm", "--optimizer", "nosuch"], ["lstm", "--tokenizer", "nosuch"],
              ["lstm", "--clipnorm", "-1"], ["lstm", "--chunk-length", "0"], ["lstm", "--early-stopping", "-1"],
              ["lstm", "--limit", "50", "--dataset", "amazon", "--out", "{plainfile}"],
              ["lstm", "--dataset", "{good.csv}", "--label-column", "nosuch"],
              ["lstm", "--dataset", "{good.csv}", "--text-column", "label"],
              ["lstm", "--dataset", "{good.csv}", "--test", "{missing.csv}"],
              ["lstm", "--dataset", "{good.csv}", "--test", "{wrongcol.csv}"],
              ["lstm", "--dataset", "{good.csv}", "--test-fraction", "0"],
              ["lstm", "--dataset", "amazon", "--text-column", "text"],
              ["lstm", "--field-column", "title"], ["lstm", "--baseline", "tfidf-lr"],
              ["lstm", "--dataset", "{good.csv}", "--label-separator", ""], ["lstm", "--class-weight", "inverse"],
              ["auto"], ["auto", "--dataset", "{good.csv}", "--batch-size", "8"],
              ["auto", "--dataset", "{good.csv}", "--baseline", "nosuch"],
              ["auto", "--dataset", "{onelabel.csv}"], ["auto", "--dataset", "{emptydir}"],
              ["auto", "--dataset", "{wrongcol.csv}"]],
    "baseline": [["nosuch"], ["nbsvm", "--dataset", "{empty.csv}"], ["nbsvm", "--dataset", "{wrongcol.csv}"],
                 ["nbsvm", "--validation-split", "2"], ["nbsvm", "--limit", "0"]],
    "evaluate": [["{missing}"], ["{emptydir}"], ["{notbundle}"], ["{corrupt-bundle}"], ["{plainfile}"],
                 ["{bundle}", "--dataset", "{binary.csv}"], ["{bundle}", "--dataset", "{wrongcol.csv}"],
                 ["{bundle}", "--split", "nosuch"], ["{bundle}", "--limit", "0"]],
    "predict": [["{missing}", "hi"], ["{emptydir}", "hi"], ["{corrupt-bundle}", "hi"], ["{bundle}"],
                ["{bundle}", ""], ["{bundle}", "   "], ["{bundle}", "--input", "{missing.csv}"],
                ["{bundle}", "--input", "{empty.csv}"], ["{bundle}", "--input", "{blank.txt}"],
                ["{bundle}", "--input", "{binary.txt}"], ["{bundle}", "--input", "{binary.csv}"],
                ["{bundle}", "--input", "{wrongcol.csv}"], ["{bundle}", "--input", "{truncated.jsonl}"],
                ["{bundle}", "--input", "{image.npz}"], ["{bundle}", "--input", "{book.xlsx}"],
                ["{bundle}", "--input", "{nul.txt}"],
                ["{bundle}", "--input", "{good.csv}", "--text-column", "nosuch"],
                ["{bundle}", "hi", "--address", "auto"], ["{bundle}", "--input", "{good.csv}", "--output", "{emptydir}"],
                ["{bundle}", "--input", "{good.csv}", "--output", "{plainfile}"]],
    "explain": [["{missing}", "hi"], ["{notbundle}", "hi"], ["{bundle}", ""], ["{bundle}"],
                ["{bundle}", "--input", "{binary.txt}"], ["{bundle}", "--input", "{wrongcol.csv}"],
                ["{bundle}", "--input", "{empty.csv}"], ["{bundle}", "--input", "{book.xlsx}"]],
    "export": [["{missing}", "--out", "{emptydir}/onnx"], ["{notbundle}", "--out", "{emptydir}/onnx"],
               ["{bundle}"], ["{bundle}", "--out", "{emptydir}/onnx", "--format", "tflite"]],
    "serve": [["{missing}"], ["{emptydir}"], ["{corrupt-bundle}"], ["{bundle}", "--port", "70000"],
              ["{bundle}", "--port", "-1"], ["{bundle}", "--workers", "0"], ["{bundle}", "--max-texts", "0"],
              ["{bundle}", "--max-chars", "-1"], ["{bundle}", "--max-body-bytes", "0"]],
    "reproduce textbook": [["--models", "nosuch"], ["--epochs", "0"], ["--limit", "-5"], ["--seed", "x"],
                           ["--out", "{plainfile}", "--limit", "100", "--epochs", "1", "--models", "rnn"]],
    "reproduce beyond stateful": [["--configs", "nosuch"], ["--seeds", "x,1"], ["--epochs", "0"], ["--limit", "0"]],
    "reproduce beyond ratings": [["--configs", "nosuch"], ["--seeds", "x,1"], ["--epochs", "0"], ["--limit", "0"]],
    "reproduce beyond digits": [["--configs", "nosuch"], ["--seeds", "x,1"], ["--epochs", "0"]],
    "reproduce beyond amazon": [["--configs", "nosuch"], ["--seeds", "x,1"], ["--epochs", "0"]],
    "data stats": [["--dataset", "{missing.csv}"], ["--dataset", "{binary.csv}"], ["--dataset", "{empty.csv}"],
                   ["--dataset", "{truncated.jsonl}"], ["--dataset", "nosuch"], ["--split", "nosuch"],
                   ["--tokenizer", "nosuch"], ["--maxlen", "0"], ["--limit", "0"]],
    "data export-keras": [["--limit", "0"], ["--out", "{plainfile}", "--limit", "10"]],
    "embeddings train": [["--dim", "0"], ["--epochs", "0"], ["--min-count", "0"], ["--window", "0"],
                         ["--workers", "0"], ["--limit", "0"]],
    "embeddings coverage": [["{missing}"], ["{empty.txt}"], ["{binary.txt}"], ["{vectors.txt}"],
                            ["{image.npz}"], ["{emptydir}"], ["{vectors.txt}", "--dim", "0"]],
    "experiment run": [["{missing.toml}"], ["{empty.toml}"], ["{binary.toml}"], ["{truncated.toml}"],
                       ["{wrongkeys.toml}"], ["{binary.json}"], ["{array.json}"], ["nosuchconfig"],
                       ["quick-gru-vs-lstm", "--runs", "0"], ["quick-gru-vs-lstm", "--workers", "0"],
                       ["quick-gru-vs-lstm", "--models", "nosuch"], ["quick-gru-vs-lstm", "--length-rule", "nosuch"],
                       ["quick-gru-vs-lstm", "--epochs", "0"], ["quick-gru-vs-lstm", "--out", "{plainfile}"],
                       ["imdb-tune"], ["quick-gru-vs-lstm", "--cpus-per-run", "0"],
                       ["quick-gru-vs-lstm", "--gpus-per-run", "-1"], ["imdb-fast", "--address", "auto"]],
    "experiment arrangements": [["--models", "nosuch"], ["--runs", "0"], ["--workers", "0"],
                                ["--length-rule", "nosuch"], ["--epochs", "0"], ["--limit", "0"]],
    "experiment textbook": [["--models", "nosuch"], ["--runs", "0"], ["--workers", "0"],
                            ["--length-rule", "nosuch"], ["--epochs", "0"], ["--limit", "0"]],
    "experiment report": [["{missing}"], ["{emptydir}"], ["{plainfile}"], ["{corrupt-store}"]],
    "tune": [["{missing.toml}"], ["{empty.toml}"], ["{binary.toml}"], ["{truncated.toml}"], ["{wrongkeys.toml}"],
             ["imdb-fast"], ["imdb-tune", "--trials", "0"], ["imdb-tune", "--time-budget", "soon"],
             ["imdb-tune", "--cpus-per-trial", "0"], ["imdb-tune", "--limit", "0"],
             ["imdb-tune", "--out", "{plainfile}"]],
}


def command_paths() -> list[str]:
    """Every runnable command of the app, as the words typed after `rnnlab`."""
    def walk(command, prefix):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, [*prefix, name])
        else:
            yield " ".join(prefix)
    return sorted(walk(typer.main.get_command(app), []))


def test_every_command_is_in_the_table():
    paths = command_paths()
    assert len(paths) >= 20
    missing = [path for path in paths if len(CASES.get(path, [])) < 2]
    assert not missing, f"add bad-input cases for: {missing}"
    assert not set(CASES) - set(paths), "the table names commands the app no longer has"


@pytest.fixture(scope="module")
def places(tmp_path_factory, small_bundle):
    """Paths for the placeholders; "bundle" is a real (small) bundle trained on the Amazon sample."""
    root = tmp_path_factory.mktemp("bad-input")
    for name, content in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (root / "emptydir").mkdir()
    found = {name: str(root / name) for name in FILES}
    found.update({"emptydir": str(root / "emptydir"), "bundle": str(small_bundle), "missing": str(root / "nope"),
                  "notbundle": str(root / "notbundle"), "corrupt-bundle": str(root / "corrupt-bundle"),
                  "corrupt-store": str(root / "corrupt-store")})
    for suffix in ("csv", "json", "toml"):
        found[f"missing.{suffix}"] = str(root / f"nope.{suffix}")
    return found


def _fill(args: list[str], places: dict[str, str]) -> list[str]:
    return [re.sub(r"\{([^}]+)\}", lambda m: places[m.group(1)], arg) for arg in args]


CASE_LIST = [(path, args) for path, cases in sorted(CASES.items()) for args in cases]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("path", "args"), CASE_LIST, ids=[f"{p}:{' '.join(a) or '-'}" for p, a in CASE_LIST])
def test_bad_input_gets_one_line(path, args, places):
    argv = [*path.split(), *_fill(args, places)]
    result = runner.invoke(app, argv)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"rnnlab {' '.join(argv)} raised {result.exception!r}")
    output = result.output
    assert result.exit_code == 2, f"rnnlab {' '.join(argv)} exited {result.exit_code}:\n{output}"
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], f"not one error line:\n{output}"
    assert len(errors[0]) > len("error: ") + 15
