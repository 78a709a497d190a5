"""Serve a bundle over HTTP, with a page to try it: ``rnnlab serve BUNDLE`` or::

    from rnnlab.serve import run
    run("runs/lstm", port=8000)

`create_app` gives the FastAPI app itself (for tests or another ASGI server); `ModelService`
the same predictions and explanations without HTTP.
"""

from rnnlab.inference.explain import Explanation, explain
from rnnlab.serve.app import app_from_env, create_app, run
from rnnlab.serve.service import ModelService

__all__ = ["Explanation", "ModelService", "app_from_env", "create_app", "explain", "run"]
