"""Pre-trained word vectors: read GloVe and word2vec files, turn them into an embedding matrix.

Three file formats are read, and told apart from their first bytes:

``"glove"``
    Text, one ``word v1 v2 ... vd`` line per word, no header (Stanford GloVe files).
``"word2vec-text"``
    The same lines after a ``count dim`` header line (word2vec ``-binary 0``, fastText ``.vec``).
``"word2vec-binary"``
    A ``count dim`` header line, then per word ``word<space>`` and ``dim`` little-endian
    float32 values, optionally followed by a newline (word2vec ``-binary 1``, gensim).

Files are read as a stream, so a multi-gigabyte GloVe file costs memory only for the
words asked for; ``.gz`` compressed files are read as they are.

Example:
    >>> prep = Preprocessor(vocab_size=10000).fit(train_texts)  # doctest: +SKIP
    >>> matrix, coverage = load_embedding_matrix("glove.6B.100d.txt", prep.vocabulary, dim=100)  # doctest: +SKIP
    >>> coverage.word_share, coverage.token_share  # doctest: +SKIP
    (0.987, 0.995)
"""

from __future__ import annotations

import contextlib
import gzip
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rnnlab.errors import (
    DataFormatError,
    DataNotFoundError,
    InvalidInputError,
    unknown_name,
)
from rnnlab.files import atomic_path
from rnnlab.progress import task
from rnnlab.text.vocab import Vocabulary

FORMATS = ("glove", "word2vec-text", "word2vec-binary")
_CHUNK = 1 << 20
_MISSING_SHOWN = 20


class VectorsFormat(NamedTuple):
    """What the first lines of a vectors file say: its format, dimension and (with a header) size."""

    format: str
    dim: int
    count: int | None


@dataclass
class WordVectors:
    """Words and their vectors, in file order (most frequent first in the usual files).

    Args:
        words: the words, unique.
        vectors: float32 array ``(len(words), dim)``.
        format: the file format they were read from or will be written in.
        path: the file they were read from, if any.
    """

    words: list[str]
    vectors: np.ndarray
    format: str = "word2vec-binary"
    path: Path | None = None
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def index(self) -> dict[str, int]:
        """Row of each word."""
        if len(self._index) != len(self.words):
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        try:
            return self.vectors[self.index[word]]
        except KeyError:
            raise InvalidInputError(f"{word!r} has no vector{f' in {self.path}' if self.path else ''}.") from None

    def save(self, path, format: str = "word2vec-binary") -> Path:
        """Write the vectors to ``path`` in ``format`` (atomically)."""
        return write_vectors(path, self.words, self.vectors, format=format)


@dataclass
class EmbeddingCoverage:
    """How much of a vocabulary pre-trained vectors cover.

    Attributes:
        source: the vectors file.
        format, dim: of the vectors.
        words: words of the vocabulary (padding and the OOV id not counted).
        words_found: those with a vector; ``word_share`` is ``words_found / words``.
        tokens: tokens of the texts the vocabulary was fitted on, words outside it included.
        tokens_found: those whose word has a vector; ``token_share`` is ``tokens_found / tokens``
            (None when the vocabulary holds no counts).
        missing: the most frequent words without a vector (at most 20).
    """

    source: str | None
    format: str
    dim: int
    words: int
    words_found: int
    word_share: float
    tokens: int | None
    tokens_found: int | None
    token_share: float | None
    missing: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


# -- reading -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _open(path: Path):
    """The file as a binary stream, gunzipped when it is gzip data (damaged gzip data is a DataFormatError)."""
    if not path.is_file():
        where = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataNotFoundError(f"Word vectors file {path} {where}.")
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as f:
        try:
            yield f
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            if not gzipped:
                raise
            raise DataFormatError(f"{path} is damaged gzip data ({exc}): the file is truncated or corrupt; "
                                  "download or compress it again.") from None


def _decode(raw: bytes, path: Path, where: str, errors: str) -> str:
    try:
        return raw.decode("utf-8", errors)
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{path}, {where}: not valid UTF-8 ({exc.reason} at byte {exc.start}). Word vectors files are "
            "UTF-8; pass unicode_errors='replace' to read a file with a few damaged words.") from None


def _is_float(text: str | bytes) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def detect_format(path) -> VectorsFormat:
    """Format, dimension and (word2vec) word count of a vectors file, from its first lines."""
    path = Path(path)
    with _open(path) as f:
        first = f.readline(_CHUNK)
        if not first.strip():
            raise DataFormatError(f"Word vectors file {path} is empty: expected GloVe or word2vec vectors.")
        fields = _decode(first, path, "line 1", "strict").split()
        if len(fields) == 2 and all(f.isascii() and f.isdigit() for f in fields):
            count, dim = int(fields[0]), int(fields[1])
            if count < 1 or dim < 1:
                raise DataFormatError(f"{path}: the header announces {count} vectors of dimension {dim}; "
                                      "a vectors file needs at least one vector of dimension 1 or more.")
            # A text record is dim + 1 numbers-and-word fields; raw float32 bytes almost never are.
            second = f.readline(4 * dim + _CHUNK)
            if not second.strip():
                raise DataFormatError(f"{path} has a header ({count} vectors of dimension {dim}) but no vectors.")
            try:
                parts = second.decode("utf-8").split()
            except UnicodeDecodeError:
                parts = []
            is_text = len(parts) == dim + 1 and all(_is_float(p) for p in parts[1:])
            return VectorsFormat("word2vec-text" if is_text else "word2vec-binary", dim, count)
        if len(fields) < 2 or not all(_is_float(v) for v in fields[1:]):
            raise DataFormatError(
                f"{path}, line 1 is neither a word2vec header ('count dim') nor a GloVe line ('word v1 v2 ...'): "
                f"{first[:80]!r}.")
        return VectorsFormat("glove", len(fields) - 1, None)


def read_vectors(path, words: Iterable[str] | None = None, *, dim: int | None = None, limit: int | None = None,
                 unicode_errors: str = "strict") -> WordVectors:
    """Read a GloVe or word2vec file (text or binary, told apart automatically).

    Args:
        path: the vectors file (``.gz`` compressed or not).
        words: read only these words' vectors (default: all). The rest of the file is
            scanned but not parsed, so a large file costs memory only for these.
        dim: the dimension the caller needs; a file of another dimension fails at once.
        limit: read only the first ``limit`` vectors of the file (default: all).
        unicode_errors: how to decode words that are not valid UTF-8 (default
            ``"strict"``: fail, naming the line).

    Returns:
        the vectors found, in file order; a word listed twice keeps its first vector.
    """
    path = Path(path)
    info = detect_format(path)
    if dim is not None and dim != info.dim:
        raise InvalidInputError(
            f"{path} holds {info.dim}-dimensional vectors, but the embedding needs {dim}: set "
            f"embedding_dim={info.dim} or use vectors of dimension {dim}.")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidInputError(f"limit must be a positive integer or None, got {limit!r}.")
    wanted = None if words is None else set(words)
    kept_words: list[str] = []
    kept: list[np.ndarray] = []
    seen: set[str] = set()
    size = path.stat().st_size
    with _open(path) as f, task(f"reading {path.name}", total=round(size / 2**20, 1), unit="MB",
                                quiet_below=50) as advance:
        if info.count is not None:
            f.readline(_CHUNK)  # the header
        reader = _binary_records if info.format == "word2vec-binary" else _text_records
        raw = getattr(f, "fileobj", None) or f  # gzip: the compressed bytes read so far
        shown = 0.0
        for count, (word, vector) in enumerate(reader(f, path, info, wanted, limit, unicode_errors)):
            if word not in seen:
                seen.add(word)
                kept_words.append(word)
                kept.append(vector)
            if count % 20_000 == 0:
                done = round(raw.tell() / 2**20, 1)
                advance(done - shown, info=f"{len(kept_words):,} words kept")
                shown = done
    vectors = np.stack(kept).astype(np.float32, copy=False) if kept else np.zeros((0, info.dim), np.float32)
    return WordVectors(kept_words, vectors, info.format, path)


def _text_records(f, path: Path, info: VectorsFormat, wanted, limit, errors):
    dim, lineno, read = info.dim, 1 if info.count is not None else 0, 0
    for raw in f:
        lineno += 1
        if not raw.strip():
            continue
        if limit is not None and read >= limit:
            return
        read += 1
        if info.count is not None and read > info.count:
            raise DataFormatError(f"{path} has more vectors than the {info.count:,} its header announces.")
        # Split on ASCII whitespace, as the files are written: a word may hold other spaces.
        word = _decode(raw.split(None, 1)[0], path, f"line {lineno}", errors)
        if wanted is not None and word not in wanted:
            continue  # a word with spaces (GloVe 840B has a few) starts with a word that is not in any vocabulary
        parts = raw.split()
        if len(parts) != dim + 1:
            extra = parts[1:len(parts) - dim]
            if len(parts) < dim + 1 or any(_is_float(p) for p in extra):
                found = len(parts) - 1
                raise DataFormatError(
                    f"{path}, line {lineno}: {found} value{'s' * (found != 1)} after the word {word!r}, expected {dim} "
                    f"(the dimension of {'the header' if info.count is not None else 'line 1'}). The file is "
                    "truncated or mixes vectors of different sizes.")
            word = _decode(b" ".join(parts[:len(parts) - dim]), path, f"line {lineno}", errors)
            if wanted is not None and word not in wanted:
                continue
        try:
            vector = np.array(parts[len(parts) - dim:], dtype=np.float32)
        except ValueError:
            raise DataFormatError(f"{path}, line {lineno}: the vector of {word!r} holds a value that is not a "
                                  "number.") from None
        yield word, vector
    if info.count is not None and read < info.count and limit is None:
        raise DataFormatError(f"{path} ends after {read:,} of the {info.count:,} vectors its header announces: "
                              "the file is truncated.")


class _Buffer:
    """Reads a binary stream in large chunks: the word2vec binary format has no line structure."""

    def __init__(self, f):
        self.f, self.buf, self.pos = f, b"", 0

    def _fill(self) -> bool:
        more = self.f.read(_CHUNK)
        if not more:
            return False
        self.buf, self.pos = self.buf[self.pos:] + more, 0
        return True

    def until(self, delimiter: bytes) -> bytes | None:
        while (i := self.buf.find(delimiter, self.pos)) == -1:
            if not self._fill():
                return None
        out, self.pos = self.buf[self.pos:i], i + 1
        return out

    def take(self, n: int) -> bytes | None:
        while len(self.buf) - self.pos < n:
            if not self._fill():
                return None
        out, self.pos = self.buf[self.pos:self.pos + n], self.pos + n
        return out

    def rest_is_blank(self) -> bool:
        return not (self.buf[self.pos:] + self.f.read(64)).strip()


def _binary_records(f, path: Path, info: VectorsFormat, wanted, limit, errors):
    size, buffer = 4 * info.dim, _Buffer(f)
    total = info.count if limit is None else min(info.count, limit)
    for k in range(1, total + 1):
        head = buffer.until(b" ")
        if head is None:
            raise DataFormatError(f"{path} ends after {k - 1:,} of the {info.count:,} vectors its header announces: "
                                  "the file is truncated.")
        # word2vec's C tool ends each vector with a newline, gensim does not.
        word = _decode(head.lstrip(b"\n"), path, f"vector {k:,}", errors)
        data = buffer.take(size)
        if data is None:
            raise DataFormatError(f"{path} ends inside the vector of {word!r} (vector {k:,} of {info.count:,}): "
                                  "the file is truncated, or its header's dimension is wrong.")
        if wanted is None or word in wanted:
            yield word, np.frombuffer(data, dtype="<f4").astype(np.float32)
    if limit is None and not buffer.rest_is_blank():
        raise DataFormatError(f"{path} has more data than the {info.count:,} vectors of dimension {info.dim} its "
                              "header announces: the header is wrong or the file is damaged.")


# -- writing -----------------------------------------------------------------------------------


def write_vectors(path, words: list[str], vectors, format: str = "word2vec-binary") -> Path:
    """Write vectors in one of :data:`FORMATS`, atomically (a crash leaves no half file)."""
    if format not in FORMATS:
        raise unknown_name("vectors format", format, FORMATS)
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(words) != len(vectors) or not len(words):
        raise InvalidInputError(f"Need one vector per word: got {len(words)} words and an array of shape "
                                f"{vectors.shape}.")
    bad = next((w for w in words if not isinstance(w, str) or not w or len(w.split()) != 1 or w != w.strip()), None)
    if bad is not None:
        raise InvalidInputError(f"Word {bad!r} cannot be stored in a vectors file: words are non-empty and hold "
                                "no whitespace.")
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        if format != "glove":
            f.write(f"{len(words)} {vectors.shape[1]}\n".encode())
        if format == "word2vec-binary":
            little = vectors.astype("<f4", copy=False)
            for word, row in zip(words, little):
                f.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
        else:
            for word, row in zip(words, vectors):
                f.write((word + " " + " ".join(repr(float(v)) for v in row) + "\n").encode("utf-8"))
    return path


# -- embedding matrix --------------------------------------------------------------------------


def embedding_matrix(vocabulary: Vocabulary, vectors: WordVectors, *, seed: int = 0) -> tuple[np.ndarray,
                                                                                               EmbeddingCoverage]:
    """An initial embedding ``(len(vocabulary), dim)`` from pre-trained vectors, and its coverage.

    Row 0 (padding) is zeros. Words with a vector get it; the OOV row, words without a
    vector and ids no word reached are drawn from a normal distribution with the mean and
    standard deviation of the vectors found, so that no row stands out by its scale.
    ``seed`` makes those rows reproducible.
    """
    vocabulary._check_fitted()
    rows = [(w, i) for w, i in vocabulary.word_index.items() if w != vocabulary.oov_token and i < len(vocabulary)]
    rows.sort(key=lambda item: item[1])
    index = vectors.index
    found = [(w, i) for w, i in rows if w in index]
    if not found:
        raise InvalidInputError(
            f"None of the {len(rows):,} vocabulary words has a vector in {vectors.path or 'these vectors'}: they were "
            "made for other tokens (rnnlab's 'keras' tokens are lower-case words, its 'nltk' tokens are stemmed).")
    source = vectors.vectors[[index[w] for w, _ in found]]
    mean, std = float(source.mean()), float(source.std()) or 1.0
    matrix = np.random.default_rng(seed).normal(mean, std, size=(len(vocabulary), vectors.dim)).astype(np.float32)
    matrix[[i for _, i in found]] = source
    matrix[0] = 0.0
    found_words = {w for w, _ in found}
    counts = vocabulary.word_counts
    tokens = vocabulary.n_tokens or None
    tokens_found = sum(counts.get(w, 0) for w in found_words) if tokens else None
    coverage = EmbeddingCoverage(
        source=str(vectors.path) if vectors.path else None, format=vectors.format, dim=vectors.dim,
        words=len(rows), words_found=len(found), word_share=round(len(found) / len(rows), 6),
        tokens=tokens, tokens_found=tokens_found,
        token_share=round(tokens_found / tokens, 6) if tokens else None,
        missing=[w for w, _ in rows if w not in found_words][:_MISSING_SHOWN])
    return matrix, coverage


def load_embedding_matrix(path, vocabulary: Vocabulary, *, dim: int | None = None, seed: int = 0,
                          unicode_errors: str = "strict") -> tuple[np.ndarray, EmbeddingCoverage]:
    """:func:`read_vectors` for the vocabulary's words, then :func:`embedding_matrix`: the one-line path."""
    vocabulary._check_fitted()
    vectors = read_vectors(path, vocabulary.word_index, dim=dim, unicode_errors=unicode_errors)
    return embedding_matrix(vocabulary, vectors, seed=seed)
