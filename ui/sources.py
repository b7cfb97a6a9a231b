"""HTML for one answer's sources: a card per cited passage, and each cited report once, whole.

A card shows its passage with the quote and the answer highlighted; the whole report, with
every passage of this answer marked in it, follows the cards once per report however many
cards cite it. Report text is untrusted: it is always escaped here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import PurePath
from typing import NamedTuple

from qa.types import Answer, Citation, Document, Hit

CONTEXT = 320  # characters of the report shown around a cited sentence


class Sources(NamedTuple):
    """One answer's block of the panel: ``full`` with the whole reports, ``brief`` without."""

    full: str
    brief: str


class Spot(NamedTuple):
    """A marked passage: where it is, what its card shows, and the ids that link to it."""

    doc_id: str
    span: tuple[int, int]
    answer: tuple[int, int] | None
    card_id: str
    mark_id: str
    label: str
    title: str
    source: str
    page: int | None
    date: str | None
    related: bool


def sources(answer: Answer, aid: str, docs: Mapping[str, Document]) -> Sources:
    """The source cards of one answer (or its related passages when it abstained), then
    those of the passages a language model's answer cites that no card above holds."""
    question = escape(answer.question)
    if answer.abstained:
        head = f"No answer in the reports to “{question}”. Related passages:"
        spots = [_spot(hit, aid, f"r{i}") for i, hit in enumerate(answer.related, start=1)]
    else:
        head = f"Sources for “{question}”"
        spots = [_spot(c, aid, str(c.n)) for c in answer.citations]
    given = _generated_spots(answer, aid, docs)
    state = "abstained" if answer.abstained else "answered"
    top = (
        f'<section class="qa-sources {state}" id="src-{aid}">'
        f'<h4 class="qa-sources-head">{head}</h4>'
    )
    empty = '<p class="qa-empty">No passage came close.</p>'
    sub = '<h5 class="qa-sources-sub">Passages the language model cites</h5>' if given else ""
    blocks = []
    for brief in (False, True):
        cards = "".join(card(s, docs.get(s.doc_id), brief) for s in spots) or empty
        blocks.append(cards + sub + "".join(card(s, docs.get(s.doc_id), brief) for s in given))
    reports = whole_reports([*spots, *given], docs, aid)
    return Sources(f"{top}{blocks[0]}{reports}</section>", f"{top}{blocks[1]}</section>")


def generated_citations(answer: Answer) -> dict[int, int]:
    """For each passage a language model was given, the extractive citation inside it, if
    any: its [n] opens that citation's card."""
    found = {}
    for source in answer.generated.sources if answer.generated else ():
        for c in answer.citations:
            if c.within(source.doc_id, source.start, source.end):
                found[source.n] = c.n
                break
    return found


def _generated_spots(answer: Answer, aid: str, docs: Mapping[str, Document]) -> list[Spot]:
    """The passages the language model's sentences cite that hold no extractive citation."""
    if answer.generated is None:
        return []
    cited = {n for claim in answer.generated.claims for n in claim.citations}
    covered = generated_citations(answer)
    spots = []
    for s in answer.generated.sources:
        if s.n in cited and s.n not in covered:
            doc = docs.get(s.doc_id)
            page, day = (doc.page_at(s.start), doc.date) if doc else (None, None)
            card_id, mark_id, label = f"card-{aid}-g{s.n}", f"gen-{aid}-{s.n}", f"[{s.n}]"
            span = (s.start, s.end)
            spot = Spot(
                s.doc_id, span, None, card_id, mark_id, label, s.title, s.source, page, day, True
            )
            spots.append(spot)
    return spots


def _spot(of: Citation | Hit, aid: str, key: str) -> Spot:
    """The spot of a citation (``key`` "3") or of a related passage (``key`` "r3")."""
    related = isinstance(of, Hit)
    answer = None
    if isinstance(of, Citation) and of.answer_start is not None and of.answer_end is not None:
        answer = (of.answer_start, of.answer_end)
    mark_id = f"rel-{aid}-{key[1:]}" if related else f"cite-{aid}-{key}"
    span = (of.start, of.end)
    meta = (of.title, of.source, of.page, of.date)
    return Spot(
        of.doc_id, span, answer, f"card-{aid}-{key}", mark_id, f"[{key.upper()}]", *meta, related
    )


def card(spot: Spot, doc: Document | None, brief: bool) -> str:
    """A source card: title, source, page and date, and the passage.

    In full blocks the card links to its mark in the whole report below; in brief ones the
    passage's own highlight carries the mark's id, so the answer's marker still finds it.
    """
    meta = [f'<span class="src-source">{escape(short_source(spot.source))}</span>']
    if spot.page:
        meta.append(f"p. {spot.page}")
    meta.append(escape(spot.date) if spot.date else "undated")
    cls = "hl-related" if spot.related else "hl-quote"
    more = ""
    if doc is None:  # removed since the answer was given
        passage = '<span class="qa-empty">This report is no longer in the index.</span>'
    else:
        if brief:  # the highlight carries the id that the answer's marker points to
            lo, hi = spot.span if spot.related else passage_bounds(doc.text, *spot.span)
            passage = highlight(doc.text, lo, hi, spot.span, spot.answer, cls, spot.mark_id)
        elif spot.related:  # a retrieved passage: shown as it is, marked in the whole report
            passage = escape(doc.text[spot.span[0] : spot.span[1]])
        else:
            bounds = passage_bounds(doc.text, *spot.span)
            passage = highlight(doc.text, *bounds, spot.span, spot.answer, cls)
        if not brief:
            more = f'<a class="cite src-open" href="#{spot.mark_id}">Show in the whole report</a>'
    return (
        f'<article class="src-card{" related" if spot.related else ""}" id="{spot.card_id}" '
        f'data-mark="{spot.mark_id}" tabindex="0" role="button" '
        f'aria-label="{spot.label} {escape(spot.title)}: show in the whole report">'
        '<header class="src-head">'
        f'<span class="src-n">{spot.label}'
        f'</span> <span class="src-title">{escape(spot.title)}</span></header>'
        f'<div class="src-meta">{" · ".join(meta)}</div>'
        f'<div class="src-passage">{passage}</div>{more}</article>'
    )


def whole_reports(spots: Sequence[Spot], docs: Mapping[str, Document], aid: str) -> str:
    """Each report the spots are in, once, with all of its spots marked."""
    by_doc: dict[str, list[Spot]] = {}
    for spot in spots:
        if spot.doc_id in docs:
            by_doc.setdefault(spot.doc_id, []).append(spot)
    parts = []
    for i, (doc_id, doc_spots) in enumerate(by_doc.items(), start=1):
        doc = docs[doc_id]
        parts.append(
            f'<details class="src-full" id="doc-{aid}-{i}"><summary>Whole report: '
            f"{escape(doc.title)}</summary>"
            f'<div class="src-text">{marked(doc.text, doc_spots)}</div></details>'
        )
    return f'<div class="qa-reports">{"".join(parts)}</div>' if parts else ""


def marked(text: str, spots: Sequence[Spot]) -> str:
    """All of ``text``, escaped, with each spot in a <mark> carrying its id.

    Overlapping spots (neighbouring retrieved chunks share text) are cut where the previous
    one ends, since marks cannot overlap.
    """
    out, pos = [], 0
    for spot in sorted(spots, key=lambda s: s.span):
        start = max(spot.span[0], pos)
        end = max(spot.span[1], start)
        cls = "hl-related" if spot.related else "hl-quote"
        out += [escape(text[pos:start]), _mark(text, (start, end), spot.answer, cls, spot.mark_id)]
        pos = end
    return "".join(out) + escape(text[pos:])


def relative_source(source: str, roots: Sequence[str]) -> str:
    """A file's path below the folder it was ingested from, that folder's name first
    (``news/2024/kyiv.md`` for ``/srv/news/2024/kyiv.md`` from ``qa ingest /srv/news``); a
    path under no known folder, by its file name; other sources (names, URLs) as they are."""
    if not source.startswith("/"):
        return short_source(source)
    under = [r for r in roots if source.startswith(r.rstrip("/") + "/")]
    if not under:
        return short_source(source)
    root = PurePath(max(under, key=len))
    return str(PurePath(root.name, PurePath(source).relative_to(root)))


def short_source(source: str) -> str:
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
    before = ("…" if lo > 0 and text[lo - 1] != "\n" else "") + escape(text[lo:start])
    after = escape(text[end:hi]) + ("…" if hi < len(text) and text[hi] != "\n" else "")
    return f"{before}{_mark(text, span, answer, cls, mark_id)}{after}"


def _mark(
    text: str, span: tuple[int, int], answer: tuple[int, int] | None, cls: str, mark_id: str | None
) -> str:
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
    return f'<mark class="{cls}"{ident}>{inner}</mark>'
