"""Shared fixtures: a tiny random BERT bi-encoder built from a config (no download)."""

from __future__ import annotations

import os

# One intra-op thread per test process, set before torch loads: tiny models gain nothing from
# two, and on a shared 2-core machine two spinning OpenMP threads per process slowed a
# contended suite run tenfold (116 s for two training tests that take 12 s alone).
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path

import pytest

from jobmatch.testing import build_tiny_model

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_encoder(tiny_model_dir: Path):
    from jobmatch.encoder import load_encoder

    return load_encoder(str(tiny_model_dir), device="cpu")
