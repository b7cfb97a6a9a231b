"""HTML for the chat: questions, errors, answers with ``[n]`` links, and the sources panel.

Report text, titles, sources and questions are untrusted: every one of them goes through
``html.escape`` here or in :mod:`qa.ui.sources`, and nothing else in the UI builds HTML from
them. Element ids carry the answer's own id (``cite-a3-1``), so a marker in an older answer
never opens a newer source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape

from qa.answer.verify import confidence_level
from qa.types import Answer
from qa.ui.sources import Sources, generated_citations

FULL_ANSWERS = 3  # answers whose panel blocks keep their whole reports; older ones, passages
_TRAILING = re.compile(r" ((?:\[\d+\])+)$")  # the markers the answerer puts after a line
_MARKER = re.compile(r"\[(\d+)\]")


def header_html(counts: Mapping[str, int]) -> str:
    """The page's title line, with how many reports and passages the answers come from."""
    reports = f"{counts['documents']} report{'s' if counts['documents'] != 1 else ''}"
    return (
        f"<h1>reportqa</h1><p>Questions answered from {reports} ({counts['chunks']} "
        "passages); every answer cites the exact words of its source.</p>"
    )


def confidence_label(value: float) -> str:
    return confidence_level(value)


def question_html(question: str) -> str:
    return f'<div class="qa-question">{escape(question)}</div>'


def error_html(message: str) -> str:
    return f'<div class="qa-answer qa-error"><p>{escape(message)}</p></div>'


def answer_html(answer: Answer, aid: str, tail: str = "") -> str:
    """The chat bubble: the answer's paragraphs with live ``[n]`` markers, its confidence,
    and ``tail`` (by default a language model's answer, when it has one)."""
    titles = {c.n: c.title for c in answer.citations}
    paragraphs = []
    for i, part in enumerate(p for p in answer.answer.split("\n\n") if p.strip()):
        lead = i == 0 and not answer.abstained and bool(answer.short_answer)
        lines = part.strip().split("\n")
        body = "<br>".join(linked(line, aid, titles, titled=i == 0) for line in lines)
        paragraphs.append(f'<p class="qa-lead">{body}</p>' if lead else f"<p>{body}</p>")
    if answer.abstained and answer.related:
        links = " ".join(
            f'<a class="cite related" href="#rel-{aid}-{i}" title="show passage">[R{i}]'
            f'<span class="sr-only"> related passage {i}: {escape(hit.title)}</span></a>'
            for i, hit in enumerate(answer.related, start=1)
        )
        paragraphs.append(f'<p class="qa-related">Related passages: {links}</p>')
    level = confidence_label(answer.confidence)
    state = "qa-abstained" if answer.abstained else "qa-confident"
    verdict = "Not answered by the reports" if answer.abstained else f"{level.title()} confidence"
    meta = (
        f'<div class="qa-meta"><span class="qa-conf qa-conf-{level}">{verdict} · '
        f"{answer.confidence:.2f}</span></div>"
    )
    if answer.generated and not tail:
        tail = generated_html(answer, aid)
    return (
        f'<div class="qa-answer {state}" id="answer-{aid}">{"".join(paragraphs)}{meta}{tail}</div>'
    )


def writing_html(answer: Answer, aid: str, model: str, written: str) -> str:
    """The answer while a language model is still writing: its text so far, unchecked."""
    return answer_html(
        answer,
        aid,
        tail=f'<div class="qa-generated qa-writing"><p class="qa-gen-head">Being written by a '
        f"language model ({escape(model)}), to be checked…</p><p>{escape(written)}</p></div>",
    )


def generated_html(answer: Answer, aid: str) -> str:
    """A language model's answer under the extractive one: how many of its sentences the
    passages they cite support, then each sentence with its [n] markers (each opens its
    passage), those not supported marked and explained; or why there is none."""
    generated = answer.generated
    assert generated is not None
    model = escape(generated.model)
    if generated.note or not generated.claims:
        why = escape(generated.note or "it wrote nothing")
        return (
            f'<div class="qa-generated"><p class="qa-gen-head">No answer from the language '
            f'model ({model}):</p><p class="qa-note">{why}</p></div>'
        )
    supported = sum(c.supported for c in generated.claims)
    head = (
        f'<p class="qa-gen-head">Written by a language model ({model}) from the passages; '
        f"checked sentence by sentence: {supported} of {len(generated.claims)} supported by "
        "the passages they cite.</p>"
    )
    opens = generated_citations(answer)
    titles = {s.n: s.title for s in generated.sources}
    parts = []
    for claim in generated.claims:
        body = _generated_markers(claim.text, aid, titles, opens)
        if claim.supported:
            parts.append(f'<span class="qa-claim">{body}</span>')
            continue
        why = "; ".join(claim.problems)
        parts.append(
            f'<span class="qa-claim qa-unsupported">{body}</span> '
            f'<span class="qa-flag">Not supported: {escape(why)}</span>'
        )
    removed = sorted({n for c in generated.claims for n in c.removed})
    if removed:
        gone = ", ".join(f"[{n}]" for n in removed)
        parts.append(f'<span class="qa-flag">Removed citations to no passage: {gone}</span>')
    return f'<div class="qa-generated">{head}<p>{" ".join(parts)}</p></div>'


def _generated_markers(
    text: str, aid: str, titles: Mapping[int, str], opens: Mapping[int, int]
) -> str:
    """Escaped text with each [n] a link to its passage, named after it: the extractive
    citation's card when one lies in the passage (``opens``), else the passage's own card."""
    out, pos = [], 0
    for m in _MARKER.finditer(text):
        n = int(m[1])
        label = f'[{n}]<span class="sr-only"> passage {n}: {escape(titles.get(n, ""))}</span>'
        if n in opens:
            mark = f'<a class="cite" href="#cite-{aid}-{opens[n]}" title="show source">{label}</a>'
        elif n in titles:
            mark = f'<a class="cite" href="#gen-{aid}-{n}" title="show passage">{label}</a>'
        else:  # no such passage: kept as text
            mark = escape(m[0])
        out += [escape(text[pos : m.start()]), mark]
        pos = m.end()
    return "".join(out) + escape(text[pos:])


def linked(line: str, aid: str, titles: Mapping[int, str], titled: bool = False) -> str:
    """One escaped line of an answer with the answerer's own markers as links.

    Those are the run of markers ending the line (``six [1][2]``, ``quote [3]``) and, with
    ``titled``, a marker followed by its report's title (``60 [1] (Title); 80 [2] (Title)``).
    A ``[2]`` inside quoted report text, such as a footnote, stays text.
    """
    found: set[tuple[int, int, int]] = set()  # (start, end, n)
    trailing = _TRAILING.search(line)
    if trailing:
        at = trailing.start(1)
        found |= {(at + m.start(), at + m.end(), int(m[1])) for m in _MARKER.finditer(trailing[1])}
    if titled:
        for n, title in titles.items():
            at = line.find(f" [{n}] ({title})") + 1
            if at:
                found.add((at, at + len(f"[{n}]"), n))
    out, pos, linked_to = [], 0, -1
    for start, end, n in sorted(found):
        if n in titles and start >= pos:
            link = (
                f'<a class="cite" href="#cite-{aid}-{n}" title="show source {n}">[{n}]'
                f'<span class="sr-only"> source {n}: {escape(titles[n])}</span></a>'
            )
            between = " " if start == linked_to else escape(line[pos:start])  # [1] [2]
            out += [between, link]
            pos = linked_to = end
    return "".join(out) + escape(line[pos:])


def panel_html(blocks: Sequence[Sources]) -> str:
    """The sources panel: the latest answer's cards, earlier answers' folded away below.

    Only the latest ``FULL_ANSWERS`` answers keep their whole reports (so their markers open
    them); older ones keep their passages, so the panel sent to the page stays small.
    """
    if not blocks:
        return (
            '<div class="qa-panel"><p class="qa-empty">Ask a question: the passages that '
            "support the answer appear here, with the sentence and the answer highlighted. "
            "Click a [n] marker or a card to read the whole report.</p></div>"
        )
    earlier = ""
    if len(blocks) > 1:
        older = [b.full if i < FULL_ANSWERS else b.brief for i, b in enumerate(blocks)]
        earlier = (
            f'<details class="qa-earlier"><summary>Earlier answers ({len(blocks) - 1})</summary>'
            f"{''.join(older[1:])}</details>"
        )
    return f'<div class="qa-panel">{blocks[0].full}{earlier}</div>'
