"""Markdown as a reader sees it: the text without its marks.

A report's stored text is what quotes, highlights and the whole-report view show, so a
Markdown report is stored as plain text: headings lose their ``#`` and become paragraphs of
their own; emphasis, code marks, links (their text kept), images (their alt text kept),
block quote marks, rules and fences go. List bullets stay as ``-``; text inside code fences
is kept as it is.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r" {0,3}(```|~~~)")
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_SETEXT = re.compile(r" {0,3}(?:=+|-+)[ \t]*")  # the line under a heading
_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")
_BULLET = re.compile(r"^( *)[*+][ \t]+")
_QUOTE = re.compile(r"^ {0,3}(?:>[ \t]?)+")
_LINK_DEFINITION = re.compile(r" {0,3}\[[^\]]+\]:[ \t]+\S+.*")
# Linear time whatever a line holds: a span's text may not hold its own opening mark (a
# link's text no "[", its address no "[", "]" or ")", "*" emphasis no "*", "**" no "**"), so
# each character is scanned by at most one opening mark, and spans are bounded (``_SPAN``
# characters); a line longer than ``_LONG`` (no paragraph a person writes) keeps its marks.
_SPAN = 400
_LONG = 20_000
_URL = rf"[^\[\])\n]{{0,{_SPAN}}}"
_INLINE = [
    (re.compile(rf"!\[([^\[\]]{{0,{_SPAN}}})\]\({_URL}\)"), r"\1"),  # ![alt](src)
    (re.compile(rf"\[([^\[\]]{{1,{_SPAN}}})\]\({_URL}\)"), r"\1"),  # [text](url)
    (re.compile(rf"\[([^\[\]]{{1,{_SPAN}}})\]\[[^\[\]]{{0,{_SPAN}}}\]"), r"\1"),  # [text][ref]
    (re.compile(rf"<(https?://[^<>\s]{{1,{_SPAN}}})>"), r"\1"),  # <http://...>
    (re.compile(rf"`([^`\n]{{1,{_SPAN}}})`"), r"\1"),
    (re.compile(rf"\*\*(?=[^\s*])((?:[^*]|\*(?!\*)){{1,{_SPAN}}}?)(?<=\S)\*\*"), r"\1"),
    (re.compile(rf"__(?=[^\s_])((?:[^_]|_(?!_)){{1,{_SPAN}}}?)(?<=\S)__"), r"\1"),
    (re.compile(rf"(?<![\w*])\*(?=[^\s*])([^*]{{1,{_SPAN}}}?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(rf"(?<![\w_])_(?=[^\s_])([^_]{{1,{_SPAN}}}?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(rf"~~(?=[^\s~])([^~]{{1,{_SPAN}}}?)(?<=\S)~~"), r"\1"),
]


def inline(text: str) -> str:
    """One line's text without emphasis, code marks, links and images."""
    if len(text) > _LONG:
        return text
    for pattern, repl in _INLINE:
        text = pattern.sub(repl, text)
    return text


def plain_text(markdown: str) -> str:
    """The text of a Markdown document (lines as ``\\n``), paragraphs kept apart by blank
    lines."""
    out: list[str] = []
    fenced = False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            out.append(line)
            continue
        heading = _HEADING.fullmatch(line)
        if heading:
            out += ["", inline(heading[1] or ""), ""]
        elif _SETEXT.fullmatch(line) and out and out[-1].strip():
            out += [""]  # the heading above is a paragraph of its own
        elif _RULE.fullmatch(line) or _LINK_DEFINITION.fullmatch(line):
            out.append("")
        else:
            line = _QUOTE.sub("", _BULLET.sub(r"\1- ", line))
            out.append(inline(line))
    return re.sub(r"\n[ \t]*(?:\n[ \t]*)+\n", "\n\n", "\n".join(out)).strip("\n")
