"""What a model reads, as types: token ids, numeric steps or named fields; whole or in chunks.

A `ModelSpec` keeps its JSON flat (``features``, ``inputs``, ``stateful``... as in every spec
file written so far), but code never checks those flags one by one: ``spec.input_mode`` is one
of the three types below and ``spec.chunks`` says whether the input is read in stateful
chunks. Building either one is where the combinations are checked, so an impossible spec
(numeric input with named fields, say) fails with one message naming both.

The mode's ``kind`` is the input kind of the bundles such a model makes
(:mod:`rnnlab.encoding.inputs`): ``"text"``, ``"sequences"`` or ``"fields"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rnnlab.errors import InvalidInputError

if TYPE_CHECKING:  # the spec builds these, not the other way round
    from rnnlab.models.inputs import EncoderSpec
    from rnnlab.models.spec import ModelSpec

__all__ = ["Chunks", "NamedFields", "NumericSteps", "TokenIds", "chunks_of", "input_mode_of"]


@dataclass(frozen=True)
class TokenIds:
    """One sequence of token ids per example (an embedding reads it). The default."""

    kind = "text"


@dataclass(frozen=True)
class NumericSteps:
    """One ``(steps, features)`` sequence of numbers per example, fed straight to the recurrent layers.

    Args:
        features: numbers per time step.
        mask_value: steps whose features all equal it are padding (a ``Masking`` layer); None: none.
    """

    features: int
    mask_value: float | None = None
    kind = "sequences"


@dataclass(frozen=True)
class NamedFields:
    """Several named token sequences per example (title and body), one encoder each, merged.

    Args:
        encoders: the `EncoderSpec` of each field, in input order.
        merge: ``"concat"``, ``"sum"`` or ``"average"`` of the encoders' outputs.
    """

    encoders: tuple["EncoderSpec", ...]
    merge: str = "concat"
    kind = "fields"


@dataclass(frozen=True)
class Chunks:
    """Read each sequence in consecutive chunks, the recurrent state carried across them.

    Args:
        chunk_length: time steps per chunk.
        batch_size: the fixed batch size the state lives in; None takes the training batch size.
    """

    chunk_length: int
    batch_size: int | None = None


def _positive(name: str, value) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidInputError(f"ModelSpec.{name} must be a positive integer or null, got {value!r}.")


def input_mode_of(spec: "ModelSpec") -> TokenIds | NumericSteps | NamedFields:
    """The spec's input mode; two modes at once is an error naming both."""
    _positive("features", spec.features)
    if spec.features is not None and spec.inputs:
        raise InvalidInputError("features describes a single numeric input and inputs several token fields: "
                                "keep one of them.")
    if spec.features is not None:
        if spec.mask_zero or spec.embedding_matrix or spec.pretrained_embeddings or spec.nb_features:
            raise InvalidInputError("features makes a numeric input, which has no embedding: drop mask_zero, "
                                    "embedding_matrix, pretrained_embeddings and nb_features, and use mask_value to mask "
                                    "padded steps.")
        return NumericSteps(spec.features, spec.mask_value)
    if spec.mask_value is not None:
        raise InvalidInputError("mask_value masks numeric input: set features, or use mask_zero for tokens.")
    if spec.inputs:
        return NamedFields(tuple(spec.inputs), spec.input_merge)
    return TokenIds()


def chunks_of(spec: "ModelSpec") -> Chunks | None:
    """How the spec reads in stateful chunks, or None when it reads whole sequences."""
    _positive("batch_size", spec.batch_size)
    _positive("chunk_length", spec.chunk_length)
    if not spec.stateful:
        if spec.chunk_length is not None or spec.batch_size is not None:
            raise InvalidInputError("chunk_length and batch_size belong to stateful models: set stateful=true.")
        return None
    if spec.chunk_length is None:
        raise InvalidInputError("A stateful ModelSpec needs chunk_length (time steps per chunk).")
    if spec.inputs:
        raise InvalidInputError("A stateful model reads one input; remove 'inputs' or 'stateful'.")
    if spec.bidirectional:
        raise InvalidInputError("A stateful model cannot be bidirectional: the backward pass would carry state "
                                "from the end of one chunk into the end of the next.")
    if spec.pooling != "last":
        raise InvalidInputError("A stateful model hands on the last state: use pooling 'last'.")
    return Chunks(spec.chunk_length, spec.batch_size)
