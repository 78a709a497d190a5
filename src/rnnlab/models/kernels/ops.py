"""The compiled kernels as JAX functions with their own gradients.

Each function runs a whole sequence in one call (`jax.ffi.ffi_call`) and has a `custom_vjp`
whose backward pass is the matching compiled function: it returns the gradients of the
inputs, the weights and the initial states at once, so XLA sees two calls per layer and batch
instead of one small loop body per time step.
"""

from __future__ import annotations

import ctypes
import functools
import threading

import jax
import jax.numpy as jnp

from rnnlab.models.kernels.build import build

_TARGETS = {
    "lstm_forward": "RnnlabLstmForward", "lstm_backward": "RnnlabLstmBackward", "lstm_predict": "RnnlabLstmPredict",
    "gru_forward": "RnnlabGruForward", "gru_backward": "RnnlabGruBackward", "gru_predict": "RnnlabGruPredict",
    "simple_forward": "RnnlabSimpleForward", "simple_backward": "RnnlabSimpleBackward",
}
_lock = threading.Lock()
_library = None


def load() -> ctypes.CDLL:
    """Build (when needed), load and register the kernels with XLA; once per process."""
    global _library
    with _lock:
        if _library is None:
            library = ctypes.CDLL(str(build()))
            for name, symbol in _TARGETS.items():
                jax.ffi.register_ffi_target(f"rnnlab_{name}", jax.ffi.pycapsule(getattr(library, symbol)), platform="cpu")
            _library = library
    return _library


def _shape(*dims):
    return jax.ShapeDtypeStruct(dims, jnp.float32)


def _lstm_forward(x, mask, w, u, b, h0, c0, reverse, threads):
    batch, steps, _ = x.shape
    units = u.shape[0]
    call = jax.ffi.ffi_call(
        "rnnlab_lstm_forward", (_shape(batch, steps, units), _shape(batch, steps, units), _shape(batch, steps, 4 * units)))
    return call(x, mask, w, u, b, h0, c0, reverse=reverse, threads=threads)


@functools.partial(jax.custom_vjp, nondiff_argnums=(7, 8))
def lstm(x, mask, w, u, b, h0, c0, reverse: bool = False, threads: int = 1):
    """A whole LSTM sequence: ``(states, last cell state)``.

    x [B, T, D]; mask [B, T] float (1 = a real step); w [D, 4H], u [H, 4H], b [4H] as Keras'
    LSTMCell holds them (gates i, f, c, o); h0, c0 [B, H]. ``states`` [B, T, H] are the output
    states by step (a masked step repeats the previous one); with ``reverse`` step s reads
    input time T-1-s, as Keras' ``go_backwards``.
    """
    batch, steps, _ = x.shape
    units = u.shape[0]
    # Not differentiated (prediction): the call that keeps no gates or cell states.
    call = jax.ffi.ffi_call("rnnlab_lstm_predict", (_shape(batch, steps, units), _shape(batch, units)))
    return call(x, mask, w, u, b, h0, c0, reverse=reverse, threads=threads)


def _lstm_fwd(x, mask, w, u, b, h0, c0, reverse, threads):
    hs, cs, gates = _lstm_forward(x, mask, w, u, b, h0, c0, reverse, threads)
    return (hs, cs[:, -1]), (x, mask, w, u, h0, c0, hs, cs, gates)


def _lstm_bwd(reverse, threads, residuals, grads):
    x, mask, w, u, h0, c0, hs, cs, gates = residuals
    dhs, dc_last = grads
    batch, steps, features = x.shape
    units = u.shape[0]
    call = jax.ffi.ffi_call(
        "rnnlab_lstm_backward",
        (_shape(batch, steps, features), _shape(features, 4 * units), _shape(units, 4 * units), _shape(4 * units),
         _shape(batch, units), _shape(batch, units)))
    dx, dw, du, db, dh0, dc0 = call(x, mask, w.T, u.T, h0, c0, hs, cs, gates, dhs, dc_last, reverse=reverse, threads=threads)
    return dx, jnp.zeros_like(mask), dw, du, db, dh0, dc0


lstm.defvjp(_lstm_fwd, _lstm_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(6, 7, 8))
def gru(x, mask, w, u, b, h0, reverse: bool = False, reset_after: bool = True, threads: int = 1):
    """A whole GRU sequence: the output states [B, T, H] by step.

    w [D, 3H], u [H, 3H] as Keras' GRUCell holds them (gates z, r, h); b [3H], or [2, 3H]
    (input and recurrent biases) with ``reset_after``.
    """
    batch, steps, _ = x.shape
    # Not differentiated (prediction): the call that keeps no residuals.
    call = jax.ffi.ffi_call("rnnlab_gru_predict", _shape(batch, steps, u.shape[0]))
    return call(x, mask, w, u, b.reshape(-1), h0, reverse=reverse, reset_after=reset_after, threads=threads)


def _gru_forward(x, mask, w, u, b, h0, reverse, reset_after, threads):
    batch, steps, _ = x.shape
    units = u.shape[0]
    width = (4 if reset_after else 3) * units
    call = jax.ffi.ffi_call("rnnlab_gru_forward", (_shape(batch, steps, units), _shape(batch, steps, width)))
    return call(x, mask, w, u, b.reshape(-1), h0, reverse=reverse, reset_after=reset_after, threads=threads)


def _gru_fwd(x, mask, w, u, b, h0, reverse, reset_after, threads):
    hs, gates = _gru_forward(x, mask, w, u, b, h0, reverse, reset_after, threads)
    return hs, (x, mask, w, u, b, h0, hs, gates)


def _gru_bwd(reverse, reset_after, threads, residuals, dhs):
    x, mask, w, u, b, h0, hs, gates = residuals
    batch, steps, features = x.shape
    units = u.shape[0]
    call = jax.ffi.ffi_call(
        "rnnlab_gru_backward",
        (_shape(batch, steps, features), _shape(features, 3 * units), _shape(units, 3 * units), _shape(b.size),
         _shape(batch, units)))
    dx, dw, du, db, dh0 = call(x, mask, w.T, u.T, h0, hs, gates, dhs, reverse=reverse, reset_after=reset_after,
                               threads=threads)
    return dx, jnp.zeros_like(mask), dw, du, db.reshape(b.shape), dh0


gru.defvjp(_gru_fwd, _gru_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(6, 7))
def simple(x, mask, w, u, b, h0, reverse: bool = False, threads: int = 1):
    """A whole SimpleRNN (tanh) sequence: the output states [B, T, H] by step."""
    return _simple_forward(x, mask, w, u, b, h0, reverse, threads)


def _simple_forward(x, mask, w, u, b, h0, reverse, threads):
    batch, steps, _ = x.shape
    call = jax.ffi.ffi_call("rnnlab_simple_forward", _shape(batch, steps, u.shape[0]))
    return call(x, mask, w, u, b, h0, reverse=reverse, threads=threads)


def _simple_fwd(x, mask, w, u, b, h0, reverse, threads):
    hs = _simple_forward(x, mask, w, u, b, h0, reverse, threads)
    return hs, (x, mask, w, u, h0, hs)


def _simple_bwd(reverse, threads, residuals, dhs):
    x, mask, w, u, h0, hs = residuals
    batch, steps, features = x.shape
    units = u.shape[0]
    call = jax.ffi.ffi_call(
        "rnnlab_simple_backward",
        (_shape(batch, steps, features), _shape(features, units), _shape(units, units), _shape(units),
         _shape(batch, units)))
    dx, dw, du, db, dh0 = call(x, mask, w.T, u.T, h0, hs, dhs, reverse=reverse, threads=threads)
    return dx, jnp.zeros_like(mask), dw, du, db, dh0


simple.defvjp(_simple_fwd, _simple_bwd)
