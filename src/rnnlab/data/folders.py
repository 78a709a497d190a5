"""Load texts kept as one file per example, in one folder per class (the IMDB archive's layout).

Two layouts are read::

    reviews/                      reviews/
      pos/*.txt                     train/pos/*.txt   train/neg/*.txt
      neg/*.txt                     test/pos/*.txt    test/neg/*.txt

The class names are the folder names, in sorted order. A folder named ``unsup`` holds
unlabelled texts and is not a class.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rnnlab.data.dataset import TextDataset
from rnnlab.errors import DataFormatError, DataNotFoundError, InvalidInputError

SPLITS = ("train", "test")
UNLABELLED = "unsup"
SUFFIXES = (".txt", ".text", ".md")


def has_splits(path: Path) -> bool:
    """True when ``path`` holds ``train/`` (and usually ``test/``) folders of class folders."""
    return (path / "train").is_dir() and bool(class_folders(path / "train"))


def class_folders(path: Path) -> list[Path]:
    """The class folders directly under ``path``, sorted by name (``unsup`` left out)."""
    try:
        found = sorted((Path(e.path) for e in os.scandir(path) if e.is_dir() and not e.name.startswith(".")),
                       key=lambda p: p.name)
    except OSError as err:
        raise DataNotFoundError(f"Cannot read the folder {path}: {err.strerror}. Check the path.") from None
    return [p for p in found if p.name != UNLABELLED]


def load_folders(path, split: str = "train", *, class_names=None, name: str = "") -> TextDataset:
    """Every text file under ``path``'s class folders, labelled by its folder.

    Args:
        path: a folder of class folders, or of ``train/`` and ``test/`` folders of class folders.
        split: ``"train"`` or ``"test"`` when the folder has those; ignored otherwise.
        class_names: the class order (default: the folder names sorted). Pass the training
            split's names when reading a test split that may lack a class.
        name: the dataset's name (default: the folder's name).

    Example:
        >>> ds = load_folders("reviews/", "train")  # doctest: +SKIP
        >>> ds.class_names  # doctest: +SKIP
        ('neg', 'pos')
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataNotFoundError(f"{root} is not a folder. Pass a folder holding one folder of text files per class.")
    if has_splits(root):
        if split not in SPLITS:
            raise InvalidInputError(f"Unknown split {split!r} for {root}: use 'train' or 'test'.")
        base = root / split
        if not base.is_dir():
            raise DataNotFoundError(f"{root} has no {split}/ folder; it holds {', '.join(_names(root))}.")
    else:
        base = root
    folders = class_folders(base)
    if len(folders) < 1:
        raise DataFormatError(f"{base} holds no class folders: put each class's text files in a folder named "
                              "after the class (e.g. pos/ and neg/).")
    names = tuple(str(c) for c in class_names) if class_names is not None else tuple(f.name for f in folders)
    index = {n: i for i, n in enumerate(names)}
    texts, labels = [], []
    for folder in folders:
        if folder.name not in index:
            raise DataFormatError(f"{folder} is a class the training data does not have (classes: "
                                  f"{', '.join(names)}).")
        files = sorted(e.path for e in os.scandir(folder) if e.is_file() and e.name.lower().endswith(SUFFIXES))
        for file in files:
            texts.append(_read(Path(file)))
            labels.append(index[folder.name])
    if not texts:
        raise DataFormatError(f"{base}: the class folders hold no text files ({', '.join(SUFFIXES)}).")
    return TextDataset(texts, np.asarray(labels, dtype=np.int64), names, name=name or root.name)


def _read(file: Path) -> str:
    data = file.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataFormatError(f"{file}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}). "
                              "Re-save it as UTF-8, e.g. `iconv -f latin1 -t utf-8 IN > OUT`.") from None
    if not text.strip():
        raise DataFormatError(f"{file} is empty: delete it or give it its text.")
    return text


def _names(path: Path) -> list[str]:
    return sorted(e.name for e in os.scandir(path)) or ["nothing"]
