"""Visible text, title and date candidates of an HTML page, with the stdlib ``html.parser``.

Scripts, styles, page chrome (nav, header, footer, aside, forms) and hidden elements are
dropped; block elements become line breaks. When the page has a ``<main>`` or ``<article>``
and it holds a fair share of the page's text, only that text is kept.
"""

from __future__ import annotations

import codecs
import re
import time
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


# Elements whose content is never visible text (or is page chrome, not the report).
SKIP = _tags(
    """script style noscript template svg math head title nav footer aside form iframe button
    select textarea canvas object"""
)
# ``<header>`` is page chrome at page level but holds headline and byline inside an article.
PAGE_CHROME = _tags("header")
HEAD_CONTENT = _tags("head title meta link style script base noscript template")
VOID = _tags("area base br col embed hr img input link meta param source track wbr")
PARAGRAPH = _tags(
    """p h1 h2 h3 h4 h5 h6 blockquote pre section article main table ul ol dl figure
    address details hgroup header"""
)
# A start tag of one of these closes an open <p>.
CLOSES_P = PARAGRAPH | {"div", "hr", "form", "nav", "aside", "footer"}
LINE = _tags("div li br tr dt dd figcaption caption summary hr center legend")
CELL = frozenset({"td", "th"})
# A start tag of the key closes an open element of one of the values (HTML's optional end tags).
IMPLIED_END = {
    "li": {"li"},
    "dt": {"dt", "dd"},
    "dd": {"dt", "dd"},
    "tr": {"tr", "td", "th"},
    "td": {"td", "th"},
    "th": {"td", "th"},
    "option": {"option"},
}
DATE_META = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "dcterms.issued",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "citation_publication_date",
    "citation_date",
)
# Below this share of the page's text, a <main>/<article> is a teaser, not the report.
MIN_MAIN_SHARE = 0.2

FEED_CHARS = 64 * 1024  # markup parsed between two looks at the clock
# Tags (and comments, declarations) a page may hold: a long news page has some 30,000; past
# this the page is refused, at once, rather than parsed at a few seconds a megabyte
MAX_TAGS = 200_000
# Markup the parser may hold unparsed: a script not yet ended (pages carry megabytes of
# JSON in scripts), or a tag or comment not yet closed (the stdlib scans a start tag again
# with every piece fed, and parses all its attributes in one go, past any look at the clock)
MAX_SCRIPT = 8 * 1024 * 1024
MAX_TAG = 256 * 1024
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_LD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]+)"')
# Block boundaries are marked while parsing and turned into line breaks at the end, so that
# nested or adjacent blocks give one break, not one per tag.
_LINE_BREAK, _PARAGRAPH_BREAK = "\x01", "\x02"
_BREAKS = re.compile(r"[\s\x01\x02]+")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class HtmlText:
    """What a page yields: its visible text, a title and date strings (best first, raw)."""

    text: str
    title: str
    dates: tuple[str, ...] = ()


class TooMuchMarkup(ValueError):
    """The page holds more tags than a report's page does (``MAX_TAGS``)."""


def extract_html(markup: str, deadline: float | None = None) -> HtmlText:
    """Visible text of ``markup`` with its title and publication date candidates; past the
    ``time.monotonic()`` ``deadline``, TimeoutError (checked every ``FEED_CHARS``); past
    ``MAX_TAGS`` tags, or a tag or script longer than a page's, TooMuchMarkup."""
    parser = _TextParser()
    for at in range(0, len(markup), FEED_CHARS):
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError("reading the page took too long")
        parser.feed(markup[at : at + FEED_CHARS])
        if len(parser.rawdata) > (MAX_SCRIPT if parser.cdata_elem else MAX_TAG):
            what = "a script over 8 MB" if parser.cdata_elem else "a tag over 256 KB"
            raise TooMuchMarkup(f"{what}: more markup than a report's page holds")
    parser.close()
    return parser.result()


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in its first bytes, as a Python codec name."""
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    # As browsers do: latin-1 and ASCII mean cp1252, a UTF-16 label on ASCII bytes means UTF-8.
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"
    return "utf-8" if name.startswith("utf-16") else name


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # Open elements: (tag, hides its content).
        self.stack: list[tuple[str, bool]] = []
        # how many of each tag are open: "is a <pre> open?" costs the same at any depth
        self.open: Counter[str] = Counter()
        self.hidden = 0
        self.parts: dict[str, list[str]] = {"body": [], "main": [], "article": []}
        self.inside = {"main": 0, "article": 0}
        self.title_parts: list[str] | None = None
        self.title = ""
        self.h1: list[str] | None = None
        self.first_h1 = ""
        self.meta: dict[str, str] = {}
        self.time_dates: list[str] = []
        self.published: list[str] = []  # <time pubdate> / itemprop=datePublished: first
        self.ld_json = False
        self.ld_dates: list[str] = []
        self.tags = 0

    # -- tags ----------------------------------------------------------------------------

    def _counted(self) -> None:
        self.tags += 1
        if self.tags > MAX_TAGS:
            raise TooMuchMarkup(f"over {MAX_TAGS:,} tags: more markup than a report's page holds")

    def handle_comment(self, data: str) -> None:
        self._counted()

    def handle_decl(self, decl: str) -> None:
        self._counted()

    def handle_pi(self, data: str) -> None:
        self._counted()

    def unknown_decl(self, data: str) -> None:
        self._counted()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._counted()
        attr = {name.lower(): (value or "") for name, value in attrs}
        if tag == "meta":
            self._meta(attr)
        elif tag == "time" and attr.get("datetime"):
            first = "pubdate" in attr or attr.get("itemprop", "").lower() == "datepublished"
            (self.published if first else self.time_dates).append(attr["datetime"])
        elif tag == "script" and attr.get("type", "").lower() == "application/ld+json":
            self.ld_json = True
        if tag in VOID:
            self._emit("\n" if tag == "br" else _LINE_BREAK if tag in LINE else "")
            return
        if tag not in HEAD_CONTENT and self.open["head"]:
            self.handle_endtag("head")  # <body> or body content ends an unclosed <head>
        closes = IMPLIED_END.get(tag, set())
        while self.stack and (
            self.stack[-1][0] in closes or (tag in CLOSES_P and self.stack[-1][0] == "p")
        ):
            self._pop()
        hides = self._hides(tag, attr)
        self.stack.append((tag, hides))
        self.open[tag] += 1
        self.hidden += hides
        if tag in self.inside:
            self.inside[tag] += 1
        if tag == "title" and not self.title and not self.open["svg"]:
            self.title_parts = []
        elif tag == "h1" and not self.first_h1 and not self.hidden:
            self.h1 = []
        self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        self._counted()
        if tag in VOID:
            if tag == "br":  # browsers read a stray </br> as <br>
                self._emit("\n")
            return
        if not self.open[tag]:
            return
        while self.stack:
            if self._pop() == tag:
                break

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        """``<![...]>`` sections; the stdlib asserts on malformed ones, browsers skip them."""
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i + 3)
            return len(self.rawdata) if end < 0 else end + 1

    def handle_data(self, data: str) -> None:
        if self.ld_json:
            self.ld_dates.extend(_LD_DATE.findall(data))
        if self.title_parts is not None:
            self.title_parts.append(data)
        if self.h1 is not None:
            self.h1.append(data)
        data = data.replace(_LINE_BREAK, "").replace(_PARAGRAPH_BREAK, "")
        if not self.open["pre"]:
            data = data.replace("\n", " ").replace("\r", " ")
        self._emit(data)

    # -- helpers -------------------------------------------------------------------------

    def _hides(self, tag: str, attr: dict[str, str]) -> bool:
        if tag in SKIP or "hidden" in attr or attr.get("aria-hidden", "").lower() == "true":
            return True
        if _HIDDEN_STYLE.search(attr.get("style", "")):
            return True
        return tag in PAGE_CHROME and not (self.inside["main"] or self.inside["article"])

    def _pop(self) -> str:
        tag, hides = self.stack.pop()
        self.open[tag] -= 1
        self.hidden -= hides
        if tag in self.inside:
            self.inside[tag] -= 1
        if tag == "title" and self.title_parts is not None:
            self.title = _clean_line("".join(self.title_parts))
            self.title_parts = None
        elif tag == "h1" and self.h1 is not None:
            self.first_h1 = _clean_line("".join(self.h1))
            self.h1 = None
        elif tag == "script":
            self.ld_json = False
        self._break(tag)
        return tag

    def _break(self, tag: str) -> None:
        if tag in PARAGRAPH:
            self._emit(_PARAGRAPH_BREAK)
        elif tag in LINE:
            self._emit(_LINE_BREAK)
        elif tag in CELL:
            self._emit(" ")

    def _emit(self, text: str) -> None:
        if self.hidden:
            return
        self.parts["body"].append(text)
        for name, depth in self.inside.items():
            if depth:
                self.parts[name].append(text)

    def _meta(self, attr: dict[str, str]) -> None:
        key = attr.get("property") or attr.get("name") or attr.get("itemprop") or ""
        content = attr.get("content", "").strip()
        if key and content:
            self.meta.setdefault(key.strip().lower(), content)

    def result(self) -> HtmlText:
        while self.stack:
            self._pop()
        texts = {name: _clean_text("".join(parts)) for name, parts in self.parts.items()}
        text = texts["body"]
        for name in ("main", "article"):
            if texts[name] and len(texts[name]) >= MIN_MAIN_SHARE * len(text):
                text = texts[name]
                break
        title = self.title or _clean_line(self.meta.get("og:title", "")) or self.first_h1
        dates = [self.meta[key] for key in DATE_META if key in self.meta]
        return HtmlText(
            text, title, (*dates, *self.published[::-1], *self.time_dates, *self.ld_dates)
        )


def _clean_line(text: str) -> str:
    return " ".join(text.split())


def _clean_text(text: str) -> str:
    """One space between words, no spaces around line breaks, at most one blank line."""
    text = _BREAKS.sub(_line_breaks, text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _line_breaks(match: re.Match[str]) -> str:
    run = match.group()
    if _PARAGRAPH_BREAK in run:
        return "\n\n"
    return "\n" * min(2, max(1, run.count("\n"))) if _LINE_BREAK in run else run
