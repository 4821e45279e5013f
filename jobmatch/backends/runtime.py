"""Encode with ONNX Runtime or OpenVINO, tokenising and pooling exactly as the torch model does.

Each batch goes through the model's own `preprocess` (its tokenizer, truncation and max
sequence length), the exported transformer, then the model's remaining modules (Pooling with
its configured mode, Normalize, Dense, ...) in torch. Texts are sorted by length, longest
first, so batches carry little padding; both runtimes use as many threads as the machine
gives this process. OpenVINO runs one batch on all threads, but several batches in parallel
streams (its THROUGHPUT hint, one stream per core or two here) while the next batch is
tokenised: MiniLM's small matrices keep one stream from using every core.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from jobmatch.backends import cache, export
from jobmatch.backends.spec import available_cores, label

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Key = TypeVar("Key")
Infer = Callable[[Iterable[tuple[Key, dict[str, np.ndarray]]]], Iterator[tuple[Key, np.ndarray]]]
"""Token embeddings for a stream of (key, model inputs) batches, yielded in input order."""


@dataclass
class Runtime:
    """An exported transformer plus the model modules around it."""

    model: SentenceTransformer
    infer: Infer = field(repr=False)
    input_names: list[str]
    backend: str
    quantize: str
    folder: Path
    exported: bool
    """True when this load made the export, False when it reused a cached one."""
    threads: int

    def encode(
        self, texts: Sequence[str], *, batch_size: int, progress: bool = False
    ) -> np.ndarray:
        """L2-normalised float32 embeddings in input order, from length-sorted batches."""
        import torch
        from tqdm import tqdm

        order = np.argsort([-len(text) for text in texts], kind="stable")
        out: np.ndarray | None = None
        tail = list(self.model)[1:]
        starts = range(0, len(texts), batch_size)

        def batches() -> Iterator[tuple[tuple[np.ndarray, dict], dict[str, np.ndarray]]]:
            for start in tqdm(starts, desc="encoding", unit="batch", disable=not progress):
                rows = order[start : start + batch_size]
                features = self.model.preprocess([texts[i] for i in rows])
                yield (rows, features), {name: features[name].numpy() for name in self.input_names}

        with torch.inference_mode():
            for (rows, features), tokens in self.infer(batches()):
                features[export.OUTPUT_NAME] = torch.from_numpy(tokens)
                for module in tail:
                    features = module(features)
                pooled = torch.nn.functional.normalize(features["sentence_embedding"], dim=1)
                if out is None:
                    out = np.empty((len(texts), pooled.shape[1]), dtype=np.float32)
                out[rows] = pooled.float().numpy()
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def load_runtime(
    model: SentenceTransformer,
    location: str,
    fingerprint: str,
    backend: str,
    quantize: str,
    *,
    bundled: bool,
) -> Runtime:
    """Export (once, cached) and open `model` on `backend` with `quantize`."""
    # bf16 is a precision hint at compile time: it shares the fp32 export.
    variant = label(backend, "none" if quantize == "bf16" else quantize)
    folder = cache.export_dir(location, fingerprint, variant, bundled=bundled)
    names = export.transformer_inputs(model)
    builder = _ONNX_BUILDERS if backend == "onnx" else _OPENVINO_BUILDERS
    description, exported = cache.ensure_export(
        folder, lambda tmp: _describe(builder[quantize](model, tmp, location, fingerprint, bundled))
    )
    threads = available_cores()
    opener = _open_onnx if backend == "onnx" else _open_openvino
    infer = opener(folder / description["file"], quantize, threads)
    return Runtime(model, infer, names, backend, quantize, folder, exported, threads)


def _describe(extra: dict[str, Any]) -> dict[str, Any]:
    import torch

    return {"torch_version": torch.__version__, **extra}


# ------------------------------------------------------------------ exports per variant


def _onnx_fp32(model, tmp: Path, *_: Any) -> dict[str, Any]:
    import onnxruntime

    export.export_onnx(model, tmp / export.ONNX_FILE)
    return {"file": export.ONNX_FILE, "onnxruntime_version": onnxruntime.__version__}


def _onnx_int8(model, tmp: Path, location: str, fingerprint: str, bundled: bool):
    import onnxruntime

    source = _base_onnx(model, location, fingerprint, bundled)
    export.quantize_onnx_int8(source, tmp / export.ONNX_FILE)
    return {
        "file": export.ONNX_FILE,
        "quantization": "onnxruntime dynamic int8, MatMul weights per channel",
        "onnxruntime_version": onnxruntime.__version__,
    }


def _openvino_fp32(model, tmp: Path, location: str, fingerprint: str, bundled: bool):
    import openvino

    source = _base_onnx(model, location, fingerprint, bundled)
    export.openvino_model(source, tmp / export.OPENVINO_FILE)
    return {"file": export.OPENVINO_FILE, "openvino_version": openvino.__version__}


def _openvino_int8(model, tmp: Path, location: str, fingerprint: str, bundled: bool):
    import nncf
    import openvino

    source = _base_onnx(model, location, fingerprint, bundled)
    names = export.transformer_inputs(model)
    details = export.quantize_openvino_int8(source, tmp / export.OPENVINO_FILE, model, names)
    return {
        "file": export.OPENVINO_FILE,
        "quantization": "NNCF static int8 (transformer preset)",
        "openvino_version": openvino.__version__,
        "nncf_version": nncf.__version__,
        **details,
    }


def _base_onnx(model, location: str, fingerprint: str, bundled: bool) -> Path:
    """The fp32 ONNX export every other variant starts from (itself cached)."""
    folder = cache.export_dir(location, fingerprint, "onnx", bundled=bundled)
    description, _ = cache.ensure_export(folder, lambda tmp: _describe(_onnx_fp32(model, tmp)))
    return folder / description["file"]


_ONNX_BUILDERS = {"none": _onnx_fp32, "int8": _onnx_int8}
_OPENVINO_BUILDERS = {"none": _openvino_fp32, "int8": _openvino_int8, "bf16": _openvino_fp32}
"""Export per quantisation; bf16 shares the fp32 export (it is a precision hint)."""


# ------------------------------------------------------------------ runtimes


def _open_onnx(path: Path, quantize: str, threads: int) -> Infer:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def infer(batches):
        for key, arrays in batches:
            yield key, session.run([export.OUTPUT_NAME], arrays)[0]

    return infer


def _open_openvino(path: Path, quantize: str, threads: int) -> Infer:
    import openvino as ov

    core = ov.Core()
    compiled: dict[str, Any] = {}

    def model(hint: str) -> Any:
        """LATENCY (one stream, every thread) for one batch; THROUGHPUT, compiled on first
        use, for more."""
        if hint not in compiled:
            config = {
                "INFERENCE_NUM_THREADS": threads,
                "PERFORMANCE_HINT": hint,
                # f32 unless bf16 was asked for: OpenVINO would otherwise pick bf16 on AMX CPUs.
                "INFERENCE_PRECISION_HINT": "bf16" if quantize == "bf16" else "f32",
            }
            compiled[hint] = core.compile_model(str(path), "CPU", config)
        return compiled[hint]

    def infer(batches):
        batches = iter(batches)
        first = next(batches, None)
        if first is None:
            return
        second = next(batches, None)
        if second is None:  # a single batch (a query): all threads on it
            request = model("LATENCY").create_infer_request()
            request.infer(first[1])
            yield first[0], _output(request)
            return
        yield from _in_parallel(model("THROUGHPUT"), itertools.chain([first, second], batches))

    model("LATENCY")  # compile now: a broken export fails at load, not at the first query
    return infer


def _in_parallel(compiled: Any, batches: Iterable[tuple[Any, dict]]) -> Iterator[tuple[Any, Any]]:
    """Run batches on the compiled model's parallel streams; yield results in input order."""
    import openvino as ov

    queue = ov.AsyncInferQueue(compiled, compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
    finished: dict[int, np.ndarray] = {}
    queue.set_callback(lambda request, slot: finished.__setitem__(slot, _output(request)))
    keys: dict[int, Any] = {}
    ready = 0
    for slot, (key, arrays) in enumerate(batches):
        keys[slot] = key
        queue.start_async(arrays, slot)  # waits while every stream is busy
        while ready in finished:
            yield keys.pop(ready), finished.pop(ready)
            ready += 1
    queue.wait_all()
    while ready in finished:
        yield keys.pop(ready), finished.pop(ready)
        ready += 1
    if keys:
        raise RuntimeError(f"OpenVINO returned no result for {len(keys)} batch(es)")


def _output(request: Any) -> np.ndarray:
    """A copy of the request's output: its buffer is reused by the next inference."""
    return np.array(request.get_output_tensor(0).data, dtype=np.float32)
