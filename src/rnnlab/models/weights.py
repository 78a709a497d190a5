"""Recurrent weight shapes checked against the textbook parameter formulas.

For n units and m input features: SimpleRNN n²+nm+n, LSTM 4(n²+nm+n), GRU 3(n²+nm+n), or
3(n²+nm+2n) with `reset_after=True` (Keras 3's default: the recurrent bias is kept apart).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from keras import layers

GATES = {"SimpleRNNCell": 1, "LSTMCell": 4, "GRUCell": 3}
FORMULAS = {
    "SimpleRNNCell": "n²+nm+n",
    "LSTMCell": "4(n²+nm+n)",
    "GRUCell": "3(n²+nm+n)",
}


@dataclass
class RecurrentWeights:
    layer: str
    cell: str
    units: int
    input_dim: int
    kernel: tuple[int, ...]
    recurrent_kernel: tuple[int, ...]
    bias: tuple[int, ...] | None
    params: int
    formula: str
    expected: int

    @property
    def ok(self) -> bool:
        return self.params == self.expected

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def _cells(model):
    """(name, cell) for every recurrent cell, Bidirectional directions included."""
    for layer in model.layers:
        if isinstance(layer, layers.Bidirectional):
            yield f"{layer.name}/forward", layer.forward_layer.cell
            yield f"{layer.name}/backward", layer.backward_layer.cell
        elif isinstance(layer, layers.RNN):
            yield layer.name, layer.cell
    for cell in getattr(model, "cells", []):  # models that loop cells by hand
        yield cell.name, cell


def recurrent_weights(model) -> list[RecurrentWeights]:
    """One row per recurrent cell: its weight shapes, its parameter count and the formula's."""
    rows = []
    for name, cell in _cells(model):
        kind = type(cell).__name__
        n, m = cell.units, cell.kernel.shape[0]
        reset_after = kind == "GRUCell" and getattr(cell, "reset_after", False)
        expected = GATES[kind] * (n * n + n * m + n * (2 if reset_after else 1))
        formula = "3(n²+nm+2n)" if reset_after else FORMULAS[kind]
        bias = tuple(cell.bias.shape) if cell.bias is not None else None
        params = sum(math.prod(w.shape) for w in cell.weights)
        rows.append(
            RecurrentWeights(name, kind, n, m, tuple(cell.kernel.shape), tuple(cell.recurrent_kernel.shape),
                             bias, params, formula, expected)
        )
    return rows
