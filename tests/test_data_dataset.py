"""TextDataset: parallel arrays stay aligned through subset and sample."""

import numpy as np
import pytest

from rnnlab.data import TextDataset
from rnnlab.errors import InvalidInputError


def _dataset(n_neg=30, n_pos=10):
    n = n_neg + n_pos
    return TextDataset(
        texts=[f"text {i}" for i in range(n)],
        labels=np.array([0] * n_neg + [1] * n_pos),
        class_names=("neg", "pos"),
        name="toy",
        ratings=np.arange(n, dtype=np.int8),
        fields={"title": [f"title {i}" for i in range(n)]},
    )


def test_basic_properties():
    ds = _dataset()
    assert len(ds) == 40
    assert ds.num_classes == 2
    assert ds.labels.dtype == np.int64
    assert "n=40" in repr(ds) and "text 0" not in repr(ds)


def test_subset_keeps_every_array_aligned():
    ds = _dataset()
    sub = ds.subset([35, 2, 35])
    assert sub.texts == ["text 35", "text 2", "text 35"]
    assert sub.labels.tolist() == [1, 0, 1]
    assert sub.ratings.tolist() == [35, 2, 35]
    assert sub.fields["title"] == ["title 35", "title 2", "title 35"]
    assert sub.class_names == ds.class_names and sub.name == "toy"


def test_subset_accepts_a_boolean_mask():
    ds = _dataset()
    sub = ds.subset(ds.labels == 1)
    assert len(sub) == 10 and set(sub.labels.tolist()) == {1}
    assert sub.texts[0] == "text 30"
    with pytest.raises(InvalidInputError):
        ds.subset(np.array([True, False]))


def test_sample_is_stratified_reproducible_and_aligned():
    ds = _dataset(n_neg=30, n_pos=10)
    a = ds.sample(20, seed=3)
    b = ds.sample(20, seed=3)
    assert len(a) == 20
    assert np.bincount(a.labels).tolist() == [15, 5]  # 3:1 like the source
    assert a.texts == b.texts
    assert len(set(a.texts)) == 20  # no example drawn twice
    for text, label, rating, title in zip(a.texts, a.labels, a.ratings, a.fields["title"]):
        i = int(text.split()[1])
        assert (label, rating, title) == (ds.labels[i], ds.ratings[i], f"title {i}")
    assert ds.sample(20, seed=4).texts != a.texts


def test_sample_larger_than_dataset_returns_it_and_rejects_bad_n():
    ds = _dataset()
    assert ds.sample(40) is ds and ds.sample(1000) is ds
    with pytest.raises(InvalidInputError):
        ds.sample(0)


def test_sample_without_labels():
    ds = TextDataset([str(i) for i in range(10)], None, ())
    sub = ds.sample(4, seed=1)
    assert len(sub) == 4 and sub.labels is None and len(set(sub.texts)) == 4


def test_mismatched_lengths_and_bad_labels_are_rejected():
    with pytest.raises(InvalidInputError, match="labels has 1 entries"):
        TextDataset(["a", "b"], np.array([0]), ("neg", "pos"))
    with pytest.raises(InvalidInputError, match="class ids"):
        TextDataset(["a", "b"], np.array([0, 2]), ("neg", "pos"))
    with pytest.raises(InvalidInputError, match="title"):
        TextDataset(["a"], None, (), fields={"title": []})
