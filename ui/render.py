"""HTML for the chat: answers with ``[n]`` links, and source cards with highlighted passages.

Report text, titles, sources and questions are untrusted: every one of them goes through
``html.escape`` here, and nothing else in the UI builds HTML from them. Element ids carry the
answer's own id (``cite-a3-1``), so a marker in an older answer never opens a newer source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import PurePath
from typing import NamedTuple

from qa.types import Answer, Citation, Document, Hit

CONTEXT = 320  # characters of the report shown around a cited sentence
HIGH, MEDIUM = 0.75, 0.45  # confidence labels
_MARKER = re.compile(r"\[(\d+)\]")


def confidence_label(value: float) -> str:
    return "high" if value >= HIGH else "medium" if value >= MEDIUM else "low"


def question_html(question: str) -> str:
    return f'<div class="qa-question">{escape(question)}</div>'


def error_html(message: str) -> str:
    return f'<div class="qa-answer qa-error"><p>{escape(message)}</p></div>'


def answer_html(answer: Answer, aid: str) -> str:
    """The chat bubble: the answer's paragraphs with live ``[n]`` markers, and its confidence."""
    numbers = {c.n for c in answer.citations}

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in numbers:
            return match.group(0)
        return f'<a class="cite" href="#cite-{aid}-{n}" title="show source {n}">[{n}]</a>'

    paragraphs = []
    for i, part in enumerate(p for p in answer.answer.split("\n\n") if p.strip()):
        body = _MARKER.sub(link, escape(part.strip())).replace("\n", "<br>")
        lead = i == 0 and not answer.abstained and answer.short_answer
        paragraphs.append(f'<p class="qa-lead">{body}</p>' if lead else f"<p>{body}</p>")
    if answer.abstained and answer.related:
        links = " ".join(
            f'<a class="cite related" href="#rel-{aid}-{i}" title="show passage">[R{i}]</a>'
            for i in range(1, len(answer.related) + 1)
        )
        paragraphs.append(f'<p class="qa-related">Related passages: {links}</p>')
    level = confidence_label(answer.confidence)
    state = "qa-abstained" if answer.abstained else "qa-confident"
    verdict = "Not answered by the reports" if answer.abstained else f"{level.title()} confidence"
    meta = (
        f'<div class="qa-meta"><span class="qa-conf qa-conf-{level}">{verdict} · '
        f"{answer.confidence:.2f}</span></div>"
    )
    return f'<div class="qa-answer {state}" id="answer-{aid}">{"".join(paragraphs)}{meta}</div>'


def sources_html(answer: Answer, aid: str, docs: Mapping[str, Document]) -> str:
    """The source cards of one answer (or its related passages when it abstained)."""
    question = escape(answer.question)
    if answer.abstained:
        head = f"No answer in the reports to “{question}”. Related passages:"
        cards = [
            _related_card(hit, aid, i, docs.get(hit.doc_id))
            for i, hit in enumerate(answer.related, start=1)
        ]
        if not cards:
            cards = ['<p class="qa-empty">No passage came close.</p>']
    else:
        head = f"Sources for “{question}”"
        cards = [_citation_card(c, aid, docs.get(c.doc_id)) for c in answer.citations]
    state = "abstained" if answer.abstained else "answered"
    return (
        f'<section class="qa-sources {state}" id="src-{aid}">'
        f'<h4 class="qa-sources-head">{head}</h4>{"".join(cards)}</section>'
    )


def panel_html(blocks: Sequence[str]) -> str:
    """The sources panel: the latest answer's cards, earlier answers' folded away below."""
    if not blocks:
        return (
            '<div class="qa-panel"><p class="qa-empty">Ask a question: the passages that '
            "support the answer appear here, with the sentence and the answer highlighted. "
            "Click a [n] marker or a card to read the whole report.</p></div>"
        )
    earlier = ""
    if len(blocks) > 1:
        earlier = (
            f'<details class="qa-earlier"><summary>Earlier answers ({len(blocks) - 1})</summary>'
            f"{''.join(blocks[1:])}</details>"
        )
    return f'<div class="qa-panel">{blocks[0]}{earlier}</div>'


class Head(NamedTuple):
    """What a source card shows above its passage, and the ids that link to it."""

    card_id: str
    mark_id: str
    label: str
    title: str
    source: str
    page: int | None
    date: str | None


def _citation_card(c: Citation, aid: str, doc: Document | None) -> str:
    answer = None
    if c.answer_start is not None and c.answer_end is not None:
        answer = (c.answer_start, c.answer_end)
    mark = f"cite-{aid}-{c.n}"
    head = Head(f"card-{aid}-{c.n}", mark, f"[{c.n}]", c.title, c.source, c.page, c.date)
    return _card(head, doc, (c.start, c.end), answer)


def _related_card(hit: Hit, aid: str, i: int, doc: Document | None) -> str:
    mark = f"rel-{aid}-{i}"
    head = Head(f"card-{aid}-r{i}", mark, f"[R{i}]", hit.title, hit.source, hit.page, hit.date)
    return _card(head, doc, (hit.start, hit.end), None, related=True)


def _card(
    head: Head,
    doc: Document | None,
    span: tuple[int, int],
    answer: tuple[int, int] | None,
    related: bool = False,
) -> str:
    """A source card: title, source, page and date, the passage, and the whole report."""
    meta = [
        f'<span class="src-source" title="{escape(head.source)}">{escape(_short(head.source))}'
        "</span>"
    ]
    if head.page:
        meta.append(f"p. {head.page}")
    meta.append(escape(head.date) if head.date else "undated")
    cls = "hl-related" if related else "hl-quote"
    if doc is None:  # removed since the answer was given
        passage = full = '<span class="qa-empty">This report is no longer in the index.</span>'
    else:
        full = highlight(doc.text, 0, len(doc.text), span, answer, cls, head.mark_id)
        if related:  # a retrieved passage: shown as it is, marked in the whole report
            passage = escape(doc.text[span[0] : span[1]])
        else:
            passage = highlight(doc.text, *passage_bounds(doc.text, *span), span, answer, cls)
    return (
        f'<article class="src-card{" related" if related else ""}" id="{head.card_id}" '
        f'data-mark="{head.mark_id}"><header class="src-head"><span class="src-n">{head.label}'
        f'</span> <span class="src-title">{escape(head.title)}</span></header>'
        f'<div class="src-meta">{" · ".join(meta)}</div>'
        f'<div class="src-passage">{passage}</div>'
        '<details class="src-full"><summary>Whole report</summary>'
        f'<div class="src-text">{full}</div></details></article>'
    )


def _short(source: str) -> str:
    """A file path's last part; other sources (names, URLs) as they are."""
    if "/" in source and not source.startswith(("http://", "https://")):
        return PurePath(source).name or source
    return source


def passage_bounds(text: str, start: int, end: int, context: int = CONTEXT) -> tuple[int, int]:
    """Whole paragraphs around ``text[start:end]``, up to ``context`` characters a side.

    Where no paragraph break falls inside that window the passage is cut at a space.
    """
    lo, hi = max(0, start - context), min(len(text), end + context)
    if lo > 0:
        newline = text.find("\n", lo, start)
        lo = newline + 1 if newline != -1 else (text.find(" ", lo, start) + 1 or lo)
    if hi < len(text):
        newline = text.rfind("\n", end, hi)
        space = text.rfind(" ", end, hi)
        hi = newline if newline != -1 else (space if space != -1 else hi)
    return lo, hi


def highlight(
    text: str,
    lo: int,
    hi: int,
    span: tuple[int, int],
    answer: tuple[int, int] | None = None,
    cls: str = "hl-quote",
    mark_id: str | None = None,
) -> str:
    """Escaped ``text[lo:hi]`` with ``span`` in a <mark> and ``answer`` in a <mark> inside it."""
    start, end = span
    if answer is not None and start <= answer[0] < answer[1] <= end:
        a, b = answer
        inner = (
            f'{escape(text[start:a])}<mark class="hl-answer">{escape(text[a:b])}</mark>'
            f"{escape(text[b:end])}"
        )
    else:
        inner = escape(text[start:end])
    ident = f' id="{mark_id}"' if mark_id else ""
    before = ("…" if lo > 0 and text[lo - 1] != "\n" else "") + escape(text[lo:start])
    after = escape(text[end:hi]) + ("…" if hi < len(text) and text[hi] != "\n" else "")
    return f'{before}<mark class="{cls}"{ident}>{inner}</mark>{after}'
