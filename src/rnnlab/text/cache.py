"""Preprocessing results on disk, so that a second run skips the work.

Two caches, both in the rnnlab cache folder (``$RNNLAB_CACHE_DIR``, else
``~/.cache/rnnlab``), both disposable (a damaged or stale file means "compute again"):

* **Encoded datasets** (:class:`EncodedCache`): the id matrices and the fitted vocabulary of
  one preprocessing run, keyed by a digest of the texts (in order), the preprocessing
  settings and the tokenizer's fingerprint (rnnlab version; for ``"nltk"`` mode also the
  NLTK version, its Treebank rules and the stop words). Training the same model twice, or
  several models on the same data, encodes the data once.
* **Tokens and stems** of the ``"nltk"`` mode (:func:`load_token_cache`,
  :func:`save_token_cache`): the memoised Treebank pieces and Porter stems, keyed by the
  same fingerprint, so that new texts made of words seen in an earlier run are tokenized
  at the warm-cache speed.

Files are ``.npz`` archives of flat arrays read with ``allow_pickle=False``: a cache file
can never execute code.

Example:
    >>> prep = Preprocessor(mode="nltk", vocab_size=10000, maxlen=100)  # doctest: +SKIP
    >>> train_ids, test_ids = fit_encode(prep, [train_texts, test_texts], cache=True)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab._version import __version__
from rnnlab.data.locate import cache_dir
from rnnlab.data.textcache import pack_texts, read_npz, unpack_texts, write_npz
from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.text.preprocess import Preprocessor, _check_texts
from rnnlab.text.treebank import _rules, shared_pipeline
from rnnlab.text.words import KERAS_FILTERS, _nltk_tools, stop_words

_FORMAT_VERSION = 1
_SETTINGS = ("mode", "vocab_size", "maxlen", "padding", "truncating", "oov_token")
_NONE = "\x00"  # stands for None among cached string values (shape templates)


@dataclass
class EncodedArrays:
    """The arrays of an :class:`~rnnlab.text.Encoded`, without the per-text token lists."""

    ids: np.ndarray
    n_tokens: np.ndarray
    n_oov: np.ndarray
    truncated: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def tokenizer_fingerprint(mode: str) -> str:
    """A short digest of everything that decides the tokens of ``mode``."""

    parts = [f"rnnlab {__version__}", mode]
    if mode == "keras":
        parts.append(KERAS_FILTERS)
    else:
        parts.extend(_nltk_parts())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@functools.cache
def _nltk_parts() -> tuple[str, ...]:
    import nltk

    treebank, _ = _nltk_tools()
    return (f"nltk {nltk.__version__}", *_rules(treebank), " ".join(sorted(stop_words())))


def texts_digest(groups: list[list[str]]) -> str:
    """A digest of lists of texts, order and boundaries included."""
    digest = hashlib.blake2b(digest_size=16)
    for texts in groups:
        digest.update(f"group {len(texts)}\n".encode())
        for text in texts:
            data = text.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    return digest.hexdigest()


class EncodedCache:
    """Encoded datasets in a folder, the ``keep`` most recently used ones.

    Args:
        folder: where the files go (default: ``encoded/`` in the rnnlab cache folder).
        keep: files kept; older ones are deleted when a new one is written (default 8;
            the 25,000 + 25,000 IMDB reviews at maxlen 200 take 40 MB).

    Example:
        >>> cache = EncodedCache()  # doctest: +SKIP
        >>> fit_encode(Preprocessor(), [texts], cache=cache)  # doctest: +SKIP
    """

    def __init__(self, folder: str | os.PathLike | None = None, keep: int = 8):
        self.folder = Path(folder) if folder is not None else None
        self.keep = keep

    @property
    def path(self) -> Path:
        return self.folder if self.folder is not None else cache_dir() / "encoded"

    def key(self, preprocessor: Preprocessor, groups: list[list[str]], fit_count: int) -> str:
        """The cache key of fitting ``preprocessor`` on ``groups[0][:fit_count]`` and encoding ``groups``."""
        settings = {name: getattr(preprocessor, name) for name in _SETTINGS}
        what = json.dumps({"format": _FORMAT_VERSION, "settings": settings, "fit_count": fit_count,
                           "tokenizer": tokenizer_fingerprint(preprocessor.mode),
                           "texts": texts_digest(groups)}, sort_keys=True)
        return hashlib.sha256(what.encode()).hexdigest()[:32]

    def file(self, key: str) -> Path:
        return self.path / f"encoded-{key}.npz"

    def load(self, key: str, n_groups: int) -> tuple[Preprocessor, list[EncodedArrays]] | None:
        """The fitted preprocessor and arrays stored under ``key``, or None."""
        file = self.file(key)
        names = ["preprocessing"] + [f"{field}_{g}" for g in range(n_groups) for field in _FIELDS]
        arrays = read_npz(file, names)
        if arrays is None:
            return None
        try:
            preprocessor = Preprocessor.from_json(json.loads(arrays["preprocessing"].tobytes().decode("utf-8")))
        except (ValueError, UnicodeDecodeError, RnnlabError):
            return None  # damaged: encode again
        encoded = [EncodedArrays(*(arrays[f"{field}_{g}"] for field in _FIELDS)) for g in range(n_groups)]
        try:
            os.utime(file)  # most recently used: kept longest
        except OSError:
            pass
        return preprocessor, encoded

    def save(self, key: str, preprocessor: Preprocessor, encoded: list[EncodedArrays]) -> Path | None:
        """Store the arrays under ``key``; None (and no error) when the folder is not writable."""
        blob = json.dumps(preprocessor.to_json(), ensure_ascii=False).encode("utf-8")
        arrays = {"preprocessing": np.frombuffer(blob, dtype=np.uint8)}
        for g, item in enumerate(encoded):
            arrays.update({f"{field}_{g}": getattr(item, field) for field in _FIELDS})
        file = self.file(key)
        try:
            write_npz(file, arrays)
        except OSError:
            return None  # a cache only saves time: a read-only or full disk must not fail a run
        self._evict()
        return file

    def _evict(self) -> None:
        files = sorted(self.path.glob("encoded-*.npz"), key=_mtime, reverse=True)
        for old in files[self.keep:]:
            old.unlink(missing_ok=True)


_FIELDS = ("ids", "n_tokens", "n_oov", "truncated")


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def fit_encode(preprocessor: Preprocessor, groups: list[list[str]], fit_count: int | None = None,
               cache: bool | EncodedCache | None = None) -> list[EncodedArrays]:
    """Fit ``preprocessor`` on the first ``fit_count`` texts of ``groups[0]``, encode every group.

    Each text is tokenized once, whatever the number of groups and the fit.

    Args:
        preprocessor: an unfitted :class:`Preprocessor`; it is fitted in place (or replaced
            by the cached fit, which is identical).
        groups: lists of texts, e.g. ``[train_texts, test_texts]``.
        fit_count: how many texts of ``groups[0]`` the vocabulary is fitted on (default: all).
        cache: ``True`` for the default :class:`EncodedCache`, a cache, or None/False for none.

    Returns:
        one :class:`EncodedArrays` per group.
    """
    if not isinstance(groups, (list, tuple)) or not groups:
        raise InvalidInputError("groups must be a non-empty list of lists of texts.")
    groups = [_check_texts(texts, allow_empty=False) for texts in groups]
    fit_count = len(groups[0]) if fit_count is None else fit_count
    if isinstance(fit_count, bool) or not isinstance(fit_count, int) or not 0 <= fit_count <= len(groups[0]):
        raise InvalidInputError(f"fit_count must be an integer in 0..{len(groups[0])}, got {fit_count!r}.")
    preprocessor._check_params()
    store = EncodedCache() if cache is True else (cache or None)
    key = None
    if store is not None:
        key = store.key(preprocessor, groups, fit_count)
        found = store.load(key, len(groups))
        if found is not None:
            fitted, encoded = found
            preprocessor.vocabulary = fitted.vocabulary
            return encoded
    use_token_cache = store is not None and preprocessor.mode == "nltk"
    if use_token_cache:
        load_token_cache()
    tokenizer = preprocessor.tokenizer
    token_groups = [tokenizer.tokenize_many(texts) for texts in groups]
    preprocessor.fit_tokens(token_groups[0][:fit_count])
    encoded = []
    for token_lists in token_groups:
        item = preprocessor.encode_tokens(token_lists)
        encoded.append(EncodedArrays(item.ids, item.n_tokens, item.n_oov, item.truncated))
    if store is not None:
        store.save(key, preprocessor, encoded)
        if use_token_cache:
            save_token_cache()
    return encoded


# -- tokens and stems of the "nltk" mode ------------------------------------------------------


def token_cache_file() -> Path:
    """Where the ``"nltk"`` mode's pieces and stems are stored for this NLTK and rnnlab version."""
    return cache_dir() / f"nltk-tokens-{tokenizer_fingerprint('nltk')}.npz"


# Cache sizes of each pipeline right after its last load or save: nothing new, nothing to write.
_synced_sizes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def load_token_cache(path: str | os.PathLike | None = None, pipeline=None) -> bool:
    """Add the stored pieces and stems to the shared ``"nltk"`` pipeline; False when there are none."""

    pipeline = pipeline or shared_pipeline()
    path = Path(path) if path is not None else token_cache_file()
    names = [f"{cache}_{part}" for cache in _TOKEN_CACHES for part in ("keys", "key_offsets", "values", "value_offsets")]
    arrays = read_npz(path, names)
    if arrays is None:
        return False
    entries = {}
    for cache in _TOKEN_CACHES:
        keys = unpack_texts(arrays[f"{cache}_keys"], arrays[f"{cache}_key_offsets"])
        values = unpack_texts(arrays[f"{cache}_values"], arrays[f"{cache}_value_offsets"])
        if cache == "shapes":
            keys = [tuple(k.split("\t", 1)) for k in keys]
            values = [None if v == _NONE else v for v in values]
        entries[cache] = list(zip(keys, values))
    pipeline.import_caches(entries)
    _synced_sizes[pipeline] = pipeline.cache_sizes()
    return True


def save_token_cache(path: str | os.PathLike | None = None, pipeline=None) -> Path | None:
    """Write the shared ``"nltk"`` pipeline's pieces and stems; skipped when nothing was added
    since the last load or save. None when nothing was written."""

    pipeline = pipeline or shared_pipeline()
    if pipeline.cache_sizes() == _synced_sizes.get(pipeline):
        return None
    arrays = {}
    for cache, items in pipeline.export_caches().items():
        keys = [k for k, _ in items]
        values = [v for _, v in items]
        if cache == "shapes":
            keys = [f"{context}\t{shape}" for context, shape in keys]
            values = [_NONE if v is None else v for v in values]
        try:
            arrays[f"{cache}_keys"], arrays[f"{cache}_key_offsets"] = pack_texts(keys)
            arrays[f"{cache}_values"], arrays[f"{cache}_value_offsets"] = pack_texts(values)
        except UnicodeEncodeError:
            return None  # a lone surrogate in some text: not storable as UTF-8, skip the cache
    path = Path(path) if path is not None else token_cache_file()
    try:
        write_npz(path, arrays)
    except OSError:
        return None
    _synced_sizes[pipeline] = pipeline.cache_sizes()
    return path


_TOKEN_CACHES = ("stems", "middle", "first", "last", "shapes")
