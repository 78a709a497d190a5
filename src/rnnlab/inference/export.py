"""`rnnlab export BUNDLE --format onnx`: a text (text-fields, numeric-sequence) bundle as an ONNX model, its
preprocessing as JSON, and a short reader that needs no rnnlab.

The model is written by Keras' own exporter (``model.export(format="onnx")``, which on JAX converts
the traced function with jax2onnx), from the bundle loaded with Keras' recurrent layers (rnnlab's
compiled kernels are calls into a C++ library, which ONNX cannot hold; the weights are the same).
The folder holds:

* ``model.onnx``: token ids ``(n, maxlen)`` int32 in (one matrix per field for a two-field model; scaled steps
  ``(n, maxlen, features)`` float32 for numeric sequences), the model's output out (its sigmoid, softmax,
  sigmoids or number, before temperature scaling); with ``model.onnx.data`` beside it when the weights
  are large (ONNX's external data, read by onnxruntime from the same folder);
* ``preprocessing.json``: the tokenizer's rules, the vocabulary, cutting and padding, the input's
  name, and what the output means (class names, temperature, thresholds); documented in
  ``rnnlab_reader.py``;
* ``rnnlab_reader.py``: `rnnlab.inference.onnx_reader`, the reader (token ids in plain Python;
  probabilities with numpy and onnxruntime).

Before the folder is put in place, onnxruntime runs the model through the reader on a few texts and
its probabilities are compared with the bundle's (`EQUAL_WITHIN`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
from pathlib import Path

import numpy as np

from rnnlab._backend import backend_name
from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.files import staged_folder, write_json
from rnnlab.models.kernels import KERNEL_ENV
from rnnlab.text.words import KERAS_FILTERS

__all__ = ["EQUAL_WITHIN", "FORMATS", "export_bundle"]

FORMATS = ("onnx",)
#: the largest difference from the bundle's probabilities an export may show on its check texts
EQUAL_WITHIN = 1e-5
CHECK_TEXTS = (
    "An excellent movie, moving and beautifully acted.<br /><br />I loved it!",
    "The worst film I have ever seen: a boring, stupid waste of time.",
    "It was fine. Not great, not bad -- the ending drags; the cast (mostly) does well.",
    "word " * 300,
    "zzqx unknown-words only",
)


def export_bundle(bundle_path, out, *, format: str = "onnx") -> dict:  # noqa: A002  (the CLI's word)
    """Write the bundle at ``bundle_path`` as an ONNX export folder at ``out``; returns what was written and the
    largest difference between the export's probabilities and the bundle's on the check texts."""
    if format not in FORMATS:
        raise InvalidInputError(f"Unknown export format {format!r}; rnnlab exports {', '.join(FORMATS)}.")
    if backend_name() != "jax":
        raise InvalidInputError("ONNX export runs on the JAX backend (Keras converts the traced JAX function); run it "
                                "with KERAS_BACKEND=jax. The exported model then runs anywhere onnxruntime does.")
    try:
        import jax2onnx  # noqa: F401  (Keras' ONNX exporter on JAX)
        import onnxruntime  # noqa: F401  (the equality check)
    except ImportError:
        raise InvalidInputError("ONNX export needs jax2onnx and onnxruntime: pip install 'rnnlab[onnx]'.") from None
    from rnnlab.inference.bundle import Bundle

    with _keras_layers():
        bundle = Bundle.load(bundle_path)
    _check_exportable(bundle, bundle_path)
    out = Path(out)
    with staged_folder(out, marker="model.onnx", what="an rnnlab ONNX export") as staging:
        model = bundle.model
        model(bundle.preprocessor.transform(_check_records(bundle)[:1]))  # Keras exports a model that has been called
        quiet = logging.getLogger("onnx_ir")  # a warning per dynamic dimension it leaves untyped
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), _forward_scans():
                model.export(str(staging / "model.onnx"), format="onnx", verbose=False)  # prints "Saved artifact"
        finally:
            quiet.setLevel(level)
        write_json(staging / "preprocessing.json", describe(bundle), indent=2)
        shutil.copyfile(Path(__file__).with_name("onnx_reader.py"), staging / "rnnlab_reader.py")
        difference = _check(staging, bundle)
        if difference > EQUAL_WITHIN:
            raise RnnlabError(f"The ONNX model's probabilities differ from the bundle's by {difference:.2g} "
                              f"(more than {EQUAL_WITHIN:g}); nothing was written to {out}.")
    files = sorted(p.name for p in out.iterdir())  # model.onnx.data too when the weights are large
    return {"out": str(out), "files": files, "check_texts": len(CHECK_TEXTS), "largest_difference": difference,
            "bytes": sum((out / name).stat().st_size for name in files)}


def _check_exportable(bundle, path) -> None:
    from rnnlab.inference.stack import StackBundle

    if isinstance(bundle, StackBundle):
        raise InvalidInputError(f"{path} is a stack: its n-gram members and blend are not a Keras model. Export one "
                                "of its recurrent members (members/...) instead.")
    if bundle.kind not in ("text", "fields", "sequences"):
        raise InvalidInputError(f"{path} reads {bundle.kind}; ONNX export covers bundles of texts, of text fields and "
                                "of numeric sequences.")
    if bundle.kind == "sequences" and bundle.preprocessor.maxlen is None:
        raise InvalidInputError(f"{path} pads each batch to its longest sequence (no maxlen); ONNX export needs a "
                                "fixed length: retrain with --maxlen.")
    if bundle.kind != "sequences" and bundle.preprocessor.mode != "keras":
        raise InvalidInputError(f"{path} tokenizes in {bundle.preprocessor.mode!r} mode (Treebank words, stop words, "
                                "Porter stems), which the export's plain-Python reader does not reproduce; export a "
                                "model trained with --tokenizer keras.")
    if bundle.spec.stateful:
        raise InvalidInputError(f"{path} is stateful: it reads chunks with its state carried between calls, which an "
                                "ONNX model of one call does not hold.")


@contextlib.contextmanager
def _forward_scans():
    """Trace every reverse scan (a backward or bidirectional layer) as a forward scan over the flipped steps,
    its outputs flipped back: the same function, which jax2onnx converts (it has no reverse scan)."""
    import jax

    scan = jax.lax.scan

    def forward(f, init, xs=None, length=None, reverse=False, **options):
        if not reverse:
            return scan(f, init, xs, length=length, **options)
        flip = functools.partial(jax.tree_util.tree_map, lambda a: jax.numpy.flip(a, axis=0))
        carry, ys = scan(f, init, None if xs is None else flip(xs), length=length, **options)
        return carry, flip(ys)

    jax.lax.scan = forward
    try:
        yield
    finally:
        jax.lax.scan = scan


@contextlib.contextmanager
def _keras_layers():
    """Load with Keras' own recurrent layers (the compiled kernels stay out of the traced function)."""
    before = os.environ.get(KERNEL_ENV)
    os.environ[KERNEL_ENV] = "keras"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(KERNEL_ENV, None)
        else:
            os.environ[KERNEL_ENV] = before


def _check_records(bundle) -> list:
    """The check texts, or for a model reading fields, records of them (one with a blank field), or for numeric
    sequences, sequences around the training data's scale: full length, short, one step and over-long."""
    if bundle.kind == "text":
        return list(CHECK_TEXTS)
    if bundle.kind == "sequences":
        prep = bundle.preprocessor
        rng = np.random.default_rng(0)
        mean, std = np.asarray(prep.mean), np.asarray(prep.std)
        return [(mean + std * rng.normal(size=(steps, len(mean)))).tolist()
                for steps in (prep.maxlen, max(1, prep.maxlen // 3), 1, prep.maxlen + 7)]
    fields = list(bundle.preprocessor.maxlens)
    records = [{name: text for name in fields} for text in CHECK_TEXTS]
    records[1][fields[0]] = ""  # a blank field: all padding
    return records


def describe(bundle) -> dict:
    """``preprocessing.json`` of an export (see `rnnlab.inference.onnx_reader`). The ONNX inputs keep the Keras
    inputs' names: ``tokens``, or each field's name; the check run by onnxruntime feeds them by those names."""
    from rnnlab.inference.onnx_reader import FORMAT, VERSION

    spec = bundle.spec
    kind = ("regression" if spec.regression else "sigmoids" if spec.multi_label else "sigmoid" if spec.binary
            else "softmax")
    temperature = bundle.temperature
    output = {"kind": kind, "class_names": list(bundle.class_names),
              "temperature": None if temperature is None else np.round(temperature, 6).tolist()}
    if bundle.thresholds is not None:
        output["thresholds"] = [float(t) for t in bundle.thresholds]
    if bundle.decision_threshold is not None:
        output["decision_threshold"] = float(bundle.decision_threshold)
    head = {"format": FORMAT, "version": VERSION, "model": spec.name}
    if bundle.kind == "sequences":
        prep = bundle.preprocessor.to_json()
        rules = {k: prep[k] for k in ("maxlen", "padding", "truncating", "mask_value", "mean", "std")}
        return {**head, "input": _input_name(bundle), "sequences": rules, "output": output}
    fields = dict(bundle.preprocessor.maxlens) if bundle.kind == "fields" else None
    prep = (bundle.preprocessor.base if fields else bundle.preprocessor).to_json()
    vocabulary = prep["vocabulary"]
    where = {"fields": fields} if fields else {"input": _input_name(bundle)}
    return {
        **head,
        **where,
        "tokenizer": {"mode": prep["mode"], "html_breaks": r"<br\s*/?>", "lowercase": True, "filters": KERAS_FILTERS,
                      "split": "whitespace"},
        "vocabulary": {"oov_token": vocabulary["oov_token"], "num_words": vocabulary["num_words"],
                       "words": vocabulary["words"]},
        "maxlen": prep["maxlen"],
        "padding": prep["padding"],
        "truncating": prep["truncating"],
        "output": output,
    }


def _input_name(bundle) -> str:
    return bundle.model.inputs[0].name.split(":")[0]


def _check(folder: Path, bundle) -> float:
    """The largest difference between the export read by its own reader and the bundle, on `CHECK_TEXTS`."""
    from rnnlab.inference.onnx_reader import Reader

    reader = Reader(folder)
    records = _check_records(bundle)
    fed, expected = reader.feed(records), bundle.preprocessor.transform(records)
    if not isinstance(expected, dict):
        expected = {name: expected for name in fed}  # one input, named as the ONNX model names it
    if not all(np.array_equal(fed[name], expected[name]) for name in expected):
        raise RnnlabError("The export's reader gives other model inputs (token ids, or scaled steps) than the "
                          "bundle; nothing was written.")
    return float(np.abs(reader.probabilities(records) - bundle.predict_proba(records)).max())
