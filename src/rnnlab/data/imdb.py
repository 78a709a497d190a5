"""The IMDB Large Movie Review Dataset v1.0 (Maas et al., ACL 2011).

The archive holds 100,000 small files; reading them takes seconds, so one pass parses every
split and stores all of them in the cache. Any later load of any split reads flat arrays.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

from rnnlab.data.dataset import TextDataset
from rnnlab.data.locate import cache_dir, data_dir, locate
from rnnlab.data.tarstream import TarFormatError, tar_members
from rnnlab.data.textcache import building, pack_texts, read_npz, unpack_texts, write_npz
from rnnlab.errors import DataFormatError, DataNotFoundError, unknown_name
from rnnlab.progress import task

IMDB_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = (
    "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",  # official release
    "c6d565b730a98d130e5ff44f1af640cb06ea06342771720337cebfcdd8b12b0a",  # repackaged without *.feat
)
ARCHIVE_NAME = "aclImdb_v1.tar.gz"
SPLITS = ("train", "test", "unsup")
CLASS_NAMES = ("neg", "pos")

# split -> (folder inside aclImdb/, class sub-folders in label order)
_LAYOUT = {"train": ("train", CLASS_NAMES), "test": ("test", CLASS_NAMES), "unsup": ("train", ("unsup",))}
_REVIEW = re.compile(r"(?:^|/)(train|test)/(neg|pos|unsup)/(\d+)_(\d+)\.txt$")
_CACHE_VERSION = 1
_LAYOUT_HELP = (
    "expected the aclImdb layout (train/neg, train/pos, train/unsup, test/neg, test/pos) "
    "with review files named ID_RATING.txt"
)

_Entries = dict[tuple[str, str], list[tuple[int, int, bytes]]]


def load_imdb(split: str = "train", path=None) -> TextDataset:
    """Load one split of IMDB: labels neg=0 / pos=1, star ratings, raw review text.

    Args:
        split: ``"train"`` or ``"test"`` (25,000 labelled reviews each) or ``"unsup"``
            (50,000 unlabelled reviews; ``labels`` is ``None``). Default ``"train"``.
        path: the ``.tar.gz`` archive, an extracted ``aclImdb/`` folder, or a folder holding
            either. Default: look in ``$RNNLAB_DATA_DIR`` and the cache, then download.

    Reviews come in a fixed order: negatives then positives, each by numeric file id.
    Text is kept as written (HTML such as ``<br />`` included).

    Example:
        >>> train = load_imdb("train")  # doctest: +SKIP
        >>> len(train), train.class_names  # doctest: +SKIP
        (25000, ('neg', 'pos'))
    """
    if split not in SPLITS:
        raise unknown_name("IMDB split", split, SPLITS)
    source = _find_source(path)
    cache = _cache_file(source)
    keys = [f"{split}_{part}" for part in ("text", "offsets", "ratings")]
    if split != "unsup":
        keys.append(f"{split}_labels")
    arrays = read_npz(cache, keys)
    if arrays is None:
        with building(cache):  # another process parsing the same archive: wait, then read its cache
            arrays = read_npz(cache, keys)
            if arrays is None:
                arrays = _parse_and_cache(source, cache)
    texts = unpack_texts(arrays[f"{split}_text"], arrays[f"{split}_offsets"])
    if not texts:
        raise DataFormatError(f"{source} holds no {split!r} reviews: {_LAYOUT_HELP}.")
    return TextDataset(
        texts=texts,
        labels=arrays.get(f"{split}_labels"),
        class_names=CLASS_NAMES,
        name=f"imdb-{split}",
        ratings=arrays[f"{split}_ratings"],
    )


def _find_source(path) -> Path:
    """The archive or extracted folder to read, following the usual search order."""
    if path is None:
        folder = data_dir()
        # An already-extracted copy in the data folder is as good as the archive.
        if folder and not (folder / ARCHIVE_NAME).is_file() and _is_imdb_folder(folder / "aclImdb"):
            return folder / "aclImdb"
        return locate(ARCHIVE_NAME, url=IMDB_URL, sha256=IMDB_SHA256)
    path = Path(path).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise DataNotFoundError(
            f"{path} does not exist. Pass the IMDB archive ({ARCHIVE_NAME}), the extracted "
            f"aclImdb folder, or a folder holding either."
        )
    if _is_imdb_folder(path):
        return path
    for candidate in (path / ARCHIVE_NAME, path / "aclImdb"):
        if candidate.is_file() or _is_imdb_folder(candidate):
            return candidate
    raise DataFormatError(
        f"{path} is not an extracted aclImdb folder and holds neither {ARCHIVE_NAME} nor aclImdb/: "
        f"{_LAYOUT_HELP}. Check the path, or download the archive from {IMDB_URL}."
    )


def _is_imdb_folder(path: Path) -> bool:
    return (path / "train").is_dir() and (path / "test").is_dir()


def _cache_file(source: Path) -> Path:
    """Cache name keyed by where the source is and a stamp of its content.

    For an archive the stamp is size + mtime; for a folder, the mtime and file count of each
    class folder, so adding or removing reviews is noticed (editing one in place is not).
    """
    resolved = source.resolve()
    if resolved.is_dir():
        stamp = []
        for folder, cls in sorted({(f, c) for f, classes in _LAYOUT.values() for c in classes}):
            class_dir = resolved / folder / cls
            if class_dir.is_dir():
                stamp.append((folder, cls, class_dir.stat().st_mtime_ns, len(os.listdir(class_dir))))
    else:
        info = resolved.stat()
        stamp = [info.st_size, info.st_mtime_ns]
    where = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    what = hashlib.sha256(repr((_CACHE_VERSION, stamp)).encode()).hexdigest()[:16]
    return cache_dir() / f"imdb-{where}-{what}.npz"


def _parse_and_cache(source: Path, cache: Path) -> dict[str, np.ndarray]:
    entries = _read_folder(source) if source.is_dir() else _read_archive(source)
    arrays = _to_arrays(entries, source)
    try:
        write_npz(cache, arrays)
    except OSError as err:  # the cache only saves time; a read-only or full disk must not fail the load
        warnings.warn(f"Could not cache the parsed IMDB data in {cache.parent}: {err}.", stacklevel=3)
        return arrays
    # A changed source gets a new cache name; drop the caches of its earlier versions.
    for stale in cache.parent.glob(cache.name.rsplit("-", 1)[0] + "-*.npz"):
        if stale != cache:
            stale.unlink(missing_ok=True)
            stale.with_name(stale.name + ".lock").unlink(missing_ok=True)
    return arrays


def _read_archive(path: Path) -> _Entries:
    entries: _Entries = defaultdict(list)
    size = path.stat().st_size
    try:
        # One sequential pass over the compressed stream; no index of 100,000 members held in memory.
        with task(f"parsing {path.name}", total=round(size / 2**20, 1), unit="MB") as advance:
            shown, count = 0.0, 0

            def progress(done_bytes: int) -> None:
                nonlocal shown
                done = round(done_bytes / 2**20, 1)
                advance(done - shown, info=f"{count:,} reviews")
                shown = done

            for name, raw in tar_members(path, progress=progress):
                match = _REVIEW.search(name)
                if match:
                    entries[match[1], match[2]].append((int(match[3]), int(match[4]), raw))
                    count += 1
    except (TarFormatError, OSError) as err:
        raise DataFormatError(
            f"{path} is not a readable IMDB archive ({err}); it may be truncated or corrupt. "
            f"Delete it and download {ARCHIVE_NAME} again from {IMDB_URL}, or check that the "
            f"path points at that archive."
        ) from err
    return entries


def _read_folder(root: Path) -> _Entries:
    entries: _Entries = defaultdict(list)
    pattern = re.compile(r"(\d+)_(\d+)\.txt")
    for folder, classes in _LAYOUT.values():
        for cls in classes:
            class_dir = root / folder / cls
            if not class_dir.is_dir():
                continue
            for item in os.scandir(class_dir):
                if (match := pattern.fullmatch(item.name)) and item.is_file():
                    raw = Path(item.path).read_bytes()
                    entries[folder, cls].append((int(match[1]), int(match[2]), raw))
    return entries


def _to_arrays(entries: _Entries, source: Path) -> dict[str, np.ndarray]:
    """Order, decode and pack every split; fail if a labelled class has no reviews."""
    arrays: dict[str, np.ndarray] = {}
    replaced = 0
    for split, (folder, classes) in _LAYOUT.items():
        texts, labels, ratings = [], [], []
        for label, cls in enumerate(classes):
            reviews = sorted(entries.get((folder, cls), ()))
            if not reviews and split != "unsup":
                raise DataFormatError(
                    f"{source} has no reviews in aclImdb/{folder}/{cls}/: {_LAYOUT_HELP}. "
                    f"Check the path, or download {ARCHIVE_NAME} again from {IMDB_URL}."
                )
            for review_id, rating, raw in reviews:
                if rating > 10:  # stored as int8; IMDB's are 1-10 (0 in unsup)
                    raise DataFormatError(
                        f"{source}: review aclImdb/{folder}/{cls}/{review_id}_{rating}.txt has rating {rating}, "
                        f"but IMDB ratings are 1-10: {_LAYOUT_HELP}. Check the path, or download {ARCHIVE_NAME} "
                        f"again from {IMDB_URL}."
                    )
                try:
                    texts.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    texts.append(raw.decode("utf-8", errors="replace"))
                    replaced += 1
                labels.append(label)
                ratings.append(rating)
        arrays[f"{split}_text"], arrays[f"{split}_offsets"] = pack_texts(texts)
        arrays[f"{split}_ratings"] = np.asarray(ratings, dtype=np.int8)
        if split != "unsup":
            arrays[f"{split}_labels"] = np.asarray(labels, dtype=np.int64)
    if replaced:
        warnings.warn(
            f"{replaced} review files in {source} were not valid UTF-8; "
            f"their undecodable bytes were replaced with U+FFFD.",
            stacklevel=4,
        )
    return arrays
