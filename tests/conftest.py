"""Shared fixtures: a tiny random BERT bi-encoder built from a config (no download)."""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TINY_TEXT = """
the a an and or of in on at to for with from by as is are was be has have this that
engineer scientist developer researcher senior junior staff principal intern lead mid
berlin munich paris london new york remote germany france united kingdom states city
nlp vision retrieval search learning machine data backend frontend security cloud
python java rust go sql pytorch kubernetes docker spark years experience team role job
"""


def build_tiny_model(folder: Path, *, seed: int = 0) -> Path:
    """Save a 2-layer, 32-dim random BERT with mean pooling in sentence-transformers format."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    backbone = folder / "backbone"
    backbone.mkdir(exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = specials + pieces + [f"##{p}" for p in pieces] + TINY_TEXT.split()
    vocab = list(dict.fromkeys(vocab))
    # transformers 5 ignores `vocab_file` here (every word would become [UNK]); pass the vocab.
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True)
    tokenizer.save_pretrained(backbone)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    import torch

    torch.manual_seed(seed)
    BertModel(config).save_pretrained(backbone)
    transformer = Transformer(str(backbone), max_seq_length=128)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    out = folder / "model"
    model.save(str(out))
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_encoder(tiny_model_dir: Path):
    from jobmatch.encoder import load_encoder

    return load_encoder(str(tiny_model_dir), device="cpu")
