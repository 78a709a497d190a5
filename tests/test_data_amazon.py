"""Amazon polarity: the real fastText sample and the two-column CSV variant."""

import numpy as np
import pytest

from rnnlab.data import load_amazon
from rnnlab.errors import DataFormatError, DataNotFoundError


def test_real_sample(amazon_file):
    ds = load_amazon(amazon_file)
    assert len(ds) == 1_000
    assert ds.class_names == ("neg", "pos") and ds.name == "amazon"
    assert np.bincount(ds.labels).tolist() == [498, 502]
    assert ds.ratings is None
    with open(amazon_file, encoding="utf-8") as f:
        first = f.readline().rstrip("\n")
    assert first.startswith("__label__2 ")
    assert ds.texts[0] == first[len("__label__2 ") :] and ds.labels[0] == 1
    assert ds.fields["title"][0] == "Great CD"


def test_title_and_body_fields_are_consistent(amazon_file):
    ds = load_amazon(amazon_file)
    titles, bodies = ds.fields["title"], ds.fields["body"]
    assert len(titles) == len(bodies) == len(ds)
    for text, title, body in zip(ds.texts, titles, bodies):
        assert text == f"{title}: {body}"
        assert ": " not in title  # split at the first ": "
    assert all(bodies)


def test_found_through_data_dir(amazon_file, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(amazon_file.parent))
    assert len(load_amazon()) == 1_000
    assert len(load_amazon(amazon_file.parent)) == 1_000  # a folder holding the file


def test_missing_file_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(tmp_path))
    with pytest.raises(DataNotFoundError) as err:
        load_amazon()
    assert str(tmp_path / "amazon_polarity_sample.ft.txt") in str(err.value)
    assert "no download" in str(err.value)


def test_fasttext_line_without_a_title(tmp_path):
    path = tmp_path / "small.ft.txt"
    path.write_text("__label__1 no title here\n\n__label__2 A: b: c\r\n", encoding="utf-8")
    ds = load_amazon(path)
    assert ds.texts == ["no title here", "A: b: c"]
    assert ds.labels.tolist() == [0, 1]
    assert ds.fields == {"title": ["", "A"], "body": ["no title here", "b: c"]}


@pytest.mark.parametrize(
    "bad_line, match",
    [("__label__3 Title: text", "__label__1"), ("Title: text without label", "__label__1"), ("__label__2   ", "empty")],
)
def test_bad_fasttext_line_names_file_and_line(tmp_path, bad_line, match):
    path = tmp_path / "bad.ft.txt"
    path.write_text(f"__label__1 A: b\n__label__2 C: d\n{bad_line}\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=match) as err:
        load_amazon(path)
    assert f"{path}, line 3" in str(err.value)


def test_non_utf8_fasttext_file(tmp_path):
    path = tmp_path / "latin1.ft.txt"
    path.write_bytes("__label__1 A: b\n__label__2 Caf\u00e9: d\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match="line 2"):
        load_amazon(path)


@pytest.mark.parametrize("header", ["review_text,label\n", ""])
def test_csv_variant(tmp_path, header):
    path = tmp_path / "reviews.csv"
    path.write_text(header + '"Great, really: great",1\nAwful,0\n"multi\nline",1\n', encoding="utf-8")
    ds = load_amazon(path)
    assert ds.texts == ["Great, really: great", "Awful", "multi\nline"]
    assert ds.labels.tolist() == [1, 0, 1]
    assert ds.class_names == ("neg", "pos")


def test_csv_variant_bad_label_has_line_number(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("review_text,label\nGood,1\nBad,negative\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"line 3: label must be 0 .* got 'negative'"):
        load_amazon(path)
    path.write_text("review_text,label\nGood,1,extra\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="line 2: expected 2 cells"):
        load_amazon(path)
