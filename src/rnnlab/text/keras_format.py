"""Read and write IMDB in the format of ``keras.datasets.imdb``, to share data with classic Keras code.

The format is two files: ``imdb.npz`` with ``x_train``, ``y_train``, ``x_test``,
``y_test`` (each review a list of word *ranks*, 1 = most frequent word of the training
texts, stored as a NumPy object array) and ``imdb_word_index.json`` mapping each word to
its rank. :func:`load_keras_imdb` applies ``load_data``'s options (shuffle, start
character, ``index_from`` shift, ``num_words``/``skip_top``, ``maxlen``) on top.

Object arrays can only be stored as pickles, so ``np.load`` needs ``allow_pickle=True``
to read them. Like Keras, :func:`load_keras_imdb` unpickles with an allow-list that only
rebuilds NumPy arrays, but a pickle stream is still untrusted input: only read files
from a source you trust.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from rnnlab.errors import DataFormatError, DataNotFoundError, InvalidInputError
from rnnlab.files import DAMAGED_NUMPY_FILE_ERRORS, atomic_path, read_json, write_json
from rnnlab.text.tokenize import Tokenizer

_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
# The only globals needed to rebuild an object array of lists (numpy 1.x and 2.x names).
_ALLOWED_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
})


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from an .npz data file")


def _read_npy(stream) -> np.ndarray:
    try:
        return np.lib.format.read_array(stream, allow_pickle=False)
    except ValueError:  # an object array: a pickle after the header
        stream.seek(0)
        major, _ = np.lib.format.read_magic(stream)
        if major == 1:
            np.lib.format.read_array_header_1_0(stream)
        else:  # 2.0 and 3.0 headers have the same layout
            np.lib.format.read_array_header_2_0(stream)
        try:
            return _ArrayOnlyUnpickler(stream).load()
        except pickle.UnpicklingError:
            raise
        except Exception as exc:  # a damaged pickle stream fails in a dozen ways (KeyError, struct.error...)
            raise pickle.UnpicklingError(f"damaged pickle data ({type(exc).__name__}: {exc})") from None


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise DataNotFoundError(f"Keras IMDB file not found: {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            arrays = {}
            for name in archive.namelist():
                if name.endswith(".npy") and name[:-4] in _ARRAYS:
                    arrays[name[:-4]] = _read_npy(io.BytesIO(archive.read(name)))
    except (*DAMAGED_NUMPY_FILE_ERRORS, pickle.UnpicklingError, ValueError) as exc:
        raise DataFormatError(f"{path} is not a Keras IMDB .npz file: {exc}") from None
    missing = [name for name in _ARRAYS if name not in arrays]
    if missing:
        raise DataFormatError(f"{path} lacks the arrays {', '.join(missing)}.")
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.ndim in (1, 2) and y.ndim == 1
                and len(x) == len(y) and y.dtype.kind in "biu"):
            raise DataFormatError(
                f"{path} is not a Keras IMDB .npz file: x_{split} must hold one word-id list per review and "
                f"y_{split} one integer label per review; got {_describe(x)} and {_describe(y)}.")
    return arrays


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def load_keras_imdb(npz_path, *, num_words=None, skip_top=0, maxlen=None, seed=113,
                    start_char=1, oov_char=2, index_from=3):
    """``keras.datasets.imdb.load_data`` on a local ``imdb.npz`` (no download).

    Same arguments and the same arrays as Keras' function, Keras' quirks included:
    ``maxlen`` keeps sequences *shorter* than ``maxlen`` (start character counted), and
    without ``num_words`` the limit is the largest id, so the one word with the largest
    id becomes ``oov_char``. The ``x`` arrays are always 1-D object arrays of lists (Keras
    returns a 2-D array in the corner case where all kept reviews have the same length).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``.
    """
    arrays = _read_npz(Path(npz_path))
    x_train, labels_train = arrays["x_train"], arrays["y_train"]
    x_test, labels_test = arrays["x_test"], arrays["y_test"]

    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    try:
        if start_char is not None:
            x_train = [[start_char] + [w + index_from for w in x] for x in x_train]
            x_test = [[start_char] + [w + index_from for w in x] for x in x_test]
        else:
            x_train = [[w + index_from for w in x] for x in x_train]
            x_test = [[w + index_from for w in x] for x in x_test]
    except TypeError:  # a review that is not a list, or a word id that is not a number
        raise DataFormatError(f"{npz_path} is not a Keras IMDB .npz file: its reviews must be lists of integer "
                              "word ids.") from None

    if maxlen:
        x_train, labels_train = _remove_long(maxlen, x_train, labels_train)
        x_test, labels_test = _remove_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise InvalidInputError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence "
                "was kept. Increase maxlen."
            )

    xs = x_train + x_test
    labels = np.concatenate([labels_train, labels_test])
    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]

    split = len(x_train)
    return (_object_array(xs[:split]), labels[:split]), (_object_array(xs[split:]), labels[split:])


def _remove_long(maxlen, sequences, labels):
    kept = [(x, y) for x, y in zip(sequences, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def _object_array(sequences) -> np.ndarray:
    array = np.empty(len(sequences), dtype=object)
    for i, sequence in enumerate(sequences):
        array[i] = sequence
    return array


def load_keras_word_index(json_path) -> dict[str, int]:
    """Read ``imdb_word_index.json``: word -> rank (1 = most frequent)."""
    data = read_json(json_path, "Keras word index")
    if not isinstance(data, dict) or not all(
        isinstance(w, str) and isinstance(i, int) and not isinstance(i, bool) for w, i in data.items()
    ):
        raise DataFormatError(f"{json_path} is not a word index (a JSON object of word: rank).")
    return data


def export_keras_imdb(train_texts, train_labels, test_texts, test_labels, npz_path, word_index_path,
                      tokenizer: Tokenizer | None = None) -> tuple[Path, Path]:
    """Write reviews in the ``keras.datasets.imdb`` format (both files, atomically).

    Words are ranked by frequency in the *training* texts (ties in first-seen order);
    test words never seen in training are left out of the test sequences, as in Keras'
    own file. The sequences are object arrays, so reading them back needs
    ``allow_pickle`` (or :func:`load_keras_imdb`), like Keras' file: share them only with
    people who trust you, and read only files you trust.

    Args:
        train_texts, test_texts: lists of review strings.
        train_labels, test_labels: 0/1 labels, one per text.
        npz_path: where to write ``imdb.npz``.
        word_index_path: where to write ``imdb_word_index.json``.
        tokenizer: defaults to ``Tokenizer("keras")``, the tokenization of Keras' file.

    Returns:
        The two paths written.
    """
    tokenizer = tokenizer or Tokenizer("keras")
    splits = {}
    for name, texts, labels in (("train", train_texts, train_labels), ("test", test_texts, test_labels)):
        texts = list(texts)
        labels = np.asarray(labels)
        if labels.ndim != 1 or len(labels) != len(texts):
            raise InvalidInputError(
                f"{name}: {len(texts)} texts but labels of shape {labels.shape}; need one label per text."
            )
        splits[name] = (tokenizer.tokenize_many(texts), labels.astype(np.int64))

    counts = Counter()
    for tokens in splits["train"][0]:
        counts.update(tokens)
    word_index = {word: rank for rank, (word, _) in enumerate(counts.most_common(), start=1)}
    get = word_index.get
    arrays = {}
    for name, (token_lists, labels) in splits.items():
        arrays[f"x_{name}"] = _object_array([list(filter(None, map(get, t))) for t in token_lists])
        arrays[f"y_{name}"] = labels

    npz_path = Path(npz_path)
    with atomic_path(npz_path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return npz_path, write_json(word_index_path, word_index)
