"""Encoding backends on a tiny real BERT: agreement with torch fp32, export cache, CLI options.

Agreement floors (cosine with torch fp32, per text): fp32 exports >= 0.999 and bf16 >= 0.99
(the issue asks 0.99); int8 >= 0.98 here. The tiny random model's embeddings share a large
common direction, so agreement is also checked after removing the torch mean embedding
("centred"), which exposes errors that raw cosine hides: fp32 >= 0.99, int8 >= 0.90, bf16 >=
0.95. Measured on this model: fp32 1.000, onnx-int8 0.9999 raw / 0.998 centred, openvino-int8
0.9998 / 0.99, bf16 1.000 / 0.99. On all-MiniLM-L6-v2 the benchmark (benchmarks/encode.py)
measures onnx-int8 ~0.99 and openvino-int8 ~0.995 raw cosine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from jobmatch.backends import cache
from jobmatch.cli import main
from jobmatch.testing import build_tiny_model

pytest.importorskip("onnxruntime")
pytest.importorskip("openvino")

TEXTS = [
    "senior nlp engineer in berlin, germany with python and pytorch",
    "junior frontend developer",
    "staff security researcher, remote, 12 years experience with rust and go",
    "data scientist in paris: spark, sql and machine learning for search",
    "x",
    "principal cloud engineer leading a kubernetes and docker team in london",
    "intern",
    "machine learning researcher working on retrieval and vision in munich",
] * 3

# (backend, quantize, raw floor, centred floor)
VARIANTS = [
    ("onnx", "none", 0.999, 0.99),
    ("openvino", "none", 0.999, 0.99),
    ("onnx", "int8", 0.98, 0.90),
    ("openvino", "int8", 0.98, 0.90),
    ("openvino", "bf16", 0.99, 0.95),
    ("torch", "bf16", 0.99, 0.95),
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private tiny model: exports are cached inside it, so other tests' copy stays clean."""
    return build_tiny_model(tmp_path_factory.mktemp("backend-model"), seed=3)


@pytest.fixture(scope="module")
def reference(model_dir: Path) -> np.ndarray:
    from jobmatch.encoder import load_encoder

    return load_encoder(str(model_dir), device="cpu").encode(TEXTS, batch_size=5)


def _rowwise_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_openvino_parallel_streams_return_batches_in_order(model_dir: Path) -> None:
    """Several batches run on parallel streams; one batch alone runs on the latency model."""
    from jobmatch.encoder import load_encoder

    encoder = load_encoder(str(model_dir), backend="openvino")
    one_batch = encoder.encode(TEXTS, batch_size=len(TEXTS))
    streamed = encoder.encode(TEXTS, batch_size=3)
    np.testing.assert_allclose(streamed, one_batch, atol=1e-5)
    alone = np.stack([encoder.encode([text], batch_size=1)[0] for text in TEXTS[:8]])
    np.testing.assert_allclose(alone, one_batch[:8], atol=1e-5)


@pytest.mark.parametrize(("backend", "quantize", "raw_floor", "centred_floor"), VARIANTS)
def test_backend_agrees_with_torch(
    model_dir: Path,
    reference: np.ndarray,
    backend: str,
    quantize: str,
    raw_floor: float,
    centred_floor: float,
) -> None:
    from jobmatch.encoder import load_encoder

    encoder = load_encoder(str(model_dir), backend=backend, quantize=quantize)
    assert (encoder.backend, encoder.quantize) == (backend, quantize)
    embeddings = encoder.encode(TEXTS, batch_size=5)  # uneven batches, sorted by length
    assert embeddings.shape == reference.shape and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    assert _rowwise_cosine(embeddings, reference).min() >= raw_floor
    centre = reference.mean(axis=0)
    assert _rowwise_cosine(embeddings - centre, reference - centre).min() >= centred_floor
    # same text, same vector, whatever batch it lands in
    np.testing.assert_allclose(embeddings[0], embeddings[8], atol=1e-5)
    assert encoder.fingerprint == load_encoder(str(model_dir)).fingerprint


def test_torch_bf16_runs_bfloat16_weights_under_the_fp32_fingerprint(model_dir: Path) -> None:
    import torch

    from jobmatch.encoder import load_encoder, model_fingerprint

    fp32 = load_encoder(str(model_dir))
    bf16 = load_encoder(str(model_dir), quantize="bf16")
    assert {p.dtype for p in bf16.model.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in fp32.model.parameters()} == {torch.float32}
    assert bf16.fingerprint == fp32.fingerprint != model_fingerprint(bf16.model)


def test_export_is_cached_and_reused(model_dir: Path) -> None:
    from jobmatch.encoder import load_encoder

    first = load_encoder(str(model_dir), backend="onnx", quantize="int8").runtime
    model_file = first.folder / "model.onnx"
    stamp = model_file.stat().st_mtime_ns
    second = load_encoder(str(model_dir), backend="onnx", quantize="int8").runtime
    assert not second.exported and second.folder == first.folder
    assert model_file.stat().st_mtime_ns == stamp
    assert first.folder.parent == model_dir / cache.NEXT_TO_MODEL
    described = json.loads((first.folder / cache.EXPORT_FILE).read_text())
    assert described["file"] == "model.onnx" and "onnxruntime" in described["quantization"]
    # bf16 is a precision hint on the fp32 OpenVINO export, which it shares
    fp32 = load_encoder(str(model_dir), backend="openvino").runtime
    bf16 = load_encoder(str(model_dir), backend="openvino", quantize="bf16").runtime
    assert bf16.folder == fp32.folder and not bf16.exported
    leftovers = [p.name for p in first.folder.parent.iterdir() if ".tmp-" in p.name]
    assert leftovers == []


def test_incomplete_export_is_rebuilt(tmp_path: Path) -> None:
    target = tmp_path / "fp-onnx"
    target.mkdir()
    (target / "model.onnx").write_bytes(b"half a file")  # killed before export.json

    def build(tmp: Path) -> dict:
        (tmp / "model.onnx").write_bytes(b"whole")
        return {"file": "model.onnx"}

    description, made = cache.ensure_export(target, build)
    assert made and description == {"file": "model.onnx"}
    assert (target / "model.onnx").read_bytes() == b"whole"
    again, made_again = cache.ensure_export(target, build)
    assert again == description and not made_again


def test_bundled_and_hub_models_export_to_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path
) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    bundled = cache.export_dir(str(model_dir), "abc", "onnx-int8", bundled=True)
    assert bundled == tmp_path / "cache" / "abc" / "onnx-int8"
    hub = cache.export_dir("org/some-model", "abc", "openvino", bundled=False)
    assert hub == tmp_path / "cache" / "abc" / "openvino"
    local = cache.export_dir(str(model_dir), "abc", "onnx", bundled=False)
    assert local == model_dir / cache.NEXT_TO_MODEL / "abc-onnx"


def _build(data: Path, index: Path, *extra: str) -> list[str]:
    source = str(data / "candidates.parquet")
    return ["index", "build", "--input", source, "--index", str(index), *extra]


def _synth(runner: CliRunner, folder: Path) -> None:
    made = runner.invoke(
        main, ["synth", "--candidates", "60", "--jobs", "3", "--seed", "2", "--out", str(folder)]
    )
    assert made.exit_code == 0, made.output


def test_manifest_records_backend_and_query_checks_it(tmp_path: Path, model_dir: Path) -> None:
    runner = CliRunner()
    data, index = tmp_path / "data", tmp_path / "index"
    _synth(runner, data)
    built = runner.invoke(
        main,
        _build(data, index, "--model", str(model_dir), "--backend", "onnx", "--quantize", "int8"),
    )
    assert built.exit_code == 0, built.output
    info = json.loads(runner.invoke(main, ["index", "info", str(index)]).output)
    assert (info["backend"], info["quantize"]) == ("onnx", "int8")

    query = ["query", "--index", str(index), "--text", "senior nlp engineer", "-k", "3"]
    same = runner.invoke(main, [*query, "--format", "jsonl"])  # the index's backend by default
    assert same.exit_code == 0, same.output
    assert "warning" not in same.stderr
    assert len(same.stdout.splitlines()) == 3

    other = runner.invoke(main, [*query, "--backend", "torch", "--quantize", "none"])
    assert other.exit_code == 0, other.output
    warning = [line for line in other.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "onnx-int8" in warning[0] and "torch" in warning[0]

    added = runner.invoke(
        main,
        ["index", "add", "--input", str(data / "candidates.parquet"), "--index", str(index)],
    )
    assert added.exit_code == 0 and "warning" not in added.stderr, added.output


def test_full_precision_backends_mix_without_warning(tmp_path: Path, model_dir: Path) -> None:
    runner = CliRunner()
    data, index = tmp_path / "data", tmp_path / "index"
    _synth(runner, data)
    built = runner.invoke(
        main,
        _build(data, index, "--model", str(model_dir)),
    )
    assert built.exit_code == 0, built.output
    query = ["query", "--index", str(index), "--text", "python developer", "--format", "jsonl"]
    torch_hits = runner.invoke(main, query)
    ov_hits = runner.invoke(main, [*query, "--backend", "openvino"])
    assert ov_hits.exit_code == 0 and "warning" not in ov_hits.stderr, ov_hits.output
    ids = [
        [json.loads(line)["candidate_id"] for line in r.stdout.splitlines()]
        for r in (torch_hits, ov_hits)
    ]
    assert ids[0][:5] == ids[1][:5]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "torch", "--quantize", "int8"], "--quantize int8 is not available"),
        (["--backend", "onnx", "--quantize", "bf16"], "use --backend torch or openvino"),
        (["--quantize", "int8"], "with --backend torch"),
        (["--backend", "tensorrt"], "'tensorrt' is not one of"),
        (["--quantize", "int4"], "'int4' is not one of"),
    ],
)
def test_bad_backend_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    data = tmp_path / "data"
    _synth(CliRunner(), data)
    result = CliRunner().invoke(
        main,
        _build(data, tmp_path / "index", *args),
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "index").exists()


def test_missing_extra_names_the_pip_command(tmp_path: Path, model_dir: Path) -> None:
    """Without onnxruntime (hidden from imports), one line names the extra; exit 2."""
    data = tmp_path / "data"
    _synth(CliRunner(), data)
    code = (
        "import sys; sys.modules['onnxruntime'] = None\n"
        "from jobmatch.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    args = _build(data, tmp_path / "index", "--model", str(model_dir), "--backend", "onnx")
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "error: --backend onnx needs onnxruntime: pip install 'jobmatch[onnx]'"
    )


def test_help_does_not_import_backends() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from jobmatch.cli import main\n"
        "for args in (['query', '--help'], ['index', 'build', '--help'], ['judge', '--help']):\n"
        "    result = CliRunner().invoke(main, args)\n"
        "    assert result.exit_code == 0 and '--backend' in result.output, result.output\n"
        "heavy = [m for m in ('torch', 'onnxruntime', 'openvino', 'nncf', 'onnx', 'transformers')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_encode_benchmark_runs_at_toy_size(
    tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """benchmarks/encode.py end to end on the tiny model (no speed asserted)."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "encode.py"
    spec = importlib.util.spec_from_file_location("encode_benchmark", path)
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)  # dataclasses look their module up
    monkeypatch.syspath_prepend(str(path.parent))  # as `python benchmarks/encode.py` has
    spec.loader.exec_module(bench)
    out = tmp_path / "encode.json"
    args = ["--model", str(model_dir), "--candidates", "30", "--jobs", "3", "--repeats", "1",
            "--variants", "onnx-int8", "torch", "openvino", "torch-bf16",
            "--out", str(out)]  # fmt: skip
    config = bench.parse_args(args)
    bench.main(config)
    report = json.loads(out.read_text())
    variants = [r["variant"] for r in report["results"]]
    assert variants == ["torch", "onnx-int8", "openvino", "torch-bf16"]
    assert report["versions"]["onnxruntime"] and report["machine"]["cores_available"] >= 1
    for result in report["results"]:
        assert result["docs"] == 30 and result["docs_per_s"] > 0 and result["tokens_per_s"] > 0
        assert result["cosine_vs_torch_mean"] >= 0.98
        assert 0 <= result["ndcg@20"] <= 1
    assert report["results"][0]["speedup_vs_torch"] == 1.0
    assert set(report["summary"]) >= {"best", "goal_met"}
