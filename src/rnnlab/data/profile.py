"""What a dataset looks like before a model is trained on it: class balance, lengths, warnings.

The warnings catch the usual mistakes with one's own file: a column mix-up (labels that read
like text), a class too small to learn, one class only, the same text under two labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from rnnlab.data.dataset import TextDataset

# A class with fewer examples than this, or this share of the rows, gets a warning.
TINY_CLASS = 10
TINY_SHARE = 0.01
# Past this ratio of the commonest to the rarest class (one label a text), accuracy mostly rewards the common one.
SKEWED_RATIO = 4.0


@dataclass
class DataProfile:
    """Counts and lengths of a labelled dataset, and what looks wrong with it.

    Attributes:
        examples: number of texts.
        classes: ``{class name: count}`` in class-id order.
        words: text length in whitespace-separated words: ``mean``, ``median``, ``p90``,
            ``p99`` and ``max``.
        warnings: one sentence per suspicious finding (empty when nothing looks wrong).
        target: for numbers to predict, the target's name and its ``min``, ``median``, ``mean``, ``std``
            and ``max`` (``classes`` is then empty); None otherwise.
    """

    examples: int
    classes: dict[str, int]
    words: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    target: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def share(self, name: str) -> float:
        return self.classes[name] / max(1, self.examples)


def profile(dataset: TextDataset) -> DataProfile:
    """Profile ``dataset`` (labelled or not).

    Example:
        >>> p = profile(TextDataset(["good film", "bad", "fine"], np.array([1, 0, 1]), ("neg", "pos")))
        >>> p.classes, p.words["max"]
        ({'neg': 1, 'pos': 2}, 2.0)
    """
    lengths = np.asarray([len(t.split()) for t in dataset.texts], dtype=np.float64)
    words = {"mean": 0.0, "median": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}
    if len(lengths):
        words = {"mean": round(float(lengths.mean()), 1), "median": float(np.median(lengths)),
                 "p90": float(np.percentile(lengths, 90)), "p99": float(np.percentile(lengths, 99)),
                 "max": float(lengths.max())}
    classes: dict[str, int] = {}
    warnings: list[str] = []
    target = None
    if dataset.numeric:
        values = dataset.labels.astype(np.float64)
        target = {"name": dataset.class_names[0], "min": float(values.min()), "median": float(np.median(values)),
                  "mean": round(float(values.mean()), 4), "std": round(float(values.std()), 4),
                  "max": float(values.max())}
    elif dataset.labels is not None:
        counts = dataset.class_counts()
        classes = {name: int(c) for name, c in zip(dataset.class_names, counts)}
        warnings += _label_warnings(dataset, classes)
    if len(lengths) and words["median"] <= 2:
        warnings.append(f"The texts are very short (median {words['median']:g} words): check that the text "
                        "column holds the documents.")
    return DataProfile(len(dataset), classes, words, warnings, target)


def _label_warnings(dataset: TextDataset, classes: dict[str, int]) -> list[str]:
    found = []
    n = len(dataset)
    present = [name for name, count in classes.items() if count]
    if len(present) == 1:
        found.append(f"Every example has the label {present[0]!r}: a classifier needs two or more classes; check "
                     "the label column.")
    name_length = np.mean([len(name) for name in dataset.class_names]) if dataset.class_names else 0
    if len(dataset.class_names) > 20 and (len(dataset.class_names) > n / 10 or name_length > 30):
        found.append(f"The labels look like text ({len(dataset.class_names)} distinct values, e.g. "
                     f"{_clip(dataset.class_names[0])!r}): are the text and label columns swapped?")
    elif len(present) > 1:
        for name, count in classes.items():
            if count and (count < TINY_CLASS or count / n < TINY_SHARE):
                found.append(f"Class {name!r} has only {count} of {n:,} examples ({100 * count / n:.1f}%): the model "
                             "will rarely predict it; add examples or merge it into another class.")
    counted = [count for count in classes.values() if count]
    if not dataset.multi_label and len(counted) > 1 and max(counted) / min(counted) > SKEWED_RATIO:
        common, rare = max(classes, key=classes.get), min((c for c in classes if classes[c]), key=classes.get)
        found.append(f"The classes are skewed {max(counted) / min(counted):.1f}:1 ({common!r} against {rare!r}): "
                     "accuracy mostly rewards the common class. `train auto` weighs the classes (balanced) past "
                     f"{SKEWED_RATIO:g}:1; elsewhere pass --class-weight balanced.")
    labels_of: dict[str, set] = {}
    rows = map(tuple, dataset.labels.tolist()) if dataset.multi_label else dataset.labels.tolist()
    for text, label in zip(dataset.texts, rows):
        labels_of.setdefault(text.strip(), set()).add(label)
    conflicting = sum(1 for labels in labels_of.values() if len(labels) > 1)
    if conflicting:
        found.append(f"{conflicting:,} distinct text(s) appear under more than one label: the file may be "
                     "mislabelled.")
    return found


def covering_length(texts, share: float = 0.9, *, step: int = 50, low: int = 32, high: int = 800) -> int:
    """A maximum length in tokens that covers ``share`` of ``texts`` whole, rounded up to ``step``.

    The tutorials' advice for choosing ``maxlen``: look at the length distribution and cover
    most texts, without padding everything to the longest. Words are counted by whitespace.

    Example:
        >>> covering_length(["a b c"] * 9 + ["a " * 500])
        50
    """
    lengths = np.sort([len(t.split()) for t in texts])
    if not len(lengths):
        return low
    covered = int(lengths[min(len(lengths) - 1, int(share * len(lengths)))])
    return int(min(high, max(low, step * int(np.ceil(covered / step)))))


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
