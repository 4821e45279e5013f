"""Shared fixtures: a tiny random BERT bi-encoder built from a config (no download)."""

from __future__ import annotations

import os
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
