"""load_dataset: names and paths dispatch to the right loader."""

import pytest

from rnnlab.data import load_dataset
from rnnlab.errors import DataFormatError, DataNotFoundError, InvalidInputError, UnknownNameError


def test_imdb_by_name(imdb_archive, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(imdb_archive.parent))
    ds = load_dataset("imdb", "test")
    assert ds.name == "imdb-test" and len(ds) == 25_000
    assert len(load_dataset("IMDB", path=imdb_archive)) == 25_000


def test_imdb_by_archive_path(imdb_archive):
    ds = load_dataset(str(imdb_archive), "unsup")
    assert len(ds) == 50_000 and ds.labels is None


def test_imdb_by_folder(tmp_path):
    for folder in ("train/neg", "train/pos", "test/neg", "test/pos"):
        (tmp_path / "aclImdb" / folder).mkdir(parents=True)
        (tmp_path / "aclImdb" / folder / "1_5.txt").write_text(folder)
    ds = load_dataset(tmp_path / "aclImdb", "test")
    assert ds.texts == ["test/neg", "test/pos"] and ds.labels.tolist() == [0, 1]


def test_amazon_by_name_and_path(amazon_file, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(amazon_file.parent))
    assert len(load_dataset("amazon")) == 1_000
    assert len(load_dataset("amazon", "all")) == 1_000
    by_path = load_dataset(str(amazon_file))
    assert by_path.name == "amazon" and "title" in by_path.fields
    with pytest.raises(InvalidInputError, match="no test split"):
        load_dataset("amazon", "test")
    with pytest.raises(UnknownNameError):
        load_dataset("amazon", "validation")


def test_tables_by_extension(tmp_path):
    (tmp_path / "t.csv").write_text("text,label\na,x\nb,y\n")
    (tmp_path / "t.tsv").write_text("text\tlabel\na\t1\n")
    (tmp_path / "t.jsonl").write_text('{"text": "a", "label": 0}\n')
    assert load_dataset(tmp_path / "t.csv").class_names == ("x", "y")
    assert len(load_dataset(str(tmp_path / "t.tsv"))) == 1
    assert len(load_dataset(tmp_path / "t.jsonl", "test")) == 1  # a file is a whole dataset
    assert load_dataset(tmp_path / "t.csv", label_column=None).labels is None


def test_review_label_csv_goes_to_the_amazon_reader(tmp_path):
    (tmp_path / "r.csv").write_text("review_text,label\ngood,1\nbad,0\n")
    ds = load_dataset(tmp_path / "r.csv")
    assert ds.texts == ["good", "bad"] and ds.class_names == ("neg", "pos")


def test_unknown_names_and_paths(tmp_path):
    with pytest.raises(UnknownNameError, match="Did you mean 'imdb'"):
        load_dataset("imbd")
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_dataset(str(tmp_path / "missing.csv"))
    (tmp_path / "x.feather").write_bytes(b"ARROW1")
    with pytest.raises(DataFormatError, match="Cannot tell how to read"):
        load_dataset(tmp_path / "x.feather")
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    with pytest.raises(DataFormatError, match="not a readable Parquet file"):
        load_dataset(tmp_path / "x.parquet")


def test_folders_of_class_folders(tmp_path):
    for split, cls, n in [("train", "pos", 3), ("train", "neg", 2), ("test", "pos", 1), ("test", "neg", 1),
                          ("train", "unsup", 2)]:
        (tmp_path / "r" / split / cls).mkdir(parents=True)
        for i in range(n):
            (tmp_path / "r" / split / cls / f"{i}.txt").write_text(f"{cls} review {i}")
    train = load_dataset(tmp_path / "r")
    assert train.class_names == ("neg", "pos") and train.labels.tolist() == [0, 0, 1, 1, 1]
    assert train.texts[0] == "neg review 0"
    assert len(load_dataset(tmp_path / "r", "test")) == 2
    flat = load_dataset(tmp_path / "r" / "train")
    assert len(flat) == 5 and flat.class_names == ("neg", "pos")  # unsup is not a class
    with pytest.raises(InvalidInputError, match="text_column applies to table files"):
        load_dataset(tmp_path / "r", text_column="x")
    (tmp_path / "r" / "train" / "pos" / "bad.txt").write_bytes(b"caf\xe9")
    with pytest.raises(DataFormatError, match=r"bad.txt: not UTF-8"):
        load_dataset(tmp_path / "r")
