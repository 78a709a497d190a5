"""A classifier that walks RNN cells over time steps in Python, as the low-level TF2 tutorial did.

The tutorial's point is to show what `keras.layers.RNN` does for you: the cells are called
once per step with the state carried by hand. Under JAX the loop is traced once and unrolled.
"""

from __future__ import annotations

import keras
from keras import layers, ops

CELLS = {"simple": layers.SimpleRNNCell, "lstm": layers.LSTMCell, "gru": layers.GRUCell}


@keras.saving.register_keras_serializable(package="rnnlab")
class CellLoopClassifier(keras.Model):
    """Embedding -> stacked RNN cells looped by hand over time -> sigmoid unit.

    Args:
        vocab_size: embedding input dimension.
        embedding_dim: embedding width.
        units: units of every cell.
        depth: number of stacked cells. Defaults to 2 (the tutorial's).
        cell: `"simple"`, `"lstm"` or `"gru"`. Defaults to `"simple"`.
        dropout: input dropout of each cell. Defaults to 0.5.

    Example:

    >>> model = CellLoopClassifier(10_000, 100, units=64)
    >>> model.build((None, 80))
    """

    def __init__(self, vocab_size, embedding_dim, units, depth=2, cell="simple", dropout=0.5, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.depth = depth
        self.cell_kind = cell
        self.dropout = dropout
        self.embedding = layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.cells = [CELLS[cell](units, dropout=dropout, name=f"{cell}_cell_{i + 1}") for i in range(depth)]
        self.classifier = layers.Dense(1, activation="sigmoid", name="output")

    @classmethod
    def from_spec(cls, spec) -> "CellLoopClassifier":
        units = spec.layer_units
        return cls(
            spec.vocab_size,
            spec.embedding_dim,
            units=units[0],
            depth=len(units),
            cell=spec.cell,
            dropout=spec.dropout,
            name="cell_loop_rnn",
        )

    def build(self, input_shape):
        self.embedding.build(input_shape)
        width = self.embedding_dim
        for cell in self.cells:
            cell.build((None, width))
            width = self.units
        self.classifier.build((None, self.units))
        self.built = True

    def call(self, inputs, training=False):
        x = self.embedding(inputs)
        batch = ops.shape(x)[0]
        states = [[ops.zeros((batch, self.units))] * (2 if self.cell_kind == "lstm" else 1) for _ in self.cells]
        for cell in self.cells:
            # One dropout mask per sequence, reused at every step (variational dropout).
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
        for t in range(x.shape[1]):
            h = x[:, t, :]
            for i, cell in enumerate(self.cells):
                h, states[i] = cell(h, states[i], training=training)
        for cell in self.cells:
            # Masks hold traced values; they must not outlive this call.
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
        return self.classifier(h)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "depth": self.depth,
            "cell": self.cell_kind,
            "dropout": self.dropout,
        }
