"""Word vectors trained on IMDB reviews with gensim's word2vec, cached on disk.

The 75,000 IMDB train and unsup reviews (never the test split) are tokenized exactly as
rnnlab's ``"keras"`` tokenizer mode does, so the words match a classifier vocabulary built in
that mode. The vectors are written in word2vec binary format to the rnnlab cache folder
(``$RNNLAB_CACHE_DIR``, else ``~/.cache/rnnlab``), in a file named after the options: the
same options later return the file without training.

Training is deterministic by default (one thread): the same options give the same vectors,
bit for bit, in any process on any machine, so a classifier started from them is reproducible
too. Several threads train faster but race on shared weights; such vectors are cached under
their own name and differ from run to run.

Example:
    >>> path = train_word2vec(dim=100)  # doctest: +SKIP
    >>> read_vectors(path).dim  # doctest: +SKIP
    100
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from rnnlab.data import load_imdb
from rnnlab.data.locate import cache_dir
from rnnlab.errors import DataNotFoundError, InvalidInputError
from rnnlab.files import atomic_path
from rnnlab.progress import task
from rnnlab.text.cache import tokenizer_fingerprint
from rnnlab.text.tokenize import keras_tokens
from rnnlab.text.vectors import write_vectors

#: Names accepted where a vectors file is expected, e.g. ``ModelSpec.pretrained_embeddings``.
PRETRAINED_NAMES = ("word2vec-imdb",)
_FORMAT_VERSION = 2  # 2: deterministic (one thread) unless workers > 1, and keyed by it


def _check_options(**options) -> None:
    for name, value in options.items():
        if value is None and name == "limit":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "seed" else 1):
            lowest = "a non-negative" if name == "seed" else "a positive"
            raise InvalidInputError(f"word2vec option {name} must be {lowest} integer, got {value!r}.")


def word2vec_path(*, dim: int = 100, window: int = 5, min_count: int = 2, epochs: int = 5, seed: int = 0,
                  limit: int | None = None, sg: bool = False, deterministic: bool = True) -> Path:
    """Where :func:`train_word2vec` caches the vectors for these options (trained or not yet)."""
    from importlib.metadata import version

    _check_options(dim=dim, window=window, min_count=min_count, epochs=epochs, seed=seed, limit=limit)
    options = {"dim": dim, "window": window, "min_count": min_count, "epochs": epochs, "seed": seed,
               "limit": limit, "sg": bool(sg), "deterministic": bool(deterministic)}
    key = json.dumps({"format": _FORMAT_VERSION, "corpus": "imdb train+unsup", "options": options,
                      "tokenizer": tokenizer_fingerprint("keras"), "gensim": version("gensim")}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    name = (f"imdb-d{dim}-w{window}-m{min_count}-e{epochs}-{'sg' if sg else 'cbow'}-s{seed}"
            f"{f'-n{limit}' if limit else ''}{'' if deterministic else '-threads'}-{digest}.bin")
    return cache_dir() / "word2vec" / name


def train_word2vec(*, dim: int = 100, window: int = 5, min_count: int = 2, epochs: int = 5,
                   workers: int = 1, seed: int = 0, limit: int | None = None, sg: bool = False,
                   out: str | os.PathLike | None = None) -> Path:
    """Train word2vec on the IMDB train + unsup reviews, or reuse the cached vectors; return their file.

    Args:
        dim: vector size (default 100).
        window: context words on each side (default 5).
        min_count: words seen fewer times get no vector (default 2).
        epochs: passes over the reviews (default 5).
        workers: training threads (default 1: deterministic, the same vectors bit for bit in
            every process). More are faster, but gensim's threads race on the shared weights, so
            the vectors differ from run to run; they are cached apart from deterministic ones
            (the first result is kept).
        seed: seeds the initial vectors, the sampling and the sample of ``limit`` (default 0).
        limit: train on a seeded sample of this many reviews (default: all 75,000).
        sg: skip-gram instead of CBOW (default False).
        out: also copy the vectors file here.

    Returns:
        the cached file, in word2vec binary format (read it with :func:`~rnnlab.text.vectors.read_vectors`).
    """
    _check_options(workers=workers)
    path = word2vec_path(dim=dim, window=window, min_count=min_count, epochs=epochs, seed=seed, limit=limit, sg=sg,
                         deterministic=workers == 1)
    if not path.is_file():
        _train(path, dim=dim, window=window, min_count=min_count, epochs=epochs, seed=seed, limit=limit, sg=sg,
               workers=workers)
    if out is not None:
        with atomic_path(out) as tmp:
            shutil.copyfile(path, tmp)
    return path


def _train(path: Path, *, dim, window, min_count, epochs, seed, limit, sg, workers) -> None:
    import tempfile

    import numpy as np
    from gensim.models import Word2Vec

    texts = load_imdb("train").texts + load_imdb("unsup").texts
    if limit and limit < len(texts):
        texts = [texts[i] for i in np.random.default_rng(seed).permutation(len(texts))[:limit]]
    path.parent.mkdir(parents=True, exist_ok=True)
    # gensim's corpus_file mode reads a file of space-separated tokens in C, one part per
    # thread, without the GIL: faster than a Python iterable, and no token lists in memory.
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", errors="replace", dir=path.parent,
                                     prefix=f".{path.stem}.", suffix=".corpus", delete=False) as f:
        corpus = Path(f.name)
        try:
            for text in texts:
                tokens = keras_tokens(text)
                if tokens:
                    f.write(" ".join(tokens) + "\n")
        except BaseException:
            corpus.unlink(missing_ok=True)
            raise
    try:
        model = Word2Vec(vector_size=dim, window=window, min_count=min_count, epochs=epochs, workers=workers,
                         seed=seed, sg=int(bool(sg)))
        model.build_vocab(corpus_file=str(corpus))
        if not model.wv.index_to_key:
            raise InvalidInputError(f"No word occurs {min_count} times in {len(texts):,} reviews: lower "
                                    "min_count or raise limit.")
        from gensim.models.callbacks import CallbackAny2Vec

        with task(f"word2vec on {len(texts):,} reviews", total=epochs, unit="epochs") as advance:
            class Epochs(CallbackAny2Vec):
                def on_epoch_end(self, _model):
                    advance()

            model.train(corpus_file=str(corpus), total_words=model.corpus_total_words, epochs=epochs,
                        callbacks=[Epochs()])
    finally:
        corpus.unlink(missing_ok=True)
    write_vectors(path, list(model.wv.index_to_key), model.wv.vectors)


def locate_vectors(source: str | os.PathLike, dim: int) -> Path:
    """The vectors file meant by ``source``: a file path, or ``"word2vec-imdb"`` (trained with ``dim`` if missing)."""
    if str(source) == "word2vec-imdb":
        return train_word2vec(dim=dim)
    path = Path(source).expanduser()
    if not path.is_file():
        known = ", ".join(PRETRAINED_NAMES)
        raise DataNotFoundError(f"Word vectors file {path} does not exist, and {str(source)!r} is not a known "
                                f"name ({known}).")
    return path
