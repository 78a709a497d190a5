"""IMDB star ratings as classes or as numbers: the tasks hidden in the review file names.

Labelled IMDB reviews are rated 1-4 (negative) or 7-10 (positive); 5 and 6 are not in the
labelled splits. Class names are the ratings themselves, so metrics can read them as numbers
(mean absolute rating error).
"""

from __future__ import annotations

import numpy as np

from rnnlab.data.dataset import TextDataset
from rnnlab.errors import InvalidInputError

RATING_CLASSES = ("1", "2", "3", "4", "7", "8", "9", "10")


def by_rating(dataset: TextDataset) -> TextDataset:
    """The same reviews, labelled by star rating: class `i` is rating `RATING_CLASSES[i]`.

    Args:
        dataset: a dataset with `ratings` (e.g. `load_imdb("train")`).

    Example:
        >>> train = by_rating(load_imdb("train"))  # doctest: +SKIP
        >>> train.class_names  # doctest: +SKIP
        ('1', '2', '3', '4', '7', '8', '9', '10')
    """
    if dataset.ratings is None:
        raise InvalidInputError(f"{dataset.name or 'This dataset'} has no star ratings to use as classes.")
    ratings = np.asarray(dataset.ratings).astype(np.int64)
    index = {int(r): i for i, r in enumerate(RATING_CLASSES)}
    unknown = sorted(set(np.unique(ratings).tolist()) - set(index))
    if unknown:
        raise InvalidInputError(
            f"Ratings {unknown} are not among the rating classes {', '.join(RATING_CLASSES)} "
            f"(IMDB's labelled reviews are rated 1-4 or 7-10).")
    labels = np.fromiter((index[int(r)] for r in ratings), dtype=np.int64, count=len(ratings))
    return TextDataset(dataset.texts, labels, RATING_CLASSES, name=f"{dataset.name}-ratings",
                       ratings=dataset.ratings, fields=dataset.fields)


def by_score(dataset: TextDataset) -> TextDataset:
    """The same reviews, each labelled by its star rating as a number (a regression target named ``rating``).

    Example:
        >>> train = by_score(load_imdb("train"))  # doctest: +SKIP
        >>> train.numeric, train.class_names  # doctest: +SKIP
        (True, ('rating',))
    """
    if dataset.ratings is None:
        raise InvalidInputError(f"{dataset.name or 'This dataset'} has no star ratings to predict.")
    return TextDataset(dataset.texts, np.asarray(dataset.ratings, dtype=np.float32), ("rating",),
                       name=f"{dataset.name}-score", ratings=dataset.ratings, fields=dataset.fields)
