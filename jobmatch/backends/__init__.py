"""Encoding backends: torch (sentence-transformers), ONNX Runtime and OpenVINO, fp32 or int8.

`spec` is light (the CLI imports it); `runtime`, `export` and `cache` are imported by
`jobmatch.encoder.load_encoder` only when a backend other than torch is asked for.
"""

from jobmatch.backends.spec import (
    BACKENDS,
    QUANTIZATIONS,
    SUPPORTED,
    Backend,
    Quantize,
    available_cores,
    check_backend,
    compatibility,
    label,
    require_extra,
)

__all__ = [
    "BACKENDS",
    "QUANTIZATIONS",
    "SUPPORTED",
    "Backend",
    "Quantize",
    "available_cores",
    "check_backend",
    "compatibility",
    "label",
    "require_extra",
]
