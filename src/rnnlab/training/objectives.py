"""Training objectives beyond the labels' cross-entropy: adversarial, virtual adversarial, entropy.

Each is a term added to the loss of every training batch, with its weight in `TrainingConfig`:

* ``adversarial`` (Goodfellow et al. 2015, on text Miyato, Dai & Goodfellow 2017): the
  cross-entropy again at ``e + r``, where ``e`` is the embedded batch and ``r`` points along the
  gradient of the clean loss with respect to ``e``: ``r = eps * |e| * g / |g|`` for each example
  (norms over all its steps and dimensions). The gradient is a constant of the step (no
  gradient flows through ``r``).
* ``virtual_adversarial`` (Miyato et al. 2017/2018): ``KL(p(e) || p(e + r))`` with ``p(e)`` held
  fixed and ``r`` found by one power iteration from a random direction: the direction in which
  the predictions change most. It needs no labels.
* ``entropy`` (Grandvalet & Bengio 2005): the mean entropy of the predictions, which pushes the
  decision boundary away from the data. It needs no labels.

``perturbation`` is ``eps``: the norm of ``r`` as a share of the example's embedding norm over
its real tokens (the papers normalise the embeddings and give an absolute norm; a share is the
same for any embedding scale and needs no statistics of the vocabulary). With ``mask_zero``
padding neither counts in the norm nor gets any of ``r``, so a text's perturbation does not
depend on the length of the batch it is in.

`ObjectiveTrainer` is a Keras model over the same layers as the model being trained, built with
an `EmbeddingPerturbation` after the embedding (`build_model(spec, perturbable=True)`); its
``train_step`` takes one value-and-gradient pass for the clean loss (the entropy included) and
the adversarial direction together, then one more for the adversarial term and two for the
virtual adversarial term. Keras' ``fit``, callbacks, early stopping, buckets and ensembles run
it unchanged. JAX only (the default backend).
"""

from __future__ import annotations

import dataclasses

import keras

from rnnlab._backend import backend_name
from rnnlab.encoding.bucketing import UNLABELLED_KEY
from rnnlab.errors import InvalidInputError
from rnnlab.models.layers import EmbeddingPerturbation

__all__ = ["Objectives", "ObjectiveTrainer", "objective_model"]

#: The power iteration's probe: its norm as a share of the embedding norm (small, for a
#: finite-difference estimate of the curvature; float32 still resolves it).
PROBE = 1e-2
TINY = 1e-12


@dataclasses.dataclass(frozen=True)
class Objectives:
    """The weights of the extra terms and the perturbation's relative norm (see the module docstring)."""

    adversarial: float = 0.0
    virtual_adversarial: float = 0.0
    entropy: float = 0.0
    perturbation: float = 0.05

    @classmethod
    def of(cls, config) -> "Objectives":
        return cls(config.adversarial, config.virtual_adversarial, config.entropy, config.perturbation)

    @property
    def active(self) -> bool:
        return bool(self.adversarial or self.virtual_adversarial or self.entropy)

    @property
    def perturbs(self) -> bool:
        return bool(self.adversarial or self.virtual_adversarial)

    @property
    def unlabelled(self) -> bool:
        """Whether a term can learn from texts without labels (virtual adversarial, entropy)."""
        return bool(self.virtual_adversarial or self.entropy)


def probe_key(seed: int, step):
    """The random key of the virtual adversarial probe at optimizer step ``step`` of a run seeded ``seed``."""
    import jax

    return jax.random.fold_in(jax.random.key(seed), jax.numpy.asarray(step).astype("uint32"))


def _per_example_norm(x):
    import jax.numpy as jnp

    return jnp.sqrt(jnp.sum(jnp.square(x), axis=tuple(range(1, x.ndim)), keepdims=True) + TINY)


def _probabilities(y_pred, sigmoids: bool = False):
    """Each output's distribution: ``(n, k)`` for a softmax; ``(n, k, 2)`` for sigmoid columns (a binary
    model's one, or one per label of a multi-label model), each column a yes/no distribution of its own."""
    import jax.numpy as jnp

    if y_pred.shape[-1] == 1 or sigmoids:
        return jnp.stack([1.0 - y_pred, y_pred], axis=-1)
    return y_pred


def _sum_per_example(x):
    import jax.numpy as jnp

    return jnp.sum(x, axis=tuple(range(1, x.ndim)))


def _entropy(y_pred, sigmoids: bool = False):
    import jax.numpy as jnp

    p = jnp.clip(_probabilities(y_pred, sigmoids), 1e-7, 1.0)
    return -jnp.mean(_sum_per_example(p * jnp.log(p)))


def _kl(p_fixed, y_pred, sigmoids: bool = False):
    import jax.numpy as jnp

    p = jnp.clip(_probabilities(p_fixed, sigmoids), 1e-7, 1.0)
    q = jnp.clip(_probabilities(y_pred, sigmoids), 1e-7, 1.0)
    return jnp.mean(_sum_per_example(p * (jnp.log(p) - jnp.log(q))))


class ObjectiveTrainer(keras.Model):
    """A functional model over another model's layers whose training step adds the `Objectives` terms.

    Args:
        model: a model built with ``perturbable=True`` (its weights are the ones trained).
        objectives: the terms' weights and the perturbation norm.
        loss: the Keras loss name of the labels' term (the adversarial term uses it too).
        seed: seeds the virtual adversarial probes (with the optimizer's step count, so a run
            is repeatable).
    """

    def __init__(self, model: keras.Model, objectives: Objectives, loss: str, seed: int = 0, **kwargs):
        super().__init__(inputs=model.inputs, outputs=model.outputs, name=f"{model.name}_objectives", **kwargs)
        self.objectives = objectives
        self.label_loss = keras.losses.get(loss)
        # A binary loss over several columns: one sigmoid per label, each a distribution of its own.
        self.sigmoids = loss in ("binary_crossentropy", "binary_focal_crossentropy")
        self.probe_seed = int(seed)
        found = [layer for layer in model.layers if isinstance(layer, EmbeddingPerturbation)]
        if objectives.perturbs and len(found) != 1:
            raise InvalidInputError("Adversarial objectives need a model built with perturbable=True.")
        self.perturbation_layer = found[0] if found else None
        self.embedding_layer = model.get_layer("embedding") if found else None

    def train_step(self, state, data):
        import jax
        import jax.numpy as jnp
        from keras.src.trainers.data_adapters import data_adapter_utils

        trainable, non_trainable, optimizer_variables, metrics_variables = state
        x, y, sample_weight = data_adapter_utils.unpack_x_y_sample_weight(data)
        unlabelled = None
        if isinstance(x, dict) and UNLABELLED_KEY in x:  # `WithUnlabelled` batches
            unlabelled = x[UNLABELLED_KEY]
            x = next(value for key, value in x.items() if key != UNLABELLED_KEY)
        goals = self.objectives
        embedded = self._embedded(trainable, non_trainable, x) if goals.perturbs else None
        scale = goals.perturbation * _per_example_norm(embedded) if goals.perturbs else None

        def clean(weights, delta):
            with self._adding(delta):
                loss, aux = self.compute_loss_and_updates(weights, non_trainable, metrics_variables, x, y,
                                                          sample_weight, training=True,
                                                          optimizer_variables=optimizer_variables)
            if goals.entropy:
                loss = loss + goals.entropy * _entropy(aux[1], self.sigmoids)
            return loss, aux

        zero = jnp.zeros_like(embedded) if goals.perturbs else jnp.zeros(())
        (_, aux), (grads, direction) = jax.value_and_grad(clean, argnums=(0, 1), has_aux=True)(trainable, zero)
        unscaled_loss, y_pred, new_non_trainable, metrics_variables = aux

        def predictions(weights, delta, inputs=x):
            with self._adding(delta):
                return self.stateless_call(weights, non_trainable, inputs, training=True)[0]

        def add(total, more):
            return jax.tree_util.tree_map(lambda a, b: a + b, total, more)

        if goals.adversarial:
            r = jax.lax.stop_gradient(scale * direction / _per_example_norm(direction))
            grads = add(grads, jax.grad(
                lambda w: goals.adversarial * self._label_loss(y, predictions(w, r)))(trainable))

        def virtual_adversarial(inputs, unperturbed, scale, key):
            """The virtual adversarial term's gradient on ``inputs`` (its predictions ``unperturbed`` held fixed)."""
            fixed = jax.lax.stop_gradient(unperturbed)
            shape = (inputs.shape[0], inputs.shape[1], embedded.shape[-1])
            probe = jax.random.normal(key, shape, embedded.dtype) * self._real_steps(inputs)
            probe = PROBE * scale * probe / _per_example_norm(probe)
            toward = jax.grad(lambda d: _kl(fixed, predictions(trainable, d, inputs), self.sigmoids))(probe)
            r = jax.lax.stop_gradient(scale * toward / _per_example_norm(toward))
            return jax.grad(lambda w: goals.virtual_adversarial
                            * _kl(fixed, predictions(w, r, inputs), self.sigmoids))(trainable)

        key = probe_key(self.probe_seed, optimizer_variables[0])
        if goals.virtual_adversarial:
            grads = add(grads, virtual_adversarial(x, y_pred, scale, key))
        if unlabelled is not None:
            # The terms that need no labels, once more on the unlabelled rows.
            scale_u = (goals.perturbation * _per_example_norm(self._embedded(trainable, non_trainable, unlabelled))
                       if goals.perturbs else None)
            if goals.entropy:
                def entropy(weights):
                    found = predictions(weights, None, unlabelled)
                    return goals.entropy * _entropy(found, self.sigmoids), found

                entropy_grads, clean_u = jax.grad(entropy, has_aux=True)(trainable)
                grads = add(grads, entropy_grads)
            else:
                clean_u = predictions(trainable, None, unlabelled)
            if goals.virtual_adversarial:
                grads = add(grads, virtual_adversarial(unlabelled, clean_u, scale_u, jax.random.fold_in(key, 1)))

        trainable, optimizer_variables = self.optimizer.stateless_apply(optimizer_variables, grads, trainable)
        logs, metrics_variables = self._update_metrics_variables(metrics_variables, unscaled_loss, x, y, y_pred,
                                                                 sample_weight)
        return logs, (trainable, new_non_trainable, optimizer_variables, metrics_variables)

    def _label_loss(self, y, y_pred):
        """The labels' mean loss (a binary model's labels shaped like its one sigmoid column)."""
        import jax.numpy as jnp

        target = jnp.reshape(y, y_pred.shape) if y_pred.shape[-1] == 1 else y
        return jnp.mean(self.label_loss(target, y_pred))

    def _adding(self, delta):
        """The perturbation layer's `adding` context (nothing to add without one, or for a zero scalar)."""
        import contextlib

        if self.perturbation_layer is None or getattr(delta, "ndim", 3) == 0:
            return contextlib.nullcontext()
        return self.perturbation_layer.adding(delta)

    def _real_steps(self, x):
        """1 at real tokens, 0 at padding (``(n, steps, 1)``); all ones without ``mask_zero``."""
        import jax.numpy as jnp

        ids = jnp.asarray(x, dtype="int32")
        if not self.embedding_layer.mask_zero:
            return jnp.ones(ids.shape + (1,), "float32")
        return (ids != 0).astype("float32")[..., None]

    def _embedded(self, trainable, non_trainable, x):
        """The embedding layer's output for ``x`` under the step's weights, zero at padding (its shape and
        the norm of its real tokens)."""
        import jax.numpy as jnp

        variable = self.embedding_layer.embeddings
        values, variables = ((trainable, self.trainable_variables) if variable.trainable
                             else (non_trainable, self.non_trainable_variables))
        table = values[next(i for i, v in enumerate(variables) if v is variable)]
        return jnp.take(table, jnp.asarray(x, dtype="int32"), axis=0) * self._real_steps(x)


def objective_model(model: keras.Model, config, loss: str) -> keras.Model:
    """The model ``fit`` trains under ``config``: ``model`` itself, or an `ObjectiveTrainer` over its layers."""
    objectives = Objectives.of(config)
    if not objectives.active:
        return model
    if backend_name() != "jax":
        raise InvalidInputError("The adversarial, virtual adversarial and entropy objectives train on JAX "
                                "(KERAS_BACKEND=jax); the bundle they make predicts and serves on torch too.")
    return ObjectiveTrainer(model, objectives, loss, seed=config.seed)
