"""The one way rnnlab splits data: validation rows carved from training rows, and a held-out test set.

Every model, baseline, sweep and search uses these two functions, so a linear baseline is
tuned on exactly the rows a recurrent model chose its epoch on.
"""

from __future__ import annotations

import numpy as np

from rnnlab.errors import InvalidInputError

__all__ = ["split_validation", "split_holdout"]


def split_validation(n: int, fraction: float, seed: int = 0, *, required: bool = False
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(fit, validation)`` of ``n`` training rows.

    Keras' ``fit(validation_split=...)`` takes the *last* rows without shuffling; datasets
    here are often ordered by class, so the rows are shuffled first (``default_rng(seed)``)
    and the last ``round(n * fraction)`` of the shuffled order validate. ``fit`` followed by
    ``validation`` is that whole shuffled order.

    Args:
        n: number of training rows.
        fraction: share held out for validation, in [0, 1).
        seed: the shuffle's seed.
        required: refuse a split that leaves no validation row (or no fitting row).
    """
    if not isinstance(fraction, (int, float)) or not 0.0 <= fraction < 1.0:
        raise InvalidInputError(f"validation_split must be in [0, 1), got {fraction!r}.")
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * fraction))
    if required and (n_val < 1 or n_val >= n):
        raise InvalidInputError(f"validation_split={fraction} of {n} training rows leaves an empty validation or "
                                "training part; use more data or another fraction.")
    return order[: n - n_val], order[n - n_val:]


def split_holdout(dataset, fraction: float, seed: int = 0):
    """``(train, test)`` datasets: a stratified held-out test set, for data that ships without one."""
    # scikit-learn takes about a second to import; only datasets without a test split need it.
    from sklearn.model_selection import train_test_split

    if not 0.0 < fraction < 1.0:
        raise InvalidInputError(f"The held-out test fraction must be in (0, 1), got {fraction!r}.")
    counts = _class_counts(dataset)
    lonely = [name for name, count in zip(dataset.class_names, counts) if count == 1]
    if lonely:
        raise InvalidInputError(f"Cannot hold out a test set with every class: class(es) {lonely} have a single "
                                "example. Add examples, or give a test file (--test).")
    try:
        train_idx, test_idx = train_test_split(np.arange(len(dataset)), test_size=fraction, random_state=seed,
                                               stratify=_strata(dataset))
    except ValueError as err:  # too few rows for one test example per class, for instance
        raise InvalidInputError(f"Cannot hold out {fraction:g} of {len(dataset)} examples as a test set with every "
                                f"class in it ({err}). Add examples, change the share (--test-fraction), or give a "
                                "test file (--test).") from None
    return dataset.subset(np.sort(train_idx)), dataset.subset(np.sort(test_idx))


def _class_counts(dataset) -> np.ndarray:
    """Examples per class of a text or a numeric-sequence dataset (rows holding each label, for label sets)."""
    if getattr(dataset, "multi_label", False) or getattr(dataset, "numeric", False):
        return dataset.class_counts()
    return np.bincount(dataset.labels, minlength=len(dataset.class_names))


def _strata(dataset) -> np.ndarray:
    """What a held-out split keeps in proportion: the class, for label sets each row's rarest label, for numbers
    the quintile of the value (ties share a quintile)."""
    if getattr(dataset, "numeric", False):
        values = np.asarray(dataset.labels)
        edges = np.unique(np.quantile(values, [0.2, 0.4, 0.6, 0.8]))
        strata = np.searchsorted(edges, values, side="right")
        sizes = np.bincount(strata)
        return np.where(sizes[strata] < 2, int(sizes.argmax()), strata)
    if not getattr(dataset, "multi_label", False):
        return dataset.labels
    counts = dataset.class_counts()
    rarity = np.where(dataset.labels > 0, counts[None, :], np.iinfo(np.int64).max)
    rarest = rarity.argmin(axis=1)
    # A label that is the rarest of a single row cannot be split; such rows join the commonest stratum.
    sizes = np.bincount(rarest, minlength=len(counts))
    return np.where(sizes[rarest] < 2, int(counts.argmax()), rarest)
