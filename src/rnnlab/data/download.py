"""Fetch a file over HTTP so that the destination is either the verified file or absent.

The bytes go to a temporary file beside ``dest`` and are renamed into place only after the
checksum matches: an interrupted or corrupted download never looks like a finished one.
"""

from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from rnnlab.errors import ChecksumError, DataNotFoundError
from rnnlab.files import atomic_path
from rnnlab.progress import task

_CHUNK = 1 << 20
_TIMEOUT_S = 60


def download(
    url: str,
    dest: Path,
    sha256: str | Iterable[str] | None = None,
    *,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest`` atomically and return ``dest``.

    Args:
        url: the address to fetch.
        dest: the final file path; its folder is created if needed.
        sha256: one accepted hex digest, several (any may match), or ``None`` to skip the check.
        progress: show progress on stderr, as `rnnlab.progress` does: a bar on a terminal, a
            line per tenth in a log (default ``True``; ``False`` shows nothing).

    Example:
        >>> download(IMDB_URL, cache_dir() / "aclImdb_v1.tar.gz", IMDB_SHA256)  # doctest: +SKIP
    """
    dest = Path(dest)
    accepted = _accepted_digests(sha256)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dest, suffix=".part") as tmp:
        with open(tmp, "wb") as out:
            digest = _fetch(url, dest, out, progress)
        if accepted and digest not in accepted:
            expected = " or ".join(sorted(accepted))
            raise ChecksumError(
                f"The file downloaded from {url} is corrupt or not the expected one: its sha256 is "
                f"{digest}, expected {expected}. Nothing was saved to {dest}; try again, or download "
                f"it by hand and pass its path."
            )
    return dest


def _fetch(url: str, dest: Path, out, progress: bool) -> str:
    """Stream ``url`` into ``out``; return the sha256 hex digest of what was written."""
    hasher = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            received = 0
            with task(url.rsplit("/", 1)[-1] or url, total, unit="bytes", enabled=progress) as advance:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    hasher.update(chunk)
                    received += len(chunk)
                    advance(len(chunk))
            if total is not None and received < total:
                raise _failed(url, dest, f"the connection closed after {received} of {total} bytes")
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as err:
        reason = getattr(err, "reason", None) if not isinstance(err, urllib.error.HTTPError) else None
        raise _failed(url, dest, str(reason or err)) from err
    return hasher.hexdigest()


def _failed(url: str, dest: Path, reason: str) -> DataNotFoundError:
    error = DataNotFoundError(
        f"Downloading {url} failed: {reason}. Check your connection and try again, or download "
        f"the file by hand and save it as {dest} (or pass its path, or put it in the folder "
        f"named by $RNNLAB_DATA_DIR)."
    )
    error.reason = reason  # lets callers fold the cause into a message of their own
    return error


def _accepted_digests(sha256) -> frozenset[str]:
    if sha256 is None:
        return frozenset()
    values = [sha256] if isinstance(sha256, str) else list(sha256)
    return frozenset(value.strip().lower() for value in values)
