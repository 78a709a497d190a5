"""Store parsed text datasets as plain numpy arrays so a reload skips the slow parse.

Texts are kept as one UTF-8 byte array plus offsets: an ``.npz`` of flat arrays loads with
``allow_pickle=False``, so a cache file can never execute code, and a list of 50,000 strings
rebuilds from it in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path

import numpy as np

from rnnlab.files import atomic_path


def pack_texts(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Encode ``texts`` as (uint8 UTF-8 bytes, int64 offsets with ``len(texts) + 1`` entries)."""
    encoded = [text.encode("utf-8") for text in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def unpack_texts(data: np.ndarray, offsets: np.ndarray) -> list[str]:
    """Inverse of :func:`pack_texts`."""
    raw = data.tobytes()
    bounds = offsets.tolist()
    return [raw[a:b].decode("utf-8") for a, b in zip(bounds[:-1], bounds[1:])]


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically: readers see the old file, the new one, or none."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as out:
            np.savez(out, **arrays)


def read_npz(path: Path, keys: list[str]) -> dict[str, np.ndarray] | None:
    """Read ``keys`` from ``path``; ``None`` if the file is missing or unreadable.

    A cache is disposable: any damage means "parse the source again", never an error.
    """
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in keys}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


@contextlib.contextmanager
def building(path: Path):
    """Hold a lock on building the cache file ``path`` for the length of the block.

    Two processes that miss the same cache at once (two commands started together, workers of
    one job) would both do the slow parse; with this, the second waits and then reads what the
    first wrote. Where no lock file can be made (a read-only cache folder) it goes on unlocked.
    """
    from filelock import FileLock

    lock = FileLock(path.with_name(path.name + ".lock"))
    try:
        lock.acquire()
    except OSError:
        lock = None
    try:
        yield
    finally:
        if lock is not None:
            lock.release()
