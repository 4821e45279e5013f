"""Which FAISS index to build for a corpus, how much to train it on, and how to search it.

`choose_factory` implements `--factory auto` after the FAISS wiki page "Guidelines to choose an
index", adapted to this 2-core, no-GPU machine and to inner-product search over L2-normalised
embeddings. The numbers behind the defaults are in benchmarks/results/index_factories.json
(recall@20 against exact search on 1M generated low-rank 384-d vectors).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import faiss

FLAT_MAX_N = 50_000
"""Below this, exact search: ≤ 50k·d·4 bytes, a few ms per query, no build, no recall loss."""

HNSW_MAX_N = 1_000_000
"""Up to this, HNSW32 when it fits in memory: the best recall per query time, but its build is
slow (~8-10 min, 455 CPU-s, for 1M 384-d vectors on these 2 cores), grows as n·log n, and it
cannot remove vectors. Beyond it an IVF index trains and builds faster (~2.5 min at 1M)."""

HNSW_M = 32
"""Links per vector of HNSW graphs, for the index itself and for IVF coarse quantizers."""

IVF_LISTS_PER_SQRT_N = 8
"""nlist is the power of two nearest to 8·sqrt(n), inside the wiki's 4·sqrt(n)..16·sqrt(n)."""

IVF_HNSW_QUANTIZER_MIN_NLIST = 8192
"""From this many lists on, the coarse quantizer is an HNSW graph over the centroids, as the
wiki does for 1M+ vectors: an exhaustive scan of 8k+ centroids per query would dominate."""

IVF_MIN_TRAIN_PER_LIST = 39
"""k-means needs this many points per centroid, or faiss warns (its min_points_per_centroid)."""

IVF_TRAIN_PER_LIST = 64
"""Training points per list we ask for: above faiss's minimum of 39, well below its 256 cap
(max_points_per_centroid), because k-means time is linear in the sample and 2 cores are few."""

MIN_NLIST = 16
"""Fewer lists than this is not worth an IVF index."""

PQ_SUBVECTOR_DIMS = (4, 8, 16, 32)
"""Dimensions per 4-bit PQ sub-quantizer, finest first. The refined tier uses the first (d/4
codes, 48 bytes at d=384): at 1M its shortlist reaches recall@20 0.93 with k_factor 8, where
d/8 codes need k_factor 32 for the same. Pure PQ takes the first one that fits."""

PQ_MIN_TRAIN_PER_CENTROID = 39
"""A PQ sub-quantizer is a k-means of 2**nbits centroids: same minimum as IVF k-means."""

PQ_TRAIN_PER_CENTROID = 256
"""Training points per PQ centroid we ask for: faiss's cap (cheap, as there are only 16-256)."""

SQ_TRAIN_POINTS = 65_536
"""Scalar quantizers only learn per-dimension ranges; this many points pin them down."""

OTHER_TRAIN_POINTS = 65_536
"""Training sample for other trainable parts (PCA, OPQ, ITQ, RQ...), which we do not tune."""

MEMORY_BUDGET_FRACTION = 0.5
"""With no explicit budget, an index may take half of physical RAM: the rest is for the
metadata, the encoder and the search-time buffers."""

DEFAULT_EF_SEARCH = 64
"""HNSW efSearch: recall@20 0.986 at 1M (efSearch 32: 0.96, 16: 0.89); the HNSW quantizer's
floor too."""

DEFAULT_NPROBE = 16
"""IVF nprobe up to 4096 lists: recall@20 0.97 for IVF4096,Flat at 1M (8: 0.88, 32: 0.998);
nlist/256 beyond, as each list then holds a smaller share of the neighbours."""

DEFAULT_K_FACTOR = 8
"""Refinement re-ranks k·8 candidates of the 4-bit PQ search: recall@20 0.50 -> 0.93 at 1M
(PQ96x4fsr). SQ8 re-ranking itself tops out near 0.96, so larger factors buy little."""

SEARCH_KEYS = ("efSearch", "nprobe", "quantizer_efSearch", "k_factor")

_IVF = re.compile(r"^IVF(\d+)(?:_HNSW(\d+))?")
_HNSW = re.compile(r"^HNSW(\d*)(?:_(\w+))?$")
_PQ = re.compile(r"^PQ(\d+)(?:x(\d+))?(fsr?)?$")
_TRAINABLE = re.compile(r"^(?:PCA|OPQ|ITQ|RQ|LSQ|PRQ|PLSQ|LSH|IMI|Residual)")


def choose_factory(n: int, dimension: int, *, memory_budget_bytes: int | None = None) -> str:
    """The index_factory string for `n` vectors of `dimension`, following the FAISS guidelines.

    The first candidate whose estimated size (`estimated_bytes`) fits the budget wins:

    1. "Flat" when n < FLAT_MAX_N (50k): exact, and small.
    2. "HNSW32" when n ≤ HNSW_MAX_N (1M): fastest for a given recall, n·(4d + 8·32) bytes.
    3. "IVF{nlist},Flat", with an "_HNSW32" coarse quantizer from 8192 lists on; nlist is a power
       of two near 8·sqrt(n) with at least 39 training points per list.
    4. "IVF{nlist},PQ{d/4}x4fsr,Refine(SQ8)": 4-bit PQ fast-scan (by residual) shortlists
       k·k_factor hits and an 8-bit scalar quantizer re-ranks them; d + d/8 + 8 bytes/vector,
       a third of Flat, and faster than IVF-Flat at recall@20 ≈ 0.93.
    5. "IVF{nlist},PQ{m}x4fsr" with m = d/4, d/8, d/16, d/32: compact, but recall@20 is only
       0.50 (m = d/4) or 0.33 (m = d/8) at 1M.

    If nothing fits, the most compact candidate is returned. "fsr" rather than "fs": encoding
    residuals from the coarse centroid doubles recall at the same code size (0.33 vs 0.16).

    Args:
        n: number of vectors the index will hold.
        dimension: vector dimension.
        memory_budget_bytes: bytes the index may take in RAM; default: MEMORY_BUDGET_FRACTION
            of physical memory (no limit where that cannot be read).
    """
    if n < 0 or dimension < 1:
        raise ValueError(f"need n >= 0 and dimension >= 1, got n={n}, dimension={dimension}")
    budget = _default_budget() if memory_budget_bytes is None else memory_budget_bytes
    candidates = []
    if n < FLAT_MAX_N:
        candidates.append("Flat")
    if n <= HNSW_MAX_N:
        candidates.append(f"HNSW{HNSW_M}")
    nlist = ivf_nlist(n)
    if nlist:
        ivf = f"IVF{nlist}" + (f"_HNSW{HNSW_M}" if nlist >= IVF_HNSW_QUANTIZER_MIN_NLIST else "")
        codes = [dimension // s for s in PQ_SUBVECTOR_DIMS if dimension % s == 0]
        codes = codes or [_largest_divisor_at_most(dimension, max(1, dimension // 4))]
        candidates.append(f"{ivf},Flat")
        candidates.append(f"{ivf},PQ{codes[0]}x4fsr,Refine(SQ8)")
        candidates.extend(f"{ivf},PQ{m}x4fsr" for m in codes)
    for factory in candidates:
        if budget is None or estimated_bytes(factory, n, dimension) <= budget:
            return factory
    return min(candidates, key=lambda f: estimated_bytes(f, n, dimension))


def ivf_nlist(n: int) -> int:
    """Power of two nearest to 8·sqrt(n), at most n/39 (faiss's k-means minimum); 0 if < 16."""
    if n <= 0:
        return 0
    nlist = 2 ** round(math.log2(IVF_LISTS_PER_SQRT_N * math.sqrt(n)))
    while nlist * IVF_MIN_TRAIN_PER_LIST > n:
        nlist //= 2
    return nlist if nlist >= MIN_NLIST else 0


def estimated_bytes(factory: str, n: int, dimension: int) -> int:
    """Approximate RAM of a built index: codes, ids, graph links, centroids (wiki formulas)."""
    parts = _parse(factory)
    per_vector = 0
    fixed = 0
    if parts.nlist:
        per_vector += 8  # the id stored next to each code in its inverted list
        fixed += parts.nlist * 4 * dimension
        if parts.quantizer_hnsw:
            fixed += parts.nlist * 8 * parts.quantizer_hnsw
    if parts.hnsw:
        per_vector += 8 * parts.hnsw + 12  # level-0 links, level and offset
    if parts.pq_m:
        per_vector += math.ceil(parts.pq_m * parts.pq_bits / 8)
        fixed += parts.pq_m * 2**parts.pq_bits * (dimension // parts.pq_m) * 4
    elif parts.sq_bits:
        per_vector += math.ceil(dimension * parts.sq_bits / 8)
    else:
        per_vector += 4 * dimension
    if parts.refine_flat:
        per_vector += 4 * dimension
    elif parts.refine_sq_bits:
        per_vector += math.ceil(dimension * parts.refine_sq_bits / 8)
    return n * per_vector + fixed


def needs_training(factory: str, dimension: int) -> bool:
    """Whether `factory` must see training vectors before `add` (asks faiss itself)."""
    import faiss

    try:
        index = faiss.index_factory(dimension, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        raise ValueError(f"invalid FAISS factory string {factory!r} for d={dimension}") from exc
    return not index.is_trained


def training_sample_size(factory: str, n: int) -> int:
    """How many of the `n` vectors to train `factory` on; 0 if it needs no training.

    IVF k-means wants IVF_TRAIN_PER_LIST (64) points per list and at least 39 (faiss warns
    below); PQ sub-quantizers want 256 points per centroid (2**nbits centroids), at least 39;
    scalar quantizers SQ_TRAIN_POINTS. The largest need wins, capped by n.

    Raises:
        ValueError: when n is below a component's minimum: train on more vectors or use fewer
            lists (see `ivf_nlist`).
    """
    parts = _parse(factory)
    needs = []  # (target, minimum, what)
    if parts.nlist:
        needs.append(
            (
                IVF_TRAIN_PER_LIST * parts.nlist,
                IVF_MIN_TRAIN_PER_LIST * parts.nlist,
                f"IVF{parts.nlist} k-means",
            )
        )
    if parts.pq_m:
        centroids = 2**parts.pq_bits
        needs.append(
            (
                PQ_TRAIN_PER_CENTROID * centroids,
                PQ_MIN_TRAIN_PER_CENTROID * centroids,
                f"PQ{parts.pq_m}x{parts.pq_bits} codebooks",
            )
        )
    if parts.sq_bits or parts.refine_sq_bits:
        needs.append((SQ_TRAIN_POINTS, 1, "scalar quantizer"))
    if parts.other_trainable:
        needs.append((OTHER_TRAIN_POINTS, 1, "transform"))
    if not needs:
        return 0
    for _, minimum, what in needs:
        if n < minimum:
            raise ValueError(
                f"{factory!r}: {what} needs at least {minimum:,} training vectors, got {n:,}; "
                f"use fewer lists (e.g. IVF{ivf_nlist(n)}) or more vectors"
            )
    return min(n, max(target for target, _, _ in needs))


def default_search_params(factory: str) -> dict[str, int]:
    """Search parameters that reach recall@20 ≥ 0.9 on the benchmark for `factory`.

    HNSW: efSearch 64. IVF: nprobe 16 up to 4096 lists, then nlist/256; an HNSW quantizer gets
    efSearch max(64, 2·nprobe) so it finds the nprobe nearest centroids. Refinement: k_factor 8.
    Flat: nothing to set. Pure 4-bit PQ cannot reach 0.9 at any setting (see `choose_factory`).
    """
    parts = _parse(factory)
    params: dict[str, int] = {}
    if parts.nlist:
        nprobe = min(parts.nlist, max(DEFAULT_NPROBE, parts.nlist // 256))
        params["nprobe"] = nprobe
        if parts.quantizer_hnsw:
            params["quantizer_efSearch"] = max(DEFAULT_EF_SEARCH, 2 * nprobe)
    elif parts.hnsw:
        params["efSearch"] = DEFAULT_EF_SEARCH
    if parts.refine_flat or parts.refine_sq_bits:
        params["k_factor"] = DEFAULT_K_FACTOR
    return params


def search_parameters(
    index: faiss.Index, params: dict[str, int], selector: faiss.IDSelector | None = None
) -> faiss.SearchParameters | None:
    """A faiss SearchParameters of the kind `index` expects, carrying `params` and `selector`.

    Parameters missing from `params` keep the index's own setting (a bare SearchParametersIVF
    would silently mean nprobe=1). IDMap wrappers are looked through (they translate the
    selector's ids themselves); PreTransform and Refine wrappers get their own parameter
    object around the inner one, with the selector on the innermost index, where ids are
    filtered. Returns None only for a non-IVF PQ fast-scan index without selector: its search
    rejects any parameter object.

    Raises:
        ValueError: for a key the index does not use, or a selector on an index that cannot
            filter (non-IVF PQ fast-scan).
    """
    import faiss

    unknown = set(params) - set(SEARCH_KEYS)
    used: set[str] = set()
    result = _params_for(faiss.downcast_index(index), params, selector, used)
    unused = (set(params) - used) | unknown
    if unused:
        raise ValueError(
            f"search parameters {sorted(unused)} do not apply to {type(index).__name__}; "
            f"it accepts {sorted(used) or 'none'} (known: {', '.join(SEARCH_KEYS)})"
        )
    return result


def _params_for(
    index: Any, params: dict[str, int], selector: Any, used: set[str]
) -> faiss.SearchParameters | None:
    import faiss

    if isinstance(index, faiss.IndexIDMap | faiss.IndexIDMap2):
        return _params_for(faiss.downcast_index(index.index), params, selector, used)
    if isinstance(index, faiss.IndexPreTransform):
        inner = _params_for(faiss.downcast_index(index.index), params, selector, used)
        return None if inner is None else faiss.SearchParametersPreTransform(index_params=inner)
    if isinstance(index, faiss.IndexRefine):
        used.add("k_factor")
        inner = _params_for(faiss.downcast_index(index.base_index), params, selector, used)
        k_factor = float(params.get("k_factor", index.k_factor))
        if inner is None:
            return faiss.IndexRefineSearchParameters(k_factor=k_factor)
        return faiss.IndexRefineSearchParameters(k_factor=k_factor, base_index_params=inner)
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        used.add("nprobe")
        result = faiss.SearchParametersIVF(nprobe=int(params.get("nprobe", ivf.nprobe)))
        quantizer = faiss.downcast_index(ivf.quantizer)
        if isinstance(quantizer, faiss.IndexHNSW):
            used.add("quantizer_efSearch")
            ef = params.get("quantizer_efSearch", quantizer.hnsw.efSearch)
            result.quantizer_params = faiss.SearchParametersHNSW(efSearch=int(ef))
    elif isinstance(index, faiss.IndexHNSW):
        used.add("efSearch")
        ef = int(params.get("efSearch", index.hnsw.efSearch))
        result = faiss.SearchParametersHNSW(efSearch=ef)
    elif isinstance(index, faiss.IndexFastScan):
        if selector is not None:
            raise ValueError(f"{type(index).__name__} cannot filter by id; wrap it in IVF")
        return None  # IndexPQFastScan.search rejects any SearchParameters
    else:
        result = faiss.SearchParameters()
    if selector is not None:
        result.sel = selector
    return result


@dataclass
class _Parts:
    """What `_parse` reads from a factory string; zeros for absent parts."""

    nlist: int = 0
    quantizer_hnsw: int = 0
    hnsw: int = 0
    pq_m: int = 0
    pq_bits: int = 0
    sq_bits: int = 0
    refine_flat: bool = False
    refine_sq_bits: int = 0
    other_trainable: bool = False


def _parse(factory: str) -> _Parts:
    """Read the parts of a factory string that decide training and search parameters."""
    parts = _Parts()
    for token in _split(factory):
        if match := _IVF.match(token):
            parts.nlist = int(match[1])
            parts.quantizer_hnsw = int(match[2] or 0)
        elif match := _HNSW.match(token):
            parts.hnsw = int(match[1] or HNSW_M)
            parts.sq_bits = _sq_bits(match[2] or "")
        elif match := _PQ.match(token):
            parts.pq_m = int(match[1])
            parts.pq_bits = int(match[2] or 8)
        elif _sq_bits(token):
            parts.sq_bits = _sq_bits(token)
        elif token in ("RFlat", "Refine(Flat)"):
            parts.refine_flat = True
        elif token.startswith("Refine("):
            parts.refine_sq_bits = _sq_bits(token[len("Refine(") : -1]) or 32
        elif _TRAINABLE.match(token):
            parts.other_trainable = True
    return parts


def _sq_bits(token: str) -> int:
    """Bits per dimension of a scalar-quantizer token (SQ4, SQ8, SQfp16...); 0 if not one."""
    if match := re.fullmatch(r"SQ(\d+)|SQ(?:fp|bf)16", token):
        return int(match[1] or 16)
    return 0


def _split(factory: str) -> list[str]:
    """Top-level comma-separated tokens (commas inside parentheses stay)."""
    tokens, depth, current = [], 0, ""
    for char in factory.replace(" ", ""):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            tokens.append(current)
            current = ""
        else:
            current += char
    return [*tokens, current]


def _default_budget() -> int | None:
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    return int(physical * MEMORY_BUDGET_FRACTION)


def _largest_divisor_at_most(value: int, limit: int) -> int:
    return max(m for m in range(1, limit + 1) if value % m == 0)
