"""Chunked indexes: passages in the model's tokens, k distinct candidates, aggregates against
brute force over the stored passage vectors, lifecycle, verify, manifest and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from jobmatch import io
from jobmatch.cli import main
from jobmatch.errors import IndexStoreError, InputError
from jobmatch.index import (
    BuildConfig,
    build_from_embeddings,
    build_index,
    load_index,
    read_manifest,
    verify_index,
)
from jobmatch.index.aggregate import AGGREGATES, FIRST_WEIGHT
from jobmatch.index.faiss_ops import reconstruct
from jobmatch.index.lifecycle import remove, upsert
from jobmatch.index.manifest import Manifest
from jobmatch.index.passages import Chunking, resolve_for, split_texts
from jobmatch.search import search
from jobmatch.testing import TINY_TEXT, make_candidates

WORDS = TINY_TEXT.split()  # one token each for the tiny model's tokenizer
CHUNKING = Chunking("passages", tokens=24, overlap=4)
JOBS = pl.DataFrame(
    {"job_id": ["a", "b", "c"], "text": ["senior nlp engineer berlin", "paris data", "go rust"]}
)


def long_candidates(n: int = 40) -> pl.DataFrame:
    """make_candidates with texts of 10-120 one-token words: 1 to 6 passages of 24 tokens."""
    rng = np.random.default_rng(7)
    base = make_candidates(n)
    texts = [
        f"{text} " + " ".join(rng.choice(WORDS, size=int(rng.integers(0, 110))))
        for text in base["text"]
    ]
    return base.with_columns(pl.Series("text", texts))


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory, tiny_encoder):
    folder = tmp_path_factory.mktemp("chunked") / "index"
    candidates = long_candidates()
    build_index(candidates, folder, tiny_encoder, BuildConfig(chunking=CHUNKING))
    return folder, candidates


def token_ids(encoder, text: str) -> list[int]:
    return encoder.model.tokenizer(text, add_special_tokens=False)["input_ids"]


# --------------------------------------------------------------------------- passages


def test_passages_cover_the_text_with_the_overlap_in_model_tokens(tiny_encoder) -> None:
    texts = long_candidates(12)["text"].to_list()
    chunking = resolve_for(tiny_encoder, CHUNKING)
    passages = split_texts(texts, tiny_encoder.model.tokenizer, chunking)
    assert passages.counts.sum() == len(passages.texts) and passages.counts.min() >= 1
    at = 0
    for text, count in zip(texts, passages.counts, strict=True):
        full = token_ids(tiny_encoder, text)
        mine = passages.texts[at : at + count]
        at += count
        if len(full) <= 24 - 2:
            assert mine == [text]  # a text that fits is kept whole
            continue
        assert count == int(np.ceil((len(full) - 22) / (22 - 4))) + 1
        start = 0
        for i, passage in enumerate(mine):
            ids = token_ids(tiny_encoder, passage)
            with_specials = tiny_encoder.model.tokenizer(passage)["input_ids"]
            assert len(with_specials) <= 24 == len(ids) + 2 or i == count - 1
            assert full[start : start + len(ids)] == ids  # a contiguous run of the text's tokens
            end = start + len(ids)
            start = end - 4  # one-token words: the overlap is exactly 4 tokens
        assert end == len(full)  # the last passage reaches the end of the text


def test_cuts_fall_on_word_starts(tiny_encoder) -> None:
    # words outside the tiny vocabulary split into single characters (qz -> q ##z)
    text = " ".join(["qzxw", "berlin", "vqqk"] * 20)
    chunking = resolve_for(tiny_encoder, Chunking("passages", tokens=16, overlap=3))
    passages = split_texts([text], tiny_encoder.model.tokenizer, chunking)
    assert len(passages.texts) > 3
    words = set(text.split())
    for passage in passages.texts:
        assert set(passage.split()) <= words  # no passage starts or ends inside a word
        assert len(tiny_encoder.model.tokenizer(passage)["input_ids"]) <= 16


def test_chunking_is_checked_against_the_model(tiny_encoder) -> None:
    assert resolve_for(tiny_encoder, Chunking("passages")).tokens == 128  # max_seq_length
    with pytest.raises(IndexStoreError, match="exceeds the model's max_seq_length 128"):
        resolve_for(tiny_encoder, Chunking("passages", tokens=129))
    with pytest.raises(IndexStoreError, match="at most half"):
        resolve_for(tiny_encoder, Chunking("passages", tokens=24, overlap=12))
    with pytest.raises(IndexStoreError, match="at least 10"):
        resolve_for(tiny_encoder, Chunking("passages", tokens=6, overlap=0))
    with pytest.raises(ValueError, match="aggregate must be one of first, max, mean, first"):
        Chunking("passages", aggregate="sum")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the index


def test_folder_manifest_and_passage_map(chunked, tiny_encoder) -> None:
    folder, candidates = chunked
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["index.faiss", "manifest.json", "metadata.parquet", "passages.parquet"]
    manifest = read_manifest(folder)
    assert (manifest.chunking, manifest.chunk_tokens, manifest.chunk_overlap) == (
        "passages",
        24,
        4,
    )
    assert manifest.aggregate == "first+max" and manifest.format_version == 2
    assert manifest.candidates == candidates.height == 40
    texts = candidates["text"].to_list()
    counts = split_texts(texts, tiny_encoder.model.tokenizer, resolve_for(tiny_encoder, CHUNKING))
    assert manifest.rows == counts.counts.sum() > 40
    loaded = load_index(folder)
    assert loaded.metadata["candidate_id"].to_list() == candidates["candidate_id"].to_list()
    assert np.array_equal(loaded.passages.counts(), counts.counts)
    assert verify_index(folder) == []


def brute_force(loaded, queries: np.ndarray, k: int, aggregate: str, mask=None):
    """(candidate rows, scores) per query from every stored passage vector, by plain loops."""
    vectors = reconstruct(loaded.index, np.arange(loaded.rows))
    owners, positions = loaded.passages.owners, loaded.passages.positions
    out = []
    for query in queries:
        scores = vectors @ query
        per = {}
        for c in range(loaded.candidates):
            if mask is not None and not mask[c]:
                continue
            mine = scores[owners == c]
            first = scores[(owners == c) & (positions == 0)][0]
            per[c] = {
                "first": first,
                "max": mine.max(),
                "mean": mine.mean(),
                "first+max": FIRST_WEIGHT * first + (1 - FIRST_WEIGHT) * mine.max(),
            }[aggregate]
        ranked = sorted(per, key=lambda c: -per[c])[:k]
        out.append((ranked, np.array([per[c] for c in ranked])))
    return out


@pytest.mark.parametrize("aggregate", AGGREGATES)
@pytest.mark.parametrize("flt", [None, "country=Germany"])
def test_each_aggregate_equals_brute_force(chunked, tiny_encoder, aggregate, flt) -> None:
    folder, candidates = chunked
    loaded = load_index(folder)
    k = 12
    hits = search(
        loaded, tiny_encoder, JOBS, k=k, aggregate=aggregate, filters=[flt] if flt else []
    )
    mask = None
    if flt:
        mask = candidates["location"].str.ends_with("Germany").to_numpy()
    queries = tiny_encoder.encode(JOBS["text"].to_list())
    ids = candidates["candidate_id"].to_list()
    for (want_rows, want_scores), job_id in zip(
        brute_force(loaded, queries, k, aggregate, mask), JOBS["job_id"], strict=True
    ):
        mine = hits.filter(pl.col("job_id") == job_id)
        assert mine.height == min(k, len(want_rows))
        assert mine["candidate_id"].n_unique() == mine.height  # distinct candidates
        np.testing.assert_allclose(mine["score"].to_numpy(), want_scores, atol=1e-5)
        for got, want, score in zip(mine["candidate_id"], want_rows, want_scores, strict=True):
            assert got == ids[want] or np.isclose(want_scores, score, atol=1e-6).sum() > 1


@pytest.mark.parametrize("aggregate", AGGREGATES)
def test_exactly_k_distinct_candidates_with_and_without_filters(
    chunked, tiny_encoder, aggregate
) -> None:
    folder, _ = chunked
    loaded = load_index(folder)
    for k, filters, expected in (
        (25, [], 25),
        (40, [], 40),
        (100, [], 40),  # more than the index holds: every candidate once
        (15, ["country=Germany"], 15),  # 20 candidates pass
        (15, ["location=Berlin, Germany"], 10),  # 10 pass: all of them
        (3, ["location=Berlin, Germany", "seniority>=senior"], 3),
    ):
        hits = search(loaded, tiny_encoder, JOBS, k=k, aggregate=aggregate, filters=filters)
        for job_id in JOBS["job_id"]:
            mine = hits.filter(pl.col("job_id") == job_id)
            assert mine.height == expected and mine["candidate_id"].n_unique() == expected
            assert mine["rank"].to_list() == list(range(1, expected + 1))
            if filters:
                assert mine["location"].str.ends_with("Germany").all()


def test_sharded_chunked_index_gives_the_same_hits(chunked, tiny_encoder, tmp_path) -> None:
    folder, candidates = chunked
    build_index(
        candidates, tmp_path / "sharded", tiny_encoder, BuildConfig(chunking=CHUNKING, shards=3)
    )
    assert verify_index(tmp_path / "sharded") == []
    one, three = load_index(folder), load_index(tmp_path / "sharded")
    for aggregate in AGGREGATES:
        a = search(one, tiny_encoder, JOBS, k=10, aggregate=aggregate, filters=["country=Germany"])
        b = search(
            three, tiny_encoder, JOBS, k=10, aggregate=aggregate, filters=["country=Germany"]
        )
        np.testing.assert_allclose(a["score"].to_numpy(), b["score"].to_numpy(), atol=1e-6)


def test_explanations_stay_one_row_per_candidate(chunked, tiny_encoder) -> None:
    from jobmatch.rules import load_rules

    folder, _ = chunked
    jobs = JOBS.with_columns(
        pl.lit("Berlin, Germany").alias("location"),
        pl.lit(3, dtype=pl.Int8).alias("seniority"),
        pl.lit(["nlp"]).alias("areas"),
    )
    hits = search(load_index(folder), tiny_encoder, jobs, k=8, explain=load_rules())
    assert hits.height == 24 and hits.select("job_id", "candidate_id").is_unique().all()
    assert hits["explanation"].str.contains("location").all()


# --------------------------------------------------------------------------- lifecycle


def test_add_and_remove_replace_all_passages_of_a_candidate(chunked, tiny_encoder, tmp_path):
    _, candidates = chunked
    folder = tmp_path / "index"
    build_index(candidates, folder, tiny_encoder, BuildConfig(chunking=CHUNKING))
    before = load_index(folder)
    counts = dict(zip(candidates["candidate_id"], before.passages.counts(), strict=True))
    longest = max(counts, key=counts.get)
    assert counts[longest] >= 4
    changed = candidates.filter(pl.col("candidate_id") == longest).with_columns(
        pl.lit("junior go developer in paris").alias("text")
    )
    new = long_candidates(41).tail(1).with_columns(pl.lit("c999").alias("candidate_id"))
    io.write_table(pl.concat([changed, new]), tmp_path / "changes.parquet")
    summary = upsert(folder, [tmp_path / "changes.parquet"], tiny_encoder)
    assert (summary.added, summary.updated, summary.rows) == (1, 1, 41)
    after = load_index(folder)
    after_counts = dict(zip(after.metadata["candidate_id"], after.passages.counts(), strict=True))
    tokenizer, chunking = tiny_encoder.model.tokenizer, resolve_for(tiny_encoder, CHUNKING)
    new_count = int(split_texts(new["text"].to_list(), tokenizer, chunking).counts[0])
    assert after_counts[longest] == 1 and after_counts["c999"] == new_count > 1
    assert after.rows == before.rows - counts[longest] + 1 + new_count
    assert verify_index(folder) == []
    # the kept candidates' passage vectors are carried over unchanged, in order
    kept = [c for c in candidates["candidate_id"] if c != longest]
    rows_before = np.flatnonzero(
        np.isin(before.metadata["candidate_id"], kept)[before.passages.owners]
    )
    rows_after = np.flatnonzero(
        np.isin(after.metadata["candidate_id"], kept)[after.passages.owners]
    )
    np.testing.assert_array_equal(
        reconstruct(before.index, rows_before), reconstruct(after.index, rows_after)
    )
    hits = search(after, tiny_encoder, JOBS.head(1), k=5, filters=["candidate_id=" + longest])
    assert hits["candidate_id"].to_list() == [longest]

    summary = remove(folder, ["c999", "c001"])
    removed = load_index(folder)
    assert summary.removed == 2 and removed.candidates == 39
    assert removed.rows == after.rows - after_counts["c999"] - after_counts["c001"]
    assert not removed.metadata["candidate_id"].is_in(["c999", "c001"]).any()
    assert verify_index(folder) == []


def passage_rows(loaded, ids: list[str]) -> np.ndarray:
    """FAISS rows of the passages of candidates `ids`, in row order."""
    return np.flatnonzero(np.isin(loaded.metadata["candidate_id"], ids)[loaded.passages.owners])


def test_verify_finds_a_broken_passage_map(chunked, tiny_encoder, tmp_path) -> None:
    import shutil

    folder, _ = chunked
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    loaded = load_index(copy)
    owners = loaded.passages.owners.copy()
    owners[-1] = 0  # unsorted: the last passage now claims the first candidate
    frame = pl.DataFrame({"candidate_row": owners, "passage": loaded.passages.positions})
    frame.write_parquet(copy / "passages.parquet")
    problems = verify_index(copy)
    assert problems and "passages.parquet" in problems[0]


def test_store_of_passages_builds_other_index_types(chunked, tiny_encoder, tmp_path) -> None:
    _, candidates = chunked
    store = tmp_path / "store"
    config = BuildConfig(chunking=CHUNKING, save_embeddings=store, chunk_rows=16)
    first = build_index(candidates, tmp_path / "flat", tiny_encoder, config)
    again = build_from_embeddings(
        store,
        tmp_path / "hnsw",
        BuildConfig(factory="HNSW16", chunking=Chunking("passages", aggregate="mean")),
    )
    assert (again.rows, again.candidates, again.chunk_tokens) == (first.rows, 40, 24)
    assert again.aggregate == "mean" and verify_index(tmp_path / "hnsw") == []
    hits = search(load_index(tmp_path / "hnsw"), tiny_encoder, JOBS, k=7)
    assert (
        hits.group_by("job_id").agg(pl.col("candidate_id").n_unique())["candidate_id"].to_list()
        == [7] * 3
    )

    build_index(
        candidates, tmp_path / "plain", tiny_encoder, BuildConfig(save_embeddings=tmp_path / "s2")
    )
    with pytest.raises(IndexStoreError, match="chunking none"):
        build_from_embeddings(tmp_path / "s2", tmp_path / "x", BuildConfig(chunking=CHUNKING))


# --------------------------------------------------------------------------- manifest


def test_manifest_round_trip_and_old_manifests_read_as_none(chunked) -> None:
    folder, _ = chunked
    manifest = read_manifest(folder)
    again = Manifest.from_json(manifest.to_json(), source="m")
    assert again == manifest and again.chunking_config() == Chunking("passages", 24, 4, "first+max")
    old = json.loads(manifest.to_json())
    for name in ("candidates", "chunking", "chunk_tokens", "chunk_overlap", "aggregate"):
        del old[name]
    old["format_version"] = 1
    legacy = Manifest.from_json(json.dumps(old), source="m")
    assert legacy.chunking == "none" and not legacy.chunked
    assert legacy.candidate_rows == legacy.rows and legacy.chunking_config() == Chunking()
    assert legacy.data_files() == ["index.faiss", "metadata.parquet"]
    bad = {**json.loads(manifest.to_json()), "aggregate": "sum"}
    with pytest.raises(IndexStoreError, match="field 'aggregate' is 'sum'"):
        Manifest.from_json(json.dumps(bad), source="m.json")
    with pytest.raises(IndexStoreError, match="field 'chunking' is 'words'"):
        Manifest.from_json(json.dumps({**bad, "chunking": "words"}), source="m.json")


def test_aggregate_on_an_index_without_passages_is_refused(tiny_encoder, tmp_path) -> None:
    build_index(make_candidates(), tmp_path / "plain", tiny_encoder)
    with pytest.raises(InputError, match="needs an index built with --chunking passages"):
        search(load_index(tmp_path / "plain"), tiny_encoder, JOBS, k=3, aggregate="max")


# --------------------------------------------------------------------------- CLI


def test_cli_build_with_passages_then_query(tmp_path: Path, tiny_model_dir: Path) -> None:
    io.write_table(long_candidates(), tmp_path / "c.parquet")
    runner = CliRunner()
    index_dir = str(tmp_path / "index")
    model = str(tiny_model_dir)
    built = runner.invoke(
        main,
        ["index", "build", "--input", str(tmp_path / "c.parquet"), "--index", index_dir,
         "--model", model, "--chunking", "passages", "--chunk-tokens", "24",
         "--chunk-overlap", "4", "--aggregate", "first+max"],
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    manifest = read_manifest(index_dir)
    assert f"indexed 40 candidates in {manifest.rows} passages" in built.stderr
    assert manifest.aggregate == "first+max"
    info = json.loads(runner.invoke(main, ["index", "info", index_dir]).stdout)
    assert info["chunking"] == "passages" and info["chunk_tokens"] == 24
    for aggregate in ([], ["--aggregate", "mean"]):
        out = tmp_path / "hits.jsonl"
        result = runner.invoke(
            main,
            ["query", "--index", index_dir, "--text", "senior nlp engineer berlin", "-k", "6",
             "--filter", "country=Germany", "--out", str(out), *aggregate],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        hits = pl.read_ndjson(out)
        assert hits.height == 6 and hits["candidate_id"].n_unique() == 6
    verified = runner.invoke(main, ["index", "verify", index_dir])
    assert verified.exit_code == 0 and "ok" in verified.stdout


def test_cli_errors_are_one_line(tmp_path: Path, tiny_model_dir: Path) -> None:
    from jobmatch.cli.index import AGGREGATES as CLI_AGGREGATES

    assert CLI_AGGREGATES == AGGREGATES
    io.write_table(make_candidates(), tmp_path / "c.parquet")
    runner = CliRunner()
    base = ["index", "build", "--input", str(tmp_path / "c.parquet"),
            "--model", str(tiny_model_dir)]  # fmt: skip
    passages = ["--chunking", "passages", "--chunk-tokens", "512"]
    too_long = runner.invoke(main, [*base, "--index", str(tmp_path / "a"), *passages])
    assert too_long.exit_code == 2 and not (tmp_path / "a").exists()
    assert [line for line in too_long.stderr.splitlines() if "error" in line] == [
        "error: --chunk-tokens 512 exceeds the model's max_seq_length 128: the encoder would "
        "truncate every passage (use at most 128)"
    ]
    no_passages = runner.invoke(
        main, [*base, "--index", str(tmp_path / "b"), "--chunk-tokens", "64"]
    )
    assert no_passages.exit_code == 2 and "need --chunking passages" in no_passages.stderr
    plain = runner.invoke(main, [*base, "--index", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    refused = runner.invoke(
        main, ["query", "--index", str(tmp_path / "plain"), "--text", "nlp", "--aggregate", "max"]
    )
    assert refused.exit_code == 2
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "needs an index built with --chunking passages" in refused.stderr
