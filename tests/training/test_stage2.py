"""Stage 2 end to end: judge -> train rankpo (plain, retention) -> evaluate --preferences."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from jobmatch import io, rules
from jobmatch.cli import main
from jobmatch.synth import write_corpus
from jobmatch.training.rankpo import _cycled
from jobmatch.training.stage2 import confident_pairs, split_preferences


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("stage2")
    paths = write_corpus(folder, n_candidates=300, n_jobs=12, seed=4)
    jobs = io.read_table(paths["jobs"], "jobs")
    candidates = io.read_table(paths["candidates"], "candidates")
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, rules.load_rules())))
    io.write_table(qrels, folder / "qrels.parquet")
    return {**paths, "qrels": folder / "qrels.parquet", "folder": folder}


def test_judge_train_rankpo_and_evaluate_alignment(corpus, tiny_model_dir: Path) -> None:
    runner = CliRunner()
    folder = corpus["folder"]
    prefs = folder / "preferences.parquet"
    judged = runner.invoke(
        main,
        [
            "judge",
            "--jobs",
            str(corpus["jobs"]),
            "--candidates",
            str(corpus["candidates"]),
            "--model",
            str(tiny_model_dir),
            "--judge",
            "synthetic",
            "--pairs-per-job",
            "8",
            "--out",
            str(prefs),
        ],
    )
    assert judged.exit_code == 0, judged.output
    assert io.read_table(prefs, "preferences").height == 12 * 8

    common = [
        "--preferences",
        str(prefs),
        "--jobs",
        str(corpus["jobs"]),
        "--candidates",
        str(corpus["candidates"]),
        "--model",
        str(tiny_model_dir),
        "--held-out",
        "3",
        "--batch-size",
        "8",
        "--no-progress",
    ]
    for name, extra in (
        ("plain", ["--retention-weight", "0"]),
        ("retention", ["--qrels", str(corpus["qrels"]), "--reference"]),
    ):
        out = folder / name
        result = runner.invoke(main, ["train", "rankpo", *common, *extra, "--out", str(out)])
        assert result.exit_code == 0, result.output
        history = json.loads((out / "training_history.json").read_text())
        logged = [entry for entry in history if "loss" in entry]
        assert logged and 0.0 <= logged[0]["rankpo_reward_accuracy"] <= 1.0
        evaluated = [entry for entry in history if "eval_heldout_alignment" in entry]
        assert evaluated, history
        if name == "retention":
            assert "eval_heldout_ndcg@20" in evaluated[-1]

    index = folder / "index"
    built = runner.invoke(
        main,
        [
            "index",
            "build",
            "--input",
            str(corpus["candidates"]),
            "--index",
            str(index),
            "--model",
            str(folder / "retention"),
        ],
    )
    assert built.exit_code == 0, built.output
    report = runner.invoke(
        main,
        [
            "evaluate",
            "--index",
            str(index),
            "--jobs",
            str(corpus["jobs"]),
            "--qrels",
            str(corpus["qrels"]),
            "--preferences",
            str(prefs),
            "--json",
        ],
    )
    assert report.exit_code == 0, report.output
    values = json.loads(report.stdout)[str(folder / "retention")]
    assert values["preference_pairs"] == 96 and 0.0 <= values["alignment"] <= 1.0


def test_retention_rows_cycle_to_the_preference_count() -> None:
    columns = {"anchor": ["a", "b"], "positive": ["p", "q"]}
    assert _cycled(columns, 5) == {
        "anchor": ["a", "b", "a", "b", "a"],
        "positive": ["p", "q", "p", "q", "p"],
    }


def test_confident_pairs_keeps_sure_and_unrated_rows() -> None:
    prefs = pl.DataFrame(
        {
            "job_id": ["j1", "j1", "j2", "j2"],
            "chosen": ["a", "b", "c", "d"],
            "rejected": ["e", "f", "g", "h"],
            "confidence": [0.5, 0.57, None, 0.9],
        }
    )
    assert confident_pairs(prefs, 0.55)["chosen"].to_list() == ["b", "c", "d"]
    assert confident_pairs(prefs, 0.0).equals(prefs)
    unrated = prefs.drop("confidence")
    assert confident_pairs(unrated, 0.9).equals(unrated)
    # held-out jobs keep every pair, ties included; training pairs are filtered
    train, held = split_preferences(prefs, pl.DataFrame({"job_id": ["j1"]}), min_confidence=0.55)
    assert train["chosen"].to_list() == ["c", "d"] and held["chosen"].to_list() == ["a", "b"]


def test_min_confidence_that_leaves_nothing_is_a_usage_error(corpus, tmp_path: Path) -> None:
    jobs = io.read_table(corpus["jobs"], "jobs")["job_id"].to_list()
    candidates = io.read_table(corpus["candidates"], "candidates")["candidate_id"].to_list()
    ties = tmp_path / "ties.parquet"
    pl.DataFrame(
        {
            "job_id": jobs,
            "chosen": candidates[: len(jobs)],
            "rejected": candidates[len(jobs) : 2 * len(jobs)],
            "confidence": [0.5] * len(jobs),
        }
    ).write_parquet(ties)
    args = _rankpo_args(corpus, ties, Path("unused-before-the-check"), tmp_path / "out")
    result = CliRunner().invoke(main, [*args, "--min-confidence", "0.55"])
    assert result.exit_code == 2
    assert "no preference pairs left" in result.output and "min confidence 0.55" in result.output
    assert not (tmp_path / "out").exists()


def test_holding_out_every_job_is_a_usage_error(corpus, tmp_path: Path) -> None:
    paths = [
        "--jobs", str(corpus["jobs"]), "--candidates", str(corpus["candidates"]),
        "--qrels", str(corpus["qrels"]),
    ]  # fmt: skip
    result = CliRunner().invoke(
        main, ["train", "contrastive", *paths, "--held-out", "12", "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2 and "--held-out" in result.output, result.output


@pytest.fixture(scope="module")
def judged(corpus) -> Path:
    """Preferences from the noise-free synthetic judge on seeded random pairs (no model)."""
    from jobmatch.training.judges import PairToJudge
    from jobmatch.training.judges.synthetic import SyntheticJudge

    jobs = io.read_table(corpus["jobs"], "jobs")
    candidates = io.read_table(corpus["candidates"], "candidates")
    ids = candidates["candidate_id"].to_list()
    pairs = [
        PairToJudge(
            job, "", ids[(7 * i + j) % len(ids)], "", ids[(11 * i + 3 * j + 1) % len(ids)], ""
        )
        for i, job in enumerate(jobs["job_id"].to_list())
        for j in range(8)
    ]
    answers = SyntheticJudge(jobs, candidates, noise=0.0).judge(pairs)
    rows = [
        (p.job_id, *((p.a_id, p.b_id) if a.preferred == "A" else (p.b_id, p.a_id)), a.confidence)
        for p, a in zip(pairs, answers, strict=True)
    ]
    path = corpus["folder"] / "judged.parquet"
    pl.DataFrame(
        rows, schema=["job_id", "chosen", "rejected", "confidence"], orient="row"
    ).write_parquet(path)
    return path


def _rankpo_args(corpus, prefs: Path, model: Path, out: Path) -> list[str]:
    return ["train", "rankpo", "--preferences", str(prefs), "--jobs", str(corpus["jobs"]),
            "--candidates", str(corpus["candidates"]), "--model", str(model), "--held-out", "3",
            "--batch-size", "8", "--no-progress", "--out", str(out)]  # fmt: skip


def test_retention_from_stage1_training_file(corpus, judged: Path, tiny_model_dir: Path) -> None:
    from jobmatch.training import data

    jobs = io.read_table(corpus["jobs"], "jobs")
    candidates = io.read_table(corpus["candidates"], "candidates")
    qrels = pl.read_parquet(corpus["qrels"])
    train = corpus["folder"] / "stage1-train.jsonl"
    data.write_training_jsonl(
        data.random_negatives(jobs, candidates, qrels, num=2), jobs, candidates, train
    )
    out = corpus["folder"] / "from-file"
    args = _rankpo_args(corpus, judged, tiny_model_dir, out)
    result = CliRunner().invoke(main, [*args, "--retention-train", str(train)])
    assert result.exit_code == 0, result.output
    # 9 training jobs x 8 pairs = 9 preference batches of 8, each followed by a retention batch
    assert "after 18 steps" in result.output

    empty = corpus["folder"] / "no-negatives.jsonl"
    empty.write_text(json.dumps({"query": "a job", "positives": ["a fit"], "negatives": []}) + "\n")
    result = CliRunner().invoke(
        main, [*_rankpo_args(corpus, judged, tiny_model_dir, out), "--retention-train", str(empty)]
    )
    assert result.exit_code == 2 and "no row has a negative to retain" in result.output
    assert str(empty) in result.output


def test_preference_retention_is_rankpo_with_the_rules_as_judge(tiny_encoder) -> None:
    import numpy as np
    import torch

    from jobmatch.training.config import FullConfig, HeadConfig
    from jobmatch.training.rankpo import retention_loss

    model = tiny_encoder.model
    texts = (["a senior ml engineer in Berlin", "a data scientist, remote"],
             ["ml engineer, Berlin, 8 years", "data scientist working remotely"],
             ["frontend developer", "junior analyst in Lyon"])  # fmt: skip
    config = HeadConfig(out=Path("x"), model="m", retention_weight=3.0, beta=2.0)
    assert config.retention_loss == "preference"
    loss = retention_loss(model, config)
    model.eval()
    with torch.no_grad():
        value = loss([model.tokenize(list(column)) for column in texts], None).item()
    query, positive, negative = (
        model.encode(list(c), convert_to_numpy=True, normalize_embeddings=True) for c in texts
    )
    gap = (query * positive).sum(1) - (query * negative).sum(1)
    # reference-free sigmoid RankPO: -log σ(β (s_pos - s_neg) / τ), weighted
    expected = 3.0 * np.mean(np.log1p(np.exp(-2.0 * gap / 0.1)))
    assert value == pytest.approx(expected, rel=1e-4)

    # the head's own retention loss on cached embeddings is the same objective
    from jobmatch.training.head import _retention_loss

    with torch.no_grad():
        flat = [text for column in texts for text in column]
        embeddings = model.encode(flat, convert_to_tensor=True, normalize_embeddings=True)
        rows = torch.arange(len(flat)).reshape(len(texts), 2).T  # [anchor, positive, negative]
        head_value = _retention_loss(torch.nn.Identity(), embeddings, rows, config).item()
    assert 3.0 * head_value == pytest.approx(value, rel=1e-4)

    full = FullConfig(out=Path("x"), model="m")
    assert full.retention_loss == "contrastive"
    with torch.no_grad():
        infonce = retention_loss(model, full)([model.tokenize(list(c)) for c in texts], None)
    assert infonce.item() != pytest.approx(value / 3.0)  # a different objective on the same rows
    with pytest.raises(ValueError, match="lr must be > 0"):
        FullConfig(out=Path("x"), model="m", lr=0.0)


def test_preference_retention_takes_one_negative_per_row(tiny_model_dir: Path) -> None:
    from jobmatch.training.config import HeadConfig
    from jobmatch.training.rankpo import train_rankpo

    two_negatives = {"anchor": ["q"], "positive": ["p"], "negative_1": ["n"], "negative_2": ["m"]}
    config = HeadConfig(out=Path("unused"), model=str(tiny_model_dir))
    prefs = {"query": ["q"], "chosen": ["c"], "rejected": ["r"]}
    with pytest.raises(ValueError, match="one positive and one negative"):
        train_rankpo(config, prefs, retention=two_negatives)


def test_linear_head_trains_on_frozen_stage1_embeddings(
    corpus, judged: Path, tiny_model_dir: Path
) -> None:
    import numpy as np
    from safetensors.torch import load_file
    from sentence_transformers import SentenceTransformer

    from jobmatch.metrics import alignment
    from jobmatch.training.stage2 import preference_texts

    out = corpus["folder"] / "linear-head"
    args = [*_rankpo_args(corpus, judged, tiny_model_dir, out), "--qrels", str(corpus["qrels"])]
    args += ["--mode", "head", "--lr", "1e-2", "--epochs", "20"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "heldout_alignment" in result.output and "heldout_ndcg@20" in result.output

    before = SentenceTransformer(str(tiny_model_dir), device="cpu")
    after = SentenceTransformer(str(out), device="cpu")
    assert [type(m).__name__ for m in after][-2:] == ["Dense", "Normalize"]
    # the encoder is frozen: every stage-1 weight is saved unchanged
    stage1 = load_file(tiny_model_dir / "model.safetensors")
    saved = load_file(out / "model.safetensors")
    assert stage1.keys() == saved.keys() and all(stage1[k].equal(saved[k]) for k in stage1)
    weight = after[len(after) - 2].linear.weight.detach().numpy()
    assert not np.allclose(weight, np.eye(weight.shape[0]))

    # it learnt the judge: agreement on its pairs (those of 9 of the 12 jobs trained it)
    texts = preference_texts(
        pl.read_parquet(judged),
        io.read_table(corpus["jobs"], "jobs"),
        io.read_table(corpus["candidates"], "candidates"),
    )

    def agreement(model) -> float:
        q, c, r = (model.encode(texts[k], normalize_embeddings=True) for k in
                   ("query", "chosen", "rejected"))  # fmt: skip
        return alignment((q * c).sum(1), (q * r).sum(1))

    assert agreement(after) > agreement(before) + 0.1


def test_each_mode_trains_with_its_own_defaults(corpus, judged: Path, tiny_model_dir: Path) -> None:
    base = _rankpo_args(corpus, judged, tiny_model_dir, corpus["folder"] / "head-defaults")
    at = base.index("--batch-size")
    base = [*base[:at], *base[at + 2 :]]
    rules = ["--qrels", str(corpus["qrels"])]

    def trained_with(*extra: str, qrels: bool = True) -> str:
        result = CliRunner().invoke(main, [*base, *(rules if qrels else []), *extra])
        assert result.exit_code == 0, result.output
        return next(line for line in result.output.splitlines() if line.startswith("RankPO on"))

    head = trained_with("--mode", "head")
    assert head.endswith(
        "a linear head: lr 0.001, 5 epochs, batch 64, preference retention weight 2"
    )
    given = trained_with("--mode", "head", "--lr", "0.01", "--retention-weight", "1")
    assert given.endswith("lr 0.01, 5 epochs, batch 64, preference retention weight 1")
    without_rules = trained_with("--mode", "head", qrels=False)
    assert without_rules.endswith("lr 0.001, 5 epochs, batch 64, no retention")
    full = trained_with("--epochs", "0.5")
    assert full.endswith(
        "the full model: lr 5e-05, 0.5 epochs, batch 16, contrastive retention weight 1"
    )
    # the experiment options the sweep retired are gone from the command line
    for retired in ("--linear-head", "--margin-weight", "--train-layers", "--label-smoothing",
                    "--retention-loss", "--loss"):  # fmt: skip
        result = CliRunner().invoke(main, [*base, retired, "1"])
        assert result.exit_code == 2 and f"No such option '{retired}'" in result.output


def test_linear_head_is_evaluated_every_epoch_on_the_model_it_saves(
    corpus, judged: Path, tiny_model_dir: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    from jobmatch.training.config import HeadConfig
    from jobmatch.training.evaluators import AlignmentEvaluator
    from jobmatch.training.rankpo import train_rankpo
    from jobmatch.training.stage2 import preference_texts

    texts = preference_texts(
        pl.read_parquet(judged),
        io.read_table(corpus["jobs"], "jobs"),
        io.read_table(corpus["candidates"], "candidates"),
    )
    evaluator = AlignmentEvaluator(texts["query"], texts["chosen"], texts["rejected"])
    out = corpus["folder"] / "head-evaluated"
    config = HeadConfig(
        out=out, model=str(tiny_model_dir), lr=1e-2, epochs=3, batch_size=8,
        retention_weight=0.0, progress=False,
    )  # fmt: skip
    result = train_rankpo(config, texts, evaluators=[evaluator])
    evaluated = [entry for entry in result.history if "eval_heldout_alignment" in entry]
    assert [entry["epoch"] for entry in evaluated] == [1.0, 2.0, 3.0]
    scores = [entry["eval_heldout_alignment"] for entry in evaluated]
    assert scores[-1] > evaluator(SentenceTransformer(str(tiny_model_dir)))["heldout_alignment"]
    # the last evaluation saw the very weights that were saved
    saved = evaluator(SentenceTransformer(str(out), device="cpu"))["heldout_alignment"]
    assert saved == pytest.approx(scores[-1])


def test_identity_head_keeps_stage1_embeddings(tiny_encoder) -> None:
    import numpy as np
    import torch

    from jobmatch.training.frozen import append_linear_head

    model = tiny_encoder.model
    texts = ["a senior ml engineer in Berlin", "speech recognition researcher"]
    plain = model.encode(texts, normalize_embeddings=True)
    append_linear_head(model, torch.eye(plain.shape[1]))
    assert np.allclose(model.encode(texts), plain, atol=1e-6)
