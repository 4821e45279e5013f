"""Which encoding backends and quantisations exist, what each needs, and which mix with which.

Pure Python, imported by the CLI at option-parsing time: nothing heavy here.
"""

from __future__ import annotations

import os
from typing import Literal, get_args

from jobmatch.errors import ModelError

Backend = Literal["torch", "onnx", "openvino"]
Quantize = Literal["none", "int8", "bf16"]
BACKENDS: tuple[str, ...] = get_args(Backend)
QUANTIZATIONS: tuple[str, ...] = get_args(Quantize)

SUPPORTED: dict[str, tuple[str, ...]] = {
    "torch": ("none", "bf16"),  # bf16: weights cast to bfloat16 (AMX / AVX512-BF16 or a GPU)
    "onnx": ("none", "int8"),  # int8: ONNX Runtime dynamic quantisation, per-channel weights
    "openvino": ("none", "int8", "bf16"),  # int8: NNCF static; bf16: inference precision
}
"""Quantisations each backend implements."""

EXTRAS: dict[str, tuple[str, ...]] = {
    "onnx": ("onnxruntime", "onnx", "onnxscript"),
    "openvino": ("openvino", "nncf", "onnx", "onnxscript"),
}
"""Modules a backend imports (besides torch, which exports the model), per pip extra."""

BACKEND_ENV = "JOBMATCH_BACKEND"
QUANTIZE_ENV = "JOBMATCH_QUANTIZE"


def check_backend(backend: str, quantize: str) -> None:
    """Raise ValueError naming the valid values when the pair is unknown or unsupported."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {', '.join(QUANTIZATIONS)}, got {quantize!r}")
    if quantize not in SUPPORTED[backend]:
        offered = [name for name, modes in SUPPORTED.items() if quantize in modes]
        raise ValueError(
            f"--quantize {quantize} is not available with --backend {backend} "
            f"(use --backend {' or '.join(offered)})"
        )


def require_extra(backend: str) -> None:
    """Import the backend's modules, or raise ModelError with the pip command that adds them."""
    import importlib.util

    missing = [name for name in EXTRAS.get(backend, ()) if importlib.util.find_spec(name) is None]
    if missing:
        raise ModelError(
            f"--backend {backend} needs {', '.join(missing)}: pip install 'jobmatch[{backend}]'"
        )


def label(backend: str, quantize: str) -> str:
    """Short name of a backend/quantisation pair, e.g. `onnx-int8` or `torch`."""
    return backend if quantize == "none" else f"{backend}-{quantize}"


def compatibility(
    index_backend: str, index_quantize: str, backend: str, quantize: str
) -> str | None:
    """A warning when query embeddings are made differently from the index's, else None.

    The model fingerprint (checked separately) guarantees the same weights. Full-precision
    backends agree to cosine > 0.9999 with each other, so torch, onnx and openvino (none)
    mix freely. Reduced precision shifts embeddings (int8 by about 1 %, bf16 far less), so
    any difference in quantisation, or in the backend of a quantised side, is reported.
    """
    if (index_backend, index_quantize) == (backend, quantize):
        return None
    if index_quantize == quantize == "none":
        return None
    return (
        f"the index was built with {label(index_backend, index_quantize)} embeddings but this "
        f"run encodes with {label(backend, quantize)}; scores shift slightly and retrieval "
        f"quality may drop (pass --backend {index_backend} --quantize {index_quantize} to match)"
    )


def available_cores() -> int:
    """CPU cores this process may run on (affinity-aware), the thread count of the runtimes."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1
