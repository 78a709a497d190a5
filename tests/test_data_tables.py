"""load_table: the user's own CSV / TSV / JSON Lines files."""

import json

import numpy as np
import pytest

from rnnlab.data import load_table
from rnnlab.errors import DataFormatError, DataNotFoundError, InvalidInputError, UnknownNameError


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_three_string_classes(tmp_path):
    path = _write(
        tmp_path / "reviews.csv",
        'text,label,extra\n"Loved it, truly",positive,x\nMeh,neutral,y\nHated it,negative,z\nFine,neutral,w\n',
    )
    ds = load_table(path)
    assert ds.class_names == ("negative", "neutral", "positive")
    assert ds.labels.tolist() == [2, 1, 0, 1]
    assert ds.texts[0] == "Loved it, truly"
    assert ds.name == "reviews" and ds.num_classes == 3


def test_integer_labels_stay_class_ids(tmp_path):
    path = _write(tmp_path / "ints.csv", "text,label\na,2\nb,0\nc,1\n")
    ds = load_table(path)
    assert ds.labels.tolist() == [2, 0, 1] and ds.class_names == ("0", "1", "2")
    gap = _write(tmp_path / "gap.csv", "text,label\na,2\nb,0\nc,2\n")
    named = load_table(gap, class_names=["neg", "mid", "pos"], name="mine")
    assert named.class_names == ("neg", "mid", "pos") and named.labels.tolist() == [2, 0, 2]
    assert named.name == "mine"
    with pytest.raises(DataFormatError, match="line 2: label 2 is not a class id"):
        load_table(gap, class_names=["neg", "pos"])


def test_other_integer_labels_are_class_names(tmp_path):
    stars = load_table(_write(tmp_path / "stars.csv", "text,stars\na,5\nb,1\nc,3\nd,5\n"))
    assert stars.class_names == ("1", "3", "5") and stars.labels.tolist() == [2, 0, 1, 2]
    signs = load_table(_write(tmp_path / "signs.jsonl", '{"text": "a", "label": -1}\n{"text": "b", "label": 1}\n'))
    assert signs.class_names == ("-1", "1") and signs.labels.tolist() == [0, 1]
    # class 1 absent and no names given: the labels present are the classes
    assert load_table(_write(tmp_path / "gap.csv", "text,label\na,2\nb,0\n")).class_names == ("0", "2")


def test_string_labels_with_given_class_names(tmp_path):
    path = _write(tmp_path / "s.csv", "text,label\na,pos\nb,pos\n")
    ds = load_table(path, class_names=("neg", "pos"))
    assert ds.labels.tolist() == [1, 1] and ds.num_classes == 2
    with pytest.raises(DataFormatError, match="line 3: label 'pos' is not one of"):
        load_table(_write(tmp_path / "t.csv", "text,label\na,neg\nb,pos\n"), class_names=("neg", "other"))


def test_tsv_with_custom_columns(tmp_path):
    path = _write(tmp_path / "data.tsv", "id\treview\tsentiment\n1\tgood, fine\t1\n2\tbad\t0\n")
    ds = load_table(path, text_column="review", label_column="sentiment")
    assert ds.texts == ["good, fine", "bad"]
    assert ds.labels.tolist() == [1, 0] and ds.class_names == ("0", "1")


def test_jsonl(tmp_path):
    rows = [{"text": "ok", "label": "b"}, {"text": "no", "label": "a", "other": 3}, {"text": "yes", "label": "b"}]
    path = _write(tmp_path / "data.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    ds = load_table(path)
    assert ds.texts == ["ok", "no", "yes"]
    assert ds.class_names == ("a", "b") and ds.labels.tolist() == [1, 0, 1]


def test_jsonl_integer_labels_and_explicit_format(tmp_path):
    path = _write(tmp_path / "data.txt", '{"text": "x", "label": 1}\n{"text": "y", "label": 0}\n')
    ds = load_table(path, format="jsonl")
    assert ds.labels.dtype == np.int64 and ds.labels.tolist() == [1, 0]
    with pytest.raises(InvalidInputError, match="format="):
        load_table(path)
    with pytest.raises(UnknownNameError, match="jsonl"):
        load_table(path, format="jsonlines")


def test_unlabelled_table(tmp_path):
    ds = load_table(_write(tmp_path / "u.csv", "text\nfirst\nsecond\n"), label_column=None)
    assert ds.labels is None and ds.texts == ["first", "second"]


def test_missing_column_lists_the_columns_present(tmp_path):
    path = _write(tmp_path / "r.csv", "review,sentiment\ngood,1\n")
    with pytest.raises(DataFormatError, match=r"no column 'text'. Columns present: 'review', 'sentiment'. Name them "
                                              r"with --text-column"):
        load_table(path, text_column="text")
    jsonl = _write(tmp_path / "r.jsonl", '{"text": "a", "label": 1}\n{"txt": "b", "label": 0}\n')
    with pytest.raises(DataFormatError, match=r"line 2: no column 'text'. Columns present: 'txt', 'label'"):
        load_table(jsonl)


def test_columns_are_found_by_name_or_content(tmp_path):
    by_name = load_table(_write(tmp_path / "k.csv", "id,Review,Sentiment\n1,good film,positive\n2,bad,negative\n"))
    assert by_name.columns == {"text": "Review", "label": "Sentiment"}
    assert by_name.texts == ["good film", "bad"] and by_name.class_names == ("negative", "positive")
    rows = [{"id": i, "opinion": f"a rather long opinion number {i} about this film", "verdict": "yes" if i % 2 else "no"}
            for i in range(6)]
    by_content = load_table(_write(tmp_path / "c.jsonl", "\n".join(json.dumps(r) for r in rows)))
    assert by_content.columns == {"text": "opinion", "label": "verdict"}
    with pytest.raises(DataFormatError, match=r"cannot tell which column holds the text .*--text-column"):
        load_table(_write(tmp_path / "n.csv", "a,b\nx,1\ny,0\n"))


def test_parquet_and_field_columns(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"Summary": ["great", "awful", "fine"], "Text": ["loved it", "hated it", "liked it"],
                             "Score": [5, 1, 4]}), path)
    ds = load_table(path, text_column="Text", label_column="Score", field_columns={"title": "Summary", "body": "Text"})
    assert ds.texts == ["loved it", "hated it", "liked it"] and ds.class_names == ("1", "4", "5")
    assert ds.fields == {"title": ["great", "awful", "fine"], "body": ["loved it", "hated it", "liked it"]}
    with pytest.raises(DataFormatError, match=r"r.parquet, row 1: no column 'nope'"):
        load_table(path, text_column="nope", label_column="Score")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(DataFormatError, match="not a readable Parquet file"):
        load_table(broken)


def test_empty_text_cell_names_the_line(tmp_path):
    path = _write(tmp_path / "e.csv", "text,label\ngood,1\n  ,0\n")
    with pytest.raises(DataFormatError, match=r"e.csv, line 3: the 'text' cell is empty"):
        load_table(path)
    path = _write(tmp_path / "l.csv", "text,label\ngood,\n")
    with pytest.raises(DataFormatError, match="line 2: the 'label' cell is empty"):
        load_table(path)


def test_non_utf8_file_names_the_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\nok,1\ncaf\u00e9,0\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match="line 3: not UTF-8"):
        load_table(path)


def test_bad_rows_and_files(tmp_path):
    with pytest.raises(DataFormatError, match="empty"):
        load_table(_write(tmp_path / "empty.csv", ""))
    with pytest.raises(DataFormatError, match="no examples"):
        load_table(_write(tmp_path / "header.csv", "text,label\n"))
    with pytest.raises(DataFormatError, match="line 2: 3 cells but the header has 2"):
        load_table(_write(tmp_path / "cells.csv", "text,label\nhello, world,1\n"))
    with pytest.raises(DataFormatError, match="line 2: not valid JSON"):
        load_table(_write(tmp_path / "bad.jsonl", '{"text": "a", "label": 1}\n{"text": \n'))
    with pytest.raises(DataNotFoundError):
        load_table(tmp_path / "absent.csv")


def test_utf8_bom_is_tolerated(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftext,label\nhi,1\n".encode("utf-8"))
    assert load_table(path).texts == ["hi"]


def test_a_dataframe_reads_as_the_same_table_in_a_file(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"id": [7, 8, 9, 10], "review": ["Loved it, truly", "Meh", "Hated it", "Fine"],
                          "stars": ["positive", "neutral", "negative", "neutral"],
                          "title": ["Great", "Okay", None, "Fine"]})
    path = tmp_path / "reviews.csv"
    frame.to_csv(path, index=False)
    for kwargs in ({}, {"text_column": "review", "label_column": "stars"}, {"field_columns": {"title": "title"}}):
        from_file, from_frame = load_table(path, **kwargs), load_table(frame, **kwargs)
        assert from_frame.texts == from_file.texts and from_frame.class_names == from_file.class_names
        np.testing.assert_array_equal(from_frame.labels, from_file.labels)
        assert from_frame.columns == from_file.columns and from_frame.fields == from_file.fields
    assert load_table(frame).name == "dataframe"
    # Label sets from list cells; unlabelled texts; any loader that takes a table.
    from rnnlab.data import load_dataset, load_unlabelled

    comments = pd.DataFrame({"comment": ["so happy", "sad and angry", "glad", "furious", "down", "joyful"],
                             "feelings": [["joy"], ["anger", "sadness"], ["joy"], ["anger"], ["sadness"], ["joy"]]})
    sets = load_dataset(comments)
    assert sets.multi_label and sets.class_names == ("anger", "joy", "sadness") and sets.labels[1].tolist() == [1, 0, 1]
    assert load_unlabelled(frame, column="review").texts == frame["review"].tolist()


@pytest.mark.parametrize("frame, message", [
    ({"text": ["a", None], "label": [0, 1]}, r"the DataFrame, row 2: the 'text' cell is empty"),
    ({"text": ["a", "b"], "label": [0.0, float("nan")]}, r"the DataFrame, row 2: the 'label' cell is empty"),
    ({"text": [], "label": []}, "no rows"),
])
def test_a_dataframe_with_missing_cells_or_no_rows_is_refused_by_row(frame, message):
    import pandas as pd

    with pytest.raises(DataFormatError, match=message):
        load_table(pd.DataFrame(frame))
    repeated = pd.DataFrame([["a", 0]], columns=["text", "text"])
    with pytest.raises(DataFormatError, match="repeated column names"):
        load_table(repeated)
