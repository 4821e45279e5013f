"""Hand-computed checks of jobmatch.metrics; the arithmetic is in the comments.

Notation: L3 = log2(3) = 1.5849625, so 1/L3 = 0.6309298; log2(2) = 1 and log2(4) = 2.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from jobmatch.metrics import (
    PAPER_POOL_SIZE,
    MetricsReport,
    alignment,
    average_precision_at_k,
    dcg,
    evaluate_run,
    mrr_at_k,
    ndcg_at_k,
    rank_by_scores,
    recall_at_k,
)

L3 = math.log2(3)


# --- dcg ------------------------------------------------------------------------------------


def test_dcg_linear_gains_log2_discount() -> None:
    # 3/log2(2) + 2/log2(3) + 1/log2(4) = 3 + 1.2618595 + 0.5 = 4.7618595
    assert dcg([3, 2, 1]) == pytest.approx(4.7618595071)
    # Linear, not exponential: a grade-3 item at rank 1 gives 3, not 2**3 - 1 = 7.
    assert dcg(np.array([3.0])) == pytest.approx(3.0)


def test_dcg_empty_is_zero() -> None:
    assert dcg([]) == 0.0


def test_dcg_rejects_matrix() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        dcg(np.ones((2, 2)))


# --- nDCG graded ----------------------------------------------------------------------------


def test_ndcg_graded_mixed_grades_with_unretrieved_relevant() -> None:
    judgments = {"a": 0, "b": 3, "c": 1, "d": 2}
    # DCG  = 0/1 + 3/L3 + 1/2          = 0 + 1.8927893 + 0.5       = 2.3927893
    # IDCG = grades sorted [3, 2, 1]:  3/1 + 2/L3 + 1/2 = 3 + 1.2618595 + 0.5 = 4.7618595
    # nDCG = 2.3927893 / 4.7618595 = 0.5024905  (d is missed, so the ideal still counts it)
    assert ndcg_at_k(["a", "b", "c"], judgments, 3) == pytest.approx(0.5024905202)


def test_ndcg_perfect_ranking_is_one() -> None:
    judgments = {"a": 3, "b": 2, "c": 1}
    assert ndcg_at_k(["a", "b", "c", "x"], judgments, 3) == pytest.approx(1.0)
    assert ndcg_at_k(["a", "b", "c", "x"], judgments, 10) == pytest.approx(1.0)


def test_ndcg_duplicate_grades_in_ideal() -> None:
    judgments = {"a": 2, "b": 2, "c": 1}
    # k=2, ranked [c, a]: DCG = 1/1 + 2/L3 = 1 + 1.2618595 = 2.2618595
    # ideal keeps both grade-2 items: [2, 2] -> 2 + 2/L3 = 3.2618595
    # nDCG = 2.2618595 / 3.2618595 = 0.6934264
    assert ndcg_at_k(["c", "a", "b"], judgments, 2) == pytest.approx(0.6934264036)
    # Swapping the two equal grades changes nothing: [b, a] is also ideal.
    assert ndcg_at_k(["b", "a", "c"], judgments, 2) == pytest.approx(1.0)


def test_ndcg_binary_case() -> None:
    judgments = {"r1": 1, "r2": 1}
    # ranked [x, r1, r2]: DCG = 1/L3 + 1/2 = 1.1309298; IDCG = 1 + 1/L3 = 1.6309298
    # nDCG = 0.6934264
    assert ndcg_at_k(["x", "r1", "r2"], judgments, 3) == pytest.approx(0.6934264036)


def test_ndcg_cutoff_ignores_relevant_at_rank_k_plus_one() -> None:
    judgments = {"r": 2}
    ranked = ["x", "y", "r"]
    # k=2: r is at rank 3 = k+1 -> DCG 0 -> nDCG 0.
    assert ndcg_at_k(ranked, judgments, 2) == pytest.approx(0.0)
    # k=3: DCG = 2/log2(4) = 1; IDCG = 2/1 = 2 -> 0.5
    assert ndcg_at_k(ranked, judgments, 3) == pytest.approx(0.5)


def test_ndcg_ideal_is_cut_at_k() -> None:
    judgments = {"a": 3, "b": 3, "c": 3}
    # k=1, ranked [a]: DCG = 3; IDCG uses only the best grade: 3 -> 1.0
    assert ndcg_at_k(["a"], judgments, 1) == pytest.approx(1.0)


def test_ndcg_no_relevant_returns_none() -> None:
    assert ndcg_at_k(["a", "b"], {"a": 0}, 5) is None
    assert ndcg_at_k(["a", "b"], {}, 5) is None


def test_ndcg_rejects_bad_k_mode_and_duplicates() -> None:
    with pytest.raises(ValueError, match="positive integer"):
        ndcg_at_k(["a"], {"a": 1}, 0)
    with pytest.raises(ValueError, match="mode"):
        ndcg_at_k(["a"], {"a": 1}, 1, mode="exp")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="duplicate"):
        ndcg_at_k(["a", "a"], {"a": 1}, 2)


# --- nDCG paper variant ---------------------------------------------------------------------


def test_ndcg_paper_binary_gains_ideal_from_retrieved() -> None:
    judgments = {"a": 0, "b": 3, "c": 1, "d": 2}
    # Hits in retrieved [a, b, c] = [0, 1, 1]; grades ignored; d (not retrieved) ignored.
    # DCG = 1/L3 + 1/2 = 1.1309298; ideal of the retrieved hits [1, 1] = 1 + 1/L3 = 1.6309298
    # nDCG = 0.6934264 (graded gave 0.5024905 on the same ranking)
    assert ndcg_at_k(["a", "b", "c"], judgments, 3, mode="paper") == pytest.approx(0.6934264036)


def test_ndcg_paper_differs_from_graded_beyond_top_100() -> None:
    assert PAPER_POOL_SIZE == 100
    ranked = ["r0"] + [f"n{i:03d}" for i in range(99)] + ["r1", "r2"]  # r1, r2 at ranks 101, 102
    judgments = {"r0": 1, "r1": 1, "r2": 1}
    # graded, k=20: DCG = 1; IDCG over all 3 relevant = 1 + 1/L3 + 1/2 = 2.1309298
    # -> 1 / 2.1309298 = 0.4692787
    assert ndcg_at_k(ranked, judgments, 20) == pytest.approx(0.4692787260)
    # paper, k=20: only r0 is a hit in the top 100 -> ideal [1] -> DCG 1 / IDCG 1 = 1.0
    assert ndcg_at_k(ranked, judgments, 20, mode="paper") == pytest.approx(1.0)


def test_ndcg_paper_scores_zero_without_hits_instead_of_skipping() -> None:
    # Relevant item only at rank 101: paper -> 0.0 (not None); graded -> DCG 0 -> 0.0
    ranked = [f"n{i:03d}" for i in range(100)] + ["r"]
    assert ndcg_at_k(ranked, {"r": 2}, 20, mode="paper") == 0.0
    assert ndcg_at_k(ranked, {"r": 2}, 20) == pytest.approx(0.0)
    # No relevant item at all: graded skips (None), paper still scores 0.0.
    assert ndcg_at_k(["a"], {}, 20, mode="paper") == 0.0
    assert ndcg_at_k(["a"], {}, 20) is None


# --- recall, MRR, MAP -----------------------------------------------------------------------


def test_recall_hand_case() -> None:
    judgments = {"a": 1, "b": 2, "c": 3, "d": 1}
    ranked = ["a", "x", "b", "y", "c"]
    # k=5: hits {a, b, c} = 3 of 4 relevant -> 0.75; k=2: {a} -> 1/4 = 0.25
    assert recall_at_k(ranked, judgments, 5) == pytest.approx(0.75)
    assert recall_at_k(ranked, judgments, 2) == pytest.approx(0.25)
    assert recall_at_k(ranked, {"a": 0}, 5) is None


def test_mrr_hand_case() -> None:
    judgments = {"a": 1}
    # First relevant at rank 3 -> 1/3; with k=2 it is cut -> 0.0
    assert mrr_at_k(["x", "y", "a"], judgments, 3) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "a"], judgments, 2) == 0.0
    # Only the first hit counts: ranks 2 and 3 relevant -> 1/2
    assert mrr_at_k(["x", "a", "b"], {"a": 1, "b": 3}, 3) == pytest.approx(0.5)
    assert mrr_at_k(["x"], {}, 3) is None


def test_average_precision_hand_case() -> None:
    judgments = {"a": 1, "b": 2, "c": 3, "d": 1}
    ranked = ["a", "x", "b", "y", "c"]
    # k=5: P@1 = 1, P@3 = 2/3, P@5 = 3/5; sum = 2.2666667; / |relevant| 4 = 0.5666667
    assert average_precision_at_k(ranked, judgments, 5) == pytest.approx(0.5666666667)
    # k=3: (1 + 2/3) / 4 = 0.4166667 (divisor stays |relevant|, trec_eval map_cut)
    assert average_precision_at_k(ranked, judgments, 3) == pytest.approx(0.4166666667)
    assert average_precision_at_k(ranked, {}, 3) is None


def test_cutoff_on_all_metrics_at_rank_k_plus_one() -> None:
    judgments = {"r": 1}
    ranked = ["x", "y", "r"]
    # k=2 ignores r at rank 3: every metric 0
    assert recall_at_k(ranked, judgments, 2) == 0.0
    assert average_precision_at_k(ranked, judgments, 2) == 0.0
    # k=3: recall 1, AP = (1/3)/1 = 0.3333333
    assert recall_at_k(ranked, judgments, 3) == pytest.approx(1.0)
    assert average_precision_at_k(ranked, judgments, 3) == pytest.approx(1 / 3)


# --- alignment ------------------------------------------------------------------------------


def test_alignment_ties_are_not_aligned() -> None:
    chosen = [0.9, 0.5, 0.3, 0.2]
    rejected = [0.1, 0.5, 0.4, 0.1]
    # 0.9>0.1 yes, 0.5>0.5 tie -> no, 0.3>0.4 no, 0.2>0.1 yes -> 2/4 = 0.5
    assert alignment(chosen, rejected) == pytest.approx(0.5)
    assert alignment(np.array([1.0]), np.array([0.0])) == pytest.approx(1.0)


def test_alignment_errors() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        alignment([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="at least one"):
        alignment([], [])


# --- rank_by_scores -------------------------------------------------------------------------


def test_rank_by_scores_ties_broken_by_id() -> None:
    ids = ["c", "a", "b", "d"]
    scores = np.array([0.5, 0.5, 0.9, 0.5])
    # b (0.9) first; a, c, d tie at 0.5 -> ascending id
    assert rank_by_scores(ids, scores) == ["b", "a", "c", "d"]
    assert rank_by_scores(ids, scores, k=2) == ["b", "a"]
    # Cut inside the tie: the tie-break, not input order, decides who is in the top 3.
    assert rank_by_scores(ids, scores, k=3) == ["b", "a", "c"]
    assert rank_by_scores(ids[::-1], scores[::-1], k=3) == ["b", "a", "c"]
    assert rank_by_scores(ids, scores, k=10) == ["b", "a", "c", "d"]


def test_rank_by_scores_partial_matches_full_sort() -> None:
    rng = np.random.default_rng(0)
    ids = [f"id{i:04d}" for i in range(500)]
    scores = rng.integers(0, 20, size=500).astype(np.float32)  # many ties
    full = rank_by_scores(ids, scores)
    expected = [i for _, i in sorted(zip(-scores.astype(float), ids, strict=True))]
    assert full == expected
    assert rank_by_scores(ids, scores, k=37) == full[:37]


def test_rank_by_scores_errors() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        rank_by_scores(["a"], np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="NaN"):
        rank_by_scores(["a", "b"], np.array([0.1, np.nan]))
    with pytest.raises(ValueError, match="positive integer"):
        rank_by_scores(["a"], np.array([0.1]), k=0)


# --- evaluate_run ---------------------------------------------------------------------------


def _run_and_qrels() -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    run = {"q1": ["a", "b", "c"], "q2": ["x", "y"], "q3": ["z"]}
    qrels = {
        "q1": {"b": 3, "c": 1, "d": 2},
        "q2": {"y": 1},
        "q3": {"z": 0},  # no relevant item -> skipped
        "q4": {"w": 2},  # not in the run -> evaluated with an empty ranking, all metrics 0
    }
    return run, qrels


def test_evaluate_run_aggregates_over_evaluated_queries() -> None:
    run, qrels = _run_and_qrels()
    report = evaluate_run(run, qrels, k=2)
    # q1, top-2 [a, b]: DCG = 3/L3 = 1.8927893; IDCG [3, 2] = 3 + 2/L3 = 4.2618595 -> 0.4441229
    #   paper: hits [0, 1, 1] -> DCG@2 = 1/L3; ideal [1, 1] = 1 + 1/L3 -> 0.3868528
    #   recall 1/3, MRR 1/2, AP = (1/2) / 3 = 0.1666667
    # q2, top-2 [x, y]: nDCG = (1/L3) / 1 = 0.6309298 (paper the same); recall 1; MRR 1/2;
    #   AP = (1/2) / 1 = 0.5
    # q4: all 0.   Means over 3 queries:
    #   nDCG   (0.4441229 + 0.6309298 + 0) / 3 = 0.3583509
    #   paper  (0.3868528 + 0.6309298 + 0) / 3 = 0.3392609
    #   recall (1/3 + 1 + 0) / 3 = 0.4444444; MRR (0.5 + 0.5) / 3 = 0.3333333
    #   MAP    (0.1666667 + 0.5) / 3 = 0.2222222
    assert report == MetricsReport(
        k=2,
        ndcg=pytest.approx(0.3583508733),
        ndcg_paper=pytest.approx(0.3392608536),
        recall=pytest.approx(0.4444444444),
        mrr=pytest.approx(1 / 3),
        map=pytest.approx(0.2222222222),
        n_queries=3,
        n_skipped=1,
    )


def test_evaluate_run_as_dict_keys() -> None:
    run, qrels = _run_and_qrels()
    d = evaluate_run(run, qrels, k=2).as_dict()
    assert list(d) == [
        "ndcg@2",
        "ndcg_paper@2",
        "recall@2",
        "mrr@2",
        "map@2",
        "queries",
        "skipped_no_relevant",
    ]
    assert d["queries"] == 3
    assert d["skipped_no_relevant"] == 1
    assert d["ndcg@2"] == pytest.approx(0.3583508733)
    assert evaluate_run({"q2": ["y"]}, {"q2": {"y": 1}}).as_dict()["ndcg@20"] == 1.0


def test_evaluate_run_nothing_to_evaluate() -> None:
    with pytest.raises(ValueError, match="no query can be evaluated"):
        evaluate_run({"q1": ["a"]}, {"q1": {"a": 0}, "q9": {}})
    with pytest.raises(ValueError, match="positive integer"):
        evaluate_run({"q1": ["a"]}, {"q1": {"a": 1}}, k=0)


def test_evaluate_run_report_is_frozen() -> None:
    report = evaluate_run({"q": ["a"]}, {"q": {"a": 1}}, k=1)
    with pytest.raises(AttributeError):
        report.k = 5  # type: ignore[misc]


# --- cross-check against scikit-learn ---------------------------------------------------------


def test_graded_ndcg_matches_sklearn() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    n_docs, k = 60, 10
    ids = [f"c{i:03d}" for i in range(n_docs)]
    for _ in range(25):
        grades = rng.choice([0, 0, 0, 1, 2, 3], size=n_docs)
        grades[rng.integers(n_docs)] = 3  # at least one relevant item
        scores = rng.permutation(n_docs).astype(float)  # distinct: no tie handling differences
        judgments = {cid: int(g) for cid, g in zip(ids, grades, strict=True) if g > 0}
        ranked = rank_by_scores(ids, scores)
        expected = sklearn_metrics.ndcg_score(grades[None, :], scores[None, :], k=k)
        assert ndcg_at_k(ranked, judgments, k) == pytest.approx(expected)


def test_paper_ndcg_matches_rankpo_reference_computation() -> None:
    # The RankPO code calls ndcg_score(binary hits of the FAISS top-100, FAISS scores, k).
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(11)
    ids = [f"c{i:03d}" for i in range(300)]
    for _ in range(25):
        relevant = set(rng.choice(ids, size=int(rng.integers(1, 40)), replace=False))
        judgments = {cid: int(rng.integers(1, 4)) for cid in relevant}
        ranked = list(rng.permutation(ids))
        hits = np.array([[1 if cid in relevant else 0 for cid in ranked[:PAPER_POOL_SIZE]]])
        faiss_scores = np.linspace(1.0, 0.0, PAPER_POOL_SIZE)[None, :]  # sorted, distinct
        expected = sklearn_metrics.ndcg_score(hits, faiss_scores, k=20)
        assert ndcg_at_k(ranked, judgments, 20, mode="paper") == pytest.approx(expected)
