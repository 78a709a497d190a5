"""Request and response bodies of the service, with the limits written into the models.

The request models are made per app by `request_models(max_texts, max_chars)`, so the limits a
server was started with are the ones its OpenAPI schema documents and pydantic enforces.
"""

from typing import Annotated, Any, Literal, Optional

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
)

MAX_TEXTS = 64
MAX_CHARS = 20_000
MAX_STEPS = 10_000
#: a character that is not whitespace, Python's whitespace (``str.isspace``) spelled out: the
#: JSON-schema (ECMAScript) ``\S`` leaves out \x1c-\x1f and \x85, so a client trusting the
#: schema could send a text the service then refuses.
NOT_WHITESPACE = r"[^\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def _usable_text(text: str) -> str:
    if text.isspace():
        raise ValueError("text is only whitespace; send the words to classify")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text holds an unpaired UTF-16 surrogate (\\ud800-\\udfff); send valid Unicode") from None
    return text


def request_models(max_texts: int = MAX_TEXTS, max_chars: int = MAX_CHARS, *, kind: str = "text",
                   fields: list[str] | None = None, features: int | None = None,
                   max_steps: int = MAX_STEPS) -> tuple[type[BaseModel], type[BaseModel]]:
    """``(PredictRequest, ExplainRequest)`` classes enforcing these limits, for a bundle's input kind.

    A text model takes ``{"texts": [...]}`` and ``{"text": ...}``; a fields model (title + body)
    ``{"records": [{"title": ..., "body": ...}]}`` and ``{"record": {...}}``; a numeric-sequence
    model ``{"records": [[[x, ...], ...]]}`` (steps x features numbers) and ``{"record": [[...]]}``.
    """
    Text = Annotated[
        str,
        StringConstraints(min_length=1, max_length=max_chars),
        AfterValidator(_usable_text),
        Field(description=f"A raw review: 1 to {max_chars:,} characters, not only whitespace.",
              json_schema_extra={"pattern": NOT_WHITESPACE}),  # declared; enforced (with its message) by _usable_text
    ]
    if kind == "text":
        class PredictRequest(BaseModel):
            """Texts to classify in one batch."""

            model_config = ConfigDict(extra="forbid", json_schema_extra={
                "examples": [{"texts": ["An excellent movie!", "Poor acting, poor script, bad direction."]}]})

            texts: list[Text] = Field(min_length=1, max_length=max_texts,
                                      description=f"1 to {max_texts} texts, predicted together in one model call.")

        class ExplainRequest(BaseModel):
            """One text whose prediction is explained token by token."""

            model_config = ConfigDict(extra="forbid", json_schema_extra={
                "examples": [{"text": "An excellent movie with a dull ending."}]})

            text: Text

        return PredictRequest, ExplainRequest
    if kind == "fields":
        FieldText = Annotated[str, StringConstraints(max_length=max_chars),
                              Field(description=f"Up to {max_chars:,} characters (may be empty).")]
        Record = create_model("FieldRecord", __config__=ConfigDict(extra="forbid"),
                              **{name: (FieldText, ...) for name in fields or []})
        example = {name: "Great phone, battery lasts two days" for name in fields or []}
    elif kind == "sequences":
        Step = Annotated[list[float], Field(min_length=features, max_length=features,
                                            description=f"One time step: {features} numbers.")]
        Record = Annotated[list[Step], Field(min_length=1, max_length=max_steps,
                                             description=f"One sequence: 1 to {max_steps:,} time steps.")]
        example = [[0.0] * (features or 1)] * 3
    else:
        raise ValueError(f"Unknown input kind {kind!r}.")

    class PredictRequest(BaseModel):
        """Records to classify in one batch."""

        model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"records": [example]}]})

        records: list[Record] = Field(min_length=1, max_length=max_texts,
                                      description=f"1 to {max_texts} records, predicted together in one call.")

    class ExplainRequest(BaseModel):
        """One record whose prediction is explained token by token (or step by step)."""

        model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"record": example}]})

        record: Record

    return PredictRequest, ExplainRequest


PredictRequest, ExplainRequest = request_models()


class TextPrediction(BaseModel):
    """The prediction for one text and what the model saw of it."""

    label: str = Field(description="The predicted class name (a regression model: its number as text).")
    label_id: int
    probability: Optional[float] = Field(ge=0, le=1, description=(
        "Probability of the predicted class (null for a regression model, which predicts a number)."))
    probabilities: dict[str, float] = Field(description="Probability of each class, by class name (empty for a "
                                                        "regression model).")
    n_tokens: int = Field(description="Tokens fed to the model (after truncation).")
    n_oov: int = Field(description="Words out of the model's vocabulary.")
    truncated: bool = Field(description="Whether the text was longer than maxlen and was cut.")
    parts: Optional[dict[str, float]] = Field(default=None, description=(
        "Stacked models only: each member's probability of the predicted class, by member name."))
    labels: Optional[list[str]] = Field(default=None, description=(
        "Models with several labels a text only: the label set (each label at or above its threshold, tuned on "
        "validation rows; the most probable one when none is), most probable first."))
    value: Optional[float] = Field(default=None, description="Regression models only: the predicted number.")


class PredictResponse(BaseModel):
    model: str
    predictions: list[TextPrediction]


class TokenScore(BaseModel):
    token: str
    score: float
    oov: bool = Field(description="Whether the token is out of vocabulary (fed as the OOV id).")


class NgramWeight(BaseModel):
    ngram: str
    weight: float = Field(description="The n-gram's weight in the member's score (positive: towards the target).")


class MemberShare(BaseModel):
    weight: float = Field(description="The member's blend weight.")
    probability: float = Field(ge=0, le=1, description="The member's own P(target).")
    share: float = Field(description="What the member adds to the target's blended score.")
    ngrams: Optional[list[NgramWeight]] = Field(default=None, description="N-gram members: the heaviest n-grams.")


class ExplainResponse(TextPrediction):
    """A prediction with a score for each token fed to the model."""

    model: str
    method: Literal["occlusion", "attention", "weights"] = Field(description=(
        "occlusion: score = P(target) (a regression: the number) with the token minus without it; "
        "attention: the model's attention weight on the token; "
        "weights: a stack of n-gram models, the word's own weight towards the target."))
    target: str = Field(description="The class the scores refer to: the positive class of a binary model, "
                                    "else the predicted class.")
    base_probability: Optional[float] = Field(ge=0, le=1, description=(
        "P(target) for the whole text (null for a regression model: see base_value)."))
    base_value: Optional[float] = Field(default=None, description=(
        "Regression models only: the predicted number for the whole text; occlusion scores are it minus the "
        "number without the token."))
    tokens: list[TokenScore]
    parts: Optional[dict[str, MemberShare]] = Field(default=None, description=(
        "Stacked models only: each member's blend weight, probability of the target and share of the blended "
        "score; the token scores are the lead (first recurrent) member's."))


class Limits(BaseModel):
    max_texts: int
    max_chars: int
    max_body_bytes: int
    batching: bool = Field(True, description="Records of concurrent requests are predicted in one model call.")
    batch_wait_ms: float | None = Field(None, description="How long a batch may wait for more requests under load.")


class ModelInfo(BaseModel):
    """The model card: what is served and how well it scored when trained."""

    name: str
    params: int
    class_names: list[str]
    test_accuracy: float | None
    input_kind: Literal["text", "fields", "sequences"] = Field(description="What one record is.")
    inputs: dict[str, Any] = Field(description="The input kind's settings (fields, maxlen, features...).")
    vocabulary_size: int | None = Field(description="Embedding input dimension, padding and OOV ids included "
                                                    "(null for numeric sequences).")
    maxlen: int | None
    tokenizer: str | None
    explain_method: Literal["occlusion", "attention", "weights"]
    backend: str = Field(description="Keras backend this server runs on.")
    versions: dict[str, str] = Field(description="Library versions of this server.")
    members: Optional[list[dict[str, Any]]] = Field(default=None, description=(
        "Stacked models only: each member's name, kind, blend weight, parameters and accuracies."))
    spec: Optional[dict[str, Any]] = Field(description="The model spec (a stack: its lead recurrent member's; "
                                                       "none for n-gram members only).")
    metrics: dict[str, Any] = Field(description="The bundle's training metrics (metrics.json), "
                                                "with the backend and versions it was trained with.")
    calibration: Optional[dict[str, Any]] = Field(default=None, description=(
        "How honest the probabilities are: the temperature fitted on validation rows (null when none was), what "
        "it was fitted on, and the test split's expected calibration error with and without it."))
    limits: Limits


class Health(BaseModel):
    status: Literal["ok"]
    model: str


class ErrorDetail(BaseModel):
    loc: list[str | int] = Field(description="Where the problem is, e.g. ['body', 'texts', 2].")
    msg: str
    type: str


class ValidationErrorResponse(BaseModel):
    detail: list[ErrorDetail]


class ErrorResponse(BaseModel):
    detail: str
