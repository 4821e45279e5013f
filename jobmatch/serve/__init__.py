"""HTTP matching service over a built index: POST /match, GET /health, GET /index.

The model and index are loaded once at start; encoding and search run in a worker thread
(one at a time: torch and FAISS already use every core), so the event loop stays free.
A background task polls the index folder's manifest; when `jobmatch index add` (or a
rebuild) swaps in a new folder, the new version is loaded beside the old one and replaces
it between requests. The folder is opened by a directory descriptor, so every file of one
load comes from the same version: an index is never served half-written or mixed.

FastAPI and uvicorn come from the `serve` extra (`pip install "jobmatch[serve]"`) and are
imported only by this module.
"""

from jobmatch.serve.app import app_from_env, create_app, run
from jobmatch.serve.schemas import MAX_BATCH, MAX_BODY_BYTES, MAX_K, MatchRequest, MatchResponse
from jobmatch.serve.service import CONFIG_ENV, MatchService, ServeConfig

__all__ = [
    "CONFIG_ENV",
    "MAX_BATCH",
    "MAX_BODY_BYTES",
    "MAX_K",
    "MatchRequest",
    "MatchResponse",
    "MatchService",
    "ServeConfig",
    "app_from_env",
    "create_app",
    "run",
]
