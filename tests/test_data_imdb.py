"""IMDB from the real archive, from a small extracted tree, and from broken inputs."""

import io
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import rnnlab.data.imdb as imdb_module
from rnnlab.data import cache_dir, load_imdb
from rnnlab.errors import DataFormatError, DataNotFoundError, InvalidInputError, UnknownNameError


def _member_text(archive, name: str) -> str:
    """One review read straight from the archive, independently of the loader."""
    with tarfile.open(archive, "r|gz") as tar:
        for member in tar:
            if member.name == name:
                return tar.extractfile(member).read().decode("utf-8")
    raise AssertionError(f"{name} not in {archive}")


def _cache_files():
    return set(cache_dir().glob("*.npz"))


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """A cache folder of the test's own: other tests (other xdist workers) write to the shared one meanwhile."""
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(folder))
    return folder


# Runs first in this module so the later tests read the cache it leaves behind.
def test_second_load_comes_from_cache(imdb_archive, monkeypatch, tmp_path):
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(tmp_path))  # a cache of its own: empty, and no other test's
    first = load_imdb("train", imdb_archive)
    caches = list(cache_dir().glob("imdb-*.npz"))
    assert len(caches) == 1 and caches[0].stat().st_size > 100_000_000

    def parse_again(*args, **kwargs):
        raise AssertionError("the archive was parsed a second time")

    monkeypatch.setattr(imdb_module, "_read_archive", parse_again)
    second = load_imdb("train", imdb_archive)  # from the cache: parsing again would fail (speed: make bench)
    assert second.texts == first.texts
    np.testing.assert_array_equal(second.labels, first.labels)
    np.testing.assert_array_equal(second.ratings, first.ratings)
    # The single parse cached the other splits too.
    assert len(load_imdb("test", imdb_archive)) == 25_000
    assert len(load_imdb("unsup", imdb_archive)) == 50_000
    assert not list(cache_dir().glob("*.tmp"))


@pytest.mark.parametrize("split", ["train", "test"])
def test_labelled_splits(imdb_archive, split):
    ds = load_imdb(split, imdb_archive)
    assert len(ds) == 25_000
    assert ds.class_names == ("neg", "pos") and ds.name == f"imdb-{split}"
    assert ds.labels.dtype == np.int64 and ds.ratings.dtype == np.int8
    assert np.bincount(ds.labels).tolist() == [12_500, 12_500]
    assert (np.diff(ds.labels) >= 0).all()  # negatives first, then positives
    neg, pos = ds.ratings[ds.labels == 0], ds.ratings[ds.labels == 1]
    assert neg.min() == 1 and neg.max() == 4
    assert pos.min() == 7 and pos.max() == 10
    assert all(ds.texts)
    assert any("<br />" in t for t in ds.texts[:200])  # raw text: markup is the tokenizer's job


def test_unsup_split_is_unlabelled(imdb_archive):
    ds = load_imdb("unsup", imdb_archive)
    assert len(ds) == 50_000
    assert ds.labels is None
    assert set(ds.ratings.tolist()) == {0}


def test_known_reviews_are_at_their_sorted_positions(imdb_archive):
    test = load_imdb("test", imdb_archive)
    # id 0 sorts first among the negatives, which come first
    assert test.texts[0] == _member_text(imdb_archive, "aclImdb/test/neg/0_2.txt")
    assert (test.labels[0], test.ratings[0]) == (0, 2)
    train = load_imdb("train", imdb_archive)
    assert train.texts[12_500] == _member_text(imdb_archive, "aclImdb/train/pos/0_9.txt")
    assert (train.labels[12_500], train.ratings[12_500]) == (1, 9)


def test_path_may_be_the_folder_holding_the_archive(imdb_archive):
    ds = load_imdb("test", imdb_archive.parent)
    assert len(ds) == 25_000


def _fake_tree(root):
    """A tiny aclImdb/ with ids chosen so that numeric and text order differ."""
    reviews = {
        "train/neg": {3: 1, 10: 2, 1: 4},
        "train/pos": {2: 8, 0: 10},
        "train/unsup": {9: 0, 4: 0},
        "test/neg": {5: 3},
        "test/pos": {11: 9, 7: 7},
    }
    for folder, items in reviews.items():
        (root / "aclImdb" / folder).mkdir(parents=True)
        for review_id, rating in items.items():
            text = f"{folder} review {review_id}<br />done"
            (root / "aclImdb" / folder / f"{review_id}_{rating}.txt").write_text(text, encoding="utf-8")
    (root / "aclImdb" / "train" / "neg" / "notes.md").write_text("not a review")
    return root / "aclImdb"


def test_extracted_folder(tmp_path):
    folder = _fake_tree(tmp_path)
    train = load_imdb("train", folder)
    assert train.texts == [
        "train/neg review 1<br />done",
        "train/neg review 3<br />done",
        "train/neg review 10<br />done",
        "train/pos review 0<br />done",
        "train/pos review 2<br />done",
    ]
    assert train.labels.tolist() == [0, 0, 0, 1, 1]
    assert train.ratings.tolist() == [4, 1, 2, 10, 8]
    test = load_imdb("test", tmp_path)  # the folder holding aclImdb/ works too
    assert test.labels.tolist() == [0, 1, 1] and test.ratings.tolist() == [3, 7, 9]
    unsup = load_imdb("unsup", folder)
    assert unsup.labels is None and unsup.texts == ["train/unsup review 4<br />done", "train/unsup review 9<br />done"]


def test_extracted_folder_cache_follows_added_files(tmp_path):
    folder = _fake_tree(tmp_path)
    assert len(load_imdb("test", folder)) == 3
    (folder / "test" / "neg" / "20_1.txt").write_text("a new review")
    assert load_imdb("test", folder).texts[1] == "a new review"


def test_non_utf8_review_is_replaced_and_counted(tmp_path):
    folder = _fake_tree(tmp_path)
    (folder / "train" / "pos" / "5_9.txt").write_bytes(b"caf\xe9 review")
    with pytest.warns(UserWarning, match="1 review files .* not valid UTF-8"):
        train = load_imdb("train", folder)
    assert "caf\ufffd review" in train.texts


def test_folder_without_a_class_is_rejected_and_nothing_cached(tmp_path, private_cache):
    folder = _fake_tree(tmp_path)
    for review in (folder / "test" / "pos").iterdir():
        review.unlink()
    before = _cache_files()
    with pytest.raises(DataFormatError, match="test/pos"):
        load_imdb("train", folder)
    assert _cache_files() == before


def test_folder_without_the_layout_is_rejected(tmp_path):
    (tmp_path / "something").mkdir()
    with pytest.raises(DataFormatError, match="aclImdb layout"):
        load_imdb("train", tmp_path)


@pytest.mark.parametrize("kind", ["truncated", "random", "not-imdb"])
def test_broken_archives_raise_and_leave_no_cache(imdb_archive, tmp_path, kind, private_cache):
    bad = tmp_path / "aclImdb_v1.tar.gz"
    if kind == "truncated":
        with open(imdb_archive, "rb") as f:
            bad.write_bytes(f.read(1 << 20))
    elif kind == "random":
        bad.write_bytes(np.random.default_rng(0).bytes(200_000))
    else:  # a valid archive without any review
        with tarfile.open(bad, "w:gz") as tar:
            data = b"hello"
            info = tarfile.TarInfo("other/readme.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    before = _cache_files()
    with pytest.raises(DataFormatError) as err:
        load_imdb("train", bad)
    message = str(err.value)
    assert str(bad) in message and "download" in message.lower()
    assert _cache_files() == before


def test_unknown_split_and_missing_path(tmp_path):
    with pytest.raises(UnknownNameError, match="'unsup'"):
        load_imdb("unsupervised", tmp_path)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_imdb("train", tmp_path / "nowhere.tar.gz")


def test_default_location_uses_data_dir(imdb_archive, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(imdb_archive.parent))
    assert len(load_imdb("test")) == 25_000


def test_default_location_accepts_an_extracted_copy(tmp_path, monkeypatch):
    _fake_tree(tmp_path)
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(tmp_path))
    assert len(load_imdb("train")) == 5


def test_damaged_cache_is_rebuilt(tmp_path, private_cache):
    folder = _fake_tree(tmp_path)
    before = _cache_files()
    expected = load_imdb("train", folder).texts
    (cache,) = _cache_files() - before
    cache.write_bytes(b"not an npz")
    assert load_imdb("train", folder).texts == expected
    assert cache.stat().st_size > 100


def test_loads_started_together_parse_once(tmp_path, private_cache, monkeypatch):
    folder = _fake_tree(tmp_path)
    parses, read_folder = [], imdb_module._read_folder

    def slow_parse(root):
        parses.append(root)
        time.sleep(1.0)  # long enough for the other load to miss the cache too
        return read_folder(root)

    monkeypatch.setattr(imdb_module, "_read_folder", slow_parse)
    with ThreadPoolExecutor(2) as pool:
        loaded = list(pool.map(lambda split: load_imdb(split, folder), ["train", "test"]))
    assert len(parses) == 1  # the second waited for the first's cache instead of parsing again
    assert len(loaded[0]) == 5 and loaded[1].ratings.tolist() == [3, 7, 9]
    assert len(_cache_files()) == 1


def test_a_cache_folder_that_cannot_be_made_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    with pytest.raises(InvalidInputError, match="RNNLAB_CACHE_DIR") as caught:
        load_imdb("train", _fake_tree(tmp_path))
    assert "a-file/cache" in str(caught.value) and "\n" not in str(caught.value)


def test_a_cache_that_cannot_be_locked_still_loads(tmp_path, private_cache, monkeypatch):
    import filelock

    def refused(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(filelock.FileLock, "acquire", refused)
    assert len(load_imdb("train", _fake_tree(tmp_path))) == 5  # parsed without the lock, and cached
    assert len(_cache_files()) == 1


def test_unwritable_cache_still_loads(tmp_path, monkeypatch):
    folder = _fake_tree(tmp_path)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(imdb_module, "write_npz", disk_full)
    with pytest.warns(UserWarning, match="Could not cache"):
        assert len(load_imdb("train", folder)) == 5


def test_text_packing_round_trips():
    from rnnlab.data.textcache import pack_texts, unpack_texts

    texts = ["", "caf\u00e9 \u2028 \U0001f600", "plain<br />text", ""]
    data, offsets = pack_texts(texts)
    assert data.dtype == np.uint8 and offsets.dtype == np.int64 and len(offsets) == 5
    assert unpack_texts(data, offsets) == texts
