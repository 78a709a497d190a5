"""Excel workbooks wherever a table is read: the same dataset as the CSV of the same cells, sheets by name,
one-line errors for damaged or empty workbooks, and `rnnlab train` / `predict` on a workbook."""

from __future__ import annotations

import csv
import datetime
import io
import json
import zipfile

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reviewfiles import write_csv
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.data import load_dataset, load_table, load_unlabelled
from rnnlab.errors import DataFormatError, InvalidInputError, RnnlabError
from rnnlab.inference.bundle import Bundle

pytestmark = pytest.mark.timeout(300)
runner = CliRunner()


def _book(path, sheets: dict[str, list[list]]):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


TEXTS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda t: t.strip() and not t.startswith("="))  # "=..." is a formula to Excel
LABELS = st.sampled_from(["pos", "neg", "meh"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(TEXTS, LABELS), min_size=1, max_size=12))
def test_a_workbook_reads_as_the_csv_of_the_same_cells(tmp_path, rows):
    book = _book(tmp_path / "reviews.xlsx", {"cover": [["nothing here"]], "data": [["review", "label"], *rows]})
    table = write_csv(tmp_path / "reviews.csv", [["review", "label"], *rows])
    from_book, from_csv = load_table(book, sheet="data"), load_table(table)
    assert from_book.texts == from_csv.texts and from_book.class_names == from_csv.class_names
    assert np.array_equal(from_book.labels, from_csv.labels) and from_book.columns == from_csv.columns


def test_cells_keep_their_types_and_rows_are_numbered_as_excel_shows_them(tmp_path):
    book = _book(tmp_path / "typed.xlsx", {"Sheet": [
        [None], ["text", "score", "when", "flag"], ["good", 4.5, datetime.date(2021, 5, 1), True], [None, None],
        ["bad", 1, None, False], ["ok", 3.25, None, None]]})
    ds = load_table(book, text_column="text", label_column="score")
    assert ds.numeric and ds.labels.tolist() == [4.5, 1.0, 3.25] and ds.texts == ["good", "bad", "ok"]
    from rnnlab.data.tables import table_rows

    rows = list(table_rows(book))
    assert [n for n, _ in rows] == [3, 5, 6] and rows[0][1]["when"] == "2021-05-01T00:00:00"
    assert rows[0][1]["flag"] is True and rows[1][1]["when"] is None
    numbers = _book(tmp_path / "numbers.xlsx", {"Sheet": [["text", "label"], [123, "pos"], ["fine", "neg"]]})
    with pytest.raises(DataFormatError, match=r"numbers.xlsx, row 2: the 'text' cell is empty or not text"):
        load_table(numbers)
    assert len(load_unlabelled(book, column="text")) == 3


def test_bad_workbooks_get_one_line_errors(tmp_path):
    book = _book(tmp_path / "two.xlsx", {"notes": [["just a title"]], "reviews": [["text", "label"], ["a", "x"],
                                                                                 ["b", "y"]]})
    with pytest.raises(InvalidInputError, match=r"no sheet 'nope'; its sheets: 'notes', 'reviews'"):
        load_table(book, sheet="nope")
    with pytest.raises(DataFormatError, match=r"sheet 'notes' holds no examples .*name one with --sheet"):
        load_table(book)
    data = book.read_bytes()
    for name, content in (("cut.xlsx", data[: len(data) // 2]), ("junk.xlsx", b"PK\x03\x04" + b"\x00" * 64),
                          ("text.xlsx", b"text,label\na,b\n")):
        with pytest.raises(DataFormatError, match="not a readable Excel workbook"):
            load_table(tmp_path / name if (tmp_path / name).write_bytes(content) else None)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # a zip, but not a workbook
        archive.writestr("hello.txt", "hi")
    (tmp_path / "zip.xlsx").write_bytes(buffer.getvalue())
    with pytest.raises(DataFormatError, match="not a readable Excel workbook"):
        load_table(tmp_path / "zip.xlsx")
    wide = _book(tmp_path / "wide.xlsx", {"S": [["text", "label"], ["a", "x", "stray"]]})
    with pytest.raises(DataFormatError, match=r"row 2: a cell right of the header's last column"):
        load_table(wide)
    table = tmp_path / "t.csv"
    table.write_text("text,label\na,x\nb,y\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="names a sheet of an Excel workbook"):
        load_table(table, sheet="S")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 4000), flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=8))
def test_a_damaged_workbook_gives_rows_or_a_clear_error(tmp_path, cut, flips):
    source = tmp_path / "source.xlsx"
    if not source.exists():
        _book(source, {"S": [["text", "label"], ["fine film", "pos"], ["dull", "neg"], ["ok", 3]]})
    data = bytearray(source.read_bytes())
    for at, value in flips:
        data[at % len(data)] = value
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(bytes(data[: max(1, len(data) - cut)]))
    try:
        found = load_table(damaged)
    except RnnlabError as err:
        assert "\n" not in str(err)
    else:
        assert len(found) == len(found.labels) > 0


def test_train_and_predict_on_a_workbook(amazon_file, tmp_path):
    reviews = load_dataset("amazon").sample(300, seed=0)
    book = _book(tmp_path / "amazon.xlsx", {
        "train": [["review", "sentiment"], *[[t, ["negative", "positive"][y]] for t, y in
                                             zip(reviews.texts, reviews.labels)]],
        "new": [["text"], ["Works well, great value"], ["Broke after one day"]]})
    out = tmp_path / "bundle"
    trained = runner.invoke(app, ["train", "lstm", "--dataset", str(book), "--sheet", "train", "--epochs", "1",
                                  "--maxlen", "40", "--out", str(out), "--json"])
    assert trained.exit_code == 0, trained.output
    metrics = json.loads(trained.stdout)
    assert metrics["class_names"] == ["negative", "positive"] and metrics["recipe"]["sheet"] == "train"
    written = tmp_path / "p.csv"
    predicted = runner.invoke(app, ["predict", str(out), "--input", str(book), "--sheet", "new", "--output",
                                    str(written)])
    assert predicted.exit_code == 0, predicted.output
    with open(written, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    direct = Bundle.load(out).predict(["Works well, great value", "Broke after one day"])
    assert [r["text"] for r in rows] == ["Works well, great value", "Broke after one day"]
    assert np.allclose([float(r["probability"]) for r in rows], [p.probability for p in direct], atol=1e-6)
    evaluated = runner.invoke(app, ["evaluate", str(out), "--json"])  # the recipe's workbook and sheet again
    assert evaluated.exit_code == 0 and json.loads(evaluated.stdout)["examples"] == 60
    cluster = runner.invoke(app, ["predict", str(out), "--input", str(book), "--output", str(written), "--address",
                                  "auto"])
    assert cluster.exit_code != 0 and "not a workbook" in cluster.output
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    old = runner.invoke(app, ["predict", str(out), "--input", str(tmp_path / "old.xls")])
    assert old.exit_code != 0 and "cannot read .xls files" in old.output
