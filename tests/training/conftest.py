"""A small labelled synthetic corpus shared by the stage-1 training tests."""

from __future__ import annotations

import polars as pl
import pytest

from jobmatch import io, rules
from jobmatch.synth import write_corpus


@pytest.fixture(scope="session")
def labelled(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("labelled")
    paths = write_corpus(folder, n_candidates=600, n_jobs=24, seed=2)
    jobs = io.read_table(paths["jobs"], "jobs")
    candidates = io.read_table(paths["candidates"], "candidates")
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, rules.load_rules())))
    io.write_table(qrels, folder / "qrels.parquet")
    paths["qrels"] = folder / "qrels.parquet"
    return paths, jobs, candidates, qrels
