"""LLMJudge against a fake OpenAI-compatible server on 127.0.0.1 (no network, no real model).

The fake prefers whichever passage mentions KEYWORD, with confidence 80 when that passage is
shown as A and 60 when shown as B, so a consistent pair always averages to 0.7 and any
mix-up of the position swap shows as a wrong letter or confidence.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from jobmatch.training.judges import Judgement, PairToJudge
from jobmatch.training.judges.llm import (
    SYSTEM_PROMPT,
    LLMJudge,
    cache_key,
    parse_reply,
    retry_delay,
    user_message,
)

KEYWORD = "rust"
GARBLED = "garbled"  # a passage with this word gets a reply without a Preferred line
SECRET = "sk-test-secret-7f3a9c"
_PASSAGES = re.compile(r"Passage A:\n(.*?)\n\nPassage B:\n(.*?)\n\n", re.DOTALL)
JOB = "Backend engineer for a systems team"


def make_pair(n: int, a: str, b: str) -> PairToJudge:
    return PairToJudge(f"j{n}", f"{JOB} #{n}", f"a{n}", a, f"b{n}", b)


def swapped(pair: PairToJudge) -> PairToJudge:
    return PairToJudge(pair.job_id, pair.job_text, pair.b_id, pair.b_text, pair.a_id, pair.a_text)


KEY_A = make_pair(0, f"Ana: {KEYWORD}, 6 years", "Bo: java, 3 years")  # keyword in A
KEY_B = make_pair(1, "Cy: python, 2 years", f"Dee: {KEYWORD} and go, 8 years")  # keyword in B
NO_KEY = make_pair(2, "Eli: php", "Fay: ruby")  # no evidence: the fake always says "A"
BROKEN = make_pair(3, f"Gus: {GARBLED} text", f"Hal: {KEYWORD}")  # malformed replies


# --------------------------------------------------------------------------- fake server


@dataclass
class FakeLLM:
    """Knobs the tests set before judging, and everything the server saw."""

    endpoint: str = ""
    always: str | None = None  # answer this letter whatever the passages: position bias
    too_many_first: int = 0  # 429 + Retry-After: 0 for the first N requests
    status: int | None = None  # answer every request with this HTTP error status
    stall_first: int = 0  # the first N requests stall for `stall` seconds (client timeouts)
    stall: float = 0.0
    delay: float = 0.0  # seconds every request stays in flight
    paths: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, user: str) -> str:
        match = _PASSAGES.search(user)
        assert match is not None, user
        a, b = match.groups()
        if GARBLED in a or GARBLED in b:
            return "Both candidates look reasonable; hard to say."
        if self.always is not None:
            letter = self.always
        else:
            letter = "B" if KEYWORD in b and KEYWORD not in a else "A"
        score = 80 if letter == "A" else 60
        return f"Candidate {letter} fits better.\nPreferred: {letter}\nConfidence score: {score}"


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with fake.lock:
                number = len(fake.bodies)
                fake.paths.append(self.path)
                fake.bodies.append(body)
                fake.headers.append(dict(self.headers))
                fake.in_flight += 1
                fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            time.sleep(fake.stall if number < fake.stall_first else fake.delay)
            with fake.lock:  # before replying: the client may send its next request at once
                fake.in_flight -= 1
            if number < fake.too_many_first:
                self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
            elif fake.status is not None:
                self._send(fake.status, {"error": {"message": "no"}})
            else:
                content = fake.reply(body["messages"][1]["content"])
                message = {"role": "assistant", "content": content}
                self._send(200, {"object": "chat.completion", "choices": [{"message": message}]})

        def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler: no thread outlives its test

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a stalled reply written after the client timed out and hung up is expected
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLM]:
    """A fake chat-completions server on a free 127.0.0.1 port, shut down after the test."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    fake = FakeLLM()
    server = _Server(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    fake.endpoint = f"http://127.0.0.1:{server.server_port}/v1"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def judge_with(fake: FakeLLM, **options: Any) -> LLMJudge:
    options = {"backoff": 0.01, "timeout": 5.0} | options
    return LLMJudge(fake.endpoint, "fake-model", **options)


def stats(**nonzero: int) -> dict[str, int]:
    base = dict.fromkeys(("asked", "cached", "malformed", "inconsistent", "retried", "failed"), 0)
    return base | nonzero


# --------------------------------------------------------------------------- judging


def test_both_orders_asked_and_mapped_back(fake: FakeLLM) -> None:
    judge = judge_with(fake)
    result = judge.judge([KEY_A, KEY_B, NO_KEY])

    assert judge.name == "llm"
    assert result == [Judgement("A", 0.7), Judgement("B", 0.7), None]
    assert judge.stats == stats(asked=6, inconsistent=1)
    assert fake.paths == ["/v1/chat/completions"] * 6
    asked_users = sorted(body["messages"][1]["content"] for body in fake.bodies)
    expected = [user_message(p.job_text, x, y) for p in (KEY_A, KEY_B, NO_KEY)
                for x, y in ((p.a_text, p.b_text), (p.b_text, p.a_text))]  # fmt: skip
    assert asked_users == sorted(expected)
    for body in fake.bodies:
        assert body["model"] == "fake-model"
        assert body["temperature"] == 0
        assert body["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
        assert body["messages"][1]["role"] == "user"
    assert all("Authorization" not in headers for headers in fake.headers)  # no key set


def test_swapping_a_pair_picks_the_same_candidate(fake: FakeLLM) -> None:
    [forward] = judge_with(fake).judge([KEY_A])
    [backward] = judge_with(fake).judge([swapped(KEY_A)])

    assert forward == Judgement("A", 0.7)
    assert backward == Judgement("B", 0.7)
    assert KEY_A.a_id == swapped(KEY_A).b_id  # the same candidate, Ana, chosen both times
    assert len(fake.bodies) == 4


def test_a_pair_and_its_swap_share_their_two_questions(fake: FakeLLM) -> None:
    judge = judge_with(fake)

    assert judge.judge([KEY_A, swapped(KEY_A)]) == [Judgement("A", 0.7), Judgement("B", 0.7)]
    assert len(fake.bodies) == 2
    assert judge.stats == stats(asked=2)


def test_position_biased_judge_is_dropped(fake: FakeLLM) -> None:
    fake.always = "A"
    judge = judge_with(fake)

    assert judge.judge([KEY_A, KEY_B, NO_KEY]) == [None, None, None]
    assert judge.stats == stats(asked=6, inconsistent=3)


def test_malformed_replies_are_counted_and_skipped(fake: FakeLLM) -> None:
    judge = judge_with(fake)

    assert judge.judge([KEY_A, BROKEN]) == [Judgement("A", 0.7), None]
    assert judge.stats == stats(asked=4, malformed=2)


# --------------------------------------------------------------------------- HTTP failures


def test_429_is_retried_until_answered(fake: FakeLLM) -> None:
    fake.too_many_first = 3
    judge = judge_with(fake)

    assert judge.judge([KEY_A, KEY_B]) == [Judgement("A", 0.7), Judgement("B", 0.7)]
    assert judge.stats == stats(asked=7, retried=3)
    assert len(fake.bodies) == 7


def test_400_fails_at_once_without_retries(fake: FakeLLM) -> None:
    fake.status = 400
    judge = judge_with(fake)

    assert judge.judge([KEY_A]) == [None]
    assert judge.stats == stats(asked=2, failed=2)
    assert len(fake.bodies) == 2
    assert judge.last_error == "HTTP 400 Bad Request"


def test_5xx_gives_up_after_max_retries(fake: FakeLLM) -> None:
    fake.status = 503
    judge = judge_with(fake, max_retries=2)

    assert judge.judge([KEY_A]) == [None]
    assert judge.stats == stats(asked=6, retried=4, failed=2)
    assert len(fake.bodies) == 6
    assert judge.last_error == "HTTP 503 Service Unavailable"


def test_timeout_is_retried(fake: FakeLLM) -> None:
    fake.stall_first, fake.stall = 1, 0.6
    judge = judge_with(fake, timeout=0.2)

    assert judge.judge([KEY_A]) == [Judgement("A", 0.7)]
    assert judge.stats == stats(asked=3, retried=1)


def test_concurrency_is_bounded(fake: FakeLLM) -> None:
    fake.delay = 0.05
    pairs = [make_pair(n, f"P{n}: {KEYWORD}", f"Q{n}: cobol") for n in range(6)]
    judge = judge_with(fake, concurrency=2)

    assert judge.judge(pairs) == [Judgement("A", 0.7)] * 6
    assert len(fake.bodies) == 12
    assert fake.max_in_flight == 2  # never more than allowed, and the two slots were used


# --------------------------------------------------------------------------- cache


def test_rerun_with_cache_sends_nothing(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    cache = tmp_path / "cache" / "judge.jsonl"
    pairs = [KEY_A, KEY_B, BROKEN]
    first = judge_with(fake, cache=cache)
    first_result = first.judge(pairs)

    assert first_result == [Judgement("A", 0.7), Judgement("B", 0.7), None]
    assert first.stats == stats(asked=6, malformed=2)
    assert [headers["Authorization"] for headers in fake.headers] == [f"Bearer {SECRET}"] * 6
    text = cache.read_text(encoding="utf-8")
    assert SECRET not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == 6
    assert all(set(record) == {"key", "response"} for record in records)
    answers = {record["key"]: record["response"] for record in records}
    question = user_message(KEY_A.job_text, KEY_A.a_text, KEY_A.b_text)
    key = cache_key("fake-model", SYSTEM_PROMPT, question)
    assert answers[key] == "Candidate A fits better.\nPreferred: A\nConfidence score: 80"

    second = judge_with(fake, cache=cache)
    assert second.judge(pairs) == first_result
    assert second.stats == stats(cached=6, malformed=2)
    assert len(fake.bodies) == 6  # nothing new was sent


def test_cache_skips_bad_lines_and_resumes(fake: FakeLLM, tmp_path: Path) -> None:
    cache = tmp_path / "judge.jsonl"
    judge_with(fake, cache=cache).judge([KEY_A])
    with cache.open("a", encoding="utf-8") as handle:  # junk, then a line cut off by a crash
        handle.write('not json\n[1, 2]\n{"key": 7, "response": "x"}\n{"key": "abc", "resp')

    resumed = judge_with(fake, cache=cache)
    assert resumed.judge([KEY_A, KEY_B]) == [Judgement("A", 0.7), Judgement("B", 0.7)]
    assert resumed.stats == stats(asked=2, cached=2)

    third = judge_with(fake, cache=cache)
    assert third.judge([KEY_A, KEY_B]) == [Judgement("A", 0.7), Judgement("B", 0.7)]
    assert third.stats == stats(cached=4)
    assert len(fake.bodies) == 4
    last_two = cache.read_text(encoding="utf-8").splitlines()[-2:]
    assert all(set(json.loads(line)) == {"key", "response"} for line in last_two)


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("reply", "parsed"),
    [
        ("B has the skills.\nPreferred: B\nConfidence score: 65", ("B", 65.0)),
        ("**Preferred:** a\n**Confidence score:** 90", ("A", 90.0)),
        ("Preferred: A\nOn reflection...\nPreferred: B", ("B", None)),  # last one wins
        ("Preferred: A\nConfidence score: 150", ("A", None)),  # out of range: no confidence
        ("Both are fine.\nConfidence score: 50", (None, 50.0)),
    ],
)
def test_parse_reply(reply: str, parsed: tuple[str | None, float | None]) -> None:
    assert parse_reply(reply) == parsed


@pytest.mark.parametrize(
    ("attempt", "retry_after", "backoff", "delay"),
    [
        (0, None, 1.0, 1.0),
        (3, None, 1.0, 8.0),
        (10, None, 1.0, 30.0),  # capped
        (3, "0", 1.0, 0.0),  # the server's Retry-After wins
        (0, "2.5", 1.0, 2.5),
        (0, "3600", 1.0, 30.0),  # capped too
        (2, "Wed, 21 Oct 2015 07:28:00 GMT", 0.5, 2.0),  # HTTP-date: our own schedule
    ],
)
def test_retry_delay(attempt: int, retry_after: str | None, backoff: float, delay: float) -> None:
    assert retry_delay(attempt, retry_after, backoff) == delay


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"concurrency": 0}, "concurrency must be >= 1"),
        ({"max_retries": -1}, "max_retries must be >= 0"),
        ({"timeout": 0.0}, "timeout must be > 0"),
        ({"backoff": -1.0}, "backoff must be >= 0"),
    ],
)
def test_invalid_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LLMJudge("http://127.0.0.1:1/v1", "m", **options)


def test_endpoint_must_be_http() -> None:
    with pytest.raises(ValueError, match="must start with http:// or https://"):
        LLMJudge("127.0.0.1:8000/v1", "m")
