"""GoEmotions (Demszky et al., ACL 2020): Reddit comments with one or more of 28 labels.

The release is a folder of three TSV files without a header, ``text<TAB>label ids<TAB>comment
id`` (ids comma-separated, 0-based into ``labels.txt``), plus ``labels.txt``, one name a line.
Each file is looked up as ``goemotions/<file>`` in ``$RNNLAB_DATA_DIR``, then the cache, and
downloaded from the authors' repository with its checksum verified when missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.data.dataset import TextDataset
from rnnlab.data.locate import locate
from rnnlab.data.tables import read_utf8
from rnnlab.errors import DataFormatError, unknown_name

FOLDER = "goemotions"
SPLITS = ("train", "dev", "test")
GOEMOTIONS_URL = "https://raw.githubusercontent.com/google-research/google-research/master/goemotions/data/"
GOEMOTIONS_SHA256 = {
    "train.tsv": "1c254a142be5c00e80d819b9ae1bbd36d94b2eeb8f4b1271846508d57e57d9c5",
    "dev.tsv": "575489c079c9de1097062a01738f998590d6b7ead66dd1c9fd1d2ba01fd8bc62",
    "test.tsv": "0587b2dd8b27b97352adbfc3fb083d46005c8946657fdc2b1ca8b1cc7f1f8be4",
    "labels.txt": "45c3ef86782d2a4d7fedcd6d8c111aa0d0e94720689bd164fac94fefb4495a89",
}


def load_goemotions(split: str = "train", path=None) -> TextDataset:
    """GoEmotions' ``train`` (43,410), ``dev`` (5,426) or ``test`` (5,427) comments as a multi-label dataset.

    Args:
        split: ``"train"``, ``"dev"`` (``"validation"``) or ``"test"``.
        path: the ``goemotions`` folder (holding ``train.tsv`` ... ``labels.txt``); default: look in
            ``$RNNLAB_DATA_DIR/goemotions``, then the cache, then download.

    ``labels`` is ``(n, 28)`` of 0/1, one column per name in ``labels.txt`` (27 emotions and
    ``neutral``).

    Example:
        >>> ds = load_goemotions("dev")  # doctest: +SKIP
        >>> ds.multi_label, ds.num_classes  # doctest: +SKIP
        (True, 28)
    """
    split = {"validation": "dev"}.get(split, split)
    if split not in SPLITS:
        raise unknown_name("GoEmotions split", split, SPLITS)
    names = [line.strip() for line in read_utf8(_file("labels.txt", path)).split("\n") if line.strip()]
    if len(names) < 2:
        raise DataFormatError(f"{_file('labels.txt', path)} names {len(names)} label(s); expected one name a line.")
    file = _file(f"{split}.tsv", path)
    texts, rows = [], []
    for number, line in enumerate(read_utf8(file).split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != 3:
            raise DataFormatError(f"{file}, line {number}: {len(cells)} tab-separated cells; expected text, label "
                                  "ids and comment id.")
        text, ids = cells[0], cells[1]
        try:
            row = [int(i) for i in ids.split(",")]
        except ValueError:
            raise DataFormatError(f"{file}, line {number}: the labels {ids!r} are not comma-separated ids.") from None
        if not text.strip() or not row or min(row) < 0 or max(row) >= len(names):
            raise DataFormatError(f"{file}, line {number}: an empty text or a label id outside 0..{len(names) - 1}.")
        texts.append(text)
        rows.append(row)
    if not texts:
        raise DataFormatError(f"{file} holds no comments.")
    labels = np.zeros((len(texts), len(names)), dtype=np.int8)
    labels[np.repeat(np.arange(len(rows)), [len(r) for r in rows]), np.concatenate(rows)] = 1
    return TextDataset(texts, labels, tuple(names), name="goemotions")


def _file(name: str, path) -> Path:
    if path is not None:
        folder = Path(path).expanduser()
        return locate(name, folder.parent if folder.is_file() else folder)
    return locate(f"{FOLDER}/{name}", url=GOEMOTIONS_URL + name, sha256=GOEMOTIONS_SHA256[name])
