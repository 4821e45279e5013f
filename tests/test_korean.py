"""Korean text end to end: UTF-8 and CP949 tables, Korean documents, import, label, index,
query and training, on a tiny BERT whose WordPiece vocabulary holds Hangul (no download).

The tiny model of `jobmatch.testing` knows only ASCII pieces: every Hangul word would be
[UNK] and the tests would pass for the wrong reason, so this module builds its own.
"""

from __future__ import annotations

import csv
import io
import json
import re
import string
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from jobmatch.cli import main
from jobmatch.io.importers import text_id

SEOUL, BUSAN, TOKYO, DAEJEON = "서울, 대한민국", "부산, 대한민국", "도쿄, 일본", "대전, 대한민국"
JOBS = [
    # job_id, text, location, seniority, areas
    ("j-seoul", "서울 백엔드 개발자 채용: 파이썬, 쿠버네티스 우대", SEOUL, 3, "백엔드;클라우드"),
    ("j-busan", "부산 데이터 과학자 모집 (머신러닝, 통계 분석)", BUSAN, 2, "데이터;머신러닝"),
    ("j-tokyo", "도쿄 웹 프론트엔드 개발자, 리액트", TOKYO, 2, "프론트엔드"),
]
CANDIDATES = [
    # candidate_id, text, location, seniority, areas, years_experience
    ("김민수", "파이썬 백엔드 개발자, 쿠버네티스 운영 경험 6년", SEOUL, 3, "백엔드;클라우드", 6),
    ("이지은", "데이터 과학자: 머신러닝 모델 개발 4년", BUSAN, 2, "데이터;머신러닝", 4),
    ("박서준", "웹 프론트엔드 개발자, 리액트와 타입스크립트 3년", TOKYO, 2, "프론트엔드", 3),
    ("최유나", "백엔드 개발자 (자바, 스프링) 2년", DAEJEON, 1, "백엔드", 2),
]
# what the default rules make of them: same city + same level + two shared areas = grade 3
EXPECTED_QRELS = {("j-seoul", "김민수", 3), ("j-busan", "이지은", 3), ("j-tokyo", "박서준", 2)}
PAIRS = [  # the Korean resume-JD matcher's rows: (resume, jd, label in 0..1)
    (CANDIDATES[0][1], JOBS[0][1], 1.0),
    (CANDIDATES[3][1], JOBS[0][1], 0.4),
    (CANDIDATES[1][1], JOBS[1][1], 0.9),
    (CANDIDATES[0][1], JOBS[1][1], 0.0),
    (CANDIDATES[2][1], JOBS[2][1], 0.8),
    (CANDIDATES[1][1], JOBS[2][1], 0.1),
]
TXT_LINES = ["정민호 이력서", "서울 웹 개발자", "파이썬 장고 경험 5년"]
DOCX_LINES = ["한지민 이력서", "부산 데이터 엔지니어"]
DOCX_TABLE = [["기술", "스파크"], ["경력", "7년"]]
PDF_LINES = ["윤서연 이력서", "판교 보안 엔지니어", "클라우드 보안 경험 8년"]
ALL_TEXTS = (
    [j[1] for j in JOBS]
    + [c[1] for c in CANDIDATES]
    + [c[0] for c in CANDIDATES]
    + TXT_LINES
    + DOCX_LINES
    + [cell for row in DOCX_TABLE for cell in row]
    + PDF_LINES
    + ["대한민국 일본 대전"]
)
HANGUL = re.compile(r"[\uac00-\ud7a3]")


# --------------------------------------------------------------------------- tiny model


def korean_vocab() -> list[str]:
    """Specials, ASCII pieces, every Hangul syllable of the texts (alone and as ##piece)
    and every Hangul word, so the test texts tokenise without [UNK]."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    ascii_pieces = list(string.ascii_lowercase + string.digits + string.punctuation)
    syllables = sorted({ch for text in ALL_TEXTS for ch in HANGUL.findall(text)})
    words = sorted({w for text in ALL_TEXTS for w in re.findall(r"[\uac00-\ud7a3]+", text)})
    pieces = ascii_pieces + syllables
    return list(dict.fromkeys(specials + pieces + [f"##{p}" for p in pieces] + words))


def korean_tokenizer(**options):
    from transformers import BertTokenizerFast

    vocab = korean_vocab()
    return BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, **options)


def build_korean_model(folder: Path) -> Path:
    """A 2-layer, 32-dim random BERT with mean pooling, saved in sentence-transformers format.

    Lower-casing is harmless for Hangul, but BERT's accent stripping (on by default with
    lower-casing) decomposes each syllable into jamo (NFD) that no vocabulary entry
    matches: strip_accents=False keeps the syllables.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel

    backbone = folder / "backbone"
    backbone.mkdir(parents=True)
    tokenizer = korean_tokenizer(do_lower_case=True, strip_accents=False)
    tokenizer.save_pretrained(backbone)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(backbone)
    transformer = Transformer(str(backbone), max_seq_length=128)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    out = folder / "model"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(out))
    return out


@pytest.fixture(scope="module")
def korean_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_korean_model(tmp_path_factory.mktemp("korean-model"))


# --------------------------------------------------------------------------- input files


def csv_text(header: list[str], rows: list[tuple]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


JOBS_CSV = csv_text(["job_id", "text", "location", "seniority", "areas"], JOBS)
CANDIDATES_CSV = csv_text(
    ["candidate_id", "text", "location", "seniority", "areas", "years_experience"], CANDIDATES
)
PAIRS_CSV = csv_text(["resume", "jd", "label"], PAIRS)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def hangul_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing `lines`, written by hand.

    fpdf2 draws only characters its font has, and no font with Hangul is installed here
    (DejaVu has none). Extraction reads the text layer, not the glyphs: a standard font
    with a ToUnicode map from one-byte codes to the syllables is a valid PDF whose text is
    Korean (the glyphs drawn are Helvetica's, which no test looks at).
    """
    chars = sorted(set("".join(lines)) - {" "})
    assert len(chars) < 0xD0, "one-byte codes 0x30..0xFF"
    codes = {" ": 0x20, **{ch: 0x30 + i for i, ch in enumerate(chars)}}
    pairs = "\n".join(f"<{codes[ch]:02X}> <{ord(ch):04X}>" for ch in chars)
    to_unicode = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
        f"{len(chars)} beginbfchar\n{pairs}\nendbfchar\n"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode()
    shown = "\n0 -16 Td\n".join(
        "<" + "".join(f"{codes[ch]:02X}" for ch in line) + "> Tj" for line in lines
    )
    content = f"BT\n/F1 12 Tf\n72 720 Td\n{shown}\nET\n".encode()

    def stream(data: bytes) -> bytes:
        return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        stream(content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
        stream(to_unicode),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def write_documents(folder: Path) -> Path:
    """A Korean resume as .txt, .docx and .pdf under `folder`."""
    import docx

    folder.mkdir(parents=True)
    write(folder / "jung.txt", "\n".join(TXT_LINES) + "\n")
    document = docx.Document()
    for line in DOCX_LINES:
        document.add_paragraph(line)
    table = document.add_table(rows=len(DOCX_TABLE), cols=2)
    for row, values in zip(table.rows, DOCX_TABLE, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.save(str(folder / "han.docx"))
    (folder / "yoon.pdf").write_bytes(hangul_pdf(PDF_LINES))
    return folder


def invoke(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def failure(*args: str):
    """The one stderr line of a command that must fail with exit code 2."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# --------------------------------------------------------------------------- tests


def test_tiny_korean_tokenizer_keeps_syllables() -> None:
    kept = korean_tokenizer(do_lower_case=True, strip_accents=False)
    stripped = korean_tokenizer(do_lower_case=True)  # BERT's default: strip with lower-casing
    for text in ALL_TEXTS:
        assert "[UNK]" not in kept.tokenize(text), text
    assert "[UNK]" in stripped.tokenize(JOBS[0][1])  # the pitfall the model avoids
    # whole words are single tokens: the vocabulary is used, not only its syllables
    assert kept.tokenize("서울 백엔드 개발자") == ["서울", "백엔드", "개발자"]


def test_cleaning_keeps_precomposed_hangul() -> None:
    from jobmatch.documents.clean import clean_text

    text = "\n".join(TXT_LINES + PDF_LINES + [SEOUL])
    assert clean_text(text) == text
    # full-width forms still fold (NFKC), Hangul around them unchanged
    assert clean_text("서울\uff0c 대한민국 \uff21\uff29") == "서울, 대한민국 AI"


def test_import_pairs_cp949_needs_encoding(tmp_path: Path) -> None:
    utf8 = write(tmp_path / "pairs.csv", PAIRS_CSV)
    legacy = write(tmp_path / "pairs-cp949.csv", PAIRS_CSV, "cp949")
    line = failure("import", "pairs", "--pairs", legacy, "--out", tmp_path / "bad")
    assert line.startswith(f"error: {legacy}, line 2, column 'resume': undecodable bytes")
    assert line.endswith("(pass --encoding, e.g. --encoding cp949)")
    assert not (tmp_path / "bad").exists()

    invoke("import", "pairs", "--pairs", utf8, "--out", tmp_path / "utf8")
    invoke("import", "pairs", "--pairs", legacy, "--encoding", "cp949", "--out", tmp_path / "cp949")
    for name in ("jobs", "candidates", "pairs", "qrels"):
        expected = pl.read_parquet(tmp_path / "utf8" / f"{name}.parquet")
        assert pl.read_parquet(tmp_path / "cp949" / f"{name}.parquet").equals(expected), name
    candidates = pl.read_parquet(tmp_path / "utf8" / "candidates.parquet")
    resumes = list(dict.fromkeys(resume for resume, _, _ in PAIRS))
    assert candidates["text"].to_list() == resumes
    assert candidates["candidate_id"].to_list() == [text_id(t, "candidate") for t in resumes]
    qrels = pl.read_parquet(tmp_path / "utf8" / "qrels.parquet")
    assert sorted(qrels["relevance"].to_list()) == [1, 2, 3, 3]  # 0.0 and 0.1 round to 0

    args = ["import", "pairs", "--pairs", utf8, "--encoding", "klingon", "--out", tmp_path]
    unknown = CliRunner().invoke(main, [str(a) for a in args])  # a usage error, before reading
    assert unknown.exit_code == 2
    assert "Invalid value for '--encoding': unknown text encoding 'klingon'" in unknown.stderr


def test_label_reads_hangul_locations_in_any_encoding(tmp_path: Path) -> None:
    for encoding in ("utf-8", "cp949"):
        jobs = write(tmp_path / encoding / "jobs.csv", JOBS_CSV, encoding)
        candidates = write(tmp_path / encoding / "candidates.csv", CANDIDATES_CSV, encoding)
        out = tmp_path / encoding / "qrels.csv"
        args = ["label", "--jobs", jobs, "--candidates", candidates, "--out", out]
        if encoding != "utf-8":
            line = failure(*args)
            assert f"{jobs}, line 2, column 'text': undecodable bytes (not UTF-8)" in line
            args += ["--encoding", encoding]
        invoke(*args)
        qrels = pl.read_csv(out, schema_overrides={"relevance": pl.Int8})
        assert set(qrels.iter_rows()) == EXPECTED_QRELS


def test_documents_keep_hangul(tmp_path: Path) -> None:
    docs = write_documents(tmp_path / "docs")
    out = tmp_path / "documents.parquet"
    invoke("import", "documents", "--input", docs, "--out", out, "--workers", "1")
    texts = dict(pl.read_parquet(out).select("candidate_id", "text").iter_rows())
    assert texts == {
        "han": "\n".join([*DOCX_LINES, *(" | ".join(row) for row in DOCX_TABLE)]),
        "jung": "\n".join(TXT_LINES),
        "yoon": "\n".join(PDF_LINES),
    }
    for text in texts.values():  # no syllable came apart into jamo
        assert unicodedata.normalize("NFC", text) == text
        assert not re.search(r"[\u1100-\u11ff\u3130-\u318f]", text)


def test_bm25_keeps_korean_words() -> None:
    from jobmatch.baselines import bm25_run

    ids = [c[0] for c in CANDIDATES]
    texts = [c[1] for c in CANDIDATES]
    run = bm25_run(ids, texts, ["q1", "q2"], ["웹 리액트", "쿠버네티스"], k=2)
    assert run["q1"][0] == "박서준"  # 웹 (web) is one syllable: bm25s alone would drop it
    assert run["q2"][0] == "김민수"
    alone = bm25_run(ids, texts, ["q"], ["웹"], k=1)
    assert alone["q"] == ["박서준"]


def test_index_and_query_round_trip_hangul(tmp_path: Path, korean_model: Path) -> None:
    from jobmatch.encoder import load_encoder

    saved = load_encoder(str(korean_model), device="cpu").model.tokenizer
    assert not any("[UNK]" in saved.tokenize(text) for text in ALL_TEXTS)  # as saved, too

    candidates = write(tmp_path / "candidates.csv", CANDIDATES_CSV)
    legacy = write(tmp_path / "legacy" / "candidates.csv", CANDIDATES_CSV, "cp949")
    docs = write_documents(tmp_path / "docs")
    line = failure("index", "build", "--input", legacy, "--index", tmp_path / "x")
    assert f"{legacy}, line 2, column 'candidate_id': undecodable bytes" in line  # 김민수
    assert "--encoding cp949" in line

    utf8_index, cp949_index = tmp_path / "index-utf8", tmp_path / "index-cp949"
    common = ["--model", korean_model, "--no-progress"]
    invoke("index", "build", "--input", candidates, "--input", docs, "--index", utf8_index, *common)
    invoke(
        "index", "build", "--input", legacy, "--encoding", "cp949", "--index", cp949_index, *common
    )
    metadata = pl.read_parquet(utf8_index / "metadata.parquet")
    legacy_metadata = pl.read_parquet(cp949_index / "metadata.parquet")
    shared = ["candidate_id", "location", "seniority", "areas", "years_experience"]
    assert legacy_metadata.select(shared).equals(metadata.head(len(CANDIDATES)).select(shared))
    assert set(metadata["candidate_id"]) == {c[0] for c in CANDIDATES} | {"han", "jung", "yoon"}
    by_id = {row["candidate_id"]: row for row in metadata.iter_rows(named=True)}
    assert by_id["김민수"]["location"] == SEOUL
    assert by_id["김민수"]["areas"] == ["백엔드", "클라우드"]

    # a job text equal to a candidate's text retrieves that candidate first, at cosine ~1
    hits_path = tmp_path / "hits.jsonl"
    texts = [c[1] for c in CANDIDATES] + ["\n".join(TXT_LINES), "\n".join(PDF_LINES)]
    jobs = write(
        tmp_path / "queries.jsonl",
        "".join(
            json.dumps({"job_id": f"q{i}", "text": t}, ensure_ascii=False) + "\n"
            for i, t in enumerate(texts)
        ),
        "cp949",
    )
    invoke(
        "query", "--index", utf8_index, "--jobs", jobs, "--encoding", "cp949", "-k", "2",
        "--with-text", "--out", hits_path,
    )  # fmt: skip
    hits = [json.loads(line) for line in hits_path.read_text("utf-8").splitlines()]
    top = {hit["job_id"]: hit for hit in hits if hit["rank"] == 1}
    expected = [c[0] for c in CANDIDATES] + ["jung", "yoon"]
    assert [top[f"q{i}"]["candidate_id"] for i in range(len(texts))] == expected
    for i, text in enumerate(texts):
        assert top[f"q{i}"]["text"] == text
        assert top[f"q{i}"]["score"] == pytest.approx(1.0, abs=1e-4)
        second = next(h for h in hits if h["job_id"] == f"q{i}" and h["rank"] == 2)
        assert second["score"] < 0.999

    # a Hangul country in a filter
    filtered = tmp_path / "filtered.jsonl"
    invoke(
        "query", "--index", cp949_index, "--text", JOBS[1][1], "--filter", "country=대한민국",
        "-k", "10", "--out", filtered,
    )  # fmt: skip
    found = {json.loads(line)["candidate_id"] for line in filtered.read_text("utf-8").splitlines()}
    assert found == {"김민수", "이지은", "최유나"}


def test_index_build_names_the_legacy_file_not_its_copy(tmp_path: Path) -> None:
    rows = [*CANDIDATES[:2], ("빈칸", " ", SEOUL, 1, "백엔드", 1)]
    header = ["candidate_id", "text", "location", "seniority", "areas", "years_experience"]
    legacy = write(tmp_path / "candidates.csv", csv_text(header, rows), "cp949")
    line = failure(
        "index", "build", "--input", legacy, "--encoding", "cp949", "--index", tmp_path / "x"
    )
    assert line.startswith(f"error: {legacy}, row 3, column 'text'"), line
    assert "jobmatch-inputs-" not in line

    again = write(tmp_path / "more" / "candidates.csv", csv_text(header, rows[1:2]), "cp949")
    legacy.write_bytes(csv_text(header, rows[:2]).encode("cp949"))
    line = failure(
        "index", "build", "--input", legacy, "--input", again, "--encoding", "cp949",
        "--index", tmp_path / "x",
    )  # fmt: skip
    assert line == (
        f"error: {again}, row 1, column 'candidate_id': duplicate id '이지은' "
        f"(first seen at {legacy} row 2)"
    )


def test_import_train_index_query_in_korean(tmp_path: Path, korean_model: Path) -> None:
    """The Korean matcher's data through jobmatch: import pairs, train contrastive on them,
    index the structured candidates and query with a job."""
    pairs = write(tmp_path / "pairs.csv", PAIRS_CSV, "cp949")
    data = tmp_path / "data"
    invoke("import", "pairs", "--pairs", pairs, "--encoding", "cp949", "--out", data)
    model = tmp_path / "stage1"
    result = invoke(
        "train", "contrastive", "--jobs", data / "jobs.parquet",
        "--candidates", data / "candidates.parquet", "--qrels", data / "qrels.parquet",
        "--held-out", "0", "--model", korean_model, "--out", model, "--epochs", "1",
        "--batch-size", "2", "--negatives", "1", "--no-progress",
    )  # fmt: skip
    steps = re.search(r"after (\d+) steps", result.stderr)
    assert steps and int(steps.group(1)) >= 1, result.stderr
    history = json.loads((model / "training_history.json").read_text("utf-8"))
    assert history

    candidates = write(tmp_path / "candidates.csv", CANDIDATES_CSV)
    index = tmp_path / "index"
    invoke("index", "build", "--input", candidates, "--index", index, "--model", model)
    manifest = json.loads((index / "manifest.json").read_text("utf-8"))
    assert manifest["model"] == str(model)
    hits_path = tmp_path / "hits.jsonl"
    invoke("query", "--index", index, "--text", CANDIDATES[2][1], "-k", "1", "--out", hits_path)
    hit = json.loads(hits_path.read_text("utf-8"))
    assert hit["candidate_id"] == "박서준" and hit["location"] == TOKYO
