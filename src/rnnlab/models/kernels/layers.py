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


def _bias(cell, shape):
    return cell.bias.value if cell.use_bias else jnp.zeros(shape, jnp.float32)


def _run_lstm(cell, x, steps, states, reverse):
    from rnnlab.models.kernels.ops import lstm

    hs, c_last = lstm(x, steps, cell.kernel.value, cell.recurrent_kernel.value, _bias(cell, (4 * cell.units,)),
                      states[0], states[1], reverse, threads())
    return hs, [hs[:, -1], c_last]


def _run_gru(cell, x, steps, states, reverse):
    from rnnlab.models.kernels.ops import gru

    shape = (2, 3 * cell.units) if cell.reset_after else (3 * cell.units,)
    hs = gru(x, steps, cell.kernel.value, cell.recurrent_kernel.value, _bias(cell, shape), states[0], reverse,
             bool(cell.reset_after), threads())
    return hs, [hs[:, -1]]


def _run_simple(cell, x, steps, states, reverse):
    from rnnlab.models.kernels.ops import simple

    hs = simple(x, steps, cell.kernel.value, cell.recurrent_kernel.value, _bias(cell, (cell.units,)), states[0],
                reverse, threads())
    return hs, [hs[:, -1]]


_RUNS = {layers.LSTM: _run_lstm, layers.GRU: _run_gru, layers.SimpleRNN: _run_simple}


def _inner_loop(self, sequences, initial_state, mask, training=False):
    if not _plain_settings(self, sequences, training):
        return type(self).inner_loop(self, sequences, initial_state, mask, training=training)
    x, steps = _mask_and_dropout(self, sequences, mask, training)
    states = initial_state if tree.is_nested(initial_state) else [initial_state]
    hs, new_states = _RUNS[type(self)](self.cell, x, steps, states, bool(self.go_backwards))
    last, outputs = _outputs(self, hs, steps, mask)
    return last, outputs, new_states


def fast_inner_loop(layer):
    """The compiled inner loop for `layer`, or None when its class has none."""
    return _inner_loop if type(layer) in _RUNS else None
