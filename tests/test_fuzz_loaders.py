"""Any bytes in, data or a clear error out: every file loader fed junk by hypothesis.

Each example writes generated content (arbitrary bytes, random text, valid-looking CSV /
JSON / TOML with wrong types, truncated or bit-flipped valid files, pathological inputs
such as 5,000-digit numbers or 50,000 nested brackets) to a fresh file and calls a loader.
The call must return data or raise :class:`rnnlab.errors.RnnlabError` (or a subclass) with
a message; any other exception type is a bug in the loader and fails the property.

Loaders that use the cache get a private one (``RNNLAB_CACHE_DIR``) and ``RNNLAB_OFFLINE=1``,
so nothing here ever reaches the network or the user's cache. The hypothesis example
database is off (``database=None``): a failure prints its shrunk example instead.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import shutil
import struct
import tarfile
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnlab  # noqa: F401  (selects the Keras backend before anything imports Keras)
from rnnlab.errors import RnnlabError

pytestmark = pytest.mark.timeout(300)

# Hypothesis examples per loader (each parametrized case runs this many).
EXAMPLES = {
    "tables": 100,  # x 3 formats: read_utf8, table_rows, load_table, load_dataset on one file
    "amazon": 80,  # x 2 file kinds (fastText .txt, two-column .csv)
    "imdb_archive": 15,
    "imdb_folder": 15,
    "vectors": 150,  # detect_format and read_vectors (all words, some words with a limit, errors="replace")
    "keras_npz": 100,
    "keras_word_index": 60,
    "numeric_arrays": 80,  # x 2 kinds (.npz, .npy with its labels file)
    "numeric_csv": 100,
    "read_config": 80,  # x 2 suffixes (.json, .toml)
    "find_config": 100,
    "model_spec": 80,  # x 2 suffixes: ModelSpec.from_dict/.load, read_training_config, resolve on a spec file
    "training_config": 100,  # TrainingConfig.from_dict on a [training] table
    "experiment_config": 60,  # experiments.config.load_config, x 2 suffixes
    "bundle": 40,  # Bundle.load with one of model.keras, preprocessing.json, spec.json, metrics.json replaced
}


# A longer hunt: RNNLAB_FUZZ_SCALE=20 runs twenty times as many examples of each.
SCALE = float(os.environ.get("RNNLAB_FUZZ_SCALE", "1"))


def fuzz(name: str):
    return settings(max_examples=max(1, round(EXAMPLES[name] * SCALE)), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


def data_or_clear_error(call):
    """``call()``'s result, or None when it raised an RnnlabError; any other exception propagates."""
    try:
        return call()
    except RnnlabError as err:
        assert str(err).strip(), f"{type(err).__name__} raised without a message"
        return None


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A private cache, no network, and a fresh folder per hypothesis example."""
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RNNLAB_OFFLINE", "1")
    (tmp_path / "examples").mkdir()
    return lambda: Path(tempfile.mkdtemp(dir=tmp_path / "examples"))


def write(folder: Path, name: str, content: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    return path


# -- strategies ---------------------------------------------------------------------------------

# Characters that can be written as UTF-8 (no lone surrogates), biased towards the ones
# parsers care about: delimiters, quotes, line ends, brackets, digits, BOMs, NUL.
SPECIAL = st.sampled_from(list(',;\t\n\r"\'\\{}[]=:#-+.eE0123456789 _') + ["\x00", "\ufeff", "\u2028", "\xa0"])
CHARS = st.one_of(SPECIAL, st.characters(blacklist_categories=("Cs",)))
TEXT = st.text(CHARS, max_size=40)
NUMBER_TEXT = st.one_of(st.integers(-(10**12), 10**12).map(str), st.floats().map(repr),
                        st.sampled_from(["nan", "inf", "-inf", "1e999", "0x10", "1_000", "", " ", "١٢"]))
CELL = st.one_of(TEXT, NUMBER_TEXT)

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(CHARS, max_size=12))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(CHARS, max_size=8), inner, max_size=4),
    max_leaves=12,
)

# Inputs that break naive parsers: deep nesting (RecursionError), integers beyond Python's
# 4,300-digit conversion limit (ValueError), a cell larger than the csv module's field limit,
# an unterminated quote, a BOM alone, and huge numbers where counts or class ids are expected.
PATHOLOGICAL = st.one_of(
    st.integers(2_000, 60_000).map(lambda n: "[" * n + "]" * n),
    st.integers(2_000, 60_000).map(lambda n: '{"a": ' * n + "1" + "}" * n),
    st.integers(2_000, 60_000).map(lambda n: "a = " + "[" * n + "]" * n),
    st.integers(4_301, 6_000).map(lambda n: "7" * n),
    st.integers(4_301, 6_000).map(lambda n: "x = " + "7" * n),
    st.integers(131_073, 140_000).map(lambda n: "text,label\n" + "a" * n + ",1\n"),
    st.integers(131_073, 140_000).map(lambda n: 'text,label\n"' + "a" * n),
    st.sampled_from(["\ufeff", "\x00", '"', "{", "[", "\n\n\n", "__label__1 ", "1 1\n", "3 2\nw 1 2\n"]),
    st.sampled_from([10**9, 2**63, 10**30, -(2**63), 1e300]).map(lambda v: f"text,label\nhello,{v!r}\n"),
)


def to_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


@st.composite
def damaged(draw, valid):
    """A valid-looking file cut short or with a few bytes changed."""
    data = to_bytes(draw(valid))
    if not data:
        return data
    if draw(st.booleans()):
        return data[: draw(st.integers(0, len(data) - 1))]
    flipped = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        flipped[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(flipped)


def junk(structured) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, random text, pathological inputs, and ``structured`` whole or damaged."""
    return st.one_of(
        st.binary(max_size=400),
        st.text(CHARS, max_size=200).map(to_bytes),
        PATHOLOGICAL.map(to_bytes),
        structured.map(to_bytes),
        damaged(structured),
    )


@st.composite
def delimited_text(draw, delimiter: str, columns=("text", "label")) -> str:
    """A table with a header row: real column names mixed with junk, ragged rows, any cells."""
    names = st.one_of(st.sampled_from(columns), TEXT)
    header = draw(st.lists(names, max_size=5))
    width = len(header)
    row = st.one_of(st.lists(CELL, min_size=width, max_size=width), st.lists(CELL, max_size=7))
    rows = draw(st.lists(row, max_size=6))
    if draw(st.booleans()):  # properly quoted
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue()
    line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return line_end.join(delimiter.join(cells) for cells in [header, *rows])


@st.composite
def jsonl_text(draw) -> str:
    row = st.one_of(
        JSON_VALUES,
        st.fixed_dictionaries({}, optional={"text": JSON_VALUES | TEXT, "label": JSON_VALUES | NUMBER_TEXT}),
    )
    lines = [json.dumps(value) for value in draw(st.lists(row, max_size=6))]
    lines += draw(st.lists(TEXT, max_size=2))  # lines that are not JSON at all
    return "\n".join(draw(st.permutations(lines)))


def toml_value(value) -> str:
    """A JSON value written as TOML (None, which TOML lacks, becomes an empty inline table)."""
    if value is None:
        return "{}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(table: dict) -> str:
    return "".join(f"{json.dumps(key)} = {toml_value(value)}\n" for key, value in table.items())


def config_tables(keys) -> st.SearchStrategy[dict]:
    """Tables with the right keys (and a few wrong ones) holding values of any JSON type."""
    return st.dictionaries(st.one_of(st.sampled_from(sorted(keys)), st.text(CHARS, max_size=8)),
                           JSON_VALUES, max_size=6)


def rendered(tables, suffix: str) -> st.SearchStrategy[str]:
    return tables.map(json.dumps if suffix == ".json" else toml_document)


# -- tables -------------------------------------------------------------------------------------

TABLE_CONTENT = {
    "csv": delimited_text(","),
    "tsv": delimited_text("\t"),
    "jsonl": jsonl_text(),
}


@pytest.mark.parametrize("fmt", sorted(TABLE_CONTENT))
@fuzz("tables")
@given(content=st.data())
def test_table_loaders_return_rows_or_a_clear_error(isolated, fmt, content):
    from rnnlab.data import load_dataset, load_table
    from rnnlab.data.tables import read_utf8, table_rows

    path = write(isolated(), f"reviews.{fmt}", content.draw(junk(TABLE_CONTENT[fmt]), label="file"))
    text = data_or_clear_error(lambda: read_utf8(path))
    assert text is None or isinstance(text, str)
    rows = data_or_clear_error(lambda: list(table_rows(path, fmt)))
    assert rows is None or all(isinstance(row, dict) for _, row in rows)
    dataset = data_or_clear_error(lambda: load_table(path, format=fmt))
    assert dataset is None or len(dataset) == len(dataset.labels) > 0
    data_or_clear_error(lambda: load_table(path, label_column=None))
    data_or_clear_error(lambda: load_dataset(path))


# -- Amazon (fastText lines, or review_text,label rows) -----------------------------------------

FASTTEXT = st.lists(
    st.tuples(st.sampled_from(["__label__1", "__label__2", "__label__3", "__label__", "label", ""]),
              st.sampled_from([" ", "\t", ""]), TEXT),
    max_size=6,
).map(lambda lines: "\n".join(tag + sep + text for tag, sep, text in lines))


@pytest.mark.parametrize("name", ["reviews.ft.txt", "reviews.csv"])
@fuzz("amazon")
@given(content=st.data())
def test_amazon_loader_returns_reviews_or_a_clear_error(isolated, name, content):
    from rnnlab.data import load_amazon

    structured = FASTTEXT if name.endswith(".txt") else delimited_text(",", ("review_text", "label", "0", "1"))
    path = write(isolated(), name, content.draw(junk(structured), label="file"))
    dataset = data_or_clear_error(lambda: load_amazon(path))
    assert dataset is None or len(dataset) == len(dataset.labels) > 0


# -- IMDB archives and folders ------------------------------------------------------------------

REVIEW_NAME = st.builds(
    lambda top, split, cls, ident, rating: f"{top}{split}/{cls}/{ident}_{rating}.txt",
    st.sampled_from(["aclImdb/", "", "x/aclImdb/"]), st.sampled_from(["train", "test"]),
    st.sampled_from(["neg", "pos", "unsup"]), st.integers(0, 10**6), st.integers(0, 300),
)
# Review bytes: often not UTF-8 at all.
REVIEW_BYTES = st.one_of(st.binary(max_size=60), TEXT.map(to_bytes))
EVERY_CLASS = st.tuples(*(st.tuples(st.just(f"aclImdb/{split}/{cls}/"), st.integers(0, 99), st.integers(0, 300),
                                    REVIEW_BYTES)
                          for split in ("train", "test") for cls in ("neg", "pos"))).map(
    lambda items: [(f"{prefix}{ident}_{rating}.txt", raw) for prefix, ident, rating, raw in items])
MEMBERS = st.one_of(
    EVERY_CLASS,  # the aclImdb layout with every labelled class present
    st.lists(st.tuples(REVIEW_NAME, REVIEW_BYTES), max_size=6),  # the layout, some classes missing
    st.lists(st.tuples(st.text(CHARS, min_size=1, max_size=30), REVIEW_BYTES), max_size=4),  # not the layout
)


def tar_bytes(members, mode: str, odd_member: str | None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tar:
        for name, raw in members:
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
        if odd_member:  # a review path that is a directory or a link, not a file
            info = tarfile.TarInfo(odd_member)
            info.type = tarfile.DIRTYPE if odd_member.endswith("0_1.txt") else tarfile.SYMTYPE
            info.linkname = "elsewhere"
            tar.addfile(info)
    return out.getvalue()


TAR_BYTES = st.builds(tar_bytes, MEMBERS, st.sampled_from(["w:gz", "w", "w:bz2"]),
                      st.none() | st.sampled_from(["aclImdb/train/pos/0_1.txt", "aclImdb/test/neg/5_3.txt"]))
ARCHIVE_BYTES = st.one_of(
    st.binary(max_size=300),  # not gzip at all
    st.binary(max_size=300).map(gzip.compress),  # gzip of junk
    TAR_BYTES,  # a real tar, in or out of the aclImdb layout
    damaged(TAR_BYTES),  # truncated or with changed bytes
)


@fuzz("imdb_archive")
@given(archive=ARCHIVE_BYTES, split=st.sampled_from(["train", "test", "unsup"]))
def test_imdb_loader_on_a_junk_archive_returns_reviews_or_a_clear_error(isolated, archive, split):
    from rnnlab.data import load_imdb

    path = write(isolated(), "aclImdb_v1.tar.gz", archive)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warning about reviews that are not UTF-8
        dataset = data_or_clear_error(lambda: load_imdb(split, path=path))
    assert dataset is None or len(dataset) > 0


@fuzz("imdb_folder")
@given(members=MEMBERS, split=st.sampled_from(["train", "test", "unsup"]))
def test_imdb_loader_on_a_junk_folder_returns_reviews_or_a_clear_error(isolated, members, split):
    from rnnlab.data import load_imdb

    folder = isolated()
    for name, raw in members:
        # Only names that stay inside the folder; the rest becomes one flat file.
        safe = name if name.startswith("aclImdb/") else "aclImdb/" + "".join(
            c for c in name if c.isalnum())[:50] + ".txt"
        write(folder, safe, raw)
    (folder / "aclImdb" / "train").mkdir(parents=True, exist_ok=True)
    (folder / "aclImdb" / "test").mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = data_or_clear_error(lambda: load_imdb(split, path=folder))
    assert dataset is None or len(dataset) > 0


# -- word vectors (GloVe, word2vec text and binary, gzip'd or not) -------------------------------

WORD = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=" \n"), min_size=1, max_size=8)
VALUE_TEXT = st.one_of(st.floats(width=32).map(repr), st.integers(-9, 9).map(str), TEXT.filter(lambda t: " " not in t))


@st.composite
def text_vectors(draw) -> str:
    dim = draw(st.integers(1, 4))
    lines = [" ".join([draw(WORD), *draw(st.lists(VALUE_TEXT, min_size=dim - 1, max_size=dim + 1))])
             for _ in range(draw(st.integers(0, 4)))]
    if draw(st.booleans()):
        lines.insert(0, f"{draw(st.integers(0, 6))} {draw(st.integers(0, 5))}")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


@st.composite
def binary_vectors(draw) -> bytes:
    count, dim = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    out = [f"{count} {dim}\n".encode()]
    for _ in range(draw(st.integers(0, count + 1))):
        values = draw(st.lists(st.floats(width=32), min_size=dim, max_size=dim))
        out.append(to_bytes(draw(WORD)) + b" " + struct.pack(f"<{dim}f", *values)[: draw(st.integers(0, 4 * dim))])
        out.append(draw(st.sampled_from([b"", b"\n"])))
    return b"".join(out)


VECTORS = st.one_of(text_vectors().map(to_bytes), binary_vectors())
VECTOR_FILES = st.one_of(
    junk(VECTORS),
    VECTORS.map(gzip.compress),
    damaged(VECTORS.map(gzip.compress)),
    st.binary(max_size=100).map(lambda b: b"\x1f\x8b" + b),  # gzip magic, then junk
)


@fuzz("vectors")
@given(content=VECTOR_FILES, words=st.lists(WORD, max_size=3), limit=st.none() | st.integers(1, 3))
def test_word_vector_readers_return_vectors_or_a_clear_error(isolated, content, words, limit):
    from rnnlab.text.vectors import detect_format, read_vectors

    path = write(isolated(), "vectors.txt", content)
    info = data_or_clear_error(lambda: detect_format(path))
    vectors = data_or_clear_error(lambda: read_vectors(path))
    if vectors is not None:
        assert info is not None and vectors.vectors.shape == (len(vectors.words), info.dim)
    data_or_clear_error(lambda: read_vectors(path, words, limit=limit))
    data_or_clear_error(lambda: read_vectors(path, unicode_errors="replace"))


# -- Keras IMDB files (imdb.npz, imdb_word_index.json) ------------------------------------------

def object_array(items) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        array[i] = item
    return array


SMALL_INTS = st.lists(st.integers(0, 40), max_size=5)
ODD_ELEMENTS = st.one_of(st.integers(-5, 40), st.floats(), st.text(max_size=3), st.none(), st.booleans(),
                         SMALL_INTS)
KERAS_ARRAY = st.one_of(
    st.lists(SMALL_INTS, max_size=5).map(object_array),  # what Keras writes
    st.lists(st.lists(ODD_ELEMENTS, max_size=4) | ODD_ELEMENTS, max_size=4).map(object_array),  # odd contents
    st.lists(st.integers(-3, 3), max_size=6).map(lambda v: np.asarray(v, dtype=np.int64)),
    st.integers(0, 3).map(lambda n: np.arange(n * 3, dtype=np.int32).reshape(n, 3)),
    st.sampled_from([np.array(3), np.array(["a", "bc"]), np.array([0.5, 1.5]), np.array([True]),
                     np.zeros((2, 2, 2)), np.array([], dtype=np.float64)]),
)
KERAS_NPZ = st.dictionaries(st.sampled_from(["x_train", "y_train", "x_test", "y_test", "other"]), KERAS_ARRAY,
                            max_size=5)


def fake_npy(shape, descr: str, body: bytes) -> bytes:
    """An .npy file whose header claims ``shape`` and ``descr`` whatever the data that follows."""
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + body


# Headers that lie: a shape of 2**40 elements over a few bytes, unknown or object dtypes.
FAKE_NPY = st.builds(fake_npy, st.lists(st.integers(0, 2**40), max_size=3).map(tuple),
                     st.sampled_from(["<f8", "<i8", "|u1", "|O", "<U3", "|b1", "junk"]), st.binary(max_size=64))


def npz_bytes(arrays: dict, compressed: bool) -> bytes:
    out = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(out, **arrays)
    return out.getvalue()


def zip_of(members) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, raw in members:
            archive.writestr(name, raw)
    return out.getvalue()


NPZ_FILES = st.one_of(
    st.binary(max_size=300),
    st.builds(npz_bytes, KERAS_NPZ, st.booleans()),
    damaged(st.builds(npz_bytes, KERAS_NPZ, st.booleans())),
    st.dictionaries(st.sampled_from(["x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy", "a"]),
                    st.binary(max_size=80) | FAKE_NPY, max_size=5).map(lambda d: zip_of(d.items())),  # junk members
)
KERAS_OPTIONS = st.fixed_dictionaries({}, optional={
    "num_words": st.none() | st.integers(1, 50), "skip_top": st.integers(0, 3), "maxlen": st.none() | st.integers(1, 8),
    "start_char": st.none() | st.integers(0, 3), "oov_char": st.none() | st.integers(0, 3),
    "index_from": st.integers(0, 4),
})


@fuzz("keras_npz")
@given(content=NPZ_FILES, options=KERAS_OPTIONS)
def test_keras_imdb_loader_returns_arrays_or_a_clear_error(isolated, content, options):
    from rnnlab.text.keras_format import load_keras_imdb

    path = write(isolated(), "imdb.npz", content)
    result = data_or_clear_error(lambda: load_keras_imdb(path, **options))
    if result is not None:
        (x_train, y_train), (x_test, y_test) = result
        assert len(x_train) == len(y_train) and len(x_test) == len(y_test)


WORD_INDEX = st.one_of(st.dictionaries(st.text(CHARS, max_size=6), st.integers(1, 10**6), max_size=5), JSON_VALUES)


@fuzz("keras_word_index")
@given(content=st.data())
def test_keras_word_index_loader_returns_a_dict_or_a_clear_error(isolated, content):
    from rnnlab.text.keras_format import load_keras_word_index

    path = write(isolated(), "imdb_word_index.json", content.draw(junk(WORD_INDEX.map(json.dumps)), label="file"))
    index = data_or_clear_error(lambda: load_keras_word_index(path))
    assert index is None or isinstance(index, dict)


# -- numeric sequences (.npz / .npy arrays, one-row-per-step tables) ----------------------------

NUMERIC_ARRAY = st.one_of(
    st.tuples(st.integers(0, 3), st.integers(0, 4), st.integers(1, 3)).map(
        lambda s: np.arange(s[0] * s[1] * s[2], dtype=np.float32).reshape(s)),
    st.lists(st.integers(-2, 5), max_size=5).map(np.asarray),
    st.lists(st.floats(), max_size=5).map(lambda v: np.asarray(v, dtype=np.float64)),
    st.sampled_from([np.array(7), np.array(["a", "b"]), np.array([True, False]), np.zeros((2, 2, 2, 2)),
                     np.array([1 + 2j, 3j]), np.array([10**9, 2**62]), np.array([-1, 0])]),
    st.lists(SMALL_INTS, max_size=3).map(object_array),  # needs pickle: refused
)
NUMERIC_NPZ = st.dictionaries(
    st.sampled_from(["x", "X", "sequences", "y", "labels", "lengths", "class_names", "other"]),
    NUMERIC_ARRAY | st.lists(TEXT, max_size=3).map(np.asarray), max_size=5)


@pytest.mark.parametrize("kind", ["npz", "npy"])
@fuzz("numeric_arrays")
@given(content=st.data())
def test_numeric_array_loader_returns_sequences_or_a_clear_error(isolated, kind, content):
    from rnnlab.data.numeric import load_arrays

    folder = isolated()
    if kind == "npz":
        structured = st.builds(npz_bytes, NUMERIC_NPZ, st.booleans())
        path = write(folder, "train.npz", content.draw(junk(structured), label="npz"))
    else:
        def npy(array):
            out = io.BytesIO()
            np.save(out, array)
            return out.getvalue()

        structured = NUMERIC_ARRAY.map(npy) | FAKE_NPY
        path = write(folder, "train_x.npy", content.draw(junk(structured), label="x"))
        write(folder, "train_y.npy", content.draw(junk(structured), label="y"))
    dataset = data_or_clear_error(lambda: load_arrays(path))
    assert dataset is None or len(dataset) > 0


@fuzz("numeric_csv")
@given(content=st.data(), suffix=st.sampled_from([".csv", ".tsv"]))
def test_sequence_table_loader_returns_sequences_or_a_clear_error(isolated, content, suffix):
    from rnnlab.data.numeric import load_sequence_csv

    structured = delimited_text("," if suffix == ".csv" else "\t", ("sequence_id", "label", "t", "x", "y"))
    path = write(isolated(), f"walks{suffix}", content.draw(junk(structured), label="file"))
    dataset = data_or_clear_error(lambda: load_sequence_csv(path))
    assert dataset is None or len(dataset) > 0
    data_or_clear_error(lambda: load_sequence_csv(path, time_column="t", feature_columns=["x"]))


# -- configs: read_config, find_config, spec files, training configs, experiment configs --------

MODEL_SPEC_KEYS = ("name", "vocab_size", "maxlen", "embedding_dim", "cell", "units", "depth", "bidirectional",
                   "pooling", "dropout", "recurrent_dropout", "spatial_dropout", "output_dropout", "head",
                   "num_classes", "inputs", "input_merge", "stateful", "chunk_length", "batch_size", "features",
                   "mask_value", "merge_mode", "architecture", "pretrained_embeddings", "rnn_options")


@pytest.mark.parametrize("suffix", [".json", ".toml"])
@fuzz("read_config")
@given(content=st.data())
def test_read_config_returns_a_table_or_a_clear_error(isolated, suffix, content):
    from rnnlab.configfile import read_config

    structured = rendered(config_tables(MODEL_SPEC_KEYS), suffix) | JSON_VALUES.map(json.dumps)
    path = write(isolated(), f"config{suffix}", content.draw(junk(structured), label="file"))
    table = data_or_clear_error(lambda: read_config(path))
    assert table is None or isinstance(table, dict)


@fuzz("find_config")
@given(name=st.one_of(st.text(CHARS, max_size=300), st.sampled_from(["~nosuchuser/x.toml", "~", "imdb-fast", ".",
                                                                     "/", "configs/imdb-fast.toml", "a" * 300])))
def test_find_config_returns_a_file_or_a_clear_error(name):
    from rnnlab.configfile import find_config

    found = data_or_clear_error(lambda: find_config(name))
    assert found is None or found.is_file()


@st.composite
def spec_tables(draw) -> dict:
    """A spec table from a valid spec with some fields replaced (or added) by junk."""
    table = {"name": "fuzzed", "vocab_size": 100, "maxlen": 10, "units": 4}
    table.update(draw(config_tables(MODEL_SPEC_KEYS)))
    if draw(st.booleans()):
        table["head"] = draw(st.lists(st.one_of(config_tables(("units", "activation", "dropout")), JSON_VALUES),
                                      max_size=2))
    if draw(st.booleans()):
        table["inputs"] = draw(st.lists(st.one_of(
            config_tables(("name", "maxlen", "units", "cell", "initial_state_from")), JSON_VALUES), max_size=2))
    if draw(st.booleans()):  # a training config: {"spec": ..., "recipe": ...}
        recipe_keys = ("dataset", "tokenizer", "batch_size", "epochs", "validation_split", "length_rule")
        table = {"spec": table, **draw(st.fixed_dictionaries({}, optional={
            "recipe": config_tables(recipe_keys) | JSON_VALUES, "description": JSON_VALUES}))}
    return table


@pytest.mark.parametrize("suffix", [".json", ".toml"])
@fuzz("model_spec")
@given(content=st.data())
def test_spec_files_give_a_spec_or_a_clear_error(isolated, suffix, content):
    from rnnlab.models import ModelSpec
    from rnnlab.training.config import read_training_config, resolve

    table = content.draw(spec_tables(), label="table")
    spec_table = table.get("spec", table)
    spec = data_or_clear_error(lambda: ModelSpec.from_dict(spec_table))
    assert spec is None or isinstance(spec, ModelSpec)
    text = json.dumps(table) if suffix == ".json" else toml_document(table)
    path = write(isolated(), f"spec{suffix}", content.draw(st.just(to_bytes(text)) | junk(st.just(text)), label="file"))
    data_or_clear_error(lambda: read_training_config(path))
    resolved = data_or_clear_error(lambda: resolve(path))
    assert resolved is None or isinstance(resolved[0], ModelSpec)
    if suffix == ".json":
        data_or_clear_error(lambda: ModelSpec.load(path))


TRAINING_KEYS = ("epochs", "batch_size", "optimizer", "learning_rate", "clipnorm", "schedule", "warmup_epochs",
                 "decay_epochs", "final_rate", "early_stopping", "buckets", "members", "seed", "init_seed")


@fuzz("training_config")
@given(table=st.one_of(config_tables(TRAINING_KEYS), JSON_VALUES, st.builds(
    lambda t, es: {**t, "early_stopping": es}, config_tables(TRAINING_KEYS),
    config_tables(("monitor", "mode", "patience", "restore_best")))))
def test_training_config_tables_give_a_config_or_a_clear_error(table):
    from rnnlab.training.config import TrainingConfig

    config = data_or_clear_error(lambda: TrainingConfig.from_dict(table))
    assert config is None or isinstance(config, TrainingConfig)


EXPERIMENT_KEYS = ("name", "models", "runs", "seed", "vary_init", "vary_split", "data", "training", "baseline",
                   "preset", "kind")


@st.composite
def experiment_tables(draw) -> dict:
    table = {"models": ["lstm"], "runs": 1}
    table.update(draw(config_tables(EXPERIMENT_KEYS)))
    if draw(st.booleans()):
        table["models"] = draw(st.lists(st.one_of(st.sampled_from(["lstm", "gru", "spec.json", "missing.json"]),
                                                  spec_tables(), JSON_VALUES), max_size=3))
    if draw(st.booleans()):
        table["data"] = draw(config_tables(("dataset", "vocab_size", "maxlen", "limit", "length_rule", "padding")))
    if draw(st.booleans()):
        table["training"] = draw(config_tables(("epochs", "batch_size", "optimizer", "learning_rate")))
    return table


@pytest.mark.parametrize("suffix", [".json", ".toml"])
@fuzz("experiment_config")
@given(content=st.data())
def test_experiment_configs_give_a_config_or_a_clear_error(isolated, suffix, content):
    from rnnlab.experiments.sweeps.config import ExperimentConfig, load_config

    folder = isolated()
    write(folder, "spec.json", content.draw(junk(spec_tables().map(json.dumps)), label="spec.json"))
    table = content.draw(experiment_tables(), label="table")
    text = json.dumps(table) if suffix == ".json" else toml_document(table)
    path = write(folder, f"sweep{suffix}", content.draw(st.just(to_bytes(text)) | junk(st.just(text)), label="file"))
    config = data_or_clear_error(lambda: load_config(path))
    assert config is None or isinstance(config, ExperimentConfig)


# -- model bundles ------------------------------------------------------------------------------

BUNDLE_FILES = ("model.keras", "preprocessing.json", "spec.json", "metrics.json")


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory, amazon_file):
    """A real LSTM bundle from 200 Amazon reviews, one epoch (about 15 s on two cores)."""
    from rnnlab.training.engine import train

    root = tmp_path_factory.mktemp("fuzz-bundle")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RNNLAB_CACHE_DIR", str(root / "cache"))
        env.setenv("RNNLAB_OFFLINE", "1")
        train("lstm", dataset=str(amazon_file), limit=200, epochs=1, vocab_size=500, maxlen=32,
              out=root / "bundle", verbose=0)
    return root / "bundle"


@st.composite
def mutated_json(draw, document):
    """``document`` with one value (at any depth) replaced by junk, or one key dropped."""
    if isinstance(document, dict) and document:
        key = draw(st.sampled_from(sorted(document)))
        if draw(st.integers(0, 5)) == 0:
            return {k: v for k, v in document.items() if k != key}
        return {**document, key: draw(st.one_of(JSON_VALUES, mutated_json(document[key])))}
    if isinstance(document, list) and document and draw(st.booleans()):
        index = draw(st.integers(0, len(document) - 1))
        return [*document[:index], draw(mutated_json(document[index])), *document[index + 1:]]
    return draw(JSON_VALUES)


@fuzz("bundle")
@given(content=st.data(), target=st.sampled_from(BUNDLE_FILES))
def test_bundle_with_a_junk_file_loads_or_fails_clearly(isolated, tiny_bundle, content, target):
    from rnnlab.inference.bundle import Bundle

    bundle = isolated() / "bundle"
    shutil.copytree(tiny_bundle, bundle)
    original = (bundle / target).read_bytes()
    if target.endswith(".json"):
        structured = mutated_json(json.loads(original)).map(json.dumps)
    else:
        structured = st.just(original)
    # Half the examples are valid JSON with one value changed: they get past the parser.
    (bundle / target).write_bytes(content.draw(structured.map(to_bytes) | junk(structured), label=target))
    loaded = data_or_clear_error(lambda: Bundle.load(bundle))
    assert loaded is None or isinstance(loaded, Bundle)
