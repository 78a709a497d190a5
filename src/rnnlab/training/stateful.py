"""Stateful recurrent models: read long sequences in chunks, carrying the state between batches.

A stateful spec (`ModelSpec(stateful=True, batch_size=B, chunk_length=C, maxlen=L)`) builds a
model whose input is one chunk, `(B, C)`, and whose recurrent layers keep their final states
as the initial states of the next batch. Training and prediction walk the data like this:

- sequences are grouped into blocks of `B` rows (rows of similar length together, so short
  reviews do not pay for long ones); a block spans the chunks from its earliest to its latest
  real step, each row padded to that span (pre-padding puts the end of every sequence in the
  block's last chunk);
- chunk `j` of the block is batch `j`: row `i` of batch `j + 1` continues row `i` of batch
  `j`, so Keras' `shuffle=False` contract holds inside a block;
- the states are reset before every block (new sequences) and at the end of every epoch;
- **training target:** the sequence's label at *every* chunk that holds some of its tokens
  (sample weight 0 for chunks that are padding only). Gradients do not cross chunk borders
  (truncated back-propagation), so a label on the last chunk alone would never teach the
  model what to write into the state while reading earlier chunks; a label at every chunk
  asks "what do you know so far?" after each one;
- **prediction** is the output after the row's last chunk, with the state carried from the
  first chunk on.

Use `mask_zero=True` (or `mask_value` for numeric input): masked steps leave the state
untouched, so the extra padding a short row gets inside a block changes nothing and the
chunked walk gives the same output as reading the whole sequence at once.

Keras 3 notes. States live on each recurrent layer (`layer.states`, reset with
`layer.reset_state()`); Keras 3 models have no `reset_states()`, so `reset_states(model)`
here calls every stateful layer. The states are deliberately not tracked as model variables
(they stay out of `get_weights()` and saved files). On the torch backend the compiled train
and predict steps update them in place; on JAX those steps are pure functions of the model's
variables, so the state updates would be dropped: `carried_states(model)` lists the states
among the model's non-trainable variables while a walk runs, so JAX returns and stores them
like any other non-trainable variable.
"""

from __future__ import annotations

import contextlib
import sys

import keras
import numpy as np

from rnnlab._backend import backend_name
from rnnlab.models.outputs import class_probabilities


def stateful_layers(model) -> list:
    """The model's recurrent layers that carry state (Bidirectional halves included)."""
    found = []
    for layer in model._flatten_layers(include_self=False):
        if getattr(layer, "stateful", False) and hasattr(layer, "reset_state") and hasattr(layer, "cell"):
            found.append(layer)
    return found


def is_stateful(model) -> bool:
    return bool(stateful_layers(model))


def reset_states(model) -> None:
    """Zero the carried state of every stateful layer (Keras 3 has no `Model.reset_states`)."""
    for layer in stateful_layers(model):
        layer.reset_state()


def state_values(model) -> list[np.ndarray]:
    """The current carried states, as arrays: `[h, c]` per LSTM layer, `[h]` per GRU/SimpleRNN."""
    return [np.array(keras.ops.convert_to_numpy(v.value)) for layer in stateful_layers(model)
            for v in layer.states]


@contextlib.contextmanager
def carried_states(model):
    """Make compiled train/predict steps carry the recurrent states (needed on JAX)."""
    added = []
    if backend_name() == "jax":
        for layer in stateful_layers(model):
            tracked = layer._non_trainable_variables
            for variable in layer.states or ():
                if not any(variable is v for v in tracked):
                    tracked.append(variable)
                    added.append((tracked, variable))
    try:
        yield model
    finally:
        for tracked, variable in added:
            for i, v in enumerate(tracked):
                if v is variable:
                    del tracked[i]
                    break


def chunk_shape(model) -> tuple[int, int]:
    """`(batch_size, chunk_length)` of a stateful model's input."""
    shape = model.inputs[0].shape
    if shape[0] is None or shape[1] is None:
        raise ValueError(f"A stateful model needs a fixed batch and chunk length; its input shape is {shape}.")
    return int(shape[0]), int(shape[1])


def pad_value(model) -> float:
    """What padding looks like in the model's input: a Masking layer's value, else 0."""
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.Masking):
            return float(layer.mask_value)
    return 0.0


class ChunkPlan:
    """Where the real steps of each sequence fall on the chunk grid.

    Args:
        x: `(n, steps)` token ids or `(n, steps, features)` numbers; `steps` is left-padded to
            a multiple of `chunk_length`.
        chunk_length: time steps per chunk.
        pad: the padding value (0 for token ids).
    """

    def __init__(self, x: np.ndarray, chunk_length: int, pad: float = 0.0):
        x = np.asarray(x)
        extra = (-x.shape[1]) % chunk_length
        if extra:
            widths = [(0, 0), (extra, 0)] + [(0, 0)] * (x.ndim - 2)
            x = np.pad(x, widths, constant_values=pad)
        real = x != pad if x.ndim == 2 else np.any(x != pad, axis=-1)
        self.x = x
        self.chunk_length = chunk_length
        self.pad = pad
        self.n_chunks = x.shape[1] // chunk_length
        self.has_real = real.reshape(len(x), self.n_chunks, chunk_length).any(axis=2)  # (n, chunks)
        any_real = self.has_real.any(axis=1)
        # A sequence with no real step at all is read as one chunk of padding (the last).
        self.first = np.where(any_real, self.has_real.argmax(axis=1), self.n_chunks - 1)
        self.last = np.where(any_real, self.n_chunks - 1 - self.has_real[:, ::-1].argmax(axis=1), self.n_chunks - 1)

    def blocks(self, batch_size: int, rng: np.random.Generator | None = None) -> list[np.ndarray]:
        """Row indices in blocks of at most `batch_size`, rows of similar span together.

        With `rng`, rows of equal span are drawn in random order and the blocks are shuffled.
        """
        rows = np.arange(len(self.x)) if rng is None else rng.permutation(len(self.x))
        span = (self.last - self.first)[rows]
        rows = rows[np.argsort(span, kind="stable")]
        blocks = [rows[i:i + batch_size] for i in range(0, len(rows), batch_size)]
        if rng is not None:
            blocks = [blocks[i] for i in rng.permutation(len(blocks))]
        return blocks

    def walk(self, rows: np.ndarray, batch_size: int):
        """Yield `(j, x_chunk, real)` for the chunks of one block; `real` marks rows with tokens in it."""
        start, stop = int(self.first[rows].min()), int(self.last[rows].max()) + 1
        fill = batch_size - len(rows)
        for j in range(start, stop):
            x = self.x[rows, j * self.chunk_length:(j + 1) * self.chunk_length]
            real = self.has_real[rows, j]
            if fill:
                x = np.concatenate([x, np.full((fill, *x.shape[1:]), self.pad, dtype=x.dtype)])
                real = np.concatenate([real, np.zeros(fill, dtype=bool)])
            yield j, x, real


def predict_stateful(model, x: np.ndarray) -> np.ndarray:
    """Outputs of a stateful model for whole sequences: the output after each row's last chunk."""
    batch_size, chunk_length = chunk_shape(model)
    plan = ChunkPlan(x, chunk_length, pad_value(model))
    outputs = None
    with carried_states(model):
        for rows in plan.blocks(batch_size):
            reset_states(model)
            for j, chunk, _ in plan.walk(rows, batch_size):
                out = np.asarray(keras.ops.convert_to_numpy(model.predict_on_batch(chunk)))
                if outputs is None:
                    outputs = np.zeros((len(plan.x), *out.shape[1:]), dtype=out.dtype)
                done = plan.last[rows] == j
                outputs[rows[done]] = out[: len(rows)][done]
        reset_states(model)
    return outputs


def _cross_entropy(y: np.ndarray, out: np.ndarray) -> tuple[float, float]:
    probs = class_probabilities(out)
    y = np.asarray(y).astype(int).reshape(-1)
    picked = np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0)
    return float(-np.log(picked).mean()), float((probs.argmax(axis=1) == y).mean())


def fit_stateful(model, x: np.ndarray, y: np.ndarray, *, epochs: int = 1, validation=None, callbacks=(),
                 verbose: str | int = "auto", seed: int = 0) -> keras.callbacks.History:
    """Train a compiled stateful model on whole sequences, chunk by chunk (see the module notes).

    Args:
        model: a compiled model built from a stateful spec.
        x, y: whole sequences `(n, steps[, features])` (pre-padded) and their labels.
        epochs: passes over the data. Defaults to 1.
        validation: `(x_val, y_val)`, scored with `predict_stateful` after every epoch.
        callbacks: Keras callbacks (EarlyStopping, loggers...); they see `loss`, `accuracy`
            (over every labelled chunk) and `val_loss`, `val_accuracy` (after the last chunk).
        verbose: 0 silent, 1 progress bar, 2 one line per epoch. Defaults to "auto".
        seed: draws the block composition and order of each epoch. Defaults to 0.

    Returns the `History` callback, as `model.fit` does.
    """
    batch_size, chunk_length = chunk_shape(model)
    plan = ChunkPlan(x, chunk_length, pad_value(model))
    y = np.asarray(y)
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    rngs = [np.random.default_rng([seed, epoch]) for epoch in range(epochs)]
    plans = [plan.blocks(batch_size, rng) for rng in rngs]
    steps = sum(int(plan.last[b].max() - plan.first[b].min() + 1) for b in plans[0])
    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        [*callbacks, history], add_progbar=verbose != 0, model=model, verbose=verbose, epochs=epochs, steps=steps)
    model.stop_training = False
    running = {"loss": float("nan"), "accuracy": float("nan")}
    callback_list.on_train_begin()
    for epoch, blocks in enumerate(plans):
        callback_list.on_epoch_begin(epoch)
        step, loss_sum, correct_sum, weight_sum = 0, 0.0, 0.0, 0.0
        for rows in blocks:
            labels = np.concatenate([y[rows], np.zeros(batch_size - len(rows), dtype=y.dtype)])
            with carried_states(model):
                reset_states(model)
                for _, chunk, real in plan.walk(rows, batch_size):
                    callback_list.on_train_batch_begin(step)
                    weights = real.astype("float32")
                    logs = model.train_on_batch(chunk, labels, sample_weight=weights, return_dict=True)
                    # The loss is averaged over the whole batch, padding rows included; report it per real row.
                    n_real = float(weights.sum())
                    if n_real:
                        loss_sum += float(logs["loss"]) * batch_size
                        correct_sum += float(logs.get("accuracy", 0.0)) * n_real
                        weight_sum += n_real
                    running = {"loss": loss_sum / max(weight_sum, 1.0), "accuracy": correct_sum / max(weight_sum, 1.0)}
                    callback_list.on_train_batch_end(step, running)
                    step += 1
            reset_states(model)
        epoch_logs = dict(running)
        if validation is not None:
            val_loss, val_accuracy = _cross_entropy(validation[1], predict_stateful(model, validation[0]))
            epoch_logs.update(val_loss=val_loss, val_accuracy=val_accuracy)
        reset_states(model)
        callback_list.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    callback_list.on_train_end()
    return history


def stateless_twin(spec, maxlen: int | None = None):
    """The same architecture without state or chunks (e.g. to read only the first 100 tokens).

    Its weights have the same shapes, so `twin.set_weights(model.get_weights())` works.
    """
    return spec.replace(stateful=False, batch_size=None, chunk_length=None,
                        maxlen=spec.maxlen if maxlen is None else maxlen)
