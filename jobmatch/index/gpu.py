"""GPU placement: use every visible GPU when faiss has GPU support, else change nothing.

Only this module knows about GPUs. Indexes are always saved as CPU indexes. This path can
not run on CPU-only machines (where `faiss.get_num_gpus()` is 0 or missing), so it is kept
to the two faiss calls that do the work.
"""

from __future__ import annotations

import os
from typing import Any

GPU_ENV = "JOBMATCH_GPU"  # set to 0 to keep everything on the CPU


def gpu_count() -> int:
    import faiss

    if os.environ.get(GPU_ENV, "1") == "0" or not hasattr(faiss, "get_num_gpus"):
        return 0
    return int(faiss.get_num_gpus())


def to_gpus(index: Any) -> Any:
    """A copy of `index` sharded over all GPUs, or `index` itself when that is not possible.

    HNSW and fast-scan PQ have no GPU implementation in faiss; they stay on the CPU.
    """
    if gpu_count() == 0:
        return index
    import faiss

    options = faiss.GpuMultipleClonerOptions()
    options.shard = True
    try:
        return faiss.index_cpu_to_all_gpus(index, co=options)
    except (RuntimeError, AttributeError):
        return index


def to_cpu(index: Any) -> Any:
    """A CPU copy of a GPU index (for saving); CPU indexes are returned unchanged."""
    import faiss

    if gpu_count() and hasattr(faiss, "index_gpu_to_cpu") and "Gpu" in type(index).__name__:
        return faiss.index_gpu_to_cpu(index)
    if "IndexShards" in type(index).__name__ and hasattr(faiss, "index_gpu_to_cpu"):
        return faiss.index_gpu_to_cpu(index)
    return index
