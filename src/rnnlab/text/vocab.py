"""Word <-> id mapping with the indexing semantics of Keras' ``Tokenizer``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import repeat

import numpy as np

from rnnlab.errors import DataFormatError, InvalidInputError
from rnnlab.files import read_json, write_json

_FORMAT = "rnnlab.vocabulary"
_VERSION = 1


class Vocabulary:
    """Map tokens to integer ids the way Keras' ``Tokenizer`` does.

    Id 0 is padding; id 1 is the OOV token when there is one; then words follow by
    descending frequency in the texts given to :meth:`fit`, ties in first-seen order
    (Keras' stable sort). Only words with ``id < num_words`` are kept, so ``num_words``
    counts the padding id, as in Keras: ``num_words=10000`` with an OOV token keeps
    9,998 words.

    Unlike Keras, ``word_index`` holds only the kept words (Keras keeps every word seen and
    applies ``num_words`` when encoding); the ids are the same, and a saved vocabulary
    stays small.

    Args:
        num_words: largest id + 1 (the embedding's ``input_dim``); ``None`` (default)
            keeps every word seen.
        oov_token: token for unknown words, id 1 (default ``"<oov>"``). With ``None``
            unknown words are dropped from encoded sequences (Keras' default).

    Example:
        >>> vocab = Vocabulary(num_words=4).fit([["good", "movie"], ["good", "plot"]])
        >>> vocab.word_index
        {'<oov>': 1, 'good': 2, 'movie': 3}
        >>> vocab.encode([["good", "plot", "twist"]])
        [[2, 1, 1]]
    """

    def __init__(self, num_words: int | None = None, oov_token: str | None = "<oov>"):
        self.num_words = num_words
        self.oov_token = oov_token
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}
        self.word_counts: dict[str, int] = {}  # counts of the kept words in the fitted texts
        self.n_distinct = 0  # distinct words seen by fit, kept or not
        self.n_tokens = 0  # tokens seen by fit
        self._fitted = False

    @property
    def oov_id(self) -> int | None:
        """1 when there is an OOV token, else None."""
        return 1 if self.oov_token is not None else None

    @property
    def first_word_id(self) -> int:
        return 2 if self.oov_token is not None else 1

    def fit(self, token_lists: Iterable[list[str]]) -> Vocabulary:
        """Count the tokens and rank them; replaces any previous fit. Returns ``self``."""
        self._check_params()
        if isinstance(token_lists, str) or not isinstance(token_lists, Iterable):
            raise InvalidInputError(
                f"token_lists must be a list of token lists, got {type(token_lists).__name__}."
            )
        counts: Counter = Counter()
        for i, tokens in enumerate(token_lists):
            if isinstance(tokens, str):
                raise InvalidInputError(
                    f"token list {i} is a str; pass lists of tokens (use Tokenizer.tokenize_many)."
                )
            counts.update(tokens)
        if self.oov_token is not None:
            counts.pop(self.oov_token, None)  # Keras would give it two ids
        self.n_distinct = len(counts)
        self.n_tokens = sum(counts.values())
        limit = None
        if self.num_words is not None:
            limit = max(0, self.num_words - self.first_word_id)
        # most_common sorts stably by count, so ties stay in first-seen order, as in Keras.
        self._set_words(counts.most_common(limit))
        return self

    def _set_words(self, word_counts: list[tuple[str, int]]) -> None:
        start = self.first_word_id
        self.word_counts = dict(word_counts)
        self.word_index = {}
        if self.oov_token is not None:
            self.word_index[self.oov_token] = 1
        self.word_index.update((word, start + k) for k, (word, _) in enumerate(word_counts))
        self.index_word = {i: w for w, i in self.word_index.items()}
        self._fitted = True

    def encode(self, token_lists: Iterable[list[str]]) -> list[list[int]]:
        """Ids of each token list: unknown words -> 1 with an OOV token, dropped without."""
        self._check_fitted()
        get = self.word_index.get
        if self.oov_token is not None:
            return [list(map(get, tokens, repeat(1))) for tokens in token_lists]
        # Ids are >= 1, so filter(None, ...) drops exactly the unknown words (None).
        return [list(filter(None, map(get, tokens))) for tokens in token_lists]

    def decode(self, ids) -> list[str]:
        """Tokens of one id sequence; padding (0) is skipped."""
        self._check_fitted()
        if isinstance(ids, np.ndarray):
            ids = ids.tolist()
        words = []
        for i in ids:
            if i == 0:
                continue
            word = self.index_word.get(i)
            if word is None:
                raise InvalidInputError(f"id {i!r} is not in the vocabulary (ids 0..{len(self) - 1}).")
            words.append(word)
        return words

    def __len__(self) -> int:
        """The embedding ``input_dim``: ``num_words`` if set, else the largest id + 1."""
        if self.num_words is not None:
            return self.num_words
        return len(self.word_index) + 1

    def __contains__(self, word: str) -> bool:
        return word in self.word_index

    def __repr__(self) -> str:
        state = f", {len(self.word_index)} ids" if self._fitted else ", not fitted"
        return f"Vocabulary(num_words={self.num_words}, oov_token={self.oov_token!r}{state})"

    # -- persistence ----------------------------------------------------------------------

    def to_json(self) -> dict:
        """A JSON-serialisable dict with the kept words in id order (not all counts)."""
        self._check_fitted()
        start = self.first_word_id
        words = [self.index_word[i] for i in range(start, start + len(self.word_counts))]
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "num_words": self.num_words,
            "oov_token": self.oov_token,
            "words": words,
            "counts": [self.word_counts[w] for w in words],
            "n_distinct": self.n_distinct,
            "n_tokens": self.n_tokens,
        }

    @classmethod
    def from_json(cls, data: dict) -> Vocabulary:
        """Rebuild a vocabulary written by :meth:`to_json`."""
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise DataFormatError("Not a saved rnnlab vocabulary (missing format tag).")
        if data.get("version") != _VERSION:
            raise DataFormatError(
                f"Vocabulary format version {data.get('version')!r} is not supported "
                f"(this rnnlab reads version {_VERSION})."
            )
        try:
            vocab = cls(num_words=data["num_words"], oov_token=data["oov_token"])
            words, counts = data["words"], data["counts"]
            if len(words) != len(counts) or len(set(words)) != len(words):
                raise DataFormatError("Saved vocabulary is corrupt: words and counts disagree.")
            vocab._check_params()
            vocab._set_words(list(zip(words, counts)))
            vocab.n_distinct = int(data.get("n_distinct", len(words)))
            vocab.n_tokens = int(data.get("n_tokens", sum(counts)))
        except (DataFormatError, InvalidInputError):
            raise
        except (KeyError, TypeError, ValueError, OverflowError) as exc:  # int("x"), int(nan), int(inf)
            raise DataFormatError(f"Saved vocabulary is missing or has a bad field: {exc}") from None
        return vocab

    def save(self, path) -> None:
        """Write the vocabulary as JSON (atomically)."""
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path) -> Vocabulary:
        return cls.from_json(read_json(path, "Vocabulary"))

    # -- checks ---------------------------------------------------------------------------

    def _check_params(self) -> None:
        n = self.num_words
        if isinstance(n, np.integer):
            n = self.num_words = int(n)  # keep it JSON-serialisable
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < self.first_word_id):
            raise InvalidInputError(
                f"num_words must be None or an integer >= {self.first_word_id} "
                f"(room for padding{' and the OOV id' if self.oov_token is not None else ''}), "
                f"got {n!r}."
            )
        if self.oov_token is not None and (not isinstance(self.oov_token, str) or not self.oov_token):
            raise InvalidInputError(f"oov_token must be None or a non-empty str, got {self.oov_token!r}.")

    def _check_fitted(self) -> None:
        if not self._fitted:
            raise InvalidInputError(
                "This Vocabulary is not fitted yet: call fit(token_lists) or Vocabulary.load(path)."
            )
