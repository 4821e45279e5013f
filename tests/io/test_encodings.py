"""Text encodings of CSV and JSONL input: UTF-8 by default, any Python codec on request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobmatch import io
from jobmatch.errors import InputError
from jobmatch.io.importers import import_pairs, import_rankpo
from jobmatch.io.labels import DEFAULT_GRADES, import_labels
from jobmatch.io.readers import check_encoding

ROWS = [("김민수", "서울 백엔드 개발자"), ("이지은", "부산 데이터 과학자, 머신러닝")]
CSV = "candidate_id,text,location\n" + "".join(f'{i},"{t}","서울, 대한민국"\n' for i, t in ROWS)
JSONL = "".join(
    json.dumps({"candidate_id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in ROWS
)


def write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["cp949", "euc-kr", "utf-16"])
@pytest.mark.parametrize(
    ("suffix", "text"), [(".csv", CSV), (".jsonl", JSONL)], ids=["csv", "jsonl"]
)
def test_legacy_encoding_reads_like_utf8(tmp_path: Path, encoding, suffix, text) -> None:
    utf8 = io.read_table(write(tmp_path / f"utf8{suffix}", text, "utf-8"), "candidates")
    legacy = write(tmp_path / f"legacy{suffix}", text, encoding)
    assert io.read_table(legacy, "candidates", encoding=encoding).equals(utf8)
    assert utf8["text"].to_list() == [t for _, t in ROWS]


@pytest.mark.parametrize(
    ("suffix", "text", "line"), [(".csv", CSV, 2), (".jsonl", JSONL, 1)], ids=["csv", "jsonl"]
)
def test_utf8_error_names_line_column_and_the_option(tmp_path: Path, suffix, text, line) -> None:
    path = write(tmp_path / f"legacy{suffix}", text, "cp949")
    with pytest.raises(InputError) as caught:
        io.read_table(path, "candidates")
    where = f"{path}, line {line}, column 'candidate_id'"  # 김민수: the first Hangul
    assert str(caught.value).startswith(f"{where}: undecodable bytes (not UTF-8) at byte ")
    assert str(caught.value).endswith("(pass --encoding, e.g. --encoding cp949)")
    assert "\n" not in str(caught.value)


def test_a_wrong_legacy_codec_names_itself(tmp_path: Path) -> None:
    path = write(tmp_path / "utf8.csv", "candidate_id,text\nc1,ok\nc2,\ud55c\n", "utf-8")
    with pytest.raises(InputError) as caught:
        io.read_table(path, "candidates", encoding="ascii")
    assert str(caught.value).startswith(
        f"{path}, line 3, column 'text': undecodable bytes (not ascii) at byte "
    )
    assert "--encoding" not in str(caught.value)  # the hint is for the UTF-8 default only


def test_utf8_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV.encode())
    frame = io.read_table(path, "candidates", encoding="UTF8")
    assert frame.columns[0] == "candidate_id" and frame.height == 2


@pytest.mark.parametrize("name", ["klingon", "base64", "rot13"])
def test_unknown_or_non_text_codec(tmp_path: Path, name) -> None:
    path = write(tmp_path / "a.csv", CSV, "utf-8")
    with pytest.raises(InputError, match=f"unknown text encoding '{name}'"):
        io.read_table(path, "candidates", encoding=name)
    with pytest.raises(InputError):
        check_encoding(name)
    assert check_encoding("EUC-KR") == "euc_kr"


def test_importers_take_the_encoding(tmp_path: Path) -> None:
    pairs = "resume,jd,label\n김민수 백엔드,서울 백엔드 개발자,1\n"
    legacy = write(tmp_path / "pairs.csv", pairs, "cp949")
    with pytest.raises(InputError, match="pass --encoding"):
        import_pairs(legacy)
    imported = import_pairs(legacy, encoding="cp949")
    assert imported.jobs["text"].to_list() == ["서울 백엔드 개발자"]

    events = write(
        tmp_path / "events.csv", "job_id,candidate_id,outcome\n채용1,김민수,hired\n", "cp949"
    )
    assert import_labels(events, DEFAULT_GRADES, encoding="cp949").rows() == [
        ("채용1", "김민수", 3)
    ]

    train = {"query": "서울 백엔드", "positives": ["김민수 백엔드"], "negatives": ["이지은 데이터"]}
    path = write(tmp_path / "train.jsonl", json.dumps(train, ensure_ascii=False) + "\n", "cp949")
    with pytest.raises(InputError, match=rf"{path}, line 1, column 'query': undecodable"):
        import_rankpo(path)
    tables = import_rankpo(path, encoding="cp949")
    assert tables.candidates["text"].to_list() == ["김민수 백엔드", "이지은 데이터"]
