"""Metadata filter expressions and FAISS ID selectors built from them."""

from __future__ import annotations

import datetime as dt
import gc

import numpy as np
import polars as pl
import pytest

from jobmatch import schema
from jobmatch.errors import InputError, JobmatchError
from jobmatch.index.filters import Filter, filter_mask, id_selector, parse_filter

COLUMNS = "areas, candidate_id, country, location, remote, seniority, years_experience"


@pytest.fixture
def metadata() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "candidate_id": ["c0", "c1", "c2", "c3", "c4", "c5"],
            "location": [
                "Berlin, Germany",
                "Remote",
                None,
                "Munich, Germany",
                "Paris, France",
                "London",
            ],
            "seniority": pl.Series([3, 1, None, 5, 2, 4], dtype=pl.Int8),
            "areas": [["nlp", "ir"], ["vision"], None, ["NLP", "search"], [], ["ir"]],
            "remote": [True, None, False, True, False, True],
            "years_experience": pl.Series(
                [5.0, float("nan"), None, 10.0, 2.5, 7.0], dtype=pl.Float32
            ),
            "hidden_skill": [1, 2, 3, 4, 5, 6],
        }
    )


def rows(metadata: pl.DataFrame, *filters: str | Filter) -> list[int]:
    mask = filter_mask(metadata, list(filters))
    assert mask.dtype == np.bool_
    assert mask.shape == (metadata.height,)
    return np.flatnonzero(mask).tolist()


# --- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("seniority>=3", Filter("seniority", ">=", "3")),
        ("seniority<=3", Filter("seniority", "<=", "3")),
        ("seniority>3", Filter("seniority", ">", "3")),
        ("seniority<3", Filter("seniority", "<", "3")),
        ("seniority!=3", Filter("seniority", "!=", "3")),
        ("areas~nlp", Filter("areas", "~", "nlp")),
        ("location=Berlin, Germany", Filter("location", "=", "Berlin, Germany")),
        ("  location =  Berlin, Germany  ", Filter("location", "=", "Berlin, Germany")),
        ("note=a>=b", Filter("note", "=", "a>=b")),
        ("_x9==1", Filter("_x9", "=", "=1")),
    ],
)
def test_parse_filter(expr: str, expected: Filter) -> None:
    assert parse_filter(expr) == expected


def test_filter_str_round_trips() -> None:
    flt = Filter("seniority", ">=", "senior")
    assert str(flt) == "seniority>=senior"
    assert parse_filter(str(flt)) == flt


def test_filter_rejects_unknown_operator() -> None:
    with pytest.raises(ValueError, match=r"op must be one of =, !=, >, >=, <, <=, ~, got '=='"):
        Filter("seniority", "==", "3")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("seniority", "filter 'seniority': no operator (use one of = != > >= < <= ~)"),
        ("=Berlin", "filter '=Berlin': empty column name"),
        ("  >=3", "filter '  >=3': empty column name"),
        ("senior!ty=3", "filter 'senior!ty=3': unknown operator '!' (use one of = != > >= < <= ~)"),
        ("1st=3", "filter '1st=3': column name '1st' is not an identifier"),
        (
            "home town=Paris",
            "filter 'home town=Paris': column name 'home town' is not an identifier",
        ),
        ("seniority>=", "filter 'seniority>=': empty value"),
        ("location=  ", "filter 'location=  ': empty value"),
    ],
)
def test_parse_filter_errors(expr: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_filter(expr)
    assert str(caught.value) == message
    assert isinstance(caught.value, JobmatchError)


# --- each operator ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("seniority=3", [0]),
        ("seniority!=3", [1, 3, 4, 5]),
        ("seniority>3", [3, 5]),
        ("seniority>=3", [0, 3, 5]),
        ("seniority<3", [1, 4]),
        ("seniority<=3", [0, 1, 4]),
        ("seniority<2.5", [1, 4]),
        ("seniority>=300", []),
        ("years_experience>=5", [0, 3, 5]),
        ("years_experience<5", [4]),
        ("years_experience!=5", [3, 4, 5]),
        ("years_experience=2.5", [4]),
        ("years_experience>-inf", [0, 3, 4, 5]),
    ],
)
def test_numeric_operators_skip_nulls_and_nan(
    metadata: pl.DataFrame, expr: str, expected: list[int]
) -> None:
    assert rows(metadata, expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("seniority>=senior", [0, 3, 5]),
        ("seniority=Junior", [1]),
        ("seniority<mid", [1]),
        ("seniority!=principal", [0, 1, 4, 5]),
        ("seniority<=intern", []),
    ],
)
def test_seniority_level_names(metadata: pl.DataFrame, expr: str, expected: list[int]) -> None:
    assert rows(metadata, expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("location=Berlin, Germany", [0]),
        ("location=berlin, germany", []),
        ("location!=Remote", [0, 3, 4, 5]),
        ("location~GERMANY", [0, 3]),
        ("location~, ", [0, 3, 4]),
        ("candidate_id=c4", [4]),
    ],
)
def test_string_operators(metadata: pl.DataFrame, expr: str, expected: list[int]) -> None:
    assert rows(metadata, expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("areas~nlp", [0, 3]),
        ("areas~NLP", [0, 3]),
        ("areas~ir", [0, 5]),
        ("areas~search", [3]),
        ("areas~nl", []),
        ("areas~robotics", []),
    ],
)
def test_list_contains(metadata: pl.DataFrame, expr: str, expected: list[int]) -> None:
    assert rows(metadata, expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("remote=true", [0, 3, 5]),
        ("remote=YES", [0, 3, 5]),
        ("remote=1", [0, 3, 5]),
        ("remote=false", [2, 4]),
        ("remote=no", [2, 4]),
        ("remote=0", [2, 4]),
        ("remote!=true", [2, 4]),
        ("remote!=no", [0, 3, 5]),
    ],
)
def test_boolean_values(metadata: pl.DataFrame, expr: str, expected: list[int]) -> None:
    assert rows(metadata, expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("country=Germany", [0, 3]),
        ("country=France", [4]),
        ("country=London", [5]),
        ("country!=Germany", [4, 5]),
        ("country~man", [0, 3]),
        ("country=Remote", []),
    ],
)
def test_country_virtual_column(metadata: pl.DataFrame, expr: str, expected: list[int]) -> None:
    assert rows(metadata, expr) == expected


def test_country_matches_schema_country_of() -> None:
    locations = [
        "Berlin, Germany",
        "Remote",
        None,
        "",
        "  ",
        "London",
        " Oslo ",
        "Portland, Oregon, United States",
        "Paris,France",
        "Nowhere, ",
    ]
    frame = pl.DataFrame({"location": locations}, schema={"location": pl.String})
    for country in {schema.country_of(loc) for loc in locations} - {None}:
        expected = [i for i, loc in enumerate(locations) if schema.country_of(loc) == country]
        assert rows(frame, Filter("country", "=", country)) == expected, country
    assert rows(frame, "country=United States") == [7]
    assert rows(frame, "country=Oslo") == [6]
    assert rows(frame, "country!=Germany") == [4, 5, 6, 7, 8, 9]


def test_real_country_column_wins_over_virtual() -> None:
    frame = pl.DataFrame({"location": ["Berlin, Germany", "Remote"], "country": ["DE", "NO"]})
    assert rows(frame, "country=DE") == [0]
    assert rows(frame, "country=Germany") == []


def test_filters_are_anded(metadata: pl.DataFrame) -> None:
    assert rows(metadata, "country=Germany", "seniority>=4") == [3]
    assert rows(metadata, "remote=true", "areas~ir") == [0, 5]
    assert rows(metadata, "remote=true", "areas~ir", "years_experience>6") == [5]
    assert rows(metadata, "country=Germany", "country!=Germany") == []
    assert rows(metadata, Filter("seniority", ">", "1"), "location~, ") == [0, 3, 4]


def test_no_filters_selects_every_row(metadata: pl.DataFrame) -> None:
    assert rows(metadata) == [0, 1, 2, 3, 4, 5]
    assert filter_mask(metadata.head(0), ["seniority>1"]).shape == (0,)


def test_categorical_and_numeric_list_columns() -> None:
    frame = pl.DataFrame(
        {"team": pl.Series(["Search", "Ads", None], dtype=pl.Categorical), "ids": [[1, 2], [3], []]}
    )
    assert rows(frame, "team=Search") == [0]
    assert rows(frame, "team~ad") == [1]
    assert rows(frame, "ids~2") == [0]
    assert rows(frame, "ids~3") == [1]


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("salary>3", f"filter 'salary>3': unknown column 'salary' (columns: {COLUMNS})"),
        (
            "hidden_skill=1",
            f"filter 'hidden_skill=1': unknown column 'hidden_skill' (columns: {COLUMNS})",
        ),
        (
            "seniority>=lots",
            "filter 'seniority>=lots': 'lots' is not a number or a level (intern, junior, mid, "
            "senior, staff, principal) for numeric column 'seniority'",
        ),
        (
            "years_experience>five",
            "filter 'years_experience>five': 'five' is not a number "
            "for numeric column 'years_experience'",
        ),
        (
            "years_experience>nan",
            "filter 'years_experience>nan': 'nan' is not a number "
            "for numeric column 'years_experience'",
        ),
        (
            "seniority~3",
            "filter 'seniority~3': operator '~' does not apply to numeric column 'seniority' "
            "(use = != > >= < <=)",
        ),
        (
            "location>=Berlin",
            "filter 'location>=Berlin': operator '>=' does not apply to string column "
            "'location' (use = != ~)",
        ),
        (
            "country<Germany",
            "filter 'country<Germany': operator '<' does not apply to string column 'country' "
            "(use = != ~)",
        ),
        (
            "areas=nlp",
            "filter 'areas=nlp': operator '=' does not apply to list column 'areas' (use ~)",
        ),
        (
            "remote>true",
            "filter 'remote>true': operator '>' does not apply to boolean column 'remote' "
            "(use = !=)",
        ),
        (
            "remote~true",
            "filter 'remote~true': operator '~' does not apply to boolean column 'remote' "
            "(use = !=)",
        ),
        (
            "remote=maybe",
            "filter 'remote=maybe': 'maybe' is not a boolean for column 'remote' "
            "(use true/false, yes/no, 1/0)",
        ),
        ("seniority", "filter 'seniority': no operator (use one of = != > >= < <= ~)"),
        ("=3", "filter '=3': empty column name"),
    ],
)
def test_filter_mask_errors(metadata: pl.DataFrame, expr: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        filter_mask(metadata, ["seniority>=0", expr])
    assert str(caught.value) == message


def test_country_is_unknown_without_location() -> None:
    frame = pl.DataFrame({"seniority": [1, 2]})
    with pytest.raises(InputError) as caught:
        filter_mask(frame, ["country=Germany"])
    assert str(caught.value) == (
        "filter 'country=Germany': unknown column 'country' (columns: seniority)"
    )


def test_filter_object_errors_quote_its_expression(metadata: pl.DataFrame) -> None:
    with pytest.raises(InputError) as caught:
        filter_mask(metadata, [Filter("salary", ">", "3")])
    assert str(caught.value).startswith("filter 'salary>3': unknown column 'salary'")


def test_unsupported_column_type() -> None:
    frame = pl.DataFrame({"since": [dt.date(2020, 1, 1)]})
    with pytest.raises(InputError) as caught:
        filter_mask(frame, ["since=2020-01-01"])
    assert str(caught.value) == (
        "filter 'since=2020-01-01': column 'since' has type Date, which filters do not support"
    )


# --- FAISS ID selectors -------------------------------------------------------------------


def test_id_selector_bit_order() -> None:
    mask = np.array([1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1], dtype=bool)
    selector = id_selector(mask)
    assert [selector.is_member(i) for i in range(16)] == [
        *mask.tolist(),
        False,
        False,
        False,
        False,
        False,
    ]
    assert selector.n == 2
    np.testing.assert_array_equal(selector.referenced_objects[0], [0b00001101, 0b00000110])


def test_id_selector_empty_mask_selects_nothing() -> None:
    selector = id_selector(np.zeros(0, dtype=bool))
    assert [selector.is_member(i) for i in range(9)] == [False] * 9


def test_id_selector_rejects_non_bool_masks() -> None:
    with pytest.raises(ValueError, match=r"mask must be a 1-d bool array, got int64 of shape"):
        id_selector(np.array([0, 1, 1], dtype=np.int64))
    with pytest.raises(ValueError, match=r"got bool of shape \(2, 2\)"):
        id_selector(np.ones((2, 2), dtype=bool))


def _vectors(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _restricted_brute_force(
    xb: np.ndarray, xq: np.ndarray, mask: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    scores = xq @ xb.T
    scores[:, ~mask] = -np.inf
    ids = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, ids, axis=1), ids


N, D, K = 600, 16, 10


def test_id_selector_restricts_flat_search_to_brute_force() -> None:
    import faiss

    xb, xq = _vectors(N, D, seed=0), _vectors(8, D, seed=1)
    mask = np.random.default_rng(2).random(N) < 0.3
    index = faiss.IndexFlatIP(D)
    index.add(xb)
    params = faiss.SearchParameters(sel=id_selector(mask))
    scores, ids = index.search(xq, K, params=params)
    assert mask[ids].all()
    expected_scores, expected_ids = _restricted_brute_force(xb, xq, mask, K)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-5)
    unfiltered = index.search(xq, K)[1]
    assert not mask[unfiltered].all()  # the filter changed the answer


def test_id_selector_from_metadata_filters_flat_search(metadata: pl.DataFrame) -> None:
    import faiss

    index = faiss.IndexFlatIP(D)
    index.add(_vectors(metadata.height, D, seed=3))
    mask = filter_mask(metadata, ["country=Germany"])
    params = faiss.SearchParameters(sel=id_selector(mask))
    _, ids = index.search(_vectors(2, D, seed=4), 4, params=params)
    assert sorted(ids[0][:2].tolist()) == [0, 3]
    assert ids[:, 2:].tolist() == [[-1, -1], [-1, -1]]


def test_id_selector_all_false_returns_no_hits() -> None:
    import faiss

    index = faiss.IndexFlatIP(D)
    index.add(_vectors(50, D, seed=5))
    params = faiss.SearchParameters(sel=id_selector(np.zeros(50, dtype=bool)))
    _, ids = index.search(_vectors(3, D, seed=6), 5, params=params)
    assert (ids == -1).all()


def test_id_selector_restricts_hnsw_search() -> None:
    import faiss

    xb, xq = _vectors(N, D, seed=7), _vectors(8, D, seed=8)
    mask = np.random.default_rng(9).random(N) < 0.3
    index = faiss.IndexHNSWFlat(D, 16, faiss.METRIC_INNER_PRODUCT)
    index.add(xb)
    params = faiss.SearchParametersHNSW(sel=id_selector(mask), efSearch=128)
    _, ids = index.search(xq, K, params=params)
    assert (ids >= 0).all()
    assert mask[ids].all()
    _, expected = _restricted_brute_force(xb, xq, mask, K)
    recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(ids, expected, strict=True)])
    assert recall >= 0.9


def test_id_selector_keeps_its_bitmap_alive() -> None:
    import faiss

    xb, xq = _vectors(N, D, seed=10), _vectors(4, D, seed=11)
    mask = np.zeros(N, dtype=bool)
    mask[::7] = True
    params = faiss.SearchParameters(sel=id_selector(mask.copy()))
    gc.collect()
    # Churn the allocator so a freed bitmap would likely be overwritten.
    junk = [np.full((N + 7) // 8, 0xFF, dtype=np.uint8) for _ in range(200)]
    index = faiss.IndexFlatIP(D)
    index.add(xb)
    _, ids = index.search(xq, K, params=params)
    assert len(junk) == 200
    assert (ids % 7 == 0).all()
    np.testing.assert_array_equal(ids, _restricted_brute_force(xb, xq, mask, K)[1])
