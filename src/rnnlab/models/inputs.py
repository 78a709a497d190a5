"""Several named inputs, each read by its own recurrent encoder, merged before one head.

A `ModelSpec` with `inputs=[EncoderSpec("title", maxlen=20), EncoderSpec("body", maxlen=200)]`
becomes a Keras functional model with two `Input`s named `title` and `body`, two
embedding + recurrent encoders, and a `Concatenate` (or sum, or average) of their outputs
feeding the spec's head. An encoder can also start from another encoder's final states
(`initial_state_from`): the source's top recurrent layer is built with `return_state=True`
and its states become the `initial_state` of the target's first recurrent layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rnnlab.configfile import from_fields
from rnnlab.errors import InvalidInputError

if TYPE_CHECKING:  # the spec imports this module, not the other way round
    from rnnlab.models.spec import ModelSpec

INPUT_MERGES = ("concat", "sum", "average")
# Encoder fields that fall back to the ModelSpec field of the same name when left unset.
INHERITED = ("maxlen", "embedding_dim", "mask_zero", "spatial_dropout", "cell", "units", "depth",
             "bidirectional", "pooling", "dropout", "recurrent_dropout")


@dataclass
class EncoderSpec:
    """One named input and the recurrent encoder that reads it.

    Args:
        name: the Keras input name and the dataset field it reads: `"text"` for the whole
            text, or a key of `TextDataset.fields` such as `"title"` or `"body"`.
        maxlen, embedding_dim, mask_zero, spatial_dropout, cell, units, depth, bidirectional,
            pooling, dropout, recurrent_dropout: as in `ModelSpec`; None (the default for
            each) takes the model's value.
        initial_state_from: name of another encoder whose final recurrent states initialise
            this encoder's first recurrent layer (same cell and width, neither bidirectional).
            Defaults to None (zero initial state).

    Every encoder has its own embedding; all share the model's vocabulary.

    Example:

    >>> spec = ModelSpec(vocab_size=5000, units=32, inputs=[
    ...     EncoderSpec("title", maxlen=20), EncoderSpec("body", maxlen=200, initial_state_from="title")])
    >>> sorted(spec.build().input_names)  # doctest: +SKIP
    ['body', 'title']
    """

    name: str
    maxlen: int | None = None
    embedding_dim: int | None = None
    mask_zero: bool | None = None
    spatial_dropout: float | None = None
    cell: str | None = None
    units: int | list[int] | None = None
    depth: int | None = None
    bidirectional: bool | None = None
    pooling: str | None = None
    dropout: float | None = None
    recurrent_dropout: float | None = None
    initial_state_from: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "EncoderSpec":
        if not isinstance(data, dict):
            raise InvalidInputError(f"Each entry of ModelSpec.inputs must be an object, got {data!r}.")
        if "name" not in data:
            raise InvalidInputError("Each entry of ModelSpec.inputs needs a 'name' (the dataset field it reads).")
        return from_fields(cls, data)

    def as_spec(self, spec: "ModelSpec") -> "ModelSpec":
        """A single-input spec with this encoder's settings, the model's for the unset ones."""
        own = {name: getattr(self, name) for name in INHERITED if getattr(self, name) is not None}
        if "units" in own and "depth" not in own and not isinstance(own["units"], list):
            own["depth"] = spec.depth if not isinstance(spec.units, list) else 1
        return spec.replace(name=self.name, inputs=[], head=[], output_dropout=0.0, **own)


def output_width(encoder: "ModelSpec") -> int:
    """Width of what an encoder hands on (its top layer, both directions when concatenated)."""
    top = encoder.layer_units[-1]
    return 2 * top if encoder.bidirectional and encoder.merge_mode == "concat" else top


def build_order(spec: "ModelSpec") -> list[EncoderSpec]:
    """Encoders ordered so that every state source is built before the encoder it feeds."""
    by_name = {e.name: e for e in spec.inputs}
    ordered: list[EncoderSpec] = []

    def visit(encoder: EncoderSpec, chain: tuple[str, ...]) -> None:
        if encoder in ordered:
            return
        if encoder.name in chain:
            raise InvalidInputError(f"initial_state_from forms a cycle: {' -> '.join(chain + (encoder.name,))}.")
        if encoder.initial_state_from is not None:
            visit(by_name[encoder.initial_state_from], chain + (encoder.name,))
        ordered.append(encoder)

    for encoder in spec.inputs:
        visit(encoder, ())
    return ordered


def check_encoders(spec: "ModelSpec") -> None:
    """Validate `spec.inputs`; called by `ModelSpec.validate`."""
    names = [e.name for e in spec.inputs]
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidInputError(f"EncoderSpec.name must be a plain identifier such as 'title', got {name!r}.")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InvalidInputError(f"Encoder names must be unique; repeated: {', '.join(repeated)}.")
    resolved = {e.name: e.as_spec(spec) for e in spec.inputs}
    for encoder in spec.inputs:
        source_name = encoder.initial_state_from
        if source_name is None:
            continue
        if not isinstance(source_name, str) or source_name not in resolved:
            raise InvalidInputError(
                f"Encoder {encoder.name!r} takes its initial state from {source_name!r}, which is not one of "
                f"the inputs ({', '.join(names)}).")
        source, target = resolved[source_name], resolved[encoder.name]
        if source.bidirectional or target.bidirectional:
            raise InvalidInputError("initial_state_from needs unidirectional encoders on both sides.")
        if source.cell != target.cell or source.layer_units[-1] != target.layer_units[0]:
            raise InvalidInputError(
                f"Encoder {encoder.name!r} ({target.cell}, {target.layer_units[0]} units) cannot start from the "
                f"state of {source_name!r} ({source.cell}, {source.layer_units[-1]} units): cell and width must match.")
    build_order(spec)  # raises on a cycle
    if spec.input_merge != "concat":
        widths = {name: output_width(r) for name, r in resolved.items()}
        if len(set(widths.values())) > 1:
            raise InvalidInputError(
                f"input_merge {spec.input_merge!r} adds the encoders' outputs element-wise, so their widths must be "
                f"equal; got {widths}. Use 'concat' or give the encoders the same units.")
