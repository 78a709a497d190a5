"""The HTTP service: `create_app(bundle)` for any ASGI server, `run(path)` to serve it with uvicorn.

Endpoints: `POST /v1/predict`, `POST /v1/explain`, `GET /v1/model`, `GET /healthz`, the page at
`/`, and the OpenAPI schema at `/openapi.json` (browsable at `/docs`).
"""

# No `from __future__ import annotations` here: FastAPI reads the endpoint annotations at
# runtime, and the request models are local to `create_app` (they carry its limits).

import json
import logging
import os
import signal
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from rnnlab._version import __version__
from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.inference.bundle import REQUIRED, Bundle
from rnnlab.inference.stack import STACK_FILE
from rnnlab.serve.batching import MicroBatcher
from rnnlab.serve.body_limit import BodySizeLimit
from rnnlab.serve.schemas import (
    MAX_CHARS,
    MAX_TEXTS,
    ErrorResponse,
    ExplainResponse,
    Health,
    ModelInfo,
    PredictResponse,
    ValidationErrorResponse,
    request_models,
)
from rnnlab.serve.service import ModelService

STATIC_DIR = Path(__file__).parent / "static"
BUNDLE_ENV = "RNNLAB_SERVE_BUNDLE"
OPTIONS_ENV = "RNNLAB_SERVE_OPTIONS"
LOG_LEVEL_ENV = "RNNLAB_SERVE_LOG_LEVEL"

log = logging.getLogger("rnnlab.serve")

_ERRORS = {
    400: {"model": ErrorResponse, "description": "A body that cannot be read as JSON text (not UTF-8, cut short) "
                                                 "or a bad Content-Length."},
    413: {"model": ErrorResponse, "description": "Request body over max_body_bytes (refused before parsing)."},
    422: {"model": ValidationErrorResponse, "description": "Invalid JSON, wrong types, empty or too long text, "
                                                           "too many texts; `loc` says where."},
}


def default_max_body_bytes(max_texts: int, max_chars: int) -> int:
    """Room for the largest valid request even with every character sent as a 6-byte \\u escape."""
    return max_texts * max_chars * 6 + 64 * 1024


def create_app(bundle_or_path: Bundle | str | os.PathLike, *, max_texts: int = MAX_TEXTS,
               max_chars: int = MAX_CHARS, max_body_bytes: int | None = None, warm_up: bool = True,
               batching: bool = True, batch_wait_ms: float = 2.0) -> FastAPI:
    """A FastAPI app serving one bundle: the model is loaded (and compiled) here, once.

    Args:
        bundle_or_path: a loaded `Bundle` or the path of a bundle folder.
        max_texts: most texts per predict request (default 64).
        max_chars: most characters per text (default 20,000).
        max_body_bytes: largest request body; bigger ones get 413 before parsing. Default:
            enough for `max_texts` texts of `max_chars` characters, however encoded.
        warm_up: compile and run the model before returning (default True), so the first
            request is as fast as the others.
        batching: predict the records of concurrent requests in one model call (default True;
            `rnnlab.serve.batching`). False: each request is its own call, in a thread pool.
        batch_wait_ms: under load, how long a batch may wait for more requests (default 2 ms);
            a lone client never waits.

    Example:
        >>> app = create_app("runs/lstm")  # doctest: +SKIP
        >>> TestClient(app).post("/v1/predict", json={"texts": ["An excellent movie!"]}).json()  # doctest: +SKIP
    """
    _check_limits(max_texts=max_texts, max_chars=max_chars, max_body_bytes=max_body_bytes)
    if not isinstance(batch_wait_ms, (int, float)) or isinstance(batch_wait_ms, bool) \
            or not 0 <= batch_wait_ms <= 1000:
        raise InvalidInputError(f"batch_wait_ms must be a number of milliseconds from 0 to 1000, got {batch_wait_ms!r}.")
    if max_body_bytes is None:
        max_body_bytes = default_max_body_bytes(max_texts, max_chars)
    bundle = Bundle.load(bundle_or_path) if isinstance(bundle_or_path, (str, os.PathLike)) else bundle_or_path
    service = ModelService(bundle, max_texts=max_texts)
    if warm_up:
        service.warm_up()
    limits = {"max_texts": max_texts, "max_chars": max_chars, "max_body_bytes": max_body_bytes,
              "batching": batching, "batch_wait_ms": batch_wait_ms if batching else None}
    card = {**service.info(), "limits": limits}
    inputs = bundle.inputs
    PredictRequest, ExplainRequest = request_models(
        max_texts, max_chars, kind=inputs.kind, fields=getattr(inputs, "fields", None),
        features=getattr(inputs.preprocessor, "features", None))
    if inputs.kind == "text":
        def records(request):
            return request.texts

        def record(request):
            return request.text
    else:
        def records(request):
            return [_plain(r) for r in request.records]

        def record(request):
            return _plain(request.record)

    app = FastAPI(title=f"rnnlab: {service.name}", version=__version__,
                  description=f"Classify texts with the `{service.name}` model and see which words the "
                              f"prediction rests on. The same preprocessing as in training is applied.")
    app.state.service = service
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RnnlabError, _input_error)

    if batching:
        batcher = MicroBatcher(service.predict, max_rows=max_texts, max_wait=batch_wait_ms / 1000)
        app.state.batcher = batcher

        @app.post("/v1/predict", response_model=PredictResponse, responses=_ERRORS, tags=["model"])
        async def predict(request: PredictRequest) -> dict:
            """Label and class probabilities of each text, with the tokens used, OOV count and truncation."""
            return {"model": service.name, "predictions": await batcher.predict(records(request))}
    else:
        @app.post("/v1/predict", response_model=PredictResponse, responses=_ERRORS, tags=["model"])
        def predict(request: PredictRequest) -> dict:
            """Label and class probabilities of each text, with the tokens used, OOV count and truncation."""
            return {"model": service.name, "predictions": service.predict(records(request))}

    @app.post("/v1/explain", response_model=ExplainResponse, responses=_ERRORS, tags=["model"])
    def explain(request: ExplainRequest) -> dict:
        """The prediction for one text, with a score for every token fed to the model."""
        return service.explain(record(request))

    @app.get("/v1/model", response_model=ModelInfo, tags=["model"])
    def model_card() -> dict:
        """Name, spec, size, training metrics, vocabulary, maxlen, backend and versions."""
        return card

    @app.get("/healthz", response_model=Health, tags=["service"])
    def healthz() -> dict:
        return {"status": "ok", "model": service.name}

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _plain(record):
    """A request record as plain Python: a field record's model becomes a dict."""
    return record.model_dump() if isinstance(record, BaseModel) else record


def _check_limits(**limits) -> None:
    for name, value in limits.items():
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise InvalidInputError(f"{name} must be a positive integer, got {value!r}.")


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    # FastAPI's default echoes each bad input back: a 20,000-character text would be sent back
    # in full. Where and what is enough to fix a request.
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
              for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


async def _input_error(request: Request, exc: RnnlabError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


def app_from_env() -> FastAPI:
    """App factory for `uvicorn --factory` and worker processes: bundle path and options from the env."""
    path = os.environ.get(BUNDLE_ENV)
    if not path:
        raise RnnlabError(f"Set {BUNDLE_ENV} to the bundle folder to serve.")
    options = json.loads(os.environ.get(OPTIONS_ENV) or "{}")
    _show_logs(os.environ.get(LOG_LEVEL_ENV) or "info")
    return create_app(path, **options)


def run(path: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, *,
        max_texts: int = MAX_TEXTS, max_chars: int = MAX_CHARS, max_body_bytes: int | None = None,
        batching: bool = True, batch_wait_ms: float = 2.0, log_level: str = "info") -> None:
    """Serve the bundle at `path` with uvicorn until interrupted.

    Args:
        path: bundle folder (made by `rnnlab train --out`).
        host: interface to listen on (default ``127.0.0.1``: this machine only).
        port: TCP port (default 8000).
        workers: processes; each loads the model once (default 1).
        max_texts, max_chars, max_body_bytes: request limits, as in `create_app`.
        batching, batch_wait_ms: cross-request batching, as in `create_app`.
        log_level: uvicorn log level (default ``"info"``).

    Example:
        >>> run("runs/lstm", port=8000)  # doctest: +SKIP
    """
    import uvicorn

    _check_limits(workers=workers, max_texts=max_texts, max_chars=max_chars, max_body_bytes=max_body_bytes)
    path = Path(path).resolve()
    missing = [name for name in REQUIRED if not (path / name).exists()]
    if not path.is_dir() or missing and not (path / STACK_FILE).exists():
        raise RnnlabError(f"No complete model bundle at {path}: expected a folder made by `rnnlab train --out`.")
    options = {"max_texts": max_texts, "max_chars": max_chars, "max_body_bytes": max_body_bytes,
               "batching": batching, "batch_wait_ms": batch_wait_ms}
    _show_logs(log_level)
    if workers == 1:
        app = create_app(path, **options)
        _stop_quietly()  # after the warm-up, so Ctrl-C still interrupts a slow start
        uvicorn.run(app, host=host, port=port, log_level=log_level)
        return
    # Worker processes import the app by name, so the bundle and limits travel in the environment.
    os.environ[BUNDLE_ENV] = str(path)
    os.environ[OPTIONS_ENV] = json.dumps(options)
    os.environ[LOG_LEVEL_ENV] = log_level
    _stop_quietly()
    uvicorn.run(f"{__name__}:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level=log_level)


def _stop_quietly() -> None:
    """SIGTERM and Ctrl-C end a graceful shutdown with exit status 0.

    uvicorn stops accepting connections, finishes the requests in flight, then raises the
    signal again with the handlers it found installed. The default ones would kill the process
    (status 143 or 130), which a supervisor reads as a crash; these handlers let `run` return.
    """
    def stopped(signum, frame):
        log.info("stopped by %s", signal.Signals(signum).name)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopped)


def _show_logs(level: str) -> None:
    # Only rnnlab's own lines (start-up, warm-up time) beside uvicorn's: the root logger would
    # also print every library's informational chatter.
    log.setLevel(getattr(logging, level.upper(), logging.INFO))
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        log.addHandler(handler)
