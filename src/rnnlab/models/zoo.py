"""Named models: the tutorials' exact architectures, each with the recipe it was trained with.

Parameter counts are part of the contract (tests pin them); recipes are kept faithful to the
sources rather than tuned, so a reproduction measures the recipe, not our tuning.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field

from rnnlab.data.tables import source_name
from rnnlab.errors import unknown_name
from rnnlab.models.spec import DenseSpec, ModelSpec


@dataclass
class Recipe:
    """How a named model is trained by default (each value can be overridden on the CLI).

    Args:
        dataset: dataset name or path. Defaults to `"imdb"`.
        tokenizer: `"keras"` or `"nltk"` tokenization. Defaults to `"keras"`.
        padding, truncating: `pad_sequences` sides. Default `"pre"`, as Keras.
        batch_size: Defaults to 128.
        epochs: Defaults to 4.
        validation_split: fraction of the training data held out (last rows, as Keras'
            `fit(validation_split=...)`). Defaults to 0.2.
        length_rule: `"truncate"` cuts long reviews to maxlen; `"filter"` drops reviews
            whose sequence (start token included) is not shorter than maxlen, as Keras
            `imdb.load_data(maxlen=...)` does. Defaults to `"truncate"`.
        published_accuracy: test accuracy (%) the source reports, if any.
        source: where the recipe comes from.
        text_column, label_column: the columns of a table file (default: found from the file).
        field_columns: ``{field: column}`` for a model reading several fields from a table.
        test: a file or folder of test examples (default: the dataset's test split, else a
            held-out share of it).
        test_fraction: that held-out share. Defaults to 0.2.
        unlabelled: texts without labels for the objectives that need none (virtual adversarial,
            entropy; `rnnlab.training.objectives`): ``"imdb"`` (its 50,000 ``unsup`` reviews) or a
            file (`rnnlab.data.load_unlabelled`). Defaults to None.
        unlabelled_column: that file's text column (default: found).
        label_separator: the label cells hold several labels joined by this string: a multi-label
            task (`rnnlab.data.load_table`). Defaults to None.
        numeric_labels: the label cells are numbers to predict: a regression task (a table's column of
            numbers that are not all whole is read so without it). Defaults to None.
        sheet: the sheet of an Excel workbook ``dataset`` (default: its first). Defaults to None.
    """

    dataset: str = "imdb"
    tokenizer: str = "keras"
    padding: str = "pre"
    truncating: str = "pre"
    batch_size: int = 128
    epochs: int = 4
    validation_split: float = 0.2
    length_rule: str = "truncate"
    published_accuracy: float | None = None
    source: str = ""
    text_column: str | None = None
    label_column: str | None = None
    field_columns: dict[str, str] | None = None
    test: str | None = None
    test_fraction: float = 0.2
    unlabelled: str | None = None
    unlabelled_column: str | None = None
    label_separator: str | None = None
    numeric_labels: bool | None = None
    sheet: str | None = None

    def to_dict(self) -> dict:
        """The recipe as JSON values; a pandas DataFrame given as data is recorded by its shape and columns."""
        found = asdict(dataclasses.replace(self, dataset=None, test=None, unlabelled=None))
        found.update({key: source_name(getattr(self, key)) for key in ("dataset", "test", "unlabelled")})
        return found

    def source_options(self) -> dict:
        """Where the examples come from, as `rnnlab.encoding.load_splits` takes it."""
        return {"text_column": self.text_column, "label_column": self.label_column,
                "field_columns": self.field_columns, "test": self.test, "test_fraction": self.test_fraction,
                "label_separator": self.label_separator, "numeric_labels": self.numeric_labels,
                "sheet": self.sheet}


@dataclass
class NamedModel:
    name: str
    description: str
    spec: ModelSpec
    recipe: Recipe = field(default_factory=Recipe)


TEXTBOOK = "the textbook's IMDB chapter (vocabulary 8,000, maxlen 200, rmsprop, batch 128)"
ARRANGEMENTS = "the custom recurrent arrangements study (IMDB, vocabulary 5,000, Keras load_data maxlen 100)"
TF2 = "the low-level TF2 RNN tutorial (IMDB, vocabulary 10,000, maxlen 80, Adam 1e-3)"


def _textbook(name, description, cell, epochs, published, **changes) -> NamedModel:
    settings = dict(
        name=name,
        vocab_size=8000,
        maxlen=200,
        embedding_dim=32,
        spatial_dropout=0.4,
        cell=cell,
        units=32,
        output_dropout=0.4,
        optimizer="rmsprop",
    )
    spec = ModelSpec(**{**settings, **changes})
    recipe = Recipe(epochs=epochs, published_accuracy=published, source=TEXTBOOK)
    return NamedModel(name, description, spec, recipe)


def _arrangement(name: str) -> NamedModel:
    # Name grammar: SS = single layer, MS = two stacked layers or one Bidirectional layer;
    # RSF = return_sequences False (last state), RST = True (average over all steps).
    stack, returns, kind = name.split("_", 2)
    bidirectional = kind.startswith("bi")
    cell = kind.removeprefix("bi").lower()
    depth = 2 if stack == "MS" and not bidirectional else 1
    spec = ModelSpec(
        name=name,
        vocab_size=5000,
        maxlen=99,
        embedding_dim=64,
        cell=cell,
        units=128,
        depth=depth,
        bidirectional=bidirectional,
        pooling="avg" if returns == "RST" else "last",
        head=[DenseSpec(64, "relu")],
        optimizer="adam",
    )
    layout = "Bidirectional" if bidirectional else ("2 stacked" if depth == 2 else "1")
    pooled = "average of all states" if returns == "RST" else "last state"
    recipe = Recipe(batch_size=32, epochs=5, length_rule="filter", source=ARRANGEMENTS)
    return NamedModel(name, f"{layout} {cell.upper()}(128), {pooled}, Dense(64)", spec, recipe)


ARRANGEMENT_NAMES = tuple(
    f"{stack}_{returns}_{kind}"
    for stack, kinds in (("SS", ("LSTM", "GRU")), ("MS", ("LSTM", "GRU", "biLSTM", "biGRU")))
    for kind in kinds
    for returns in ("RSF", "RST")
)
TEXTBOOK_NAMES = ("rnn", "lstm", "gru", "bilstm", "stacked-lstm")


def _catalogue() -> dict[str, NamedModel]:
    models = [
        _textbook("rnn", "SimpleRNN(32)", "simple", 10, 85.13),
        _textbook("lstm", "LSTM(32)", "lstm", 5, 87.03),
        _textbook("gru", "GRU(32, reset_after=False)", "gru", 4, 87.16, rnn_options={"reset_after": False}),
        _textbook("bilstm", "Bidirectional(LSTM(32))", "lstm", 4, 87.70, bidirectional=True),
        _textbook("stacked-lstm", "LSTM(32) x2, Dropout(0.5)", "lstm", 4, 87.57, depth=2, output_dropout=0.5),
        NamedModel(
            "amazon-stacked-lstm",
            "the textbook's Amazon activity: LSTM(64) x2, Dense(32) x2 head",
            ModelSpec(
                name="amazon-stacked-lstm",
                vocab_size=10_000,
                maxlen=100,
                embedding_dim=32,
                spatial_dropout=0.4,
                cell="lstm",
                units=64,
                depth=2,
                output_dropout=0.4,
                head=[DenseSpec(32, "relu", 0.5), DenseSpec(32, "relu", 0.5)],
                optimizer="adam",
            ),
            Recipe(dataset="amazon", tokenizer="nltk", epochs=5, published_accuracy=86.0,
                   source="the textbook's Amazon reviews activity (nltk preprocessing, maxlen 100)"),
        ),
        NamedModel(
            "cell-loop-rnn",
            "two SimpleRNNCell(64, dropout=0.5) looped over time by hand",
            ModelSpec(name="cell-loop-rnn", vocab_size=10_000, maxlen=80, embedding_dim=100, cell="simple",
                      units=64, depth=2, dropout=0.5, optimizer="adam", learning_rate=1e-3,
                      architecture="cell-loop"),
            Recipe(epochs=4, source=TF2),
        ),
        NamedModel(
            "stacked-simplernn",
            "two SimpleRNN(64, dropout=0.5, unroll=True) layers",
            ModelSpec(name="stacked-simplernn", vocab_size=10_000, maxlen=80, embedding_dim=100, cell="simple",
                      units=64, depth=2, dropout=0.5, rnn_options={"unroll": True}, optimizer="adam",
                      learning_rate=1e-3),
            Recipe(epochs=4, source=TF2),
        ),
    ]
    models += [_arrangement(name) for name in ARRANGEMENT_NAMES]
    return {m.name: m for m in models}


MODELS: dict[str, NamedModel] = _catalogue()


def get(name: str) -> NamedModel:
    """The named model `name`; unknown names get a "did you mean" error."""
    try:
        return MODELS[name]
    except KeyError:
        raise unknown_name("model", name, MODELS) from None


def names() -> list[str]:
    return list(MODELS)
