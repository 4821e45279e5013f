"""Lexical baselines on the same texts the model sees: BM25 via bm25s."""

from __future__ import annotations

from collections.abc import Sequence

from jobmatch.metrics import Run

TOKEN_PATTERN = r"(?u)\b\w\w+\b|\b[\uac00-\ud7a3]\b"
"""bm25s' default (words of two or more letters or digits, any script), plus Korean words of
one Hangul syllable: 웹 (web), 앱 (app) and 팀 (team) are whole words, not noise like "a".
Words are split at spaces only, so a Korean noun with a particle attached (서울에서, "in
Seoul") is another token than the bare noun (서울); matching those needs a morphological
analyser, which this baseline does without."""


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

    def tokenize(texts: Sequence[str]):
        return bm25s.tokenize(list(texts), token_pattern=TOKEN_PATTERN, show_progress=False)

    retriever = bm25s.BM25()
    retriever.index(tokenize(corpus_texts), show_progress=False)
    tokens = tokenize(query_texts)
    depth = min(k, len(corpus_ids))
    rows, _scores = retriever.retrieve(tokens, k=depth, show_progress=False, n_threads=1)
    ids = list(corpus_ids)
    return {qid: [ids[r] for r in ranked] for qid, ranked in zip(query_ids, rows, strict=True)}
