"""Ingestion: report files (text, Markdown, HTML, PDF) read into ``Document`` objects.

Every problem with a file, from a missing path to a corrupt PDF, is raised as an
``IngestError`` carrying the path and a short reason, so a batch can report it and go on.
"""

from __future__ import annotations

import codecs
import errno
import math
import os
import re
import stat
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import charset_normalizer

from qa.dates import first_date, parse_date
from qa.errors import IngestError
from qa.html_text import TooMuchMarkup, declared_charset, extract_html
from qa.markdown import inline, plain_text
from qa.pdf import PdfUnreadable, read_pdf
from qa.progress import Progress
from qa.sentences import split_sentences
from qa.types import MAX_TITLE, Document

T = TypeVar("T")

FORMATS = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}
FORMATS[".pdf"] = "pdf"
SUPPORTED_SUFFIXES = tuple(sorted(FORMATS))

SNIFF_BYTES = 8192
MB = 1024 * 1024
MAX_FILE_BYTES = 200 * MB  # a report file larger than this is refused before it is read
READ_SECONDS = 30.0  # a file that takes longer to read (hostile markup, a PDF bomb) is refused
TITLE_MAX = 120  # a first line up to this long is the title as it is
TITLE_CUT = 80  # a longer one's first sentence is its title; a sentence over MAX_TITLE is cut
DATE_LINES = 5  # non-empty lines searched for a "Date: ..." line
BINARY = "not a text file (binary content)"

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Non-ASCII characters expected in Western text; cp1252 is taken when these are all it yields.
_WESTERN = frozenset("“”‘’„‚–—…•€£¥°©®™«»·§¶¡¿\xa0×÷½¼¾")
# Line breaks of every kind become \n; every other C0 control character except tab is dropped.
_CONTROLS: dict[int, str | None] = {c: None for c in range(32) if chr(c) not in "\t\n\r\v\f"}
_CONTROLS.update({ord("\r"): "\n", ord("\v"): "\n", ord("\f"): "\n"})
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_DATE_LINE = re.compile(
    r"^(?:date|dated|published|published on|posted|posted on|updated|last updated)"
    r"(?:\s*[:\-–]\s*|\s+)(.+)$",
    re.IGNORECASE,
)
# a dateline: a place in capitals, a comma, the date, perhaps the agency, a dash
_DATELINE = re.compile(
    r"^[A-Z][A-Z .'’-]{1,40},\s*([^()\n]{6,40}?)\s+(?:\([^()\n]{1,30}\)\s*)?[-–—]\s"
)
_GENERIC_TITLE = re.compile(
    r"^(untitled.*|document\d*|microsoft (word|powerpoint|excel) - .*|.*\.(docx?|pdf|rtf|odt)"
    r"|powerpoint presentation|slide \d+|title|none|unknown)$",
    re.IGNORECASE,
)


# -- finding files -------------------------------------------------------------------------


def ingest_roots(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    """The folders that ``paths`` name (a file's own folder for a file), resolved as the
    sources of their files are: what an ingest was given, for showing sources below it."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    roots = (Path(p).resolve() if Path(p).is_dir() else Path(p).resolve().parent for p in paths)
    return list(dict.fromkeys(shown(root) for root in roots))


def find_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
) -> tuple[list[Path], list[IngestError]]:
    """Report files named by ``paths`` (one path or several), folders searched recursively,
    and the problems found.

    Hidden files and folders inside a folder are skipped; every other path that is not read
    (an unsupported file, a dangling link, a link loop, an unreadable folder) is reported.
    A missing path or an explicitly named unsupported file is reported too.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]  # one path, not a sequence of characters
    files: list[Path] = []
    errors: list[IngestError] = []
    for path in map(Path, paths):
        found = _walk(path, errors) if path.is_dir() else [path]
        for file in found:
            problem = _file_problem(file)
            if problem is None and file.suffix.lower() not in SUPPORTED_SUFFIXES:
                problem = unsupported_message(file.suffix)
            if problem is None:
                files.append(file)
            else:
                errors.append(IngestError(shown(file), problem))
    seen: set[Path] = set()
    unique: list[Path] = []
    for file in files:
        if file.resolve() not in seen:
            seen.add(file.resolve())
            unique.append(file)
    return unique, errors


def _walk(folder: Path, errors: list[IngestError]) -> list[Path]:
    """Every non-hidden path below ``folder`` that is not a folder, sorted; links to folders
    are followed unless they lead back to a folder they are in. Problems go to ``errors``."""
    found: list[Path] = []
    walked = {os.path.realpath(folder)}

    def unreadable(exc: OSError) -> None:
        reason = _os_reason(exc, Path(exc.filename))
        errors.append(IngestError(shown(exc.filename), f"{reason}: cannot read this folder"))

    for root, dirs, names in os.walk(folder, onerror=unreadable, followlinks=True):
        here = os.path.realpath(root)
        kept = []
        for name in sorted(d for d in dirs if not d.startswith(".")):
            target = os.path.realpath(os.path.join(root, name))
            if here == target or here.startswith(target.rstrip(os.sep) + os.sep):
                errors.append(IngestError(shown(Path(root, name)), "symbolic link loop"))
            elif target not in walked:  # else walked already, through another link
                walked.add(target)
                kept.append(name)
        dirs[:] = kept
        found.extend(Path(root, n) for n in names if not n.startswith("."))
    return sorted(found)


def _file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a file, or None when it is a regular file."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return _os_reason(exc, path)
    return None if stat.S_ISREG(mode) else "not a regular file"


def _os_reason(exc: OSError, path: Path) -> str:
    """A short reason for an ``OSError`` raised on ``path``."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "dangling symbolic link" if path.is_symlink() else "file not found"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


def shown(path: str | os.PathLike[str]) -> str:
    """``path`` as valid Unicode: bytes of a file name that do not decode become U+FFFD.

    Python keeps such bytes as lone surrogates, which SQLite, JSON and terminals refuse.
    """
    name = os.fspath(path)
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return name.encode("utf-8", "replace").decode("utf-8")


def printable(text: str, keep: str = "") -> str:
    """``text`` with control and other unprintable characters but those in ``keep`` escaped
    (a newline as ``\\n``), so a file name printed on a terminal cannot start a line of its
    own or hide text, nor a model's text move the cursor or recolour the terminal."""
    return "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in text)


def unsupported_message(suffix: str) -> str:
    kind = f"'{shown(suffix)}'" if suffix else "(no file extension)"
    return f"unsupported file type {kind}; supported: {', '.join(SUPPORTED_SUFFIXES)}"


# -- loading -------------------------------------------------------------------------------


def load_all(
    items: Sequence[T], load: Callable[[T], Document], progress: Progress | None = None
) -> tuple[list[Document], list[IngestError]]:
    """``load`` each item (a path, an upload) in turn: the documents, and the IngestErrors of
    the items that could not be read; ``progress`` hears of each as "reading"."""
    docs: list[Document] = []
    errors: list[IngestError] = []
    for done, item in enumerate(items):
        if progress:
            progress("reading", done, len(items))
        try:
            docs.append(load(item))
        except IngestError as exc:
            errors.append(exc)
    if progress:
        progress("reading", len(items), len(items))
    return docs, errors


def load_file(path: str | Path, source: str | None = None) -> Document:
    """Read one report file; ``source`` defaults to its absolute path.

    A file over ``MAX_FILE_BYTES`` is refused, and a binary one is recognised from its first
    bytes, both before the whole file is read into memory.
    """
    path = Path(path)
    name = shown(path)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise IngestError(name, unsupported_message(path.suffix))
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > MAX_FILE_BYTES:
                limit = MAX_FILE_BYTES // MB
                raise IngestError(
                    name, f"too large: {math.ceil(size / MB)} MB, the limit is {limit} MB"
                )
            if FORMATS[path.suffix.lower()] != "pdf" and _binary(file.read(2 * SNIFF_BYTES)):
                raise IngestError(name, BINARY)
            file.seek(0)
            data = file.read()
    except FileNotFoundError:
        raise IngestError(name, "file not found") from None
    except IsADirectoryError:
        raise IngestError(name, "is a folder, not a file") from None
    except OSError as exc:
        raise IngestError(name, f"cannot read file ({exc.strerror or exc})") from None
    try:
        return load_bytes(data, path.name, source or str(path.resolve()))
    except IngestError as exc:
        raise IngestError(name, exc.reason) from None


def load_bytes(
    data: bytes, filename: str, source: str | None = None, read_seconds: float = READ_SECONDS
) -> Document:
    """Read a report from its bytes (an upload); the suffix of ``filename`` picks the format.

    Every format's text and title go through the same clean-up: line ends made ``\\n``, NUL and
    other control characters dropped (SQLite reads text back only up to a NUL). A page or PDF
    that takes over ``read_seconds`` to read is refused, so no one file holds the worker.
    """
    deadline = time.monotonic() + read_seconds
    try:
        return _load(data, filename, source, deadline)
    except TimeoutError:
        raise IngestError(
            shown(source or filename), f"took over {read_seconds:g} s to read; is it a report?"
        ) from None


def _load(data: bytes, filename: str, source: str | None, deadline: float) -> Document:
    filename = shown(filename)
    name = Path(filename)
    source = shown(source or filename)
    fmt = FORMATS.get(name.suffix.lower())
    if fmt is None:
        raise IngestError(source, unsupported_message(name.suffix))
    pages: tuple[int, ...] = ()
    if fmt == "pdf":
        text, title, day, pages = _read_pdf(data, source, deadline)
    elif fmt == "html":
        markup = decode_text(data, source, declared=declared_charset(data))
        try:
            page = extract_html(markup, deadline)
        except TooMuchMarkup as exc:
            raise IngestError(source, str(exc)) from None
        text, title, day = page.text, page.title, first_date(page.dates)
    else:
        text = _normalise(decode_text(data, source))
        meta: dict[str, str] = {}
        if fmt == "md":
            meta, text = _split_front_matter(text)
            title = meta.get("title") or _md_title(text)
            text = plain_text(text)
        else:
            title = _line_title(text)
        day = parse_date(meta.get("date", ""))
    day = day or _date_line(text)  # what the metadata does not say, the first lines may
    text = _trim(_normalise(text))[0]  # PDF pages were cleaned already: their offsets hold
    if not text:
        raise IngestError(source, "no text found")
    title = " ".join(_normalise(title).split())
    return Document(text, source, title or name.stem, fmt, day, pages)


# -- text ----------------------------------------------------------------------------------


def decode_text(data: bytes, source: str = "<bytes>", declared: str | None = None) -> str:
    """Text of ``data``: BOM, UTF-8, ``declared``, then cp1252 or charset-normalizer's guess.

    Raises ``IngestError`` for binary content: NUL bytes that are not UTF-16, or bytes that
    no encoding turns into plausible text.
    """
    text = _decode(data, declared)
    if text is None or not _plausible(text):
        raise IngestError(source, BINARY)
    return text


def _binary(head: bytes) -> bool:
    """True when a file's first ``2 * SNIFF_BYTES`` bytes already make ``decode_text`` call it
    binary: NUL bytes that are not UTF-16 text, so the rest need not be read."""
    if any(head.startswith(bom) for bom, _ in _BOMS) or b"\x00" not in head[:SNIFF_BYTES]:
        return False
    codec = _utf16_codec(head)
    return codec is None or not _plausible(head.decode(codec, errors="replace"))


def _decode(data: bytes, declared: str | None) -> str | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _try(data, codec)
    if b"\x00" in data[:SNIFF_BYTES]:
        utf16 = _utf16_codec(data)  # UTF-16 without a BOM, else binary
        return _try(data, utf16) if utf16 else None
    for codec in ("utf-8", declared or "utf-8"):
        text = _try(data, codec)
        if text is not None:
            return text
    return _mostly_utf8(data) or _western(data) or _detected(data)


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _utf16_codec(data: bytes) -> str | None:
    """The codec of UTF-16 text without a BOM (mostly ASCII, so every other byte is NUL)."""
    head = data[:SNIFF_BYTES]
    for codec, zeros in (("utf-16-le", head[1::2]), ("utf-16-be", head[0::2])):
        if zeros.count(0) >= 0.9 * len(zeros):
            return codec
    return None


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few bad bytes (replaced) when valid multi-byte characters outnumber them."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(not c.isascii() for c in text) - bad
    return text if good >= 4 * bad else None


def _western(data: bytes) -> str | None:
    """cp1252 text when it decodes to Latin letters with sparse accents and common symbols."""
    text = _try(data, "cp1252")
    if text is None or not all(c.isascii() or c.isalpha() or c in _WESTERN for c in text):
        return None
    letters = sum(c.isalpha() for c in text)
    accented = sum(c.isalpha() and not c.isascii() for c in text)
    return text if accented <= 0.3 * letters else None


def _detected(data: bytes) -> str | None:
    best = charset_normalizer.from_bytes(data).best()
    return None if best is None else str(best)


def _plausible(text: str) -> bool:
    """True when at most 1% of the characters are control characters."""
    sample = text[:SNIFF_BYTES]
    bad = sum(1 for c in sample if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f")
    return bad <= 0.01 * len(sample)


def _normalise(text: str) -> str:
    """Line ends as ``\\n`` (also form and line feeds); other C0 controls but tab dropped."""
    return text.replace("\r\n", "\n").translate(_CONTROLS)


def _trim(text: str) -> tuple[str, int]:
    """Text without leading blank lines and trailing whitespace, and how much was cut in front."""
    text = text.rstrip()
    match = re.match(r"(?:[^\S\n]*\n)*", text)
    lead = match.end() if match else 0
    return text[lead:], lead


def _split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """``key: value`` pairs of a leading ``---`` block (keys lower-cased) and the rest."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta: dict[str, str] = {}
    for line in (match.group(1) or "").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "\t")):
            meta.setdefault(key.strip().lower(), value.strip().strip("'\""))
    return meta, text[match.end() :]


def _md_title(text: str) -> str:
    """The first level-1 heading outside code fences, without its ``#`` marks."""
    fenced = False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("# "):
            return inline(re.sub(r"\s+#+\s*$", "", line[2:])).strip()
    return ""


def _line_title(text: str) -> str:
    """The first non-empty line (a headline); a longer one, a paragraph with no headline
    above it, gives its first sentence, whole (the page shows a long title on two lines at
    most); only a sentence longer than any title may be (``MAX_TITLE``) is cut, at a word
    boundary near 80 characters."""
    line = next((s.strip() for s in text.split("\n") if s.strip()), "")
    if len(line) <= TITLE_MAX:
        return line
    start, end = split_sentences(line)[0]
    if end - start <= MAX_TITLE:
        return line[start:end]
    cut = line[: TITLE_CUT + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space >= TITLE_CUT // 2 else cut[:TITLE_CUT]
    return cut.rstrip(" ,;:-–—") + "…"


def _date_line(text: str) -> str | None:
    """The date a report gives in its first lines: a ``Date: ...`` or ``Published ...`` line,
    or a dateline ("KHERSON, 7 June 2023 -", "KYIV, June 7, 2023 (Reuters) -"). A dateline
    without a year gives none: the year cannot be told."""
    lines = [s.strip().strip("*_").strip() for s in text.split("\n") if s.strip()]
    for line in lines[:DATE_LINES]:
        match = _DATE_LINE.match(line) or _DATELINE.match(line)
        if match and (day := parse_date(match.group(1))):
            return day
    return None


# -- PDF -----------------------------------------------------------------------------------


def _read_pdf(
    data: bytes, source: str, deadline: float
) -> tuple[str, str, str | None, tuple[int, ...]]:
    """Text (pages joined by a blank line), title, date and page start offsets of a PDF,
    read by pypdf in a process of its own (:mod:`qa.pdf`); TimeoutError past ``deadline``."""
    try:
        raw_pages, raw_title, raw_date = read_pdf(data, deadline)
    except PdfUnreadable as exc:
        raise IngestError(source, str(exc)) from None
    texts = [_trim(_normalise(page))[0] for page in raw_pages]
    starts, offset = [], 0
    for page_text in texts:
        starts.append(offset)
        offset += len(page_text) + 2
    text, lead = _trim("\n\n".join(texts))
    if not text:
        raise IngestError(source, "no text found (scanned PDF?)")
    pages = tuple(min(max(0, s - lead), len(text)) for s in starts)
    title = " ".join(raw_title.split())
    if not title or _GENERIC_TITLE.match(title):
        title = _line_title(text)
    return text, title, parse_date(raw_date), pages
