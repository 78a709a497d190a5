"""Real review text for the text tests, read straight from the shared data files.

The text tests read the files themselves (``tarfile`` and plain lines) so they do not
depend on the data loaders. The other ``test_text_*`` modules import the helpers from
here; one read of the archive per test session is shared through ``lru_cache``.
"""

import tarfile
from functools import lru_cache
from pathlib import Path

IMDB_PER_FOLDER = 1500  # reviews read from each of test/neg, test/pos, train/neg, train/pos


@lru_cache(maxsize=None)
def _imdb(archive: str) -> dict:
    wanted = {f"{split}/{label}": [] for split in ("train", "test") for label in ("neg", "pos")}
    with tarfile.open(archive) as tar:
        for member in tar:
            parts = member.name.split("/")
            if len(parts) != 4 or not member.isfile():
                continue
            reviews = wanted.get(f"{parts[1]}/{parts[2]}")
            if reviews is not None and len(reviews) < IMDB_PER_FOLDER:
                reviews.append(tar.extractfile(member).read().decode("utf-8"))
                if all(len(r) == IMDB_PER_FOLDER for r in wanted.values()):
                    break
    return wanted


def imdb_reviews(archive: Path, split: str, n: int) -> tuple[list[str], list[int]]:
    """``n`` reviews of ``split`` (half negative, half positive) and their 0/1 labels."""
    folders = _imdb(str(archive))
    half = n // 2
    neg, pos = folders[f"{split}/neg"][:half], folders[f"{split}/pos"][: n - half]
    return neg + pos, [0] * len(neg) + [1] * len(pos)


@lru_cache(maxsize=None)
def _amazon(path: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            label, _, text = line.rstrip("\n").partition(" ")
            texts.append(text)
            labels.append(int(label == "__label__2"))
    return tuple(texts), tuple(labels)


def amazon_reviews(path: Path) -> tuple[list[str], list[int]]:
    """All Amazon lines: ``Title: body`` texts and 0/1 labels."""
    texts, labels = _amazon(str(path))
    return list(texts), list(labels)


def test_imdb_sample_is_real_and_balanced(imdb_archive):
    texts, labels = imdb_reviews(imdb_archive, "train", 1000)
    assert len(texts) == 1000 and sum(labels) == 500
    assert len(set(texts)) > 990  # IMDB has a few duplicate reviews
    assert sum("<br />" in t for t in texts) > 300  # the HTML line breaks the tokenizers strip
    assert all(len(t.split()) >= 4 for t in texts)


def test_amazon_sample_is_real(amazon_file):
    texts, labels = amazon_reviews(amazon_file)
    assert len(texts) == 1000
    assert 0 < sum(labels) < 1000
    assert all(":" in t and not t.startswith("__label__") for t in texts)
