"""A Ray build of an index of passages equals the local build (slow: starts a Ray cluster)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from jobmatch import io
from jobmatch.cli import main
from jobmatch.index import BuildConfig, build_index, load_index, verify_index
from jobmatch.index.aggregate import AGGREGATES
from jobmatch.index.passages import Chunking
from jobmatch.search import search
from jobmatch.testing import TINY_TEXT, make_candidates

JOBS = pl.DataFrame({"job_id": ["a", "b"], "text": ["senior nlp engineer berlin", "paris data"]})


@pytest.mark.slow
def test_ray_build_of_passages_equals_local_build(
    tmp_path: Path, tiny_model_dir: Path, tiny_encoder
) -> None:
    pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    rng = np.random.default_rng(1)
    base = make_candidates(90)
    texts = [f"{t} " + " ".join(rng.choice(TINY_TEXT.split(), size=60)) for t in base["text"]]
    data = tmp_path / "c.parquet"
    io.write_table(base.with_columns(pl.Series("text", texts)), data)
    chunking = Chunking("passages", tokens=24, overlap=4)
    build_index([str(data)], tmp_path / "local", tiny_encoder, BuildConfig(chunking=chunking))
    built = CliRunner().invoke(
        main,
        ["index", "build", "--input", str(data), "--index", str(tmp_path / "ray"),
         "--model", str(tiny_model_dir), "--engine", "ray", "--workers", "1",
         "--chunk-rows", "32", "--chunking", "passages", "--chunk-tokens", "24",
         "--chunk-overlap", "4"],
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    local, distributed = load_index(tmp_path / "local"), load_index(tmp_path / "ray")
    assert verify_index(tmp_path / "ray") == []
    assert distributed.metadata.equals(local.metadata)
    assert np.array_equal(distributed.passages.owners, local.passages.owners)
    assert distributed.manifest.chunk_tokens == 24 and distributed.manifest.chunked
    for aggregate in AGGREGATES:
        a = search(local, tiny_encoder, JOBS, k=10, aggregate=aggregate)
        b = search(distributed, tiny_encoder, JOBS, k=10, aggregate=aggregate)
        assert a["candidate_id"].to_list() == b["candidate_id"].to_list()
        np.testing.assert_allclose(a["score"].to_numpy(), b["score"].to_numpy(), atol=1e-5)
