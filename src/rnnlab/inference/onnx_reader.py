"""Read an rnnlab ONNX export without rnnlab: raw texts -> token ids -> the model -> probabilities.

`rnnlab export BUNDLE --format onnx --out DIR` writes ``DIR/model.onnx``, ``DIR/preprocessing.json``
and this file, as ``DIR/rnnlab_reader.py``. Its token ids need the Python standard library only; the
probabilities need numpy and onnxruntime. What ``preprocessing.json`` holds:

* ``tokenizer``: the rules ("keras" mode): HTML line breaks (``<br />``, ``<br/>``, ``<br>``, any
  case) become spaces, the text is lower-cased, every character of ``filters`` becomes a space, and
  the text is split on whitespace;
* ``vocabulary``: ``words`` in id order. With an ``oov_token``, id 1 is an unknown word and the
  words start at id 2; without one they start at id 1 and unknown words are dropped. Id 0 pads;
* ``maxlen``, ``padding`` and ``truncating``: each row is cut to ``maxlen`` ids (``"pre"``: the
  first ids go, keeping the end of a long text) and filled with zeros on the ``padding`` side
  (``maxlen`` null: to the longest row of the batch);
* a two-field model (title and body, say): ``fields``, each field's ``maxlen``; each field is the ONNX
  input of its name, read by the same rules and vocabulary at its own length (a blank field is all
  padding), and records are dicts ``{"title": ..., "body": ...}``;
* a model of numeric sequences: ``sequences`` in place of the tokenizer and vocabulary: each record is a
  ``(steps, features)`` list of rows; each feature has ``mean`` subtracted and is divided by ``std``,
  the record is cut to ``maxlen`` steps (``truncating``) and padded with steps of ``mask_value``
  (``padding``), giving a float32 ``(n, maxlen, features)`` input;
* ``input``: the ONNX input's name (one text, or sequences); ``output``: what the ONNX output means (``kind``: ``"sigmoid"``,
  one column, the probability of class 1 of two; ``"softmax"``; ``"sigmoids"``, one per label; or
  ``"regression"``, a number), the ``class_names``, the ``temperature`` the log-odds are divided by,
  and a multi-label model's ``thresholds`` or a two-class model's ``decision_threshold``.

Example::

    from rnnlab_reader import Reader
    reader = Reader("DIR")
    reader.ids(["An excellent movie!"])            # [[0, 0, ..., 33, 322, 17]]
    reader.predict(["An excellent movie!"])        # [{"label": "pos", "probabilities": {...}}]
"""

from __future__ import annotations

import json
import re
from pathlib import Path

FORMAT = "rnnlab.onnx-export"
VERSION = 1
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_EPS = 1e-12


class Reader:
    """The preprocessing and output rules of one export folder (or its ``preprocessing.json``)."""

    def __init__(self, path):
        path = Path(path)
        self.folder = path if path.is_dir() else path.parent
        with open(path / "preprocessing.json" if path.is_dir() else path, encoding="utf-8") as handle:
            spec = json.load(handle)
        if spec.get("format") != FORMAT or spec.get("version") != VERSION:
            raise ValueError(f"{path} is not an rnnlab ONNX export's preprocessing (format {FORMAT}, version {VERSION}).")
        self.spec = spec
        self.fields = spec.get("fields")  # {field: maxlen} for a model reading several fields, else None
        self.sequences = spec.get("sequences")  # a model of numeric sequences: their scaling and padding
        self._session = None
        if self.sequences is not None:
            return
        rules = spec["tokenizer"]
        if rules["mode"] != "keras":
            raise ValueError(f"Tokenizer mode {rules['mode']!r}: this reader knows the 'keras' rules only.")
        self.table = {ord(c): " " for c in rules["filters"]}
        vocabulary = spec["vocabulary"]
        self.oov = 1 if vocabulary["oov_token"] is not None else None
        start = 2 if self.oov is not None else 1
        self.index = {word: start + k for k, word in enumerate(vocabulary["words"])}
        self.maxlen, self.padding, self.truncating = spec["maxlen"], spec["padding"], spec["truncating"]

    def tokens(self, text: str) -> list[str]:
        """The tokens of one text."""
        if "<" in text:
            text = _HTML_BREAK.sub(" ", text)
        return text.lower().translate(self.table).split()

    def row(self, text: str) -> list[int]:
        """The ids of one text's tokens, before cutting and padding."""
        found = (self.index.get(token, self.oov) for token in self.tokens(text))
        return [i for i in found if i is not None]

    def ids(self, records):
        """Each text's ids, cut to ``maxlen`` and padded with zeros: the model's input rows; for a model
        reading several fields, ``{field: rows}`` of the records' fields, each at its own length."""
        if self.fields is None:
            return self._rows([self.row(text) for text in records], self.maxlen)
        return {name: self._rows([self.row(record.get(name) or "") for record in records], maxlen)
                for name, maxlen in self.fields.items()}

    def _rows(self, rows: list[list[int]], maxlen) -> list[list[int]]:
        width = maxlen if maxlen is not None else max((len(r) for r in rows), default=0)
        out = []
        for row in rows:
            if len(row) > width:
                row = row[len(row) - width:] if self.truncating == "pre" else row[:width]
            fill = [0] * (width - len(row))
            out.append(fill + row if self.padding == "pre" else row + fill)
        return out

    # -- the model (numpy and onnxruntime) ------------------------------------------------------

    def steps(self, records):
        """Numeric sequences, each ``(steps, features)``, scaled, cut and padded: the model's float32 input
        ``(n, maxlen, features)``."""
        import numpy as np

        rules = self.sequences
        mean, std = np.asarray(rules["mean"], np.float32), np.asarray(rules["std"], np.float32)
        rows = [np.asarray(record, dtype=np.float32) for record in records]
        for i, row in enumerate(rows):
            if row.ndim != 2 or row.shape[1] != len(mean):
                raise ValueError(f"Record {i} has shape {row.shape}; expected (steps, {len(mean)}).")
        width = rules["maxlen"] or max((len(row) for row in rows), default=0)
        out = np.full((len(rows), width, len(mean)), rules["mask_value"], dtype=np.float32)
        for i, row in enumerate(rows):
            row = row[-width:] if rules["truncating"] == "pre" else row[:width]
            row = (row - mean) / std
            if rules["padding"] == "pre":
                out[i, width - len(row):] = row
            else:
                out[i, :len(row)] = row
        return out

    def feed(self, records) -> dict:
        """The ONNX inputs of ``records`` by name (texts, field records or numeric sequences)."""
        import numpy as np

        if self.sequences is not None:
            return {self.spec["input"]: self.steps(records)}
        ids = self.ids(records)
        if self.fields is not None:
            return {name: np.asarray(rows, dtype=np.int32) for name, rows in ids.items()}
        return {self.spec["input"]: np.asarray(ids, dtype=np.int32)}

    def probabilities(self, texts):
        """Class probabilities ``(n, classes)`` as rnnlab gives them (a regression: the numbers ``(n, 1)``), for
        texts (or field records, or numeric sequences)."""
        import numpy as np

        if self._session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3  # errors only: not a line per unused constant the converter left
            self._session = onnxruntime.InferenceSession(str(self.folder / "model.onnx"), options,
                                                         providers=["CPUExecutionProvider"])
        out = np.asarray(self._session.run(None, self.feed(texts))[0], dtype=np.float64)
        output = self.spec["output"]
        if output["kind"] == "regression":
            return out.reshape(-1, 1)
        if output["kind"] == "sigmoid":
            out = np.concatenate([1.0 - out.reshape(-1, 1), out.reshape(-1, 1)], axis=1)
        temperature = output.get("temperature")
        if temperature is None:
            return out
        clipped = np.clip(out, _EPS, 1.0 - _EPS)
        t = np.asarray(temperature, dtype=np.float64)
        if output["kind"] == "sigmoids":
            return 1.0 / (1.0 + np.exp(-(np.log(clipped) - np.log1p(-clipped)) / t))
        logits = np.log(clipped) / t
        logits -= logits.max(axis=1, keepdims=True)
        scaled = np.exp(logits)
        return scaled / scaled.sum(axis=1, keepdims=True)

    def predict(self, texts) -> list[dict]:
        """Each text's label (a label set, or a number) and probabilities, decided as rnnlab decides."""
        output = self.spec["output"]
        names = output["class_names"]
        found = []
        for p in self.probabilities(texts).tolist():
            if output["kind"] == "regression":
                found.append({"value": p[0]})
                continue
            answer = {"probabilities": dict(zip(names, p))}
            if output["kind"] == "sigmoids":
                held = [j for j, t in enumerate(output["thresholds"]) if p[j] >= t] or [max(range(len(p)),
                                                                                          key=p.__getitem__)]
                answer["labels"] = [names[j] for j in sorted(held, key=lambda j: -p[j])]
            threshold = output.get("decision_threshold")
            best = (1 if p[1] >= threshold else 0) if threshold is not None and len(p) == 2 else \
                max(range(len(p)), key=p.__getitem__)
            answer["label"] = names[best]
            found.append(answer)
        return found
