"""Tests for qa.loaders and qa.html_text: every format, encodings, bad files, folder walks."""

from __future__ import annotations

import io
import logging
import os
import re
import time
import tracemalloc
from pathlib import Path

import pypdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.errors import IngestError
from qa.html_text import declared_charset, extract_html
from qa.loaders import (
    MB,
    SUPPORTED_SUFFIXES,
    decode_text,
    find_files,
    load_bytes,
    load_file,
    parse_date,
    printable,
)
from qa.types import content_id
from tests.pdfs import make_pdf, slow_pdf

BODY = "Flooding closed the main road on Tuesday.\nOfficials said repairs would take a week."


def write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path


# -- plain text ----------------------------------------------------------------------------


def test_txt_basic(tmp_path: Path) -> None:
    path = write(tmp_path, "flood.txt", "River bursts its banks\r\n\r\n" + BODY + "\r\n\n  \n")
    doc = load_file(path)
    assert doc.format == "txt"
    assert doc.title == "River bursts its banks"
    assert doc.text == "River bursts its banks\n\n" + BODY
    assert doc.source == str(path.resolve())
    assert doc.id == content_id(doc.text)
    assert doc.date is None and doc.pages == ()


def test_source_can_be_given(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", BODY)
    assert load_file(path, source="reports/a.txt").source == "reports/a.txt"


def test_txt_long_first_line_gives_its_first_sentence_whole(tmp_path: Path) -> None:
    """A paragraph with no headline above it: its first sentence is the title, never cut
    off; only a sentence longer than any title may be is cut, at a word."""
    first = (
        "Russia says a missile strike that has killed at least six people across Ukraine was "
        'a "massive retaliatory strike" for a raid last week on a village in Bryansk region.'
    )
    doc = load_file(write(tmp_path, "lede.txt", f"{first} That raid was denied.\n{BODY}"))
    assert doc.title == first
    line = "Russia says a missile strike that has killed at least six people across Ukraine " * 5
    doc = load_file(write(tmp_path, "long.txt", line.strip() + "\n" + BODY))
    assert doc.title.endswith("…")
    assert len(doc.title) <= 82
    assert line.startswith(doc.title[:-1])
    assert doc.title[-2] != " "


def test_txt_falls_back_to_stem_and_reads_date_line(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path, "report-7.txt", "Date: 2023-03-09\n" + BODY))
    assert doc.date == "2023-03-09"
    assert doc.title == "Date: 2023-03-09"
    doc = load_file(write(tmp_path, "b.txt", "Storm report\nPublished: 9 March 2023\n\n" + BODY))
    assert doc.date == "2023-03-09"
    doc = load_file(
        write(tmp_path, "c.txt", "Storm\n\n" + "\n".join(["x"] * 6) + "\nDate: 2023-01-01")
    )
    assert doc.date is None


@pytest.mark.parametrize(
    "encoding,text",
    [
        ("latin-1", "Le président a déclaré mercredi que la réforme était adoptée."),
        ("cp1252", "Café prices rose €3 – “sharply”, traders said…"),
        ("utf-16", "Zürich, 9 März: Der Präsident sprach über 東京."),
        ("utf-8-sig", "Naïve façade, São Paulo."),
    ],
)
def test_txt_encodings(tmp_path: Path, encoding: str, text: str) -> None:
    data = (text + "\n" + BODY).encode(encoding)
    doc = load_file(write(tmp_path, "enc.txt", data))
    assert doc.text == text + "\n" + BODY
    assert doc.title == text


def test_utf16_without_bom(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path, "le.txt", BODY.encode("utf-16-le")))
    assert doc.text == BODY


def test_utf8_with_a_stray_byte_stays_utf8() -> None:
    data = "Café “quoted” — résumé. ".encode() * 5 + b"\xe9 end"
    assert decode_text(data) == "Café “quoted” — résumé. " * 5 + "\ufffd end"


def test_other_encodings_are_detected() -> None:
    text = "Москва заявила в среду, что переговоры продолжатся на следующей неделе."
    assert decode_text(text.encode("cp1251")) == text


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        bytes((i * 7919) % 255 + 1 for i in range(4000)),
    ],
    ids=["nul-bytes", "noise"],
)
def test_binary_file(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(IngestError) as err:
        load_file(write(tmp_path, "image.txt", data))
    assert err.value.reason == "not a text file (binary content)"
    assert err.value.path == str(tmp_path / "image.txt")


def refusal(path: Path, size: int) -> tuple[str, int]:
    """Why a sparse file of ``size`` bytes at ``path`` is refused, and the peak memory the
    refusal took (tracemalloc)."""
    with open(path, "wb") as out:
        out.truncate(size)  # sparse: no disk space used
    tracemalloc.start()
    try:
        with pytest.raises(IngestError) as err:
            load_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return err.value.reason, peak


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    reason, peak = refusal(tmp_path / "huge.txt", 2048 * MB)
    assert reason == "too large: 2048 MB, the limit is 200 MB"
    assert peak < MB


def test_a_nul_filled_file_is_called_binary_from_its_first_bytes(tmp_path: Path) -> None:
    reason, peak = refusal(tmp_path / "zeros.md", 100 * MB)
    assert reason == "not a text file (binary content)"
    assert peak < MB


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t \n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(IngestError, match="no text found"):
        load_file(write(tmp_path, "empty.txt", data))


def test_missing_and_unsupported_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as err:
        load_file(tmp_path / "gone.txt")
    assert err.value.reason == "file not found"
    with pytest.raises(IngestError) as err:
        load_file(write(tmp_path, "report.docx", b"PK\x03\x04"))
    assert err.value.reason.startswith("unsupported file type '.docx'; supported: .htm")
    with pytest.raises(IngestError) as err:
        load_bytes(b"text", "notes.rtf", source="upload:notes.rtf")
    assert err.value.path == "upload:notes.rtf"
    assert err.value.reason.startswith("unsupported file type '.rtf'")


# -- markdown ------------------------------------------------------------------------------


def test_md_front_matter(tmp_path: Path) -> None:
    source = '---\ntitle: "Flood update"\ndate: March 9, 2023\ntags: [a, b]\n---\n\n# Heading\n\n'
    doc = load_file(write(tmp_path, "flood.md", source + BODY + "\n"))
    assert doc.format == "md"
    assert doc.title == "Flood update"
    assert doc.date == "2023-03-09"
    assert doc.text == "Heading\n\n" + BODY  # the text, without Markdown's marks
    assert "title:" not in doc.text


@pytest.mark.parametrize(
    ("first_lines", "day"),
    [
        ("KHERSON, 7 June 2023 - Russian shelling hit the city.", "2023-06-07"),
        ("KYIV, June 7, 2023 (Reuters) - Drones hit the capital.", "2023-06-07"),
        ("WASHINGTON, March 3, 2023 — The talks ended.", "2023-03-03"),
        ("NEW YORK, 2023-03-09 – Markets fell.", "2023-03-09"),
        ("Strikes\nPublished 7:02 AM EST, Fri March 10, 2023\nBody.", "2023-03-10"),
        ("Strikes\nBy Jane Doe\nODESA, 9 March 2023 - Body.", "2023-03-09"),
        ("KYIV, June 7 (Reuters) - Drones hit the capital.", None),  # no year: not told
        ("US, UK and FRANCE, the three - agreed.", None),  # capitals and a dash, no date
        ("Lviv, 7 June 2023 - in lower case, a sentence.", None),
    ],
)
def test_dates_are_read_from_datelines(first_lines: str, day: str | None) -> None:
    """Issue 26: "KHERSON, 7 June 2023 -" was not read, so that report was undated."""
    text = f"{first_lines}\nMore of the report follows here."
    assert load_bytes(text.encode(), "r.txt").date == day
    assert load_bytes(text.encode(), "r.md").date == day
    page = "<html><body>" + "".join(f"<p>{line}</p>" for line in text.split("\n"))
    assert load_bytes(page.encode(), "r.html").date == day


def test_md_heading_title_and_date_line(tmp_path: Path) -> None:
    text = "```\n# not a heading\n```\n# The **real** title #\n*Published: 2023-03-09*\n"
    doc = load_file(write(tmp_path, "notes.markdown", text + BODY))
    assert doc.title == "The real title"
    assert doc.date == "2023-03-09"
    # code keeps its text; the heading is a paragraph of its own, emphasis marks are gone
    plain = "# not a heading\n\nThe real title\n\nPublished: 2023-03-09\n"
    assert doc.text == plain + BODY


def test_md_marks_are_dropped_but_not_look_alikes() -> None:
    text = (
        "Intro\n===\nSee [the map](http://x/m.png) and ![a chart](c.png), `code`, __bold__.\n"
        "* one\n+ two\n> quoted _word_\n\n---\n\nsnake_case, 2*3*4 and 5 * 6 stay.\n"
    )
    assert load_bytes(text.encode(), "a.md").text == (
        "Intro\n\nSee the map and a chart, code, bold.\n- one\n- two\nquoted word\n\n"
        "snake_case, 2*3*4 and 5 * 6 stay."
    )


def test_md_marks_span_a_bounded_stretch_of_a_line() -> None:
    """Emphasis and link text run at most 400 characters, and a line of over 20,000 keeps its
    marks: a line of marks that never close (a hostile upload) costs linear time."""
    long_bold = "**" + "word " * 100 + "end**"
    assert load_bytes(f"A {long_bold} B".encode(), "a.md").text == f"A {long_bold} B"
    hostile = "**a [b " * 5_000  # 35,000 characters, no mark closed
    assert load_bytes(hostile.encode(), "b.md").text == hostile.strip()
    assert load_bytes(b"x **a** y " * 10, "c.md").text == ("x a y " * 10).strip()


def test_md_without_heading_uses_stem(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "brief-notes.md", BODY)).title == "brief-notes"


def test_md_horizontal_rule_is_not_front_matter(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path, "a.md", "Intro\n\n---\n\nMore text"))
    assert doc.text == "Intro\n\nMore text"  # the rule, a mark, is dropped; the text stays


# -- HTML ----------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><title>Flood closes road &amp; bridge</title>
<meta property="article:published_time" content="2023-03-09T08:00:00Z">
<style>body { color: red }</style>
<script>var secret = "SCRIPT_TEXT"; document.write("<p>written</p>");</script>
</head>
<body>
<nav><a href="/">Home</a> <a href="/news">NAV_TEXT</a></nav>
<header><p>SITE_HEADER</p></header>
<img src="x.png" onerror="alert('ONERROR_TEXT')">
<article>
<header><h1>Flood closes road</h1></header>
<p>Flooding   closed the <b>main</b> road
on Tuesday.</p>
<p>Officials said&nbsp;repairs would take a week &mdash; or more.</p>
<div hidden>HIDDEN_TEXT</div><span aria-hidden="true">ARIA_TEXT</span>
<p style="display: none">STYLE_HIDDEN</p>
<ul><li>First point<li>Second point</ul>
<noscript>NOSCRIPT_TEXT</noscript>
<button>BUTTON_TEXT</button>
<form><label>FORM_TEXT</label><input name="q"></form>
</article>
<aside>ASIDE_TEXT</aside>
<footer>FOOTER_TEXT</footer>
<template><p>TEMPLATE_TEXT</p></template>
<svg><title>SVG_TITLE</title><text>SVG_TEXT</text></svg>
<iframe src="ad.html">IFRAME_TEXT</iframe>
</body></html>"""


def test_html_visible_text(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path, "page.html", PAGE))
    assert doc.format == "html"
    assert doc.title == "Flood closes road & bridge"
    assert doc.date == "2023-03-09"
    assert doc.text == (
        "Flood closes road\n\n"
        "Flooding closed the main road on Tuesday.\n\n"
        "Officials said repairs would take a week — or more.\n\n"
        "First point\nSecond point"
    )
    for marker in ("SCRIPT", "NAV", "SITE_HEADER", "ONERROR", "HIDDEN", "ARIA", "NOSCRIPT"):
        assert marker not in doc.text
    for marker in ("BUTTON", "FORM", "ASIDE", "FOOTER", "TEMPLATE", "SVG", "IFRAME", "written"):
        assert marker not in doc.text


def test_html_without_article_uses_body_and_h1_title(tmp_path: Path) -> None:
    page = "<html><body><h1>Road shut</h1><p>One.<br>Two.</p><table><tr><td>a</td><td>b</td></tr>"
    page += '</table><time datetime="2023-03-09">Thursday</time></body></html>'
    doc = load_bytes(page.encode(), "page.htm")
    assert doc.title == "Road shut"
    assert doc.text == "Road shut\n\nOne.\nTwo.\n\na b\n\nThursday"
    assert doc.date == "2023-03-09"
    assert doc.source == "page.htm"


def test_html_teaser_article_falls_back_to_body() -> None:
    page = "<body><article><p>Teaser.</p></article>" + "<p>" + BODY * 5 + "</p></body>"
    assert extract_html(page).text.startswith("Teaser.\n\nFlooding")


def test_html_main_is_preferred() -> None:
    page = "<body><div>Cookie banner text</div><main><p>" + BODY + "</p></main></body>"
    assert extract_html(page).text == BODY.replace("\n", " ")


def test_html_dates_and_titles() -> None:
    page = """<head><meta property="og:title" content="OG title">
    <meta name="dc.date" content="9 March 2023">
    <script type="application/ld+json">{"datePublished": "2023-03-10"}</script></head>
    <body><p>text</p></body>"""
    result = extract_html(page)
    assert result.title == "OG title"
    assert result.dates == ("9 March 2023", "2023-03-10")
    assert parse_date(result.dates[0]) == "2023-03-09"


def test_html_encodings() -> None:
    page = '<html><head><meta charset="windows-1251"></head><body><p>Москва</p></body></html>'
    assert load_bytes(page.encode("cp1251"), "ru.html").text == "Москва"
    page = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><p>Café €3</p>'
    assert load_bytes(page.encode("cp1252"), "fr.html").text == "Café €3"
    assert declared_charset(page.encode()) == "cp1252"
    assert load_bytes("<p>Grüße</p>".encode("utf-16"), "de.html").text == "Grüße"
    assert load_bytes("\ufeff<p>Grüße</p>".encode(), "de.html").text == "Grüße"


def test_html_unclosed_head_and_line_breaks() -> None:
    page = "<head><title>T</title><body><div><div><p>a</p></div></div><div>b</div>c<br><br>d"
    assert extract_html(page).text == "a\n\nb\nc\n\nd"
    assert extract_html("<p>x <pre>one\ntwo</pre>").text == "x\n\none\ntwo"


def test_html_malformed_marked_section_is_skipped() -> None:
    assert extract_html("<p>a<![<!DOCTYPE x>b</p>").text == "ab"


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".txt", ".md", ".html", ".pdf"]))
def test_any_bytes_give_a_document_or_an_ingest_error(data: bytes, suffix: str) -> None:
    try:
        doc = load_bytes(data, "upload" + suffix)
    except IngestError:
        return
    assert doc.text and doc.text == doc.text.rstrip()
    assert not CONTROL.search(doc.text) and not CONTROL.search(doc.title)


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")  # C0 control characters but tab and newline


@pytest.mark.parametrize(
    ("name", "line", "ending"),
    [
        ("late.txt", "{}\n", "Sirens sounded at noon.\nAll\nclear.\nCalm"),
        ("late.md", "{}\n", "Sirens sounded at noon.\nAll\nclear.\nCalm"),
        ("late.html", "<p>{}</p>\n", "Sirens sounded at noon. All clear. Calm"),  # HTML spaces
    ],
)
def test_control_characters_are_dropped_in_every_format(
    tmp_path: Path, name: str, line: str, ending: str
) -> None:
    """NUL past the 8 KB sniffed for binary content would end the text SQLite reads back."""
    tail = line.format("Sirens\x00 sound\x01ed\x1f at noon.\x0bAll\x0cclear.\rCalm")
    data = (line.format("Rain fell on Kyiv all day long.") * 300 + tail).encode()
    assert len(data) > 8192
    doc = load_file(write(tmp_path, name, data))
    assert not CONTROL.search(doc.text)
    assert doc.text.endswith(ending)


def test_control_characters_in_a_title_are_dropped() -> None:
    doc = load_bytes(b"<title>Flood\x01 re\x02port</title><p>" + b"Text. " * 100, "t.html")
    assert doc.title == "Flood report"


def test_undecodable_file_name_gives_a_displayable_source(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    try:
        for name, data in ((b"caf\xe9.txt", BODY.encode()), (b"r\xe9sum\xe9.docx", b"PK")):
            fd = os.open(os.path.join(folder, name), os.O_CREAT | os.O_WRONLY)
            os.write(fd, data)
            os.close(fd)
    except OSError:
        pytest.skip("this file system refuses file names that are not UTF-8")
    files, errors = find_files(str(tmp_path))
    (doc,) = [load_file(file) for file in files]
    assert doc.source == str(tmp_path.resolve() / "caf\ufffd.txt")
    doc.source.encode("utf-8")  # no lone surrogates: SQLite, JSON and terminals take it
    assert [e.path for e in errors] == [str(tmp_path / "r\ufffdsum\ufffd.docx")]
    assert "\ufffd" in str(errors[0]) and str(errors[0]).encode("utf-8")
    upload = load_bytes(b"x", "caf\udce9.md")
    assert (upload.source, upload.title) == ("caf\ufffd.md", "caf\ufffd")


def test_html_without_text(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no text found"):
        load_file(write(tmp_path, "blank.html", "<html><script>x()</script><p> </p></html>"))


# -- PDF -----------------------------------------------------------------------------------

PAGES = ["Flood report\nThe road closed on Tuesday.", "Repairs (phase 1) cost €3m.", "Page three."]


def test_make_pdf_is_read_by_pypdf() -> None:
    reader = pypdf.PdfReader(io.BytesIO(make_pdf(PAGES, title="T", date="2023-03-09")))
    assert [page.extract_text() for page in reader.pages] == PAGES
    assert reader.metadata is not None and reader.metadata.title == "T"


def test_pdf_pages_and_offsets(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path, "report.pdf", make_pdf(PAGES)))
    assert doc.format == "pdf"
    assert doc.text == "\n\n".join(PAGES)
    assert doc.title == "Flood report"
    assert doc.date is None
    assert len(doc.pages) == 3
    for number, page in enumerate(PAGES, start=1):
        start = doc.text.index(page)
        assert doc.pages[number - 1] == start
        assert doc.page_at(start) == number
        assert doc.page_at(start + len(page) - 1) == number


def test_pdf_empty_pages_keep_offsets_in_range() -> None:
    doc = load_bytes(make_pdf(["", "Second page.", "", "Fourth page.", ""]), "gaps.pdf")
    assert doc.text == "Second page.\n\n\n\nFourth page."
    assert list(doc.pages) == sorted(doc.pages)
    assert all(0 <= start <= len(doc.text) for start in doc.pages)
    assert doc.page_at(0) == 2
    assert doc.page_at(doc.text.index("Fourth")) == 4


_WORD = st.text("abcdefghij", min_size=1, max_size=8)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(_WORD, max_size=4).map("\n".join), min_size=1, max_size=5))
def test_pdf_page_offsets_property(pages: list[str]) -> None:
    if not any(pages):
        return
    doc = load_bytes(make_pdf(pages), "p.pdf")
    assert len(doc.pages) == len(pages)
    assert list(doc.pages) == sorted(doc.pages)
    assert all(0 <= start <= len(doc.text) for start in doc.pages)
    for number, page in enumerate(pages, start=1):
        if page:
            start = doc.pages[number - 1]
            assert doc.text.startswith(page, start)
            assert doc.page_at(start) == doc.page_at(start + len(page) - 1) == number


def test_pdf_metadata() -> None:
    doc = load_bytes(make_pdf(PAGES, title="Annual Flood Review", date="2023-03-09"), "a.pdf")
    assert (doc.title, doc.date) == ("Annual Flood Review", "2023-03-09")
    doc = load_bytes(make_pdf(PAGES, title="Microsoft Word - draft3.docx"), "b.pdf")
    assert doc.title == "Flood report"
    doc = load_bytes(make_pdf(PAGES, title="untitled", date="D:20221231235959+01'00'"), "c.pdf")
    assert (doc.title, doc.date) == ("Flood report", "2022-12-31")


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9])
def test_pdf_truncated(cut: float) -> None:
    data = make_pdf(PAGES)
    with pytest.raises(IngestError) as err:
        load_bytes(data[: int(len(data) * cut)], "cut.pdf")
    assert err.value.reason.startswith(("unreadable PDF: ", "no text found"))


def test_pdf_garbage(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as err:
        load_file(write(tmp_path, "fake.pdf", b"this is not a pdf at all\n" * 20))
    assert err.value.reason.startswith("unreadable PDF: ")
    assert err.value.path == str(tmp_path / "fake.pdf")


def test_pypdf_notes_on_a_damaged_pdf_stay_off_stderr(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    recwarn: pytest.WarningsRecorder,
) -> None:
    data = make_pdf(PAGES)
    damaged = data[: data.rindex(b"startxref")] + b"startxref\n12\n%%EOF\n"  # a wrong offset
    level = logging.getLogger("pypdf").level
    assert load_bytes(damaged, "damaged.pdf").text == "\n\n".join(PAGES)
    with pytest.raises(IngestError, match="unreadable PDF"):
        load_bytes(damaged[: len(damaged) // 2], "cut.pdf")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pypdf")] == []
    assert capsys.readouterr().err == "" and len(recwarn) == 0
    assert logging.getLogger("pypdf").level == level


def test_pdf_without_text() -> None:
    with pytest.raises(IngestError, match=r"no text found \(scanned PDF\?\)"):
        load_bytes(make_pdf(["", ""]), "scan.pdf")


def _encrypted(user_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(make_pdf(PAGES))))
    writer.encrypt(user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_encrypted() -> None:
    assert load_bytes(_encrypted(""), "open.pdf").text == "\n\n".join(PAGES)
    with pytest.raises(IngestError, match="encrypted PDF"):
        load_bytes(_encrypted("secret"), "locked.pdf")


# -- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2023-03-09", "2023-03-09"),
        ("2023-03-09T08:00:00+01:00", "2023-03-09"),
        ("2023/3/9", "2023-03-09"),
        ("9 March 2023", "2023-03-09"),
        ("Thursday, 9th of March 2023 10:00 GMT", "2023-03-09"),
        ("Thu, 09 Mar 2023 08:00:00 +0000", "2023-03-09"),
        ("March 9, 2023", "2023-03-09"),
        ("Sept. 30 2023", "2023-09-30"),
        ("D:20230309120000Z", "2023-03-09"),
        ("2023-02-30", None),
        ("9 Smarch 2023", None),
        ("09/03/2023", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_date(value: str, expected: str | None) -> None:
    assert parse_date(value) == expected


# -- finding files -------------------------------------------------------------------------


def test_find_files(tmp_path: Path) -> None:
    good = [
        write(tmp_path, "reports/a.txt", BODY),
        write(tmp_path, "reports/b/c.md", BODY),
        write(tmp_path, "reports/b/d.PDF", make_pdf(PAGES)),
        write(tmp_path, "reports/e.html", PAGE),
    ]
    bad = write(tmp_path, "reports/b/broken.txt", b"\x00\x01\x02" * 100)
    unsupported = write(tmp_path, "reports/b/notes.docx", b"PK")
    write(tmp_path, "reports/.hidden.txt", BODY)
    write(tmp_path, "reports/.git/config.txt", BODY)
    named = write(tmp_path, "slides.pptx", b"PK")

    files, errors = find_files([tmp_path / "reports", named, tmp_path / "nope", good[0]])
    assert files == sorted([*good, bad])
    assert [(e.path, e.reason.split(";")[0]) for e in errors] == [
        (str(unsupported), "unsupported file type '.docx'"),
        (str(named), "unsupported file type '.pptx'"),
        (str(tmp_path / "nope"), "file not found"),
    ]
    loaded, failed = [], []
    for file in files:
        try:
            loaded.append(load_file(file))
        except IngestError as exc:
            failed.append(exc)
    assert [d.format for d in loaded] == ["txt", "md", "pdf", "html"]
    assert [e.path for e in failed] == [str(bad)]


def test_find_files_reports_what_it_cannot_read(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    good = write(reports, "a.txt", BODY)
    linked = write(tmp_path, "elsewhere/b.md", BODY)
    (reports / "more").symlink_to(linked.parent)  # a link to a folder is followed
    (reports / "again").symlink_to(linked.parent)  # walked once only
    (reports / "up").symlink_to(tmp_path)  # leads back to a folder it is in
    (reports / "self.txt").symlink_to("self.txt")
    (reports / "gone.txt").symlink_to(tmp_path / "missing.txt")
    os.mkfifo(reports / "pipe.txt")

    files, errors = find_files([reports, reports / "self.txt"])
    assert files == [good, reports / "again" / "b.md"]
    assert [(e.path, e.reason) for e in errors] == [
        (str(reports / "up"), "symbolic link loop"),
        (str(reports / "gone.txt"), "dangling symbolic link"),
        (str(reports / "pipe.txt"), "not a regular file"),
        (str(reports / "self.txt"), "symbolic link loop"),
        (str(reports / "self.txt"), "symbolic link loop"),
    ]


def test_find_files_reports_an_unreadable_folder(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads a folder whatever its permissions")
    good = write(tmp_path, "reports/a.txt", BODY)
    locked = tmp_path / "reports" / "locked"
    write(locked, "b.txt", BODY)
    locked.chmod(0)
    try:
        files, errors = find_files(tmp_path / "reports")
    finally:
        locked.chmod(0o755)
    assert files == [good]
    assert [(e.path, e.reason) for e in errors] == [
        (str(locked), "permission denied: cannot read this folder")
    ]


def test_printable_escapes_control_characters() -> None:
    assert printable("evil\nqa: skipped\r\t\x1b[2K\u2028x") == (
        "evil\\nqa: skipped\\r\\t\\x1b[2K\\u2028x"
    )
    assert printable("Zürich 東京 report.txt") == "Zürich 東京 report.txt"
    # a model's streamed text keeps its lines, not its escape sequences
    assert printable("Kyiv [1].\n\x1b[2JFine\x07", keep="\n") == "Kyiv [1].\n\\x1b[2JFine\\x07"


def test_supported_suffixes() -> None:
    assert set(SUPPORTED_SUFFIXES) == {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}


def test_a_pdf_that_holds_the_reader_is_cut_off_at_its_deadline() -> None:
    """Issue 23: pypdf was checked only between pages, so one page of a few KB (its content
    stream compressed, millions of operators inside) held the upload worker for minutes."""
    hostile = slow_pdf(2_000_000)
    assert len(hostile) < 30_000
    load_bytes(make_pdf(PAGES), "warm.pdf")  # the worker is started
    start = time.monotonic()
    with pytest.raises(IngestError, match=r"took over 1 s to read; is it a report\?"):
        load_bytes(hostile, "slow.pdf", read_seconds=1)
    assert time.monotonic() - start < 5  # not the minute its page takes
    assert load_bytes(make_pdf(PAGES), "next.pdf").text == "\n\n".join(PAGES)  # a new worker


def test_the_pdf_reader_runs_apart_with_its_memory_capped() -> None:
    from qa import pdf

    load_bytes(make_pdf(PAGES), "a.pdf")
    process = pdf._READER._process
    assert process is not None and process.pid != os.getpid()
    limits = Path(f"/proc/{process.pid}/limits").read_text()
    assert re.search(rf"Max address space\s+{pdf.MEMORY}\s", limits)
