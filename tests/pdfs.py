"""Minimal valid PDFs written by hand, for tests that need real PDF files without reportlab."""

from __future__ import annotations

import re

LINE_HEIGHT = 14
TOP = 740


def make_pdf(pages: list[str], title: str | None = None, date: str | None = None) -> bytes:
    """A PDF with one page per string (one text line per ``\\n``-separated line).

    Text is set in Helvetica with WinAnsi encoding, so it must be cp1252 characters.
    ``date`` is an ISO date (``2023-03-09``) or a raw PDF date (``D:20230309120000Z``); it
    becomes the Info dictionary's /CreationDate, and ``title`` its /Title.
    """
    n = len(pages)
    # Objects 1 catalog, 2 page tree, 3 font, then a page and its content per page, then info.
    page_ids = [4 + 2 * i for i in range(n)]
    info_id = 4 + 2 * n
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for page_id, text in zip(page_ids, pages, strict=True):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        stream = _content(text)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    info = [b"/Producer (tests.pdfs)"]
    if title is not None:
        info.append(b"/Title " + _string(title))
    if date is not None:
        info.append(b"/CreationDate " + _string(_pdf_date(date)))
    objects.append(b"<< " + b" ".join(info) + b" >>")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, info_id)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _content(text: str) -> bytes:
    """A content stream drawing each line of ``text`` one line below the previous one."""
    ops = [b"BT", b"/F1 12 Tf", b"72 %d Td" % TOP]
    for i, line in enumerate(text.split("\n")):
        if i:
            ops.append(b"0 -%d Td" % LINE_HEIGHT)
        if line:
            ops.append(_string(line) + b" Tj")
    ops.append(b"ET")
    return b"\n".join(ops)


def _string(text: str) -> bytes:
    """A PDF literal string: cp1252 bytes, with ``\\ ( )`` and non-ASCII bytes escaped."""
    out = bytearray(b"(")
    for byte in text.encode("cp1252"):
        if byte in b"\\()":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    return bytes(out + b")")


def _pdf_date(value: str) -> str:
    if value.startswith("D:"):
        return value
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    if not match:
        raise ValueError(f"date must be YYYY-MM-DD or D:YYYYMMDD..., got {value!r}")
    return "D:{}{}{}000000Z".format(*match.groups())


def slow_pdf(operators: int) -> bytes:
    """A small PDF whose one page draws ``operators`` bits of text, its content stream
    compressed (FlateDecode): 2 million operators fit in 21 KB and take pypdf about 30 s."""
    import zlib

    body = b"BT /F1 12 Tf 72 740 Td " + b"(x) Tj " * operators + b"ET"
    stream = zlib.compress(body, 9)
    pdf = make_pdf(["x"])
    start = pdf.index(b"<< /Length ")
    end = pdf.index(b"endstream", start) + len(b"endstream")
    replaced = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
    replaced += b"\nendstream"
    return pdf[:start] + replaced + pdf[end:]  # pypdf finds the moved offsets itself
