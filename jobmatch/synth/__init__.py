"""Seeded synthetic corpus: jobs and candidates whose structured fields live in free text.

The rules read the structured columns (location, seniority, areas); the model only ever sees
`text`, so every field is written into the text in varied, paraphrased form, next to
distractors (a past city, conferences, hobbies) that a model must learn to ignore. Hidden
columns (prefix `schema.HIDDEN_PREFIX`) hold what only the text reveals, such as the exact
methods a candidate has used, and later drive a simulated preference judge.

Structured fields are sampled with vectorised numpy per block of `BLOCK_ROWS` rows; the
random generator of a block is seeded from (seed, stream, block index), so output is
deterministic, a shorter corpus is a prefix of a longer one, and memory stays bounded.

`style="long"` (`jobmatch synth --long`) words the same structured fields as long résumés of
1,000-2,000 model tokens with the graded facts spread through the text (`long_text.py`);
jobs are the same in both styles.

Example:
    >>> jobs = generate_jobs(100, seed=0)
    >>> paths = write_corpus("data/synth", n_candidates=100_000, n_jobs=1_000, seed=0)
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from jobmatch.synth.areas import AREAS
from jobmatch.synth.fields import (
    AREA_SLUGS,
    BLOCK_ROWS,
    CANDIDATE_SCHEMA,
    CANDIDATE_STREAM,
    HIDDEN_IMPACT,
    HIDDEN_METHODS,
    HIDDEN_MUST_HAVE,
    HIDDEN_NICE_TO_HAVE,
    JOB_SCHEMA,
    JOB_STREAM,
    LOCATION_NAMES,
    MAX_CANDIDATE_METHODS,
    STRING_LIST,
    CandidateFields,
    JobFields,
    check_count,
    field_batches,
    job_facts,
    person_facts,
    sample_candidates,
    sample_jobs,
)
from jobmatch.synth.long_text import long_candidate_text
from jobmatch.synth.text import CANDIDATE_TEMPLATES, JOB_TEMPLATES, candidate_text, job_text
from jobmatch.synth.vocab import LOCATIONS, SENIORITY_TITLES

CandidateStyle = Literal["short", "long"]
"""short: a paragraph of about 60-200 tokens; long: a résumé of 1,000-2,000 tokens."""
CANDIDATE_STYLES: tuple[CandidateStyle, ...] = get_args(CandidateStyle)
_TEXTS: dict[str, Callable[[Any, random.Random], str]] = {
    "short": candidate_text,
    "long": long_candidate_text,
}

__all__ = [
    "AREAS",
    "BLOCK_ROWS",
    "CANDIDATE_SCHEMA",
    "CANDIDATE_STYLES",
    "CANDIDATE_TEMPLATES",
    "HIDDEN_IMPACT",
    "HIDDEN_METHODS",
    "HIDDEN_MUST_HAVE",
    "HIDDEN_NICE_TO_HAVE",
    "JOB_SCHEMA",
    "JOB_TEMPLATES",
    "LOCATIONS",
    "MAX_CANDIDATE_METHODS",
    "SENIORITY_TITLES",
    "CandidateStyle",
    "generate_candidates",
    "generate_jobs",
    "iter_candidate_batches",
    "write_corpus",
]


# ---------------------------------------------------------------- public API


def iter_candidate_batches(
    n: int, *, seed: int, style: CandidateStyle = "short"
) -> Iterator[pa.RecordBatch]:
    """Yield `n` candidates in blocks of `BLOCK_ROWS` rows, so memory stays bounded for any n.

    Block b depends only on (seed, b): the first m rows of any corpus are the same rows.
    Both styles share the structured fields of a seed. Arguments are checked at once, not
    when the first batch is asked for.
    """
    check_count("n", n)
    check_count("seed", seed)
    if style not in CANDIDATE_STYLES:
        raise ValueError(f"style must be one of {', '.join(CANDIDATE_STYLES)}, got {style!r}")
    build = functools.partial(_candidate_batch, text=_TEXTS[style])
    return field_batches(n, seed, CANDIDATE_STREAM, sample_candidates, build)


def generate_candidates(n: int, *, seed: int, style: CandidateStyle = "short") -> pa.Table:
    """All `n` candidates as one table: the concatenation of `iter_candidate_batches`."""
    batches = iter_candidate_batches(n, seed=seed, style=style)
    return pa.Table.from_batches(list(batches), CANDIDATE_SCHEMA)


def generate_jobs(n: int, *, seed: int) -> pa.Table:
    """`n` job descriptions; same seed, same table (jobs use their own random stream)."""
    check_count("n", n)
    check_count("seed", seed)
    batches = field_batches(n, seed, JOB_STREAM, sample_jobs, _job_batch)
    return pa.Table.from_batches(list(batches), JOB_SCHEMA)


def write_corpus(
    out_dir: str | Path,
    *,
    n_candidates: int,
    n_jobs: int,
    seed: int,
    style: CandidateStyle = "short",
    progress: bool = False,
) -> dict[str, Path]:
    """Write candidates.parquet and jobs.parquet into `out_dir` (created if missing).

    Candidates are streamed block by block. Each file is written under a temporary sibling
    name, fsynced and renamed only when both are complete, so a crash never leaves a
    half-written corpus behind.
    """
    check_count("n_candidates", n_candidates)
    check_count("n_jobs", n_jobs)
    check_count("seed", seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"candidates": out / "candidates.parquet", "jobs": out / "jobs.parquet"}
    temps = {kind: out / f".{path.name}.{os.getpid()}.tmp" for kind, path in paths.items()}
    try:
        with _progress_bar(n_candidates, enabled=progress) as bar:
            batches = iter_candidate_batches(n_candidates, seed=seed, style=style)
            _write_parquet(temps["candidates"], CANDIDATE_SCHEMA, batches, on_batch=bar)
        jobs = generate_jobs(n_jobs, seed=seed)
        _write_parquet(temps["jobs"], JOB_SCHEMA, jobs.to_batches())
        for kind, path in paths.items():
            os.replace(temps[kind], path)
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
    return paths


# ---------------------------------------------------------------- Arrow assembly


def _string_lists(index_rows: np.ndarray, names: np.ndarray) -> pa.ListArray:
    """A list<string> column from a -1 padded index matrix, without a Python loop."""
    mask = index_rows >= 0
    offsets = np.zeros(len(index_rows) + 1, dtype=np.int32)
    np.cumsum(mask.sum(axis=1), out=offsets[1:])
    values = pa.array(names[index_rows[mask]], type=pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _candidate_batch(
    fields: CandidateFields,
    start: int,
    rows: int,
    *,
    text: Callable[[Any, random.Random], str] = candidate_text,
) -> pa.RecordBatch:
    r = random.Random(fields.text_seed)
    texts, methods = [], []
    columns = zip(
        fields.city[:rows].tolist(),
        fields.level[:rows].tolist(),
        fields.years[:rows].tolist(),
        fields.areas[:rows].tolist(),
        fields.method_counts[:rows].tolist(),
        fields.extra_area[:rows].tolist(),
        fields.learning_area[:rows].tolist(),
        fields.impact[:rows].tolist(),
        fields.past_city[:rows].tolist(),
        strict=True,
    )
    for city, level, years, areas, counts, extra, learning, impact, past in columns:
        person = person_facts(r, city, level, years, areas, counts, extra, learning, impact, past)
        texts.append(text(person, r))
        methods.append([m for area_methods in person.methods for m in area_methods])
    arrays = [
        pa.array([f"c{i:07d}" for i in range(start + 1, start + rows + 1)], pa.string()),
        pa.array(texts, pa.string()),
        pa.array(LOCATION_NAMES[fields.city[:rows]], pa.string()),
        pa.array(fields.level[:rows], pa.int8()),
        _string_lists(fields.areas[:rows], AREA_SLUGS),
        pa.array(fields.years[:rows], pa.float32()),
        pa.array(methods, STRING_LIST),
        pa.array(fields.impact[:rows], pa.int8()),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=CANDIDATE_SCHEMA)


def _job_batch(fields: JobFields, start: int, rows: int) -> pa.RecordBatch:
    r = random.Random(fields.text_seed)
    texts, musts, nices = [], [], []
    columns = zip(
        fields.city[:rows].tolist(),
        fields.remote[:rows].tolist(),
        fields.level[:rows].tolist(),
        fields.areas[:rows].tolist(),
        fields.must_count[:rows].tolist(),
        fields.nice_count[:rows].tolist(),
        fields.other_city[:rows].tolist(),
        strict=True,
    )
    for city, remote, level, areas, n_must, n_nice, other in columns:
        job = job_facts(r, city, remote, level, areas, n_must, n_nice, other)
        texts.append(job_text(job, r))
        musts.append(job.must)
        nices.append(job.nice)
    arrays = [
        pa.array([f"j{i:05d}" for i in range(start + 1, start + rows + 1)], pa.string()),
        pa.array(texts, pa.string()),
        pa.array(LOCATION_NAMES[fields.city[:rows]], pa.string()),
        pa.array(fields.level[:rows], pa.int8()),
        _string_lists(fields.areas[:rows], AREA_SLUGS),
        pa.array(fields.remote[:rows], pa.bool_()),
        pa.array(musts, STRING_LIST),
        pa.array(nices, STRING_LIST),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=JOB_SCHEMA)


# ---------------------------------------------------------------- writing


def _write_parquet(
    path: Path,
    schema_: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    on_batch: Any = None,
) -> None:
    """Stream batches into one Parquet file and fsync it before it is renamed into place."""
    with pq.ParquetWriter(path, schema_, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)
            if on_batch is not None:
                on_batch.update(batch.num_rows)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _progress_bar(total: int, *, enabled: bool) -> contextlib.AbstractContextManager[Any]:
    """A tqdm bar over candidate rows, or nothing; tqdm is imported only when asked for."""
    if not enabled:
        return contextlib.nullcontext()
    from tqdm import tqdm

    return tqdm(total=total, unit="rows", desc="candidates")
