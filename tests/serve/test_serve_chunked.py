"""`jobmatch serve` on an index of passages: distinct candidates, the aggregate per request,
and a 422 naming the field when an index without passages is asked for one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from fastapi.testclient import TestClient

from jobmatch.index import BuildConfig, build_index, load_index
from jobmatch.index.passages import Chunking
from jobmatch.search import search, text_jobs
from jobmatch.serve import MatchService, ServeConfig, create_app
from jobmatch.testing import TINY_TEXT, make_candidates

TEXTS = ["senior nlp engineer berlin", "data scientist paris"]


def candidates(n: int = 30) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    words = TINY_TEXT.split()
    base = make_candidates(n)
    texts = [f"{t} " + " ".join(rng.choice(words, size=80)) for t in base["text"]]
    return base.with_columns(pl.Series("text", texts))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory, tiny_encoder) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("serve-chunked")
    chunking = Chunking("passages", tokens=24, overlap=4, aggregate="mean")
    build_index(candidates(), root / "chunked", tiny_encoder, BuildConfig(chunking=chunking))
    build_index(candidates(), root / "plain", tiny_encoder)
    return {"chunked": root / "chunked", "plain": root / "plain"}


def client(folder: Path, model: Path) -> TestClient:
    config = ServeConfig(str(folder), model=str(model), reload_interval=0)
    return TestClient(create_app(MatchService.load(config)))


def test_match_returns_distinct_candidates_with_each_aggregate(
    folders, tiny_model_dir: Path, tiny_encoder
) -> None:
    loaded = load_index(folders["chunked"])
    with client(folders["chunked"], tiny_model_dir) as http:
        summary = http.get("/index").json()
        assert summary["chunking"] == "passages" and summary["aggregate"] == "mean"
        assert summary["rows"] == 30 and summary["vectors"] == loaded.rows > 30
        for aggregate in (None, "first", "max", "mean", "first+max"):
            body = {"texts": TEXTS, "k": 6, "filters": ["country=Germany"]}
            if aggregate:
                body["aggregate"] = aggregate
            response = http.post("/match", json=body)
            assert response.status_code == 200, response.text
            expected = search(
                loaded, tiny_encoder, text_jobs(TEXTS), k=6, filters=["country=Germany"],
                aggregate=aggregate,
            )  # fmt: skip
            for result in response.json()["results"]:
                ids = [hit["candidate_id"] for hit in result["hits"]]
                assert len(ids) == len(set(ids)) == 6
                want = expected.filter(pl.col("job_id") == result["job_id"])
                assert ids == want["candidate_id"].to_list()


def test_aggregate_on_an_index_without_passages_is_422(folders, tiny_model_dir: Path) -> None:
    with client(folders["plain"], tiny_model_dir) as http:
        response = http.post("/match", json={"text": "nlp", "aggregate": "max"})
        assert response.status_code == 422
        (problem,) = response.json()["detail"]
        assert problem["loc"] == ["body", "aggregate"] and "--chunking passages" in problem["msg"]
        unknown = http.post("/match", json={"text": "nlp", "aggregate": "sum"})
        assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == [
            "body",
            "aggregate",
        ]
