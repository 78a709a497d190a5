"""The textbook side of the benchmarks, as a worker process (see `common.Worker`).

Runs in the benchmark environment (.venv-bench: TensorFlow and keras-preprocessing added)
on the Keras backend named by ``KERAS_BACKEND``. On JAX, TensorFlow is hidden from Keras:
Keras imports any TensorFlow it finds to serialise layer configs (a Bidirectional layer
does), which a JAX user without TensorFlow installed would never pay for.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

if os.environ.get("KERAS_BACKEND") == "jax":
    sys.modules["tensorflow"] = None  # import fails: Keras treats TensorFlow as absent

import numpy as np  # noqa: E402

from common import StopClock, serve  # noqa: E402
from peers import textbook  # noqa: E402


def info() -> dict:
    import keras

    found = {"backend": keras.backend.backend(), "keras": keras.__version__, "pid": os.getpid()}
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        found["tensorflow"] = tf.__version__
        found["inter_op_threads"] = tf.config.threading.get_inter_op_parallelism_threads()
        found["intra_op_threads"] = tf.config.threading.get_intra_op_parallelism_threads()
    return found


def _epoch_timer():
    import keras

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._started)

    return Timer()


def throughput(model: str, data: str, epochs: int = 2, batch_size: int = 128) -> dict:
    """The textbook model trained on pre-encoded data; seconds of each epoch."""
    import keras

    keras.utils.set_random_seed(0)
    with np.load(data) as arrays:
        x, y = arrays["x"], arrays["y"]
    net = textbook.MODELS[model]()
    timer = _epoch_timer()
    net.fit(x, y, batch_size=batch_size, epochs=epochs, callbacks=[timer], verbose=0)
    return {"epoch_seconds": timer.seconds, "samples": int(len(x)), "params": int(net.count_params())}


def time_to_accuracy(archive: str, target: float, model: str = "bilstm", eval_every: float = 0.5,
                     epochs: int | None = None) -> dict:
    """The textbook recipe from the raw archive: read, Tokenizer, pad, fit with validation_split=0.2.

    Test accuracy is recorded every ``eval_every`` epochs with the clock paused.
    """
    import keras

    from scoring import Curve, ScoreEvery, binary_accuracy

    keras.utils.set_random_seed(0)
    clock = StopClock()
    (train_texts, y_train), (test_texts, y_test) = textbook.read_imdb(archive)
    read_seconds = clock.elapsed()
    _, x_train, x_test = textbook.encode_imdb(train_texts, test_texts)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    # The chapter shuffles the reviews before fit (the archive is ordered by class), so that
    # validation_split's last 20% holds both classes.
    order = np.random.default_rng(0).permutation(len(x_train))
    x_train, y_train = x_train[order], y_train[order]
    data_seconds = clock.elapsed()
    net = textbook.MODELS[model]()
    epochs = epochs or textbook.EPOCHS[model]
    curve = Curve(clock, target=target, name=f"textbook {model}")
    steps = -(-int(len(x_train) * 0.8) // 128)
    net.fit(x_train, y_train, batch_size=128, epochs=epochs, validation_split=0.2, verbose=0,
            callbacks=[ScoreEvery(curve, binary_accuracy(x_test, y_test), steps, eval_every)])
    return {**curve.to_dict(), "read_seconds": round(read_seconds, 2), "data_seconds": round(data_seconds, 2),
            "total_seconds": round(clock.elapsed(), 2), "epochs": epochs, "params": int(net.count_params())}


_loaded: dict = {}


def _bundle_model(bundle: str):
    """The bundle's weights in Keras, and a textbook Tokenizer holding the bundle's vocabulary."""
    if bundle not in _loaded:
        import keras
        from keras_preprocessing.text import Tokenizer

        prep = json.loads((Path(bundle) / "preprocessing.json").read_text(encoding="utf-8"))
        vocabulary = prep["vocabulary"]
        tokenizer = Tokenizer(num_words=prep["vocab_size"], oov_token=vocabulary["oov_token"])
        tokenizer.word_index = {vocabulary["oov_token"]: 1, **{w: i + 2 for i, w in enumerate(vocabulary["words"])}}
        model = keras.saving.load_model(Path(bundle) / "model.keras", compile=False)
        _loaded[bundle] = (model, tokenizer, prep["maxlen"])
    return _loaded[bundle]


def predict_loop(bundle: str, texts: str, count: int) -> dict:
    """The chapter's loop over new reviews: preprocess, sequence, pad, `model.predict`, one at a time."""
    model, tokenizer, length = _bundle_model(bundle)
    reviews = json.loads(Path(texts).read_text(encoding="utf-8"))[:count]
    textbook.predict_review(model, tokenizer, reviews[0], length)  # first call builds the predict function
    times, probs = [], []
    for review in reviews:
        started = time.perf_counter()
        probs.append(textbook.predict_review(model, tokenizer, review, length))
        times.append(time.perf_counter() - started)
    return {"seconds": times, "probabilities": probs}


def predict_batched(bundle: str, texts: str, save: str | None = None) -> dict:
    """Every review preprocessed in the loop, then one `model.predict` over all of them."""
    from keras.utils import pad_sequences

    model, tokenizer, length = _bundle_model(bundle)
    reviews = json.loads(Path(texts).read_text(encoding="utf-8"))
    started = time.perf_counter()
    tokens = [textbook.preprocess(review) for review in reviews]
    x = pad_sequences(tokenizer.texts_to_sequences(tokens), maxlen=length)
    probs = model.predict(x, batch_size=128, verbose=0).reshape(-1)
    seconds = time.perf_counter() - started
    if save:
        np.save(save, probs.astype(np.float64))
    return {"seconds": seconds, "reviews": len(reviews)}


if __name__ == "__main__":
    serve({"info": info, "throughput": throughput, "time_to_accuracy": time_to_accuracy,
           "predict_loop": predict_loop, "predict_batched": predict_batched})
