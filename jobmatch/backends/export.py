"""Export a sentence-transformers model's transformer to ONNX and OpenVINO, optionally int8.

Only the transformer (token ids -> token embeddings) is exported; tokenisation, pooling and
normalisation stay the model's own modules (see runtime.py), so every backend sees the same
tokens and pools them the same way. The exporter is torch's own (`torch.onnx.export`,
dynamo), which needs `onnx` and `onnxscript`. Heavy modules are imported inside functions.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobmatch.errors import ModelError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

ONNX_FILE = "model.onnx"
OPENVINO_FILE = "model.xml"
OUTPUT_NAME = "token_embeddings"
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
CALIBRATION_TEXTS = 300
"""Synthetic candidate and job texts that calibrate OpenVINO's static int8 ranges."""


def transformer_inputs(model: SentenceTransformer) -> list[str]:
    """Names of the tensors the model's tokenizer feeds its transformer, in a fixed order."""
    first = model[0]
    if not hasattr(first, "preprocess") or getattr(first, "model", None) is None:
        raise ModelError(
            f"backends other than torch need a Transformer as the first module, "
            f"not {type(first).__name__}"
        )
    features = model.preprocess(["probe"])
    names = [name for name in MODEL_INPUTS if name in features]
    if "input_ids" not in names:
        raise ModelError("backends other than torch support text models only")
    return names


def export_onnx(model: SentenceTransformer, path: Path) -> list[str]:
    """Write the transformer as ONNX with dynamic batch and sequence axes; returns input names."""
    import torch

    names = transformer_inputs(model)
    config = model[0].modality_config["text"]
    if config.get("method", "forward") != "forward":
        raise ModelError(f"cannot export a transformer whose text method is {config['method']!r}")
    outputs = config.get("method_output_name") or "last_hidden_state"
    wrapper = _token_embeddings(model[0].model, names, outputs).eval()
    sample = model.preprocess(
        ["an example job description", "a longer example resume text for tracing shapes"]
    )
    args = tuple(sample[name] for name in names)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    with _quiet_exporter(), torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(
            wrapper,
            args,
            str(path),
            input_names=names,
            output_names=[OUTPUT_NAME],
            dynamic_shapes={"inputs": tuple({0: batch, 1: seq} for _ in names)},
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    return names


def quantize_onnx_int8(source: Path, target: Path) -> None:
    """ONNX Runtime dynamic int8: MatMul weights per channel, activations per batch.

    Per-channel weights matter: per-tensor int8 weights of MiniLM keep only ~0.94 cosine.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = target.with_name("prepared.onnx")
    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
    quantize_dynamic(
        str(prepared),
        str(target),
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        weight_type=QuantType.QInt8,
    )
    prepared.unlink()


def openvino_model(source: Path, target: Path) -> None:
    """Convert ONNX to OpenVINO IR, keeping fp32 weights."""
    import openvino as ov

    ov.save_model(ov.convert_model(str(source)), str(target), compress_to_fp16=False)


def quantize_openvino_int8(
    source: Path, target: Path, model: SentenceTransformer, names: Sequence[str]
) -> dict[str, Any]:
    """NNCF static int8 (weights and activations) calibrated on synthetic jobmatch texts."""
    import nncf
    import openvino as ov

    texts = calibration_texts(CALIBRATION_TEXTS)
    batches = [
        {name: features[name].numpy() for name in names}
        for features in (model.preprocess(texts[i : i + 16]) for i in range(0, len(texts), 16))
    ]
    with _quiet_exporter(), contextlib.redirect_stdout(sys.stderr):
        quantized = nncf.quantize(
            ov.Core().read_model(str(source)),
            nncf.Dataset(batches),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(batches),
        )
    ov.save_model(quantized, str(target), compress_to_fp16=False)
    return {"calibration": f"{len(texts)} synthetic jobmatch texts (seed 0)"}


def calibration_texts(count: int) -> list[str]:
    """Seeded synthetic candidate and job texts: in-domain, offline, reproducible."""
    from jobmatch.synth import generate_candidates, generate_jobs

    jobs = count // 3
    texts = generate_candidates(count - jobs, seed=0).column("text").to_pylist()
    return texts + generate_jobs(jobs, seed=0).column("text").to_pylist()


def _token_embeddings(model: Any, names: Sequence[str], outputs: str | Sequence[str]):
    """The transformer as a torch Module of positional tensors, as the exporter wants it."""
    import torch

    keys = (outputs,) if isinstance(outputs, str) else tuple(outputs)

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            output = self.model(**dict(zip(names, inputs, strict=True)), return_dict=True)
            for key in keys:
                output = output[key]
            return output

    return TokenEmbeddings()


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporters' known chatter (narrowly), which is not actionable for users."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "nncf")]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"# The axis name", category=UserWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(torch|onnx|nncf)")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)
