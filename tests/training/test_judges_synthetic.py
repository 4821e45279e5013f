"""Judge pairs: drawn from the model's top-N, judged by the simulated judge, written by the CLI."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from jobmatch import io
from jobmatch.cli import main
from jobmatch.errors import InputError
from jobmatch.rules import match_pair
from jobmatch.synth import write_corpus
from jobmatch.training.judges import Judgement, PairToJudge
from jobmatch.training.judges.sampling import draw_pairs
from jobmatch.training.judges.synthetic import (
    CONFIDENCE_SCALE,
    MISSING_HIDDEN,
    W_IMPACT,
    W_MUST,
    W_NICE,
    W_RULES,
    SyntheticJudge,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("judge-corpus")
    paths = write_corpus(folder, n_candidates=150, n_jobs=5, seed=3)
    jobs = io.read_table(paths["jobs"], "jobs")
    candidates = io.read_table(paths["candidates"], "candidates")
    return paths, jobs, candidates


def _brute_force_top(encoder, jobs: pl.DataFrame, candidates: pl.DataFrame, top: int):
    """Per job: the candidate scores and the score of its top-th candidate (numpy, no FAISS)."""
    corpus = encoder.encode(candidates["text"].to_list())
    queries = encoder.encode(jobs["text"].to_list())
    scores = queries @ corpus.T
    cutoff = np.sort(scores, axis=1)[:, -top]
    return scores, cutoff


# ------------------------------------------------------------------ draw_pairs


def test_draw_pairs_come_from_each_jobs_top_and_are_distinct(corpus, tiny_encoder) -> None:
    _, jobs, candidates = corpus
    pairs = draw_pairs(tiny_encoder, jobs, candidates, pairs_per_job=12, top=10, seed=7)
    assert len(pairs) == 5 * 12
    scores, cutoff = _brute_force_top(tiny_encoder, jobs, candidates, top=10)
    row_of = {c: i for i, c in enumerate(candidates["candidate_id"])}
    job_row = {j: i for i, j in enumerate(jobs["job_id"])}
    texts = dict(candidates.select("candidate_id", "text").iter_rows())
    for job_id in jobs["job_id"]:
        mine = [p for p in pairs if p.job_id == job_id]
        assert len(mine) == 12
        unordered = {frozenset((p.a_id, p.b_id)) for p in mine}
        assert len(unordered) == 12  # distinct, and a != b (else the set would have one id)
        assert all(len(pair) == 2 for pair in unordered)
        j = job_row[job_id]
        for p in mine:
            for cid in (p.a_id, p.b_id):
                assert scores[j, row_of[cid]] >= cutoff[j] - 1e-5, (job_id, cid)
            assert (p.a_text, p.b_text) == (texts[p.a_id], texts[p.b_id])
            assert p.job_text == jobs["text"][j]
    # A/B is a coin: in 60 pairs the better-ranked candidate is A sometimes, not always
    a_first = sum(
        scores[job_row[p.job_id], row_of[p.a_id]] > scores[job_row[p.job_id], row_of[p.b_id]]
        for p in pairs
    )
    assert 15 < a_first < 45


def test_draw_pairs_is_deterministic_for_a_seed(corpus, tiny_encoder) -> None:
    _, jobs, candidates = corpus
    vectors = tiny_encoder.encode(candidates["text"].to_list())
    first = draw_pairs(tiny_encoder, jobs, candidates, pairs_per_job=8, top=20, seed=1)
    again = draw_pairs(
        tiny_encoder, jobs, candidates, pairs_per_job=8, top=20, seed=1, corpus=vectors
    )
    other = draw_pairs(tiny_encoder, jobs, candidates, pairs_per_job=8, top=20, seed=2)
    assert first == again
    assert first != other


def test_draw_pairs_caps_at_every_pair_of_a_small_pool(corpus, tiny_encoder) -> None:
    _, jobs, candidates = corpus
    pairs = draw_pairs(tiny_encoder, jobs.head(1), candidates, pairs_per_job=50, top=5)
    assert len({frozenset((p.a_id, p.b_id)) for p in pairs}) == len(pairs) == 10  # 5 choose 2
    with pytest.raises(ValueError, match="top must be at least 2"):
        draw_pairs(tiny_encoder, jobs, candidates, pairs_per_job=1, top=1)


# ------------------------------------------------------------------ SyntheticJudge

JOB = {
    "job_id": "j1",
    "text": "Senior NLP engineer in Berlin",
    "location": "Berlin, Germany",
    "seniority": 3,
    "areas": ["nlp"],
    "remote": False,
    "hidden_must_have": ["spaCy"],
    "hidden_nice_to_have": ["LoRA fine-tuning"],
}


def _candidate(cid: str, location: str, methods: list[str], impact: int = 1) -> dict:
    return {
        "candidate_id": cid,
        "text": f"candidate {cid}",
        "location": location,
        "seniority": 3,
        "areas": ["nlp"],
        "hidden_methods": methods,
        "hidden_impact": impact,
    }


def _frames(*candidates: dict) -> tuple[pl.DataFrame, pl.DataFrame]:
    jobs = pl.DataFrame([JOB], schema_overrides={"seniority": pl.Int8})
    frame = pl.DataFrame(list(candidates), schema_overrides={"hidden_impact": pl.Int8})
    return jobs, frame


def _pair(a: str, b: str, job: str = "j1") -> PairToJudge:
    return PairToJudge(job, "job", a, f"text {a}", b, f"text {b}")


def test_prefers_higher_rule_relevance_when_hidden_parts_are_equal() -> None:
    # same city: 2+2+1 = 5 points, grade 2; same country: 1+2+1 = 4 points, grade 1
    jobs, candidates = _frames(
        _candidate("berlin", "Berlin, Germany", ["BM25"]),
        _candidate("munich", "Munich, Germany", ["BM25"]),
    )
    judge = SyntheticJudge(jobs, candidates, noise=0.0)
    answers = judge.judge([_pair("berlin", "munich"), _pair("munich", "berlin")])
    gap_confidence = 1 / (1 + np.exp(-W_RULES / CONFIDENCE_SCALE))
    assert [a.preferred for a in answers] == ["A", "B"]
    assert [a.confidence for a in answers] == pytest.approx([gap_confidence] * 2)
    assert answers[0].confidence == pytest.approx(0.8808, abs=1e-4)
    assert judge.stats == {"asked": 2, "ties": 0, "flipped": 0}


def test_must_have_method_decides_when_rule_relevance_ties() -> None:
    jobs, candidates = _frames(
        _candidate("with", "Berlin, Germany", ["spaCy", "BM25"]),
        _candidate("without", "Berlin, Germany", ["BM25"], impact=2),
    )
    judge = SyntheticJudge(jobs, candidates, noise=0.0)
    job = jobs.row(0, named=True)
    rows = {row["candidate_id"]: row for row in candidates.iter_rows(named=True)}
    assert judge.score(job, rows["with"]) == pytest.approx(2 * W_RULES + W_MUST + W_IMPACT)
    assert judge.score(job, rows["without"]) == pytest.approx(2 * W_RULES + 2 * W_IMPACT)
    answers = judge.judge([_pair("without", "with"), _pair("with", "without")])
    assert [a.preferred for a in answers] == ["B", "A"]
    # one must-have method outweighs a full impact gap and one nice-to-have; two outweigh a grade
    assert W_MUST > 3 * W_IMPACT and W_MUST > W_NICE
    assert 2 * W_MUST > W_RULES > W_MUST + W_NICE


def test_deciding_attribute_is_the_largest_weighted_difference() -> None:
    jobs, candidates = _frames(
        _candidate("berlin", "Berlin, Germany", ["BM25"]),
        _candidate("munich", "Munich, Germany", ["BM25"]),
        _candidate("with", "Berlin, Germany", ["spaCy", "BM25"]),
        _candidate("without", "Berlin, Germany", ["BM25"], impact=2),
        _candidate("bold", "Berlin, Germany", ["BM25"], impact=3),
        _candidate("twin", "Berlin, Germany", ["BM25"]),
    )
    judge = SyntheticJudge(jobs, candidates, noise=0.0)
    pairs = [_pair("berlin", "munich"), _pair("with", "without"), _pair("bold", "berlin"),
             _pair("berlin", "twin")]  # fmt: skip
    assert judge.deciding_attribute(pairs) == ["rules", "must-have", "impact", "tie"]
    job = jobs.row(0, named=True)
    for row in candidates.iter_rows(named=True):
        assert sum(judge.parts(job, row).values()) == judge.score(job, row)


def test_tie_is_a_seeded_coin_answered_consistently_in_both_orders() -> None:
    jobs, candidates = _frames(
        *(_candidate(f"c{i}", "Berlin, Germany", ["BM25"]) for i in range(40))
    )
    judge = SyntheticJudge(jobs, candidates, noise=0.0, seed=5)
    forward = [_pair(f"c{i}", f"c{i + 1}") for i in range(0, 40, 2)]
    backward = [_pair(p.b_id, p.a_id) for p in forward]
    ahead = judge.judge(forward)
    behind = judge.judge(backward)
    assert all(a.confidence == 0.5 for a in ahead + behind)
    chosen = [p.a_id if a.preferred == "A" else p.b_id for p, a in zip(forward, ahead, strict=True)]
    chosen_back = [
        p.a_id if a.preferred == "A" else p.b_id for p, a in zip(backward, behind, strict=True)
    ]
    assert chosen == chosen_back
    assert 4 <= sum(a.preferred == "A" for a in ahead) <= 16
    assert judge.stats["ties"] == 40


def test_noise_flips_about_that_share_and_is_deterministic(corpus) -> None:
    _, jobs, candidates = corpus
    rng = np.random.default_rng(0)
    ids = candidates["candidate_id"].to_list()
    pairs = [
        _pair(*(ids[i] for i in rng.choice(len(ids), 2, replace=False)), job=job_id)
        for job_id in jobs["job_id"]
        for _ in range(600)
    ]
    clean = SyntheticJudge(jobs, candidates, noise=0.0, seed=4).judge(pairs)
    noisy_judge = SyntheticJudge(jobs, candidates, noise=0.3, seed=4)
    noisy = noisy_judge.judge(pairs)
    flips = sum(c.preferred != n.preferred for c, n in zip(clean, noisy, strict=True)) / len(pairs)
    assert flips == pytest.approx(0.3, abs=0.05)
    assert noisy_judge.stats["flipped"] == round(flips * len(pairs))
    # flipped answers keep the confidence of the gap
    assert [c.confidence for c in clean] == [n.confidence for n in noisy]
    assert all(0.5 <= n.confidence < 1 for n in noisy)
    again = SyntheticJudge(jobs, candidates, noise=0.3, seed=4).judge(pairs)
    other = SyntheticJudge(jobs, candidates, noise=0.3, seed=5).judge(pairs)
    assert again == noisy
    assert other != noisy
    # answers do not depend on batching
    assert SyntheticJudge(jobs, candidates, noise=0.3, seed=4).judge(pairs[:7]) == noisy[:7]


def test_hidden_attributes_decide_most_rule_ties_on_a_synth_corpus(corpus) -> None:
    _, jobs, candidates = corpus
    judge = SyntheticJudge(jobs, candidates, noise=0.0)
    job = jobs.row(0, named=True)
    rows = candidates.head(60).rows(named=True)
    rule_ties = decided = 0
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if (
                match_pair(job, a, judge.rules).relevance
                == match_pair(job, b, judge.rules).relevance
            ):
                rule_ties += 1
                decided += abs(judge.score(job, a) - judge.score(job, b)) > 1e-9
    assert rule_ties > 1000
    assert decided / rule_ties > 0.6


def test_missing_hidden_columns_raise_input_error(corpus) -> None:
    _, jobs, candidates = corpus
    with pytest.raises(InputError, match="hidden_methods") as caught:
        SyntheticJudge(jobs, candidates.drop("hidden_methods"))
    assert caught.value.column == "hidden_methods"
    assert caught.value.reason == MISSING_HIDDEN
    assert "use --judge llm for real data" in str(caught.value)
    with pytest.raises(InputError, match="hidden_must_have"):
        SyntheticJudge(jobs.drop("hidden_must_have"), candidates)
    with pytest.raises(ValueError, match="noise"):
        SyntheticJudge(jobs, candidates, noise=0.7)


def test_unknown_ids_raise_input_error(corpus) -> None:
    _, jobs, candidates = corpus
    judge = SyntheticJudge(jobs, candidates)
    with pytest.raises(InputError, match="unknown id 'nobody'"):
        judge.judge([_pair("nobody", candidates["candidate_id"][0], job=jobs["job_id"][0])])
    assert judge.judge([]) == []
    assert isinstance(
        judge.judge([_pair(*candidates["candidate_id"][:2], job="j00001")])[0], Judgement
    )


# ------------------------------------------------------------------ CLI


def test_cli_judge_synthetic_writes_preferences_from_top_100(
    corpus, tiny_encoder, tiny_model_dir: Path, tmp_path: Path
) -> None:
    paths, jobs, candidates = corpus
    out = tmp_path / "preferences.parquet"
    args = [
        "judge",
        "--jobs",
        str(paths["jobs"]),
        "--candidates",
        str(paths["candidates"]),
        "--model",
        str(tiny_model_dir),
        "--judge",
        "synthetic",
        "--pairs-per-job",
        "30",
        "--noise",
        "0.1",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "judged 150 of 150 pairs (0 dropped)" in result.output
    assert "with the synthetic judge" in result.output and "asked=150" in result.output
    preferences = io.read_table(out, "preferences")
    assert preferences.columns == ["job_id", "chosen", "rejected", "confidence"]
    assert preferences.height == 150
    assert (preferences["chosen"] != preferences["rejected"]).all()
    assert preferences["confidence"].min() >= 0.5 and preferences["confidence"].max() < 1
    assert preferences.group_by("job_id").len()["len"].to_list() == [30] * 5
    scores, cutoff = _brute_force_top(tiny_encoder, jobs, candidates, top=100)
    row_of = {c: i for i, c in enumerate(candidates["candidate_id"])}
    job_row = {j: i for i, j in enumerate(jobs["job_id"])}
    for job_id, chosen, rejected, _ in preferences.iter_rows():
        for cid in (chosen, rejected):
            assert scores[job_row[job_id], row_of[cid]] >= cutoff[job_row[job_id]] - 1e-5
    again = tmp_path / "again.parquet"
    rerun = CliRunner().invoke(main, [*args[:-1], str(again)])
    assert rerun.exit_code == 0, rerun.output
    assert pl.read_parquet(again).equals(pl.read_parquet(out))


def test_cli_judge_llm_needs_endpoint(corpus, tmp_path: Path) -> None:
    paths, _, _ = corpus
    out = tmp_path / "preferences.parquet"
    result = CliRunner().invoke(
        main,
        [
            "judge",
            "--jobs",
            str(paths["jobs"]),
            "--candidates",
            str(paths["candidates"]),
            "--judge",
            "llm",
            "--judge-model",
            "qwen",
            "--pairs-per-job",
            "5",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2
    assert "--judge llm needs --endpoint and --judge-model" in result.output
    assert not out.exists()


def test_cli_judge_synthetic_on_real_data_names_the_column(
    corpus, tiny_model_dir: Path, tmp_path: Path
) -> None:
    paths, _, candidates = corpus
    plain = tmp_path / "plain.parquet"
    candidates.select("candidate_id", "text").write_parquet(plain)
    out = tmp_path / "preferences.parquet"
    result = CliRunner().invoke(
        main,
        [
            "judge",
            "--jobs",
            str(paths["jobs"]),
            "--candidates",
            str(plain),
            "--model",
            str(tiny_model_dir),
            "--judge",
            "synthetic",
            "--pairs-per-job",
            "5",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2
    assert result.output.strip() == f"error: column 'hidden_methods': {MISSING_HIDDEN}"
    assert not out.exists()


class _ShorterPassage(BaseHTTPRequestHandler):
    """A chat-completions stub that prefers the shorter passage (so both orders agree)."""

    seen_keys: ClassVar[list[str | None]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _ShorterPassage.seen_keys.append(self.headers.get("Authorization"))
        user = body["messages"][-1]["content"]
        a = user.split("Passage A:\n", 1)[1].split("\n\nPassage B:\n", 1)[0]
        b = user.split("\n\nPassage B:\n", 1)[1].split("\n\nCompare", 1)[0]
        reply = f"Reasons.\nPreferred: {'A' if len(a) < len(b) else 'B'}\nConfidence score: 80"
        payload = json.dumps({"choices": [{"message": {"content": reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def chat_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ShorterPassage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_cli_judge_llm_writes_the_endpoints_preferences(
    corpus, tiny_model_dir: Path, tmp_path: Path, chat_endpoint: str, monkeypatch
) -> None:
    pytest.importorskip("jobmatch.training.judges.llm")
    paths, _, candidates = corpus
    monkeypatch.setenv("JUDGE_TEST_KEY", "sekrit-123")
    _ShorterPassage.seen_keys.clear()
    out = tmp_path / "preferences.parquet"
    result = CliRunner().invoke(
        main,
        [
            "judge",
            "--jobs",
            str(paths["jobs"]),
            "--candidates",
            str(paths["candidates"]),
            "--model",
            str(tiny_model_dir),
            "--judge",
            "llm",
            "--endpoint",
            chat_endpoint,
            "--judge-model",
            "stub",
            "--api-key-env",
            "JUDGE_TEST_KEY",
            "--cache",
            str(tmp_path / "cache.jsonl"),
            "--pairs-per-job",
            "4",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "sekrit" not in result.output
    assert set(_ShorterPassage.seen_keys) == {"Bearer sekrit-123"}
    assert len(_ShorterPassage.seen_keys) == 40  # 20 pairs, each asked in both orders
    preferences = io.read_table(out, "preferences")
    length = {cid: len(text) for cid, text in candidates.select("candidate_id", "text").iter_rows()}
    assert preferences.height == 20
    assert all(
        length[c] < length[r]
        for c, r in zip(preferences["chosen"], preferences["rejected"], strict=True)
    )
    assert preferences["confidence"].to_list() == pytest.approx([0.8] * 20)
    assert "judged 20 of 20 pairs (0 dropped)" in result.output and "asked=40" in result.output
