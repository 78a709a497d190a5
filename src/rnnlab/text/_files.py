"""Atomic file writes: a crash or a full disk never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path


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


def write_json(path, data) -> Path:
    """Write ``data`` as UTF-8 JSON, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
    return path


def read_json(path, what: str):
    """Read a JSON file written by :func:`write_json`, with errors that say which file and why."""
    from rnnlab.errors import DataFormatError, DataNotFoundError

    path = Path(path)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise DataNotFoundError(f"{what} file not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{what} file {path} is not valid JSON: {exc}") from None
