"""IMDB star ratings as an 8-class task: labels from the file names, softmax head, rating error."""

import numpy as np
import pytest

from rnnlab.data import RATING_CLASSES, TextDataset, by_rating, load_dataset
from rnnlab.errors import InvalidInputError
from rnnlab.training.metrics import classification_metrics


def test_ratings_become_eight_classes(imdb_archive):
    test = load_dataset("imdb-ratings", "test")
    assert test.class_names == RATING_CLASSES == ("1", "2", "3", "4", "7", "8", "9", "10")
    assert len(test) == 25_000
    stars = np.asarray(test.class_names, dtype=int)[test.labels]
    np.testing.assert_array_equal(stars, test.ratings)
    assert set(np.unique(test.labels)) == set(range(8))
    binary = load_dataset("imdb", "test")
    np.testing.assert_array_equal(binary.labels, (stars >= 7).astype(int))  # 1-4 negative, 7-10 positive


def test_by_rating_needs_known_ratings():
    with pytest.raises(InvalidInputError, match="no star ratings"):
        by_rating(TextDataset(["a"], np.array([0]), ("neg", "pos")))
    with pytest.raises(InvalidInputError, match=r"\[5\]"):
        by_rating(TextDataset(["a"], np.array([0]), ("neg", "pos"), ratings=np.array([5])))


def test_rating_mae_reads_class_names_as_numbers():
    y = np.array([0, 7, 3])  # ratings 1, 10, 4
    probs = np.eye(8)[[1, 7, 4]]  # predicted 2, 10, 7
    metrics = classification_metrics(y, probs, RATING_CLASSES)
    assert metrics["rating_mae"] == pytest.approx((1 + 0 + 3) / 3)
    assert np.asarray(metrics["confusion_matrix"]).shape == (8, 8)
    assert "rating_mae" not in classification_metrics(y, probs, [f"c{i}" for i in range(8)])
    assert "rating_mae" not in classification_metrics(np.array([0, 1]), np.eye(2), ("0", "1"))
    digits = [str(i) for i in range(10)]  # class ids as names: categories, not ratings
    assert "rating_mae" not in classification_metrics(np.array([3, 8]), np.eye(10)[[3, 5]], digits)
    assert "rating_mae" in classification_metrics(np.array([0, 2]), np.eye(5)[[1, 2]], ("1", "2", "3", "4", "5"))


def test_rating_model_trains_with_softmax_head(imdb_archive):
    from rnnlab.training.engine import train

    result = train("lstm", dataset="imdb-ratings", limit=2000, epochs=4, vocab_size=5000, maxlen=150,
                   learning_rate=0.005, verbose=0)
    assert result.spec.num_classes == 8 and not result.spec.binary
    assert result.model.output_shape == (None, 8)
    assert result.class_names == RATING_CLASSES
    matrix = np.asarray(result.test["confusion_matrix"])  # rows: true rating, columns: predicted
    assert matrix.shape == (8, 8) and matrix.sum() == result.test["examples"]
    stars = np.asarray(RATING_CLASSES, dtype=float)
    mae = result.test["rating_mae"]
    assert mae == pytest.approx((matrix * np.abs(stars[:, None] - stars[None, :])).sum() / matrix.sum())
    # Always answering the most common rating (1 or 10) errs by about 4.5 stars; the model learns
    # at least which end a review belongs to. Measured 3.31, 3.52 and 3.41 with seeds 0, 1 and 2
    # against 4.51 for that guess (a model that learnt nothing predicts one class: about 4.5).
    majority = (matrix.sum(axis=1) * np.abs(stars - stars[matrix.sum(axis=1).argmax()])).sum() / matrix.sum()
    assert mae < majority - 0.5, (mae, majority)
