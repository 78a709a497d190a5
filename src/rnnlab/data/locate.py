"""Find a data file: an explicit path, then the data folder, then the cache, then the network.

One search order for every dataset, so "where does rnnlab look?" has one answer, and one
error message that lists every place tried.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from rnnlab.data.download import download
from rnnlab.errors import DataNotFoundError, InvalidInputError

DATA_DIR_ENV = "RNNLAB_DATA_DIR"
CACHE_DIR_ENV = "RNNLAB_CACHE_DIR"
OFFLINE_ENV = "RNNLAB_OFFLINE"  # any non-empty value: never download, fail at once


def cache_dir() -> Path:
    """Folder for downloads and parsed-dataset caches (created on first use).

    ``$RNNLAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/rnnlab``, else ``~/.cache/rnnlab``.
    """
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        folder = Path(explicit).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
        folder = base / "rnnlab"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InvalidInputError(
            f"Cannot use {folder} as rnnlab's cache folder ({err.strerror or err}); set {CACHE_DIR_ENV} "
            f"to a folder that can be created and written."
        ) from None
    return folder


def data_dir() -> Path | None:
    """The user's data folder from ``$RNNLAB_DATA_DIR``, or ``None`` when unset or empty."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def locate(
    filename: str,
    path=None,
    *,
    url: str | None = None,
    sha256: str | Iterable[str] | None = None,
    download_missing: bool = True,
) -> Path:
    """Return the path of ``filename``, downloading it into the cache as a last resort.

    Args:
        filename: the file's usual name, looked up in each folder searched.
        path: a file, or a folder that holds ``filename``. When given it is the only place
            looked at: a wrong explicit path is an error, never a silent fallback.
        url: where to download the file from when no local copy exists (default ``None``).
        sha256: accepted digest(s) of the download; local files are trusted, not hashed.
        download_missing: set ``False`` to fail rather than download (default ``True``).

    Example:
        >>> locate("amazon_polarity_sample.ft.txt", "data/")  # doctest: +SKIP
        PosixPath('data/amazon_polarity_sample.ft.txt')
    """
    if path is not None:
        return _explicit(filename, Path(path).expanduser())

    searched: list[tuple[Path, str]] = []
    folder = data_dir()
    if folder is not None:
        searched.append((folder / filename, f"${DATA_DIR_ENV}"))
    cached = cache_dir() / filename
    searched.append((cached, "cache"))
    for candidate, _ in searched:
        if candidate.is_file():
            return candidate

    if os.environ.get(OFFLINE_ENV, "").strip():
        download_missing = False
    if url and download_missing:
        try:
            return download(url, cached, sha256)
        except DataNotFoundError as err:  # re-raised with the folders searched, in one message
            failure = f"Downloading it from {url} failed: {getattr(err, 'reason', err)}."
            raise DataNotFoundError(_not_found_message(filename, searched, url, True, failure)) from err
    raise DataNotFoundError(_not_found_message(filename, searched, url, download_missing, ""))


def _explicit(filename: str, path: Path) -> Path:
    if path.is_file():
        return path
    if path.is_dir():
        candidate = path / filename
        if candidate.is_file():
            return candidate
        raise DataNotFoundError(
            f"{filename!r} is not in the folder {path}. Put the file there, or pass the file's own path."
        )
    raise DataNotFoundError(f"{path} does not exist. Check the path to {filename!r}.")


def _not_found_message(filename, searched, url, download_missing, failure) -> str:
    # One line, like every rnnlab error: the places searched, then what to do.
    places = "; ".join(f"{candidate} ({origin})" for candidate, origin in searched)
    parts = [f"Could not find {filename!r} (searched: {places})."]
    if url:
        if not download_missing:
            parts.append(f"Downloading was disabled (${OFFLINE_ENV} or download_missing=False); "
                         f"the file is available from {url}.")
        elif failure:
            parts.append(failure)
        parts.append(
            f"Download {url} by hand and put it in one of those folders "
            f"(or set ${DATA_DIR_ENV} to the folder holding it), or pass its path explicitly."
        )
    else:
        parts.append(
            f"There is no download for this file: put {filename!r} in one of those folders "
            f"(or set ${DATA_DIR_ENV} to the folder holding it), or pass its path explicitly."
        )
    return " ".join(" ".join(part.split()) for part in parts)
