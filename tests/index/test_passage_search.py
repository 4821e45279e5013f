"""The aggregates and the over-fetch loop on generated passage vectors, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from jobmatch.index.aggregate import AGGREGATES, FIRST_WEIGHT, aggregate_scores
from jobmatch.index.passage_search import search_candidates
from jobmatch.index.passages import PassageMap, token_windows, word_starts
from jobmatch.testing import low_rank_vectors


def random_map(candidates: int, seed: int = 0, most: int = 9) -> PassageMap:
    return PassageMap.from_counts(np.random.default_rng(seed).integers(1, most, size=candidates))


def flat_index(vectors: np.ndarray):
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def brute(vectors, pmap, query, aggregate, mask=None):
    """Aggregate per candidate by a plain loop: {candidate: score}."""
    scores = vectors @ query
    out = {}
    for c in range(pmap.candidates):
        if mask is not None and not mask[c]:
            continue
        mine = scores[pmap.owners == c]
        out[c] = {
            "first": mine[0],
            "max": mine.max(),
            "mean": mine.mean(),
            "first+max": FIRST_WEIGHT * mine[0] + (1 - FIRST_WEIGHT) * mine.max(),
        }[aggregate]
    return out


@pytest.mark.parametrize("aggregate", AGGREGATES)
def test_aggregate_scores_equal_loops(aggregate) -> None:
    rng = np.random.default_rng(1)
    pmap = random_map(50)
    scores = rng.standard_normal(pmap.rows)
    order = rng.permutation(pmap.rows)  # any order of the passages
    ids, values = aggregate_scores(
        scores[order], pmap.owners[order], pmap.positions[order], aggregate
    )
    expected = brute(np.diag(scores), pmap, np.ones(pmap.rows), aggregate)
    assert ids.tolist() == list(range(50))
    np.testing.assert_allclose(values, [expected[c] for c in range(50)], rtol=1e-6)


@pytest.mark.parametrize("aggregate", AGGREGATES)
@pytest.mark.parametrize("k", [1, 7, 60, 500])
@pytest.mark.parametrize("masked", [False, True])
def test_search_candidates_is_exact_on_a_flat_index(aggregate, k, masked) -> None:
    pmap = random_map(300, seed=k)
    vectors = low_rank_vectors(pmap.rows, 32, rank=8, seed=2)
    queries = low_rank_vectors(5, 32, rank=8, seed=3)
    mask = np.random.default_rng(4).random(300) < 0.3 if masked else None
    scores, rows = search_candidates(
        flat_index(vectors), pmap, queries, k, aggregate=aggregate, mask=mask
    )
    allowed = 300 if mask is None else int(mask.sum())
    for q, query in enumerate(queries):
        expected = brute(vectors, pmap, query, aggregate, mask)
        ranked = sorted(expected, key=lambda c: -expected[c])[:k]
        got = rows[q][rows[q] >= 0]
        assert len(got) == min(k, allowed) and len(set(got.tolist())) == len(got)
        np.testing.assert_allclose(scores[q][: len(got)], [expected[c] for c in ranked], atol=1e-5)
        if mask is not None:
            assert mask[got].all()


def test_search_candidates_on_hnsw_gives_k_distinct_allowed_candidates() -> None:
    import faiss

    pmap = random_map(3000, seed=5)
    vectors = low_rank_vectors(pmap.rows, 32, rank=8, seed=6)
    index = faiss.IndexHNSWFlat(32, 16, faiss.METRIC_INNER_PRODUCT)
    index.add(vectors)
    queries = low_rank_vectors(4, 32, rank=8, seed=7)
    mask = np.zeros(3000, dtype=bool)
    mask[::40] = True  # 75 candidates
    for aggregate in AGGREGATES:
        for k, m in ((20, None), (100, mask), (10, mask)):
            _, rows = search_candidates(
                index, pmap, queries, k, aggregate=aggregate, params={"efSearch": 32}, mask=m
            )
            want = min(k, 3000 if m is None else 75)
            for row in rows:
                got = row[row >= 0]
                assert len(got) == want == len(set(got.tolist()))
                assert m is None or m[got].all()


def test_token_windows_cover_every_token_at_word_starts() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        lengths = rng.integers(1, 4, size=int(rng.integers(1, 200)))  # words of 1-3 tokens
        word_ids = np.repeat(np.arange(len(lengths)), lengths)
        starts = word_starts(word_ids.tolist())
        n = len(starts)
        content = int(rng.integers(8, 64))
        overlap = int(rng.integers(0, content // 2 + 1))
        windows = token_windows(starts, content, overlap)
        assert windows[0][0] == 0 and windows[-1][1] == n
        for (a, b), (c, _) in itertools.pairwise(windows):
            # progress, and `overlap` shared tokens unless no word starts early enough
            assert a < c <= b and (c <= b - overlap or not starts[a + 1 : b - overlap + 1].any())
        for a, b in windows:
            assert 0 < b - a <= content and starts[a] and (b == n or starts[b])
