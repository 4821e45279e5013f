"""The clean-up functions, on strings: what a retriever must (not) see."""

from __future__ import annotations

import pytest

from jobmatch.documents import clean


def test_nfkc_folds_ligatures_and_odd_spaces() -> None:
    text = clean.normalize_unicode("Certiﬁed ﬂight ofﬁcer\u00a0in Ｂerlin\r\nnext")
    assert text == "Certified flight officer in Berlin\nnext"


def test_soft_hyphen_at_a_line_end_joins_and_invisible_characters_go() -> None:
    assert clean.normalize_unicode("engi\u00ad\nneering\u200b team\x07") == "engineering team "


def test_dehyphenation_joins_a_word_broken_at_a_line_end() -> None:
    assert clean.dehyphenate("software engi-\nneering") == "software engineering"


@pytest.mark.parametrize(
    "text",
    [
        "a full-stack developer",  # a real hyphen inside a line
        "Berlin -\nMunich",  # a dash after a space is not a broken word
        "Skills:\n- Python\n- SQL",  # list bullets
        "Senior-\nLevel",  # a capital after the break: likely a compound, keep it
        "covid-\n19",  # a digit after the break
    ],
)
def test_dehyphenation_keeps_real_hyphens(text: str) -> None:
    assert clean.dehyphenate(text) == text


@pytest.mark.parametrize("line", ["3", "12", "- 3 -", "— 4 —", "[2]", "3/5", "3 of 5", "Page 3",
                                  "page 3 of 5", "PAGE 10 OF 12", "p. 2"])  # fmt: skip
def test_page_numbers(line: str) -> None:
    assert clean.is_page_number(line)


@pytest.mark.parametrize("line", ["2019", "2019 - 2023", "Python 3", "3 years of Go", "Skills"])
def test_not_page_numbers(line: str) -> None:
    assert not clean.is_page_number(line)


def test_running_header_and_footer_are_dropped_from_every_page() -> None:
    pages = [
        "ACME Recruiting | Jane Doe\nExperience\nBuilt search at Zalando\nPage 1 of 3",
        "ACME Recruiting | Jane Doe\nLed a team of four\nPage 2 of 3",
        "ACME Recruiting | Jane Doe\nEducation\nMSc Informatics, TU Munich\nPage 3 of 3",
    ]
    assert clean.clean_pages(pages) == (
        "Experience\nBuilt search at Zalando\nLed a team of four\nEducation\n"
        "MSc Informatics, TU Munich"
    )


def test_a_line_repeated_mid_page_is_content_not_a_header() -> None:
    body = [f"line {c}" for c in "abcdefgh"]
    pages = ["\n".join([f"top {i}", *body[:4], "Python", *body[4:], f"end {i}"]) for i in range(3)]
    assert clean.clean_pages(pages).count("Python") == 3


def test_section_words_survive_even_on_every_page() -> None:
    pages = ["Skills\nPython", "Skills\nRust", "Skills\nGo"]
    assert clean.clean_pages(pages) == "Skills\nPython\nSkills\nRust\nSkills\nGo"


def test_a_line_on_only_some_pages_is_kept() -> None:
    pages = ["Jane Doe\nfirst", "second", "third", "fourth"]  # on 1 of 4 pages
    assert clean.clean_pages(pages).startswith("Jane Doe\n")
    assert clean.running_lines([["Jane"], ["Jane"], ["x"], ["y"]]) == set()  # 2 of 4: not most
    assert clean.running_lines([["Jane"], ["Jane"], ["x"]]) == {"jane"}  # 2 of 3


def test_bare_numbers_mid_page_survive() -> None:
    text = clean.clean_text("Jane\nYears\n3\nProjects\n12\nend")
    assert text == "Jane\nYears\n3\nProjects\n12\nend"


def test_a_word_broken_across_a_page_break_is_joined_after_the_footer_goes() -> None:
    pages = ["Header X\nI did engi-\n1", "Header X\nneering work\n2"]
    assert clean.clean_pages(pages) == "I did engineering work"


def test_whitespace_is_one_space_and_one_newline() -> None:
    assert clean.clean_text("  a \t  b  \n\n\n   c\n \n") == "a b\nc"


def test_form_feeds_split_a_text_into_pages() -> None:
    text = "Foot Note Inc\nalpha\n1\fFoot Note Inc\nbeta\n2\fFoot Note Inc\ngamma\n3"
    assert clean.clean_text(text) == "alpha\nbeta\ngamma"


def test_nothing_left_is_an_empty_string() -> None:
    assert clean.clean_pages(["", "  \n 2 \n", "- 3 -"]) == ""
