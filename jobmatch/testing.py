"""Tiny real models and embedding-like vectors for tests and benchmarks (no download).

`build_tiny_model` saves a 2-layer, 32-dimensional random BERT with mean pooling in
sentence-transformers format: every code path that loads, encodes or trains a model runs on
it in seconds. `make_candidates` is a small candidate table with every field the rules
read. `low_rank_vectors` makes generated embeddings for million-scale index benchmarks,
where encoding real documents would take hours on a small machine. Isotropic
Gaussian clusters in 384-d are the wrong stand-in: every point's neighbours are nearly
equidistant and ANN recall collapses. Real embeddings have low intrinsic dimension, an uneven
spectrum and topical clusters, so here a mixture of clusters lives in a `rank`-dimensional
latent space with a decaying spectrum, is mapped into `d` dimensions by a fixed orthonormal
basis, and gets a little isotropic noise.

The *distribution* (basis, spectrum, cluster centres) depends only on `structure_seed`; `seed`
only draws samples from it, so corpus and queries share a distribution but not points:

    corpus = low_rank_vectors(1_000_000)
    queries = low_rank_vectors(1_000, seed=1)

`build_tiny_cross_encoder` is the tiny BERT with a one-logit score head, as a CrossEncoder.
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import polars as pl

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


def build_tiny_cross_encoder(folder: Path, *, seed: int = 0) -> Path:
    """Save the tiny BERT of `build_tiny_model` with a fresh one-logit score head as a
    sentence-transformers CrossEncoder (BertForSequenceClassification, num_labels=1)."""
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder

    build_tiny_model(folder / "bi-encoder", seed=seed)
    torch.manual_seed(seed)
    model = CrossEncoder(
        str(folder / "bi-encoder" / "backbone"),
        num_labels=1,
        max_length=128,
        device="cpu",
        local_files_only=True,
    )
    out = folder / "cross-encoder"
    model.save(str(out))
    return out


CHUNK_ROWS = 65_536
"""Rows generated per step: bounds temporary memory to a few chunks of float32 rows."""

SPECTRUM_DECAY = 0.5
"""Latent dimension j (1-based) has scale j**-SPECTRUM_DECAY, like the decaying PCA spectrum
of real sentence embeddings."""

CLUSTER_SPREAD = 0.6
"""Within-cluster standard deviation relative to the spread of cluster centres."""


def low_rank_vectors(
    n: int,
    d: int = 384,
    *,
    rank: int = 32,
    noise: float = 0.05,
    clusters: int = 64,
    seed: int = 0,
    structure_seed: int = 1234,
) -> np.ndarray:
    """`n` L2-normalised float32 vectors of dimension `d` with `rank`-dimensional structure.

    Args:
        n: number of vectors.
        d: ambient dimension.
        rank: latent dimension; real sentence embeddings have intrinsic dimension of a few tens.
        noise: norm of the isotropic noise relative to the (unit) signal.
        clusters: number of mixture components in latent space; 0 gives a single Gaussian.
        seed: seed of the samples; use another seed for queries.
        structure_seed: seed of the distribution (basis, spectrum, centres); keep it fixed.
    """
    if n < 0 or d < 1 or not 1 <= rank <= d:
        raise ValueError(f"need n >= 0 and 1 <= rank <= d, got n={n}, d={d}, rank={rank}")
    if noise < 0 or clusters < 0:
        raise ValueError(f"noise and clusters must be >= 0, got {noise} and {clusters}")
    structure = np.random.default_rng(structure_seed)
    basis, _ = np.linalg.qr(structure.standard_normal((d, rank)))
    basis = basis.T.astype(np.float32)  # (rank, d), orthonormal rows
    scale = (np.arange(1, rank + 1, dtype=np.float32) ** -SPECTRUM_DECAY).astype(np.float32)
    centres = structure.standard_normal((max(clusters, 1), rank)).astype(np.float32)
    if clusters == 0:
        centres[:] = 0
    spread = CLUSTER_SPREAD if clusters else 1.0

    out = np.empty((n, d), dtype=np.float32)
    for chunk, start in enumerate(range(0, n, CHUNK_ROWS)):
        rows = min(CHUNK_ROWS, n - start)
        rng = np.random.default_rng([seed, chunk])
        label = rng.integers(0, len(centres), size=rows)
        latent = centres[label] + spread * rng.standard_normal((rows, rank), dtype=np.float32)
        x = (latent * scale) @ basis
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        x += rng.standard_normal((rows, d), dtype=np.float32) * np.float32(noise / np.sqrt(d))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start : start + rows] = x
    return out


CITIES = ["Berlin, Germany", "Munich, Germany", "Paris, France", "London, United Kingdom"]
ROLES = ["nlp engineer", "frontend developer", "data scientist", "security engineer"]


def make_candidates(n: int = 60) -> pl.DataFrame:
    """`n` candidates cycling through four roles, cities and areas and three seniorities."""
    rng = np.random.default_rng(0)
    return pl.DataFrame(
        {
            "candidate_id": [f"c{i:03d}" for i in range(n)],
            "text": [
                f"{['junior', 'senior', 'staff'][i % 3]} {ROLES[i % 4]} in {CITIES[i % 4]} "
                f"with {int(rng.integers(1, 15))} years experience team {i}"
                for i in range(n)
            ],
            "location": [CITIES[i % 4] for i in range(n)],
            "seniority": [[1, 3, 4][i % 3] for i in range(n)],
            "areas": [[["nlp"], ["frontend"], ["data"], ["security"]][i % 4] for i in range(n)],
        },
        schema_overrides={"seniority": pl.Int8},
    )
