"""`LLMJudge`: any OpenAI-compatible chat-completions endpoint as a preference judge.

Every pair is asked twice, as (A, B) and as (B, A), because LLM judges favour a position;
a pair whose two answers disagree is dropped rather than trusted. Answers are cached in a
JSONL file keyed by (model, prompt), so an interrupted run resumes without paying twice.
Only the standard library is used (urllib + a thread pool), so the judge adds no dependency.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import IO, Any

from jobmatch.training.judges import Judgement, PairToJudge, Preferred

SYSTEM_PROMPT = (
    "You are an experienced technical recruiter. You compare two candidates for one job and "
    "decide which of them fits the job better, judging only from the texts you are given."
)
USER_TEMPLATE = """Job description:
{job}

Passage A:
{a}

Passage B:
{b}

Compare how well candidate A and candidate B fit this job in 2-3 sentences. Then end your \
answer with exactly these two lines, nothing after them:
Preferred: <A or B>
Confidence score: <an integer from 0 to 100>"""

# Same reply shapes as jobmatch.io.importers accepts: "Preferred: B", "**Preferred:** a",
# "Confidence score: 65"; the last match in a reply wins.
_PREFERRED = re.compile(
    r"\bpreferred(?:\s+passage)?[\s*_]*:[\s*_]*(?:passage\s*)?([AB])\b", re.IGNORECASE
)
_CONFIDENCE = re.compile(r"\bconfidence(?:\s+score)?[\s*_]*:[\s*_]*(\d+(?:\.\d+)?)", re.IGNORECASE)
MAX_CONFIDENCE = 100.0
MAX_RETRY_DELAY = 30.0  # seconds; also caps a server's Retry-After
STAT_KEYS = ("asked", "cached", "malformed", "inconsistent", "retried", "failed")
_SWAP: dict[Preferred, Preferred] = {"A": "B", "B": "A"}


def user_message(job: str, a: str, b: str) -> str:
    """The user turn asking to compare passage `a` (shown as A) with `b` (shown as B)."""
    return USER_TEMPLATE.format(job=job, a=a, b=b)


def parse_reply(text: str) -> tuple[Preferred | None, float | None]:
    """The last "Preferred: A|B" and "Confidence score: N" of a reply.

    Returns (None, ...) when no Preferred line is found; the confidence is on the 0..100
    scale, and None when missing or outside 0..100.
    """
    found = _PREFERRED.findall(text)
    preferred: Preferred | None = found[-1].upper() if found else None
    scores = _CONFIDENCE.findall(text)
    confidence = float(scores[-1]) if scores else None
    if confidence is not None and not 0.0 <= confidence <= MAX_CONFIDENCE:
        confidence = None
    return preferred, confidence


def cache_key(model: str, system: str, user: str) -> str:
    """SHA-256 of (model, system, user): the same question to the same model is asked once."""
    payload = json.dumps([model, system, user], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def retry_delay(attempt: int, retry_after: str | None, backoff: float) -> float:
    """Seconds to wait before retry `attempt` (0-based): Retry-After if numeric, else backoff·2^n.

    Both are capped at MAX_RETRY_DELAY so one misbehaving server cannot stall a run.
    """
    if retry_after is not None:
        try:
            seconds = float(retry_after.strip())
        except ValueError:  # an HTTP-date: fall back to our own schedule
            seconds = -1.0
        if seconds >= 0.0:
            return min(seconds, MAX_RETRY_DELAY)
    return min(backoff * 2.0**attempt, MAX_RETRY_DELAY)


class _Retryable(Exception):
    """A transient failure (429, 5xx, connection error, timeout) worth another attempt."""

    def __init__(self, reason: str, retry_after: str | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Fatal(Exception):
    """A failure that another attempt would repeat (4xx other than 429, a non-chat reply)."""


class LLMJudge:
    """Ask an OpenAI-compatible `/chat/completions` endpoint which candidate fits a job better.

    Each pair is asked in both orders; the two answers are mapped back to the original A/B and
    a pair is kept only when they agree, with confidence = mean of the two confidences / 100
    (or the one given). Requests run on `concurrency` threads and are retried with exponential
    backoff on HTTP 429, 5xx, connection errors and timeouts.

    `stats` counts, over the judge's lifetime: `asked` HTTP requests sent (retries included),
    `cached` answers taken from the cache, `malformed` replies without a Preferred line,
    `inconsistent` pairs whose two orders disagree, `retried` retries, and `failed` requests
    given up on (4xx other than 429, or still failing after `max_retries` retries). A pair
    touched by a malformed reply or a failed request is judged None.

    Args:
        endpoint: base URL such as `http://127.0.0.1:8000/v1`; `/chat/completions` is appended.
        model: model name sent with every request (part of the cache key).
        api_key_env: environment variable holding the API key; sent as a Bearer token only
            when set. The key is never logged, cached or put in an error message.
        cache: JSONL file of answered requests, read at start and appended to as answers come.
        concurrency: maximum number of requests in flight.
        max_retries: retries per request after the first attempt.
        timeout: seconds per HTTP request.
        backoff: first retry delay in seconds, doubled on every further retry.

    Example:
        judge = LLMJudge("http://127.0.0.1:8000/v1", "qwen2.5-7b", cache=Path("judge.jsonl"))
        judgements = judge.judge(pairs)
    """

    name = "llm"

    def __init__(
        self,
        endpoint: str,
        model: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        cache: Path | None = None,
        concurrency: int = 4,
        max_retries: int = 5,
        timeout: float = 60.0,
        backoff: float = 1.0,
    ) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"endpoint must start with http:// or https://, got {endpoint!r}")
        if not model:
            raise ValueError("model must be a non-empty model name")
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        if not backoff >= 0:
            raise ValueError(f"backoff must be >= 0 seconds, got {backoff}")
        self.url = endpoint.rstrip("/") + "/chat/completions"
        self.model = model
        self.cache = Path(cache) if cache is not None else None
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout = timeout
        self.backoff = backoff
        self.stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)
        self.last_error: str | None = None  # e.g. "HTTP 401 Unauthorized"; never holds the key
        self._api_key = os.environ.get(api_key_env) or None
        self._opener = urllib.request.build_opener()
        self._lock = threading.Lock()
        self._answers: dict[str, str] = self._read_cache()

    def __repr__(self) -> str:
        return f"LLMJudge({self.url!r}, {self.model!r}, cache={self.cache!r})"

    # ------------------------------------------------------------------ public

    def judge(self, pairs: Sequence[PairToJudge]) -> list[Judgement | None]:
        """One Judgement per pair, or None when the pair was dropped (see class docstring)."""
        # Each pair needs two questions; identical questions (repeated pairs) are asked once.
        questions: dict[str, str] = {}
        keys: list[tuple[str, str]] = []
        for pair in pairs:
            forward = user_message(pair.job_text, pair.a_text, pair.b_text)
            backward = user_message(pair.job_text, pair.b_text, pair.a_text)
            key_f = cache_key(self.model, SYSTEM_PROMPT, forward)
            key_b = cache_key(self.model, SYSTEM_PROMPT, backward)
            questions.setdefault(key_f, forward)
            questions.setdefault(key_b, backward)
            keys.append((key_f, key_b))

        replies: dict[str, str | None] = {}
        to_ask: dict[str, str] = {}
        for key, question in questions.items():
            if key in self._answers:
                replies[key] = self._answers[key]
                self._count("cached")
            else:
                to_ask[key] = question
        if to_ask:
            with self._open_cache() as cache_file, ThreadPoolExecutor(self.concurrency) as pool:
                futures = {
                    key: pool.submit(self._ask, key, question, cache_file)
                    for key, question in to_ask.items()
                }
                replies.update({key: future.result() for key, future in futures.items()})

        parsed = {
            key: parse_reply(text) if text is not None else None for key, text in replies.items()
        }
        for result in parsed.values():
            if result is not None and result[0] is None:
                self._count("malformed")
        return [self._combine(parsed[key_f], parsed[key_b]) for key_f, key_b in keys]

    # ------------------------------------------------------------------ combining

    def _combine(
        self,
        forward: tuple[Preferred | None, float | None] | None,
        backward: tuple[Preferred | None, float | None] | None,
    ) -> Judgement | None:
        """Merge the (A, B) and (B, A) answers into one Judgement about the original A/B."""
        if forward is None or backward is None or forward[0] is None or backward[0] is None:
            return None  # a failed request or a malformed reply, already counted
        preferred = forward[0]
        if _SWAP[backward[0]] != preferred:
            self._count("inconsistent")
            return None
        scores = [score for score in (forward[1], backward[1]) if score is not None]
        confidence = sum(scores) / len(scores) / MAX_CONFIDENCE if scores else None
        return Judgement(preferred, confidence)

    # ------------------------------------------------------------------ HTTP

    def _ask(self, key: str, question: str, cache_file: IO[str] | None) -> str | None:
        """The reply text to one question, or None once it failed; caches every answer."""
        body = json.dumps(
            {
                "model": self.model,
                "messages": [
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": question},
                ],
                "temperature": 0,
            }
        ).encode("utf-8")
        attempt = 0
        while True:
            try:
                text = self._post(body)
                break
            except _Retryable as exc:
                if attempt >= self.max_retries:
                    self._fail(str(exc))
                    return None
                self._count("retried")
                time.sleep(retry_delay(attempt, exc.retry_after, self.backoff))
                attempt += 1
            except _Fatal as exc:
                self._fail(str(exc))
                return None
        with self._lock:
            self._answers[key] = text
            if cache_file is not None:
                cache_file.write(json.dumps({"key": key, "response": text}) + "\n")
                cache_file.flush()
        return text

    def _post(self, body: bytes) -> str:
        """One POST; the reply's message content, or _Retryable / _Fatal."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        self._count("asked")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            try:
                reason = f"HTTP {exc.code} {exc.reason}"
                if exc.code == 429 or exc.code >= 500:
                    raise _Retryable(reason, exc.headers.get("Retry-After")) from None
                raise _Fatal(reason) from None
            finally:
                exc.close()  # the error holds the response socket
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
            reason = getattr(exc, "reason", None) or exc
            raise _Retryable(f"{type(exc).__name__}: {reason}") from None
        return _message_content(raw)

    # ------------------------------------------------------------------ bookkeeping

    def _count(self, stat: str, n: int = 1) -> None:
        with self._lock:
            self.stats[stat] += n

    def _fail(self, reason: str) -> None:
        if self._api_key:
            reason = reason.replace(self._api_key, "***")
        with self._lock:
            self.stats["failed"] += 1
            self.last_error = reason

    def _read_cache(self) -> dict[str, str]:
        """Answers from the cache file; lines that are not {"key": str, "response": str} skip."""
        if self.cache is None or not self.cache.is_file():
            return {}
        answers = {}
        with self.cache.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if (
                    isinstance(record, dict)
                    and isinstance(record.get("key"), str)
                    and isinstance(record.get("response"), str)
                ):
                    answers[record["key"]] = record["response"]
        return answers

    def _open_cache(self) -> AbstractContextManager[IO[str] | None]:
        """The cache opened for appending, positioned on a fresh line; None without a cache."""
        if self.cache is None:
            return nullcontext()
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        handle = self.cache.open("a", encoding="utf-8")
        if handle.tell() > 0:
            with self.cache.open("rb") as tail:
                tail.seek(-1, os.SEEK_END)
                if tail.read(1) != b"\n":  # a run killed mid-line: do not glue onto its tail
                    handle.write("\n")
        return handle


def _message_content(raw: bytes) -> str:
    """choices[0].message.content of a chat-completions reply; _Fatal when it has none."""
    try:
        reply: Any = json.loads(raw)
        content = reply["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise _Fatal("reply is not a chat completion (no choices[0].message.content)") from None
    if content is None:  # e.g. a refusal or tool call: no text to parse
        return ""
    if not isinstance(content, str):
        raise _Fatal("reply content is not a string")
    return content
