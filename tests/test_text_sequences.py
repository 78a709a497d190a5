"""pad: Keras pad_sequences semantics, both sides, and input checks."""

import numpy as np
import pytest

from rnnlab.errors import InvalidInputError
from rnnlab.text import pad

SEQS = [[1, 2, 3, 4, 5], [6, 7], []]


def test_pre_padding_pre_truncation_keeps_the_end():
    assert pad(SEQS, maxlen=3).tolist() == [[3, 4, 5], [0, 6, 7], [0, 0, 0]]


def test_post_padding_post_truncation_keeps_the_start():
    out = pad(SEQS, maxlen=3, padding="post", truncating="post")
    assert out.tolist() == [[1, 2, 3], [6, 7, 0], [0, 0, 0]]


def test_mixed_sides():
    assert pad(SEQS, maxlen=3, padding="post", truncating="pre").tolist() == [[3, 4, 5], [6, 7, 0], [0, 0, 0]]
    assert pad(SEQS, maxlen=3, padding="pre", truncating="post").tolist() == [[1, 2, 3], [0, 6, 7], [0, 0, 0]]


def test_maxlen_none_pads_to_the_longest_and_dtype_is_int32():
    out = pad(SEQS, maxlen=None)
    assert out.shape == (3, 5) and out.dtype == np.int32
    assert out[1].tolist() == [0, 0, 0, 6, 7]
    assert pad(SEQS, maxlen=7, dtype="int64").dtype == np.int64


def test_empty_input_and_arrays():
    assert pad([], maxlen=4).shape == (0, 4)
    assert pad(np.array([[1, 2], [3, 4]]), maxlen=1).tolist() == [[2], [4]]
    assert pad([np.array([5, 6, 7])], maxlen=2).tolist() == [[6, 7]]


@pytest.mark.parametrize("kwargs", [
    {"maxlen": 0}, {"maxlen": -3}, {"maxlen": 2.5},
    {"maxlen": 3, "padding": "middle"}, {"maxlen": 3, "truncating": "end"},
])
def test_bad_options_are_rejected(kwargs):
    with pytest.raises(InvalidInputError):
        pad(SEQS, **kwargs)
