"""The inner loops that replace Keras' `lax.scan` in its recurrent layers.

Keras' `RNN.call` prepares the initial states (given, stateful or zeros) and the dropout masks,
calls `self.inner_loop(sequences, initial_state, mask, training)`, and then handles
`return_sequences`, `return_state` and stateful updates from what it returns:
``(last_output, outputs [B, T, H], new_states)``. The functions here return exactly that, or
defer to the class's own `inner_loop` when a setting is outside what the kernel computes.
"""

from __future__ import annotations

import jax.numpy as jnp
from keras import activations, distribution, layers, tree

from rnnlab.models.kernels import threads


def _plain_settings(layer, sequences, training) -> bool:
    cell = layer.cell
    return (
        distribution.distribution() is None  # a sharded batch is left to XLA's partitioner and Keras' loop
        and not layer.unroll
        and not (training and getattr(cell, "recurrent_dropout", 0))
        and not (training and cell.dropout and getattr(cell, "implementation", 2) == 1)
        and cell.activation is activations.tanh
        and getattr(cell, "recurrent_activation", activations.sigmoid) is activations.sigmoid
        and len(sequences.shape) == 3
        and sequences.dtype == jnp.float32
        and all(v.dtype == "float32" for v in cell.weights)
    )


def _mask_and_dropout(layer, sequences, mask, training):
    """The float mask [B, T] the kernel reads, and the inputs after Keras' input dropout."""
    if tree.is_nested(mask):
        mask = mask[0]
    steps = jnp.ones(sequences.shape[:2], jnp.float32) if mask is None else mask.astype(jnp.float32)
    x = sequences
    cell = layer.cell
    if training and 0.0 < cell.dropout < 1.0:
        x = x * cell.get_dropout_mask(sequences[:, 0, :])[:, None, :]
    return x, steps


def _outputs(layer, states, steps, mask):
    """Keras' ``(last_output, outputs)`` from the carried states by step."""
    outputs = states
    if mask is not None and layer.zero_output_for_mask:
        by_step = steps[:, ::-1] if layer.go_backwards else steps
        outputs = states * by_step[:, :, None]
    return outputs[:, -1], outputs


def _lstm_inner_loop(self, sequences, initial_state, mask, training=False):
    from rnnlab.models.kernels.ops import lstm

    if not _plain_settings(self, sequences, training):
        return type(self).inner_loop(self, sequences, initial_state, mask, training=training)
    x, steps = _mask_and_dropout(self, sequences, mask, training)
    cell = self.cell
    bias = cell.bias.value if cell.use_bias else jnp.zeros((4 * cell.units,), jnp.float32)
    h0, c0 = initial_state[0], initial_state[1]
    states, c_last = lstm(x, steps, cell.kernel.value, cell.recurrent_kernel.value, bias, h0, c0,
                          bool(self.go_backwards), threads())
    last, outputs = _outputs(self, states, steps, mask)
    return last, outputs, [states[:, -1], c_last]


def _gru_inner_loop(self, sequences, initial_state, mask, training=False):
    from rnnlab.models.kernels.ops import gru

    if not _plain_settings(self, sequences, training):
        return type(self).inner_loop(self, sequences, initial_state, mask, training=training)
    x, steps = _mask_and_dropout(self, sequences, mask, training)
    cell = self.cell
    shape = (2, 3 * cell.units) if cell.reset_after else (3 * cell.units,)
    bias = cell.bias.value if cell.use_bias else jnp.zeros(shape, jnp.float32)
    h0 = initial_state[0] if tree.is_nested(initial_state) else initial_state
    states = gru(x, steps, cell.kernel.value, cell.recurrent_kernel.value, bias, h0, bool(self.go_backwards),
                 bool(cell.reset_after), threads())
    last, outputs = _outputs(self, states, steps, mask)
    return last, outputs, [states[:, -1]]


def _simple_inner_loop(self, sequences, initial_state, mask, training=False):
    from rnnlab.models.kernels.ops import simple

    if not _plain_settings(self, sequences, training):
        return type(self).inner_loop(self, sequences, initial_state, mask, training=training)
    x, steps = _mask_and_dropout(self, sequences, mask, training)
    cell = self.cell
    bias = cell.bias.value if cell.use_bias else jnp.zeros((cell.units,), jnp.float32)
    h0 = initial_state[0] if tree.is_nested(initial_state) else initial_state
    states = simple(x, steps, cell.kernel.value, cell.recurrent_kernel.value, bias, h0, bool(self.go_backwards),
                    threads())
    last, outputs = _outputs(self, states, steps, mask)
    return last, outputs, [states[:, -1]]


_LOOPS = {layers.LSTM: _lstm_inner_loop, layers.GRU: _gru_inner_loop, layers.SimpleRNN: _simple_inner_loop}


def fast_inner_loop(layer):
    """The compiled inner loop for `layer`, or None when its class has none."""
    return _LOOPS.get(type(layer))
