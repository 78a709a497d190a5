"""Writing files so that nothing is ever half-written: every file rnnlab writes goes through here.

A file is written under a temporary name in its destination folder and renamed into place
(``os.replace`` is atomic within one file system); a folder (a bundle, a language model) is
built beside its destination and swapped in. A crash, a kill or a full disk leaves the old
version or the new one, never a mixture.
"""

from __future__ import annotations

import contextlib
import json
import lzma
import os
import shutil
import tempfile
import tokenize
import uuid
import zipfile
import zlib
from pathlib import Path

from rnnlab.errors import DataFormatError, DataNotFoundError, RnnlabError

# What reading a damaged NumPy file raises besides ValueError. An .npz is a zip archive: a broken
# deflate, bzip2 or lzma stream, a seek past the end, an unknown compression method, an
# "encrypted" flag; an .npy header that is not a Python literal goes through a tokenizer, and
# one that claims a huge shape makes NumPy allocate it before reading.
DAMAGED_NUMPY_FILE_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, NotImplementedError,
                             RuntimeError, SyntaxError, tokenize.TokenError, MemoryError)

__all__ = ["DAMAGED_NUMPY_FILE_ERRORS", "atomic_path", "write_text", "write_json", "read_json", "staged_folder",
           "swap_into_place", "recover_folder", "set_aside"]


@contextlib.contextmanager
def atomic_path(path, suffix: str = ""):
    """Yield a temporary path next to ``path``; on success it replaces ``path`` in one step.

    The caller writes the temporary file. It lives in the destination folder so that
    ``os.replace`` never crosses file systems (where it would not be atomic); ``suffix``
    keeps the extension for writers that infer the format from the name (matplotlib).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fresh name rather than mkstemp: the writer creates the file, so it gets the
    # user's umask permissions instead of mkstemp's owner-only 0600.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{suffix or '.tmp'}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path, text: str) -> Path:
    """Write ``text`` as UTF-8, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_json(path, data, *, indent: int | None = None) -> Path:
    """Write ``data`` as UTF-8 JSON, atomically (values JSON cannot hold are written as strings)."""
    text = json.dumps(data, ensure_ascii=False, indent=indent, default=str)
    return write_text(path, text + ("\n" if indent is not None else ""))


def read_json(path, what: str):
    """Read a JSON file, with errors that say which file and why."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise DataNotFoundError(f"{what} file not found: {path}") from None
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, a 5,000-digit number, deep nesting
        raise DataFormatError(f"{what} file {path} is not valid JSON: {exc}") from None


@contextlib.contextmanager
def staged_folder(out, marker: str = "model.keras", what: str = "an rnnlab bundle"):
    """Yield an empty folder beside ``out``; on success it replaces ``out``, on failure it is removed."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield staging
        swap_into_place(staging, out, marker, what)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def swap_into_place(staging: Path, out: Path, marker: str = "model.keras", what: str = "an rnnlab bundle") -> None:
    """Replace the folder ``out`` by ``staging`` so a reader never sees half of either.

    An existing ``out`` is only replaced when it holds ``marker`` (it is one of ours) or is empty.
    On Linux the two folders are exchanged in one system call (``renameat2`` with
    ``RENAME_EXCHANGE``), so a kill at any instant leaves ``out`` complete, old or new. Elsewhere
    ``out`` is first moved aside to ``.NAME.old``; a kill between the two renames leaves it there,
    where `Bundle.load` still reads it and the next save moves it back (:func:`recover_folder`).
    """
    recover_folder(out)
    if out.exists():
        if not out.is_dir():
            raise RnnlabError(f"{out} is a file, not {what}; choose another --out folder.")
        if not (out / marker).exists() and any(out.iterdir()):
            raise RnnlabError(f"{out} exists and is not {what}; choose another --out folder.")
        if _exchange(staging, out):
            shutil.rmtree(staging, ignore_errors=True)  # now the old folder
            return
        old = set_aside(out)
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, out)


def recover_folder(out) -> None:
    """Move a folder left aside by an interrupted :func:`swap_into_place` back to ``out``."""
    out = Path(out)
    old = set_aside(out)
    if not out.exists() and old.is_dir():
        os.replace(old, out)


def set_aside(out) -> Path:
    """Where :func:`swap_into_place` moves a folder aside while it swaps (systems without exchange)."""
    out = Path(out)
    return out.with_name(f".{out.name}.old")


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where the system cannot."""
    global _renameat2
    if _renameat2 is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _renameat2 = libc.renameat2
            _renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        except (OSError, AttributeError):
            _renameat2 = False
    if not _renameat2:
        return False
    at_fdcwd = -100
    if _renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    return False  # e.g. a file system without exchange support: fall back to two renames


_renameat2 = None
