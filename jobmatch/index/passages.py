"""Long documents as passages: split texts in the model's own tokens, map passages to candidates.

A chunked index holds one FAISS row per passage and one metadata row per candidate;
`passages.parquet` maps FAISS row i to its candidate's metadata row (`candidate_row`) and its
position in the candidate's text (`passage`, 0 = the opening). A candidate's passages are
consecutive rows in text order, so the map is sorted and every candidate has at least one.

Passages are cut in the index model's tokens: `tokens` counts what the model sees, special
tokens ([CLS], [SEP]) included, so a passage is never truncated by the encoder, and
consecutive passages share `overlap` tokens. Cuts fall on word starts (a word is never split
between passages), which can shorten a passage or lengthen an overlap by part of a word;
a passage is then the exact substring of the text, so re-tokenising it gives the same tokens.
A text that fits one passage is kept whole, so chunking changes nothing for short texts.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from jobmatch.errors import IndexStoreError
from jobmatch.index.aggregate import AGGREGATES, Aggregate

if TYPE_CHECKING:
    import polars as pl

ChunkingMode = Literal["none", "passages"]
CHUNKING_MODES: tuple[ChunkingMode, ...] = get_args(ChunkingMode)

CANDIDATE_ROW = "candidate_row"
"""passages.parquet: the metadata row (candidate) of each FAISS row."""
PASSAGE = "passage"
"""passages.parquet: the passage's position in its candidate's text, 0 = the opening."""
PASSAGE_COUNT = "passage_count"
"""Embedding-store parts of a chunked build: passages per candidate row (the embedding column
then holds a list of vectors per row)."""
DEFAULT_OVERLAP = 32
DEFAULT_AGGREGATE: Aggregate = "first+max"
"""The one aggregate that beat truncation beyond noise on long resumes and never lost on short
ones (benchmarks/long_documents.py); `max` alone lost on the real corpus."""
MIN_CONTENT_TOKENS = 8
"""Shortest passage (special tokens excluded) worth a vector."""


@dataclass(frozen=True)
class Chunking:
    """How candidate texts become vectors; the manifest and the embedding store record it.

    `tokens` None means the model's max_seq_length; `resolve` fills it in against a model.
    """

    mode: ChunkingMode = "none"
    tokens: int | None = None
    """Tokens per passage as the model sees them, special tokens included."""
    overlap: int = DEFAULT_OVERLAP
    """Tokens shared by consecutive passages."""
    aggregate: Aggregate = DEFAULT_AGGREGATE
    """How queries score a candidate from its passages unless told otherwise."""

    def __post_init__(self) -> None:
        if self.mode not in CHUNKING_MODES:
            modes = ", ".join(CHUNKING_MODES)
            raise ValueError(f"chunking must be one of {modes}, got {self.mode!r}")
        if self.aggregate not in AGGREGATES:
            raise ValueError(
                f"aggregate must be one of {', '.join(AGGREGATES)}, got {self.aggregate!r}"
            )
        if self.tokens is not None and self.tokens < 1:
            raise ValueError(f"chunk tokens must be at least 1, got {self.tokens}")
        if self.overlap < 0:
            raise ValueError(f"chunk overlap must be >= 0, got {self.overlap}")

    @property
    def chunked(self) -> bool:
        return self.mode == "passages"

    def resolve(self, tokenizer: Any, max_seq_length: int | None) -> Chunking:
        """This chunking with `tokens` set, checked against the model's tokenizer and length.

        Raises:
            IndexStoreError: a passage longer than the model reads, too short to hold
                `MIN_CONTENT_TOKENS`, or an overlap of half a passage or more.
        """
        if not self.chunked:
            return self
        if tokenizer is None or not getattr(tokenizer, "is_fast", False):
            raise IndexStoreError("--chunking passages needs a model with a fast (Rust) tokenizer")
        limit = max_seq_length or getattr(tokenizer, "model_max_length", None) or 512
        tokens = self.tokens if self.tokens is not None else limit
        specials = tokenizer.num_special_tokens_to_add(pair=False)
        content = tokens - specials
        if tokens > limit:
            raise IndexStoreError(
                f"--chunk-tokens {tokens} exceeds the model's max_seq_length {limit}: the encoder "
                f"would truncate every passage (use at most {limit})"
            )
        if content < MIN_CONTENT_TOKENS:
            raise IndexStoreError(
                f"--chunk-tokens {tokens} leaves {content} tokens of text per passage after the "
                f"model's {specials} special tokens (use at least {MIN_CONTENT_TOKENS + specials})"
            )
        if 2 * self.overlap > content:
            raise IndexStoreError(
                f"--chunk-overlap {self.overlap} must be at most half of a passage's "
                f"{content} text tokens ({content // 2})"
            )
        return Chunking(self.mode, tokens, self.overlap, self.aggregate)

    def fields(self) -> dict[str, Any]:
        """What the manifest and the store record: chunking, chunk_tokens, chunk_overlap."""
        if not self.chunked:
            return {"chunking": "none", "chunk_tokens": None, "chunk_overlap": None}
        return {"chunking": self.mode, "chunk_tokens": self.tokens, "chunk_overlap": self.overlap}


@dataclass(frozen=True)
class Passages:
    """The passage texts of some candidate texts, in order, and how many each text gave."""

    texts: list[str]
    counts: np.ndarray
    """int32, one entry per input text, each >= 1."""


def split_texts(texts: Sequence[str], tokenizer: Any, chunking: Chunking) -> Passages:
    """Cut each text into passages of at most `chunking.tokens` model tokens (see module)."""
    if chunking.tokens is None:
        raise ValueError("resolve the chunking against the model first")
    content = chunking.tokens - tokenizer.num_special_tokens_to_add(pair=False)
    out: list[str] = []
    counts = np.zeros(len(texts), dtype=np.int32)
    if not texts:
        return Passages(out, counts)
    encoded = tokenizer(
        list(texts),
        add_special_tokens=False,
        truncation=False,
        return_offsets_mapping=True,
        return_attention_mask=False,
        return_token_type_ids=False,
        verbose=False,
    )
    for i, text in enumerate(texts):
        offsets = encoded["offset_mapping"][i]
        if len(offsets) <= content:
            out.append(text)
            counts[i] = 1
            continue
        words = encoded.word_ids(i)
        starts = token_windows(word_starts(words), content, chunking.overlap)
        for start, end in starts:
            out.append(text[offsets[start][0] : offsets[end - 1][1]])
        counts[i] = len(starts)
    return Passages(out, counts)


def word_starts(word_ids: Sequence[int | None]) -> np.ndarray:
    """True at each token that begins a word (the tokenizer's pre-tokenised words)."""
    ids = np.array([-1 if w is None else w for w in word_ids], dtype=np.int64)
    starts = np.ones(len(ids), dtype=bool)
    starts[1:] = ids[1:] != ids[:-1]
    return starts


def token_windows(starts: np.ndarray, content: int, overlap: int) -> list[tuple[int, int]]:
    """[start, end) token windows of at most `content` tokens covering every token.

    Windows begin and end at word starts, and consecutive windows share at least `overlap`
    tokens, except where words are too long for both (then the overlap is smaller; a single
    word longer than a window is cut inside, as it cannot be kept whole).
    """
    n = len(starts)
    words = np.flatnonzero(starts)
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        end = min(start + content, n)
        if end < n:
            last = _last_word_start(words, start, end)
            end = end if last is None else last
        windows.append((start, end))
        if end >= n:
            return windows
        wanted = end - overlap
        before = _last_word_start(words, start, wanted)
        after = np.searchsorted(words, wanted, side="right")
        if before is not None:
            start = before
        elif after < len(words) and words[after] <= end:
            start = int(words[after])
        else:
            start = max(wanted, start + 1)


def _last_word_start(words: np.ndarray, after: int, at_most: int) -> int | None:
    """The last word start in (after, at_most], or None."""
    i = int(np.searchsorted(words, at_most, side="right")) - 1
    return int(words[i]) if i >= 0 and words[i] > after else None


def encode_passages(
    encoder: Any, texts: Sequence[str], chunking: Chunking, *, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """(passage vectors [sum(counts), d], counts per text) for candidate texts."""
    passages = split_texts(texts, encoder.model.tokenizer, chunking)
    return encoder.encode(passages.texts, batch_size=batch_size), passages.counts


def resolve_for(encoder: Any, chunking: Chunking) -> Chunking:
    """`chunking` resolved against an encoder's model (tokenizer and max_seq_length)."""
    if not chunking.chunked:
        return chunking
    return chunking.resolve(encoder.model.tokenizer, encoder.model.max_seq_length)


# --------------------------------------------------------------------------- the passage map


@dataclass(frozen=True)
class PassageMap:
    """FAISS row -> candidate (metadata row) and passage position; sorted by candidate."""

    owners: np.ndarray
    """int64 [rows]: the candidate row of each FAISS row."""
    positions: np.ndarray
    """int32 [rows]: 0 for a candidate's first passage, 1 for the next, ..."""

    @classmethod
    def from_counts(cls, counts: np.ndarray, *, first_candidate: int = 0) -> PassageMap:
        """The map of candidates `first_candidate`, `first_candidate + 1`, ... with `counts`
        passages each."""
        counts = np.asarray(counts, dtype=np.int64)
        owners = np.repeat(np.arange(len(counts), dtype=np.int64) + first_candidate, counts)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        positions = np.arange(len(owners), dtype=np.int64) - np.repeat(bounds[:-1], counts)
        return cls(owners, positions.astype(np.int32))

    @property
    def rows(self) -> int:
        return len(self.owners)

    @property
    def candidates(self) -> int:
        """Candidates mapped (every candidate has a passage and the map is sorted)."""
        return int(self.owners[-1]) + 1 if self.rows else 0

    def counts(self, candidates: int | None = None) -> np.ndarray:
        """Passages per candidate row."""
        minlength = self.candidates if candidates is None else candidates
        return np.bincount(self.owners, minlength=minlength).astype(np.int64)

    @functools.cached_property
    def bounds(self) -> np.ndarray:
        """First FAISS row of each candidate plus the total: rows of c = bounds[c]..bounds[c+1]."""
        return np.concatenate([[0], np.cumsum(self.counts())]).astype(np.int64)

    @functools.cached_property
    def first(self) -> np.ndarray:
        """Boolean [rows]: True at each candidate's first passage."""
        return self.positions == 0

    def expand(self, candidate_mask: np.ndarray) -> np.ndarray:
        """A mask over candidates (metadata rows) as a mask over their passages (FAISS rows)."""
        return np.asarray(candidate_mask, dtype=bool)[self.owners]

    def problems(self, candidates: int) -> list[str]:
        """What is wrong with this map for an index of `candidates` metadata rows."""
        if self.rows == 0:
            return ["passage map is empty"] if candidates else []
        if self.owners.min() < 0 or self.owners.max() >= candidates:
            return [f"passage map names candidate rows outside 0..{candidates - 1}"]
        if np.any(np.diff(self.owners) < 0):
            return ["passage map is not sorted by candidate"]
        expected = PassageMap.from_counts(self.counts(candidates))
        if np.any(self.counts(candidates) == 0):
            return ["passage map has candidates without passages"]
        if not np.array_equal(expected.positions, self.positions):
            return ["passage positions do not run 0, 1, ... within each candidate"]
        return []

    def to_frame(self) -> pl.DataFrame:
        import polars as pl

        return pl.DataFrame(
            {CANDIDATE_ROW: self.owners, PASSAGE: self.positions},
            schema={CANDIDATE_ROW: pl.Int64, PASSAGE: pl.Int32},
        )


def read_passage_map(path: Path) -> PassageMap:
    """passages.parquet of an index folder."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=[CANDIDATE_ROW, PASSAGE])
    except (OSError, KeyError, ValueError) as exc:
        raise IndexStoreError(f"{path}: unreadable passage map ({exc})") from exc
    owners = table.column(CANDIDATE_ROW).to_numpy().astype(np.int64, copy=False)
    positions = table.column(PASSAGE).to_numpy().astype(np.int32, copy=False)
    return PassageMap(owners, positions)


def keep_candidates(pmap: PassageMap, keep: np.ndarray) -> tuple[np.ndarray, PassageMap]:
    """(FAISS rows kept, the map renumbered) when only candidates with `keep` stay."""
    keep = np.asarray(keep, dtype=bool)
    kept_rows = np.flatnonzero(keep[pmap.owners]).astype(np.int64)
    renumber = np.cumsum(keep) - 1
    return kept_rows, PassageMap(renumber[pmap.owners[kept_rows]], pmap.positions[kept_rows])


def concat_maps(first: PassageMap, second: PassageMap) -> PassageMap:
    return PassageMap(
        np.concatenate([first.owners, second.owners]),
        np.concatenate([first.positions, second.positions]),
    )
