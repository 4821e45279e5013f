"""Index choice, training sizes and search parameters, checked against exact search."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jobmatch.index.factory import (
    IVF_MIN_TRAIN_PER_LIST,
    choose_factory,
    default_search_params,
    estimated_bytes,
    ivf_nlist,
    needs_training,
    search_parameters,
    training_sample_size,
)
from jobmatch.testing import low_rank_vectors

faiss = pytest.importorskip("faiss")

D = 384
N = 20_000
K = 20
GIB = 2**30


def _valid(factory: str) -> bool:
    return faiss.index_factory(D, factory, faiss.METRIC_INNER_PRODUCT) is not None


@pytest.mark.parametrize(
    ("n", "budget", "expected"),
    [
        (0, 64 * GIB, "Flat"),
        (1_000, 64 * GIB, "Flat"),
        (49_999, 64 * GIB, "Flat"),
        (50_000, 64 * GIB, "HNSW32"),
        (1_000_000, 64 * GIB, "HNSW32"),
        (1_000_001, 64 * GIB, "IVF8192_HNSW32,Flat"),
        (10_000_000, 64 * GIB, "IVF32768_HNSW32,Flat"),
        (200_000, 320 * 2**20, "IVF4096,Flat"),
        (1_000_000, 1 * GIB, "IVF8192_HNSW32,PQ96x4fsr,Refine(SQ8)"),
        (1_000_000, 64 * 2**20, "IVF8192_HNSW32,PQ48x4fsr"),
        (100_000_000, 2 * GIB, "IVF65536_HNSW32,PQ24x4fsr"),
        (49_999, 64 * 2**20, "IVF1024,PQ96x4fsr,Refine(SQ8)"),
    ],
)
def test_choose_factory(n: int, budget: int, expected: str) -> None:
    factory = choose_factory(n, D, memory_budget_bytes=budget)
    assert factory == expected
    assert _valid(factory)


def test_choose_factory_returns_most_compact_when_nothing_fits() -> None:
    factory = choose_factory(1_000_000, D, memory_budget_bytes=1)
    assert factory == "IVF8192_HNSW32,PQ12x4fsr"
    assert estimated_bytes(factory, 1_000_000, D) < estimated_bytes("Flat", 1_000_000, D) / 50


@pytest.mark.parametrize("n", [10, 1_000, 60_000, 1_000_000, 10**7, 10**8])
def test_choose_factory_default_budget_is_valid(n: int) -> None:
    assert _valid(choose_factory(n, D))


@pytest.mark.parametrize("n", [2_000, 50_000, 123_456, 1_000_000, 5_000_000, 10**8])
def test_nlist_is_a_power_of_two_in_the_wiki_range(n: int) -> None:
    nlist = ivf_nlist(n)
    assert nlist & (nlist - 1) == 0
    assert nlist * IVF_MIN_TRAIN_PER_LIST <= n
    if n >= 200_000:  # small n is capped by the training minimum instead
        assert 4 * math.sqrt(n) <= nlist <= 16 * math.sqrt(n)


def test_choose_factory_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="dimension"):
        choose_factory(10, 0)
    with pytest.raises(ValueError, match="n >= 0"):
        choose_factory(-1, D)


@pytest.mark.parametrize(
    ("factory", "n", "expected"),
    [
        ("Flat", 10**6, 0),
        ("HNSW32", 10**6, 0),
        ("IDMap,Flat", 10**6, 0),
        ("IVF256,Flat", 20_000, 16_384),
        ("IVF256,Flat", 12_000, 12_000),
        ("IVF4096,Flat", 10**6, 262_144),
        ("IVF4096_HNSW32,PQ48x4fsr,Refine(SQ8)", 10**6, 262_144),
        ("PQ48", 10**6, 65_536),
        ("PQ48x4fs", 10**6, 4_096),
        ("IVF64,SQ8", 10**6, 65_536),
    ],
)
def test_training_sample_size(factory: str, n: int, expected: int) -> None:
    assert training_sample_size(factory, n) == expected
    assert (expected > 0) == needs_training(factory, D)


def test_training_sample_size_refuses_too_few_points() -> None:
    with pytest.raises(ValueError, match=r"at least 159,744 training vectors.*IVF"):
        training_sample_size("IVF4096,Flat", 100_000)


def test_needs_training_rejects_invalid_factory() -> None:
    with pytest.raises(ValueError, match="invalid FAISS factory"):
        needs_training("NoSuchIndex", D)


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        ("Flat", {}),
        ("HNSW32", {"efSearch": 64}),
        ("IDMap,HNSW32", {"efSearch": 64}),
        ("IVF4096,Flat", {"nprobe": 16}),
        ("IVF65536_HNSW32,Flat", {"nprobe": 256, "quantizer_efSearch": 512}),
        ("IVF4096,PQ48x4fsr,Refine(SQ8)", {"nprobe": 16, "k_factor": 8}),
    ],
)
def test_default_search_params(factory: str, expected: dict[str, int]) -> None:
    assert default_search_params(factory) == expected


# --- built indexes: recall and filtering against exact search ---------------------------------

RECALL_FACTORIES = [
    "Flat",
    "HNSW32",
    "IVF256,Flat",
    "IVF256_HNSW32,Flat",
    "IVF256,PQ96x4fsr,Refine(SQ8)",
]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny indexes train faster on one thread, and far faster when other jobs load the CPU."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(threads)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xb = low_rank_vectors(N, D)
    xq = low_rank_vectors(200, D, seed=1)
    exact = faiss.IndexFlatIP(D)
    exact.add(xb)
    _, truth = exact.search(xq, K)
    return xb, xq, truth


@pytest.fixture(scope="module")
def built(data) -> dict[str, faiss.Index]:
    """Indexes are built once, on first use, and shared by the recall and selector tests."""
    return {}


def _index(factory: str, xb: np.ndarray, built: dict[str, faiss.Index]) -> faiss.Index:
    if factory not in built:
        index = faiss.index_factory(D, factory, faiss.METRIC_INNER_PRODUCT)
        size = training_sample_size(factory, len(xb))
        if size:
            rng = np.random.default_rng(0)
            index.train(xb[np.sort(rng.choice(len(xb), size, replace=False))])
        if "IDMap" in factory:
            index.add_with_ids(xb, np.arange(len(xb), dtype=np.int64) * 10)
        else:
            index.add(xb)
        built[factory] = index
    return built[factory]


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    pairs = zip(found, truth, strict=True)
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in pairs]))


@pytest.mark.parametrize("factory", RECALL_FACTORIES)
def test_default_params_reach_recall(factory: str, data, built) -> None:
    xb, xq, truth = data
    index = _index(factory, xb, built)
    params = search_parameters(index, default_search_params(factory))
    _, found = index.search(xq, K, params=params)
    assert _recall(found, truth) >= 0.9


@pytest.mark.parametrize("factory", [*RECALL_FACTORIES, "IDMap,HNSW32", "L2norm,IVF64,Flat"])
def test_selector_returns_only_allowed_ids(factory: str, data, built) -> None:
    xb, xq, _ = data
    index = _index(factory, xb, built)
    scale = 10 if "IDMap" in factory else 1
    allowed = np.arange(0, N, 7, dtype=np.int64) * scale
    selector = faiss.IDSelectorBatch(allowed)
    params = search_parameters(index, default_search_params(factory), selector)
    _, found = index.search(xq, K, params=params)
    assert np.isin(found[found >= 0], allowed).all()
    assert (found >= 0).mean() > 0.95  # filtering still fills the result lists
    if factory == "Flat":
        _, expected = faiss.knn(xq, xb[allowed], K, metric=faiss.METRIC_INNER_PRODUCT)
        np.testing.assert_array_equal(found, allowed[expected])


def test_search_parameters_kinds_and_values(data, built) -> None:
    xb, _, _ = data
    index = _index("IVF256_HNSW32,Flat", xb, built)
    params = search_parameters(index, {"nprobe": 9, "quantizer_efSearch": 40})
    assert isinstance(params, faiss.SearchParametersIVF)
    assert params.nprobe == 9 and params.quantizer_params is not None
    flat_quantizer = search_parameters(_index("IVF256,Flat", xb, built), {"nprobe": 9})
    assert flat_quantizer.quantizer_params is None
    hnsw = search_parameters(_index("HNSW32", xb, built), {"efSearch": 48})
    assert isinstance(hnsw, faiss.SearchParametersHNSW) and hnsw.efSearch == 48
    refine = search_parameters(_index("IVF256,PQ96x4fsr,Refine(SQ8)", xb, built), {"k_factor": 3})
    assert isinstance(refine, faiss.IndexRefineSearchParameters) and refine.k_factor == 3


def test_missing_params_keep_the_index_setting(data, built) -> None:
    xb, _, _ = data
    index = _index("IVF256,Flat", xb, built)
    index.nprobe = 7
    try:
        assert search_parameters(index, {}).nprobe == 7  # not faiss's bare default of 1
    finally:
        index.nprobe = 1


def test_search_parameters_rejects_keys_the_index_ignores(data, built) -> None:
    xb, _, _ = data
    with pytest.raises(ValueError, match=r"\['nprobe'\] do not apply to IndexHNSWFlat"):
        search_parameters(_index("HNSW32", xb, built), {"nprobe": 4})
    with pytest.raises(ValueError, match="nrpobe"):
        search_parameters(_index("Flat", xb, built), {"nrpobe": 4})


@pytest.mark.parametrize("factory", RECALL_FACTORIES)
def test_estimated_bytes_matches_serialised_size(factory: str, data, built) -> None:
    xb, _, _ = data
    actual = faiss.serialize_index(_index(factory, xb, built)).nbytes
    assert estimated_bytes(factory, N, D) == pytest.approx(actual, rel=0.1)
