"""Lexical baselines on the same texts the model sees: BM25 via bm25s."""

from __future__ import annotations

from collections.abc import Sequence

from jobmatch.metrics import Run


def bm25_run(
    corpus_ids: Sequence[str],
    corpus_texts: Sequence[str],
    query_ids: Sequence[str],
    query_texts: Sequence[str],
    *,
    k: int,
) -> Run:
    """Top-k candidate ids per query under BM25 (Lucene variant, English stopwords)."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(list(corpus_texts), show_progress=False), show_progress=False)
    tokens = bm25s.tokenize(list(query_texts), show_progress=False)
    depth = min(k, len(corpus_ids))
    rows, _scores = retriever.retrieve(tokens, k=depth, show_progress=False, n_threads=1)
    ids = list(corpus_ids)
    return {qid: [ids[r] for r in ranked] for qid, ranked in zip(query_ids, rows, strict=True)}
