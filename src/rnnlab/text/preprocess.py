"""Everything that turns raw text into model input, fitted once and saved with the model."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain, repeat

import numpy as np

from rnnlab.errors import DataFormatError, InvalidInputError
from rnnlab.files import read_json, write_json
from rnnlab.text.sequences import check_length_options, pad, place_rows
from rnnlab.text.tokenize import TOKENIZER_MODES, Tokenizer
from rnnlab.text.vocab import Vocabulary

_FORMAT = "rnnlab.preprocessing"
_VERSION = 1


@dataclass
class Encoded:
    """Model input for a list of texts, with what happened to each text on the way.

    Attributes:
        ids: int32 array ``(n, maxlen)``, padded and truncated.
        tokens: for each text, the tokens the model sees (after truncation, in order;
            unknown words included as written when there is an OOV token).
        n_tokens: tokens fed to the model per text (non-padding ids).
        n_oov: unknown words per text: those among the fed tokens when there is an OOV
            token, else those dropped from the text (Keras' behaviour without one).
        truncated: whether the text was longer than ``maxlen`` and got cut.
    """

    ids: np.ndarray
    tokens: list[list[str]]
    n_tokens: np.ndarray
    n_oov: np.ndarray
    truncated: np.ndarray

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass
class Preprocessor:
    """Tokenizer + vocabulary + padding: raw texts in, an int32 id matrix out.

    Args:
        mode: tokenizer mode, ``"keras"`` (default) or ``"nltk"`` (see :class:`Tokenizer`).
        vocab_size: ``num_words`` of the vocabulary, padding and OOV ids included
            (default 8000); ``None`` keeps every word of the training texts.
        maxlen: sequence length (default 200); ``None`` pads to the longest text.
        padding: ``"pre"`` (default) or ``"post"``.
        truncating: ``"pre"`` (default, keeps the end of long texts) or ``"post"``.
        oov_token: token for unknown words (default ``"<oov>"``), ``None`` to drop them.

    Example:
        >>> prep = Preprocessor(vocab_size=100, maxlen=5).fit(["a great movie", "a dull movie"])
        >>> prep.transform(["a great plot"]).tolist()
        [[0, 0, 2, 4, 1]]
    """

    mode: str = "keras"
    vocab_size: int | None = 8000
    maxlen: int | None = 200
    padding: str = "pre"
    truncating: str = "pre"
    oov_token: str | None = "<oov>"
    vocabulary: Vocabulary | None = field(default=None, repr=False)

    @property
    def tokenizer(self) -> Tokenizer:
        return Tokenizer(self.mode)

    @property
    def is_fitted(self) -> bool:
        return self.vocabulary is not None

    def fit(self, texts) -> Preprocessor:
        """Tokenize ``texts`` and fit the vocabulary on them. Returns ``self``.

        Empty texts are allowed here (they add no words); :meth:`encode` rejects them.
        """
        self._check_params()
        texts = _check_texts(texts, allow_empty=True)
        return self.fit_tokens(self.tokenizer.tokenize_many(texts))

    def fit_tokens(self, token_lists: list[list[str]]) -> Preprocessor:
        """Fit the vocabulary on texts tokenized already (by :attr:`tokenizer`). Returns ``self``."""
        self._check_params()
        self.vocabulary = Vocabulary(num_words=self.vocab_size, oov_token=self.oov_token).fit(token_lists)
        return self

    def transform(self, texts) -> np.ndarray:
        """int32 ids of shape ``(len(texts), maxlen)``."""
        return self.encode(texts).ids

    def fit_transform(self, texts) -> np.ndarray:
        """:meth:`fit` then :meth:`transform`, tokenizing ``texts`` once."""
        self._check_params()
        texts = _check_texts(texts, allow_empty=False)
        token_lists = self.tokenizer.tokenize_many(texts)
        return self.fit_tokens(token_lists).encode_tokens(token_lists).ids

    def encode(self, texts) -> Encoded:
        """Ids plus per-text details (tokens seen, OOV count, truncation)."""
        self._fitted_vocabulary()
        texts = _check_texts(texts, allow_empty=False)
        return self.encode_tokens(self.tokenizer.tokenize_many(texts))

    def encode_tokens(self, token_lists: list[list[str]]) -> Encoded:
        """:meth:`encode` for texts tokenized already (by :attr:`tokenizer`)."""
        vocab = self._fitted_vocabulary()
        maxlen = self.maxlen
        lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
        if self.oov_token is not None:
            # Every token gets an id: look all of them up in one pass and place them with numpy.
            get = vocab.word_index.get
            flat = np.fromiter(map(get, chain.from_iterable(token_lists), repeat(1)), dtype=np.int32,
                               count=int(lengths.sum()))
            ids = place_rows(flat, lengths, maxlen, self.padding, self.truncating)
            n_oov = (ids == 1).sum(axis=1, dtype=np.int64)  # the fed ids are exactly the nonzero cells
        else:
            id_lists = vocab.encode(token_lists)
            known = vocab.word_index
            n_oov = lengths - np.fromiter(map(len, id_lists), dtype=np.int64, count=len(id_lists))
            token_lists = [[w for w in tokens if w in known] if len(tokens) != len(ids) else tokens
                           for tokens, ids in zip(token_lists, id_lists)]
            lengths = lengths - n_oov
            ids = pad(id_lists, maxlen, padding=self.padding, truncating=self.truncating)
        truncated = np.zeros(len(lengths), dtype=bool) if maxlen is None else lengths > maxlen
        n_tokens = lengths if maxlen is None else np.minimum(lengths, maxlen)
        if truncated.any():
            keep = slice(-maxlen, None) if self.truncating == "pre" else slice(None, maxlen)
            token_lists = [t[keep] if cut else t for t, cut in zip(token_lists, truncated.tolist())]
        return Encoded(
            ids=ids,
            tokens=list(token_lists),
            n_tokens=n_tokens,
            n_oov=np.asarray(n_oov, dtype=np.int64),
            truncated=truncated,
        )

    # -- persistence ----------------------------------------------------------------------

    def to_json(self) -> dict:
        """A JSON-serialisable dict (saved as ``preprocessing.json`` in a model bundle)."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "mode": self.mode,
            "vocab_size": self.vocab_size,
            "maxlen": self.maxlen,
            "padding": self.padding,
            "truncating": self.truncating,
            "oov_token": self.oov_token,
            "vocabulary": self._fitted_vocabulary().to_json(),
        }

    @classmethod
    def from_json(cls, data: dict) -> Preprocessor:
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise DataFormatError("Not saved rnnlab preprocessing (missing format tag).")
        if data.get("version") != _VERSION:
            raise DataFormatError(
                f"Preprocessing format version {data.get('version')!r} is not supported "
                f"(this rnnlab reads version {_VERSION})."
            )
        try:
            prep = cls(mode=data["mode"], vocab_size=data["vocab_size"], maxlen=data["maxlen"],
                       padding=data["padding"], truncating=data["truncating"],
                       oov_token=data["oov_token"])
            vocabulary = Vocabulary.from_json(data["vocabulary"])
        except (KeyError, TypeError) as exc:
            raise DataFormatError(f"Saved preprocessing is missing or has a bad field: {exc}") from None
        try:
            prep._check_params()
        except InvalidInputError as exc:
            raise DataFormatError(f"Saved preprocessing is invalid: {exc}") from None
        if vocabulary.oov_token != prep.oov_token or vocabulary.num_words != prep.vocab_size:
            raise DataFormatError("Saved preprocessing is corrupt: its vocabulary settings disagree.")
        prep.vocabulary = vocabulary
        return prep

    def save(self, path) -> None:
        """Write ``to_json()`` to ``path`` (atomically)."""
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path) -> Preprocessor:
        return cls.from_json(read_json(path, "Preprocessing"))

    # -- checks ---------------------------------------------------------------------------

    def _check_params(self) -> None:
        # NumPy integers (from a config grid, say) would not survive to_json().
        if isinstance(self.vocab_size, np.integer):
            self.vocab_size = int(self.vocab_size)
        if isinstance(self.maxlen, np.integer):
            self.maxlen = int(self.maxlen)
        if self.mode not in TOKENIZER_MODES:
            Tokenizer(self.mode)  # raises UnknownNameError with a suggestion
        check_length_options(self.maxlen, self.padding, self.truncating)
        Vocabulary(num_words=self.vocab_size, oov_token=self.oov_token)._check_params()

    def _fitted_vocabulary(self) -> Vocabulary:
        if self.vocabulary is None:
            raise InvalidInputError(
                "This Preprocessor is not fitted yet: call fit(texts) on training texts, "
                "or Preprocessor.load(path)."
            )
        return self.vocabulary


def _check_texts(texts, allow_empty: bool) -> list[str]:
    if not isinstance(texts, (list, tuple)):
        hint = "; wrap a single text in a list" if isinstance(texts, str) else ""
        raise InvalidInputError(f"texts must be a list of strings, got {type(texts).__name__}{hint}.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InvalidInputError(f"text {i} must be a str, got {type(text).__name__}.")
        if not allow_empty and (not text or text.isspace()):
            raise InvalidInputError(f"text {i} is empty.")
    return list(texts)
