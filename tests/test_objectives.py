"""The extra training objectives change the gradient as their definitions say.

Each term is written out here from its definition, on a tiny GRU model, through nothing but the
model's forward pass with a perturbation added to the embedded tokens. One SGD step (rate 1, so
the step is minus the gradient) with the term on, against the same step with it off, must move
the weights by the term's gradient, which central finite differences of the definition give.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from rnnlab.errors import InvalidInputError
from rnnlab.models import ModelSpec
from rnnlab.training import TrainingConfig
from rnnlab.training.objectives import ObjectiveTrainer, Objectives, objective_model, probe_key

pytestmark = pytest.mark.timeout(300)

SPEC = ModelSpec(name="tiny", vocab_size=30, maxlen=7, embedding_dim=5, cell="gru", units=4, pooling="max",
                 mask_zero=True, optimizer="sgd")
EPS = 0.5  # a large perturbation, so the terms move the gradient well beyond float32 noise
SEED = 3


def _data():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 30, size=(6, 7)).astype("int32")
    x[0, :3] = 0  # padding: masked steps
    y = np.array([0, 1, 1, 0, 1, 0], dtype="float32")
    return x, y


def _start(model) -> list[np.ndarray]:
    """Fixed weights large enough for confident predictions (at Keras' initial ones every output is
    near 0.5, where the entropy and virtual adversarial gradients are all but zero)."""
    rng = np.random.default_rng(SEED)
    weights = [rng.normal(0.0, 0.6, size=w.shape).astype("float32") for w in model.get_weights()]
    model.set_weights(weights)
    return weights


def _step(objectives: Objectives):
    """The start weights, and the model after one SGD step at rate 1 from them with ``objectives``."""
    keras.utils.set_random_seed(SEED)
    model = SPEC.build(compile=False, perturbable=True)
    start = _start(model)
    trainer = ObjectiveTrainer(model, objectives, SPEC.loss_name, seed=SEED) if objectives.active else model
    trainer.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss=SPEC.loss_name)
    x, y = _data()
    trainer.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    return start, model


def _definitions(model):
    """Pure functions of the weights for each term, written from the definitions."""
    x, y = _data()
    noise = model.get_layer("embedding_perturbation")
    non_trainable = [v.value for v in model.non_trainable_variables]

    def predict(weights, delta=None):
        with noise.adding(delta):
            return model.stateless_call(weights, non_trainable, x, training=True)[0]

    def cross_entropy(y_pred):
        return jnp.mean(keras.losses.binary_crossentropy(y.reshape(-1, 1), y_pred))

    def as_classes(y_pred):
        return jnp.clip(jnp.concatenate([1 - y_pred, y_pred], axis=-1), 1e-7, 1.0)

    def norm(a):
        return jnp.sqrt(jnp.sum(a ** 2, axis=(1, 2), keepdims=True) + 1e-12)

    weights = [v.value for v in model.trainable_variables]
    real = (x != 0).astype("float32")[..., None]  # padding counts in no norm (SPEC masks zeros)
    embedded = jnp.take(weights[0], x, axis=0) * real
    scale = EPS * norm(embedded)
    zero = jnp.zeros_like(embedded)
    gradient = jax.grad(lambda d: cross_entropy(predict(weights, d)))(zero)
    r_adversarial = scale * gradient / norm(gradient)
    fixed = as_classes(predict(weights))

    def kl(delta, w=weights):
        q = as_classes(predict(w, delta))
        return jnp.mean(jnp.sum(fixed * (jnp.log(fixed) - jnp.log(q)), axis=-1))

    probe = jax.random.normal(probe_key(SEED, 0), embedded.shape, embedded.dtype) * real
    probe = 1e-2 * scale * probe / norm(probe)
    toward = jax.grad(kl)(probe)
    r_virtual = scale * toward / norm(toward)
    return {
        "adversarial": lambda w: cross_entropy(predict(w, r_adversarial)),
        "virtual_adversarial": lambda w: kl(r_virtual, w),
        "entropy": lambda w: -jnp.mean(jnp.sum(as_classes(predict(w)) * jnp.log(as_classes(predict(w))), axis=-1)),
    }, weights


@pytest.mark.parametrize("term", ["adversarial", "virtual_adversarial", "entropy"])
def test_each_term_adds_its_gradient(term):
    weight = 0.7
    start, plain = _step(Objectives(perturbation=EPS))
    _, with_term = _step(Objectives(perturbation=EPS, **{term: weight}))
    moved = [a - b for a, b in zip(plain.get_weights(), with_term.get_weights())]  # weight * d term / d w

    keras.utils.set_random_seed(SEED)
    fresh = SPEC.build(compile=False, perturbable=True)
    fresh.set_weights(start)
    definitions, weights = _definitions(fresh)
    value = definitions[term]
    # The whole gradient of the definition (JAX's), then central finite differences (float32, so
    # on each tensor's two largest coordinates, where they resolve it to a few parts in a thousand).
    for got, expected in zip(moved, jax.grad(value)(weights)):
        np.testing.assert_allclose(got, weight * np.asarray(expected), atol=1e-6)
    checked = 0
    for index, tensor in enumerate(weights):
        for position in np.argsort(-np.abs(moved[index]).reshape(-1))[:2].tolist():
            h = 2e-3
            bump = jnp.zeros(tensor.size, tensor.dtype).at[position].set(h).reshape(tensor.shape)
            up = [w + bump if i == index else w for i, w in enumerate(weights)]
            down = [w - bump if i == index else w for i, w in enumerate(weights)]
            numeric = weight * float(value(up) - value(down)) / (2 * h)
            got = float(moved[index].reshape(-1)[position])
            assert got == pytest.approx(numeric, rel=0.03, abs=2e-5), (term, index, position)
            checked += 1
    assert checked == sum(min(2, w.size) for w in weights)
    assert max(float(np.abs(m).max()) for m in moved) > 1e-2  # the term does move the weights


def test_the_perturbation_is_added_to_the_embedded_tokens():
    keras.utils.set_random_seed(SEED)
    model = SPEC.build(compile=False, perturbable=True)
    x, _ = _data()
    other = np.where(x == 0, 0, np.random.default_rng(5).integers(1, 30, size=x.shape)).astype("int32")  # same mask
    table = model.get_layer("embedding").embeddings.numpy()
    with model.get_layer("embedding_perturbation").adding(table[other] - table[x]):
        moved = model(x)
    np.testing.assert_allclose(np.asarray(moved), np.asarray(model(other)), atol=1e-6)


def test_a_trained_model_holds_no_training_layer(tmp_path):
    from rnnlab.encoding.prepare import PreparedData  # noqa: F401  (the engine's input type)
    from rnnlab.training.engine import fit

    data = _prepared()
    config = TrainingConfig(epochs=1, batch_size=4, adversarial=1.0, virtual_adversarial=1.0, entropy=0.1)
    result = fit(SPEC, data, config, verbose=0)
    names = [layer.name for layer in result.model.layers]
    assert "embedding_perturbation" not in names
    assert result.params == SPEC.build(compile=False).count_params()


def _prepared():
    from rnnlab.data import TextDataset
    from rnnlab.encoding.prepare import prepare

    texts = ["good fun film", "great good acting", "bad dull plot", "awful bad film", "good great", "dull awful"] * 3
    labels = [1, 1, 0, 0, 1, 0] * 3
    data = TextDataset(texts, np.array(labels), ("neg", "pos"))
    return prepare(data, data, vocab_size=30, maxlen=7, validation_split=0.25)


def test_settings_are_checked():
    with pytest.raises(InvalidInputError, match="adversarial must be a number >= 0"):
        TrainingConfig(adversarial=-1)
    with pytest.raises(InvalidInputError, match="perturbation > 0"):
        TrainingConfig(virtual_adversarial=1.0, perturbation=0)
    with pytest.raises(InvalidInputError, match="one token input"):
        ModelSpec(features=3, maxlen=5).build(compile=False, perturbable=True)
    with pytest.raises(InvalidInputError, match="nb_features"):
        ModelSpec(architecture="cell-loop", nb_features=True)
    model = SPEC.build(compile=False)
    assert objective_model(model, TrainingConfig(), "binary_crossentropy") is model


def test_unlabelled_rows_add_the_label_free_terms():
    """Entropy on a batch of unlabelled rows beside the labelled one adds that entropy's gradient."""
    from rnnlab.encoding.bucketing import ArrayBatches, WithUnlabelled

    x, y = _data()
    unlabelled = np.random.default_rng(7).integers(1, 30, size=(9, 7)).astype("int32")

    class Served(WithUnlabelled):
        def __getitem__(self, index):
            self.last = super().__getitem__(index)
            return self.last

    batches = Served(ArrayBatches(x, y, batch_size=len(x)), unlabelled)

    def stepped(feed):
        keras.utils.set_random_seed(SEED)
        model = SPEC.build(compile=False, perturbable=True)
        start = _start(model)
        trainer = ObjectiveTrainer(model, Objectives(entropy=0.5), SPEC.loss_name, seed=SEED)
        trainer.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss=SPEC.loss_name)
        trainer.fit(feed, epochs=1, verbose=0)
        return start, model

    start, with_unlabelled = stepped(batches)
    rows, _ = batches.last  # the batch the step trained on
    labelled_rows, drawn = rows["tokens"], rows["unlabelled"]
    assert sorted(map(tuple, labelled_rows)) == sorted(map(tuple, x))
    assert drawn.shape == x.shape and set(map(tuple, drawn)) <= set(map(tuple, unlabelled))
    _, without = stepped(ArrayBatches(x, y, batch_size=len(x)))
    moved = [a - b for a, b in zip(without.get_weights(), with_unlabelled.get_weights())]
    fresh = SPEC.build(compile=False, perturbable=True)
    fresh.set_weights(start)
    non_trainable = [v.value for v in fresh.non_trainable_variables]

    def entropy(weights):
        p = fresh.stateless_call(weights, non_trainable, drawn, training=True)[0]
        p = jnp.clip(jnp.concatenate([1 - p, p], axis=-1), 1e-7, 1.0)
        return 0.5 * -jnp.mean(jnp.sum(p * jnp.log(p), axis=-1))

    for got, expected in zip(moved, jax.grad(entropy)([v.value for v in fresh.trainable_variables])):
        np.testing.assert_allclose(got, np.asarray(expected), atol=1e-6)
    assert max(float(np.abs(m).max()) for m in moved) > 1e-3


def test_the_perturbation_ignores_padding():
    """A text's perturbation is the same share of its real tokens' norm however much padding it carries."""
    keras.utils.set_random_seed(SEED)
    model = SPEC.build(compile=False, perturbable=True)
    trainer = ObjectiveTrainer(model, Objectives(adversarial=1.0), SPEC.loss_name)
    x, _ = _data()
    weights = [v.value for v in trainer.trainable_variables]
    non_trainable = [v.value for v in trainer.non_trainable_variables]
    embedded = np.asarray(trainer._embedded(weights, non_trainable, x))
    assert np.all(embedded[0, :3] == 0) and np.all(np.abs(embedded[0, 3:]).sum(axis=-1) > 0)
    padded = np.concatenate([np.zeros((len(x), 20), dtype=x.dtype), x], axis=1)
    again = np.asarray(trainer._embedded(weights, non_trainable, padded))
    np.testing.assert_allclose(np.linalg.norm(again.reshape(len(x), -1), axis=1),
                               np.linalg.norm(embedded.reshape(len(x), -1), axis=1), rtol=1e-6)


def test_entropy_alone_needs_no_perturbation_layer():
    spec = ModelSpec(name="steps", features=3, maxlen=5, cell="gru", units=4)
    data = dict(x=np.random.default_rng(0).normal(size=(12, 5, 3)).astype("float32"),
                y=np.array([0, 1] * 6, dtype="float32"))
    model = spec.build(compile=False)
    trainer = objective_model(model, TrainingConfig(entropy=0.5), spec.loss_name)
    trainer.compile(optimizer="adam", loss=spec.loss_name)
    before = [w.copy() for w in model.get_weights()]
    trainer.fit(data["x"], data["y"], batch_size=6, epochs=1, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
