"""The documents view: a page of the stored reports (filtered by title or source), one report
opened as text, and removing it (the page asks first).

Report text, titles and sources are untrusted: they are escaped here, and the list's labels
are plain text to Gradio.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import gradio as gr

from qa.errors import DocumentNotFoundError
from qa.types import ORDERS, DocumentInfo, Order
from qa.ui.auth import read_only
from qa.ui.handlers import header_html
from qa.ui.service import Service
from qa.ui.sources import relative_source
from qa.ui.view import ChatView, Updates

_changes = itertools.count(1)
NOT_YOURS = "You may ask and search; changing or removing reports is not yours."
PAGE = 100  # reports listed at once; a filter finds the others
EMPTY_VIEW = '<p class="qa-empty">Choose a report in the list to read it here.</p>'
# the page asks before a report is removed; the handler gets no id if the user says no
CONFIRM_REMOVE = """(doc) => {
  const title = document.querySelector('#doc-view .doc-title')?.innerText || 'this report';
  return [confirm('Remove “' + title + '” from the index? Answers will no longer cite it.')
          ? doc : '']; }"""
# several at once: one question for all; a "no" sends no open report (None), nothing chosen
# sends the chosen reports as they are (none), to be told to choose first
CONFIRM_REMOVE_CHOSEN = """(ids, opened) => {
  if (!ids.length) return [ids, opened];
  const what = ids.length === 1 ? 'this report' : 'these ' + ids.length + ' reports';
  return confirm('Remove ' + what + ' from the index? Answers will no longer cite them.')
    ? [ids, opened] : [[], null]; }"""


def label(info: DocumentInfo, roots: Sequence[str]) -> str:
    """A report's line in the list: title, date, file (below the folder it came from) and
    size."""
    return (
        f"{info.title} — {info.date or 'undated'} · {relative_source(info.source, roots)} · "
        f"{info.passages} passage{'s' if info.passages != 1 else ''}"
    )


@dataclass
class Library:
    """The documents view's event handlers, writing to the page's components (``view``)."""

    service: Service
    view: ChatView

    def listing(self, contains: str, order: Order = "source") -> Updates:
        """The list of reports matching ``contains``, in ``order``, and a line saying how
        many there are."""
        order = order if order in ORDERS else "source"
        page = self.service.engine.catalog(contains or "", limit=PAGE, order=order)
        shown, total = len(page.documents), page.total
        what = f"matching “{escape(contains.strip())}”" if (contains or "").strip() else "stored"
        how = {"source": "by source", "title": "by title", "date": "newest first"}[order]
        if total == 0:
            note = f"No reports {what}."
        elif shown < total:
            note = f"The first {shown} of {total} reports {what}, {how}; filter to find others."
        else:
            note = f"{total} report{'s' if total != 1 else ''} {what}, {how}."
        roots = self.service.engine.roots()
        choices = [(label(d, roots), d.id) for d in page.documents]
        docs = self.view.docs
        return {
            docs.listing: gr.Radio(choices=choices, value=None),
            docs.chosen: gr.CheckboxGroup(choices=choices, value=[]),
            docs.note: f'<p class="qa-note">{note}</p>',
        }

    def open(self, doc_id: str | None, request: gr.Request | None = None) -> Updates:
        """The report as text, the Remove button and the title and date to correct (shown
        once a report is open, to a user who may change the index) and the open report's
        id."""
        docs = self.view.docs

        def shown(
            html: str, changeable: bool, opened: str, title: str = "", day: str = ""
        ) -> Updates:
            return {
                docs.removed: "",  # what was done before is cleared by the next action
                docs.report: html,
                docs.remove: gr.Button(visible=changeable),
                docs.edit: gr.Accordion(visible=changeable),
                docs.new_title: title,
                docs.new_date: day or None,
                docs.opened: opened,
            }

        if not doc_id:
            return shown(EMPTY_VIEW, False, "")
        try:
            doc = self.service.engine.document(doc_id, exact=True)
        except DocumentNotFoundError:
            gone = '<p class="qa-error-text">This report is no longer in the index.</p>'
            return shown(gone, False, "")
        where = relative_source(doc.source, self.service.engine.roots())
        meta = [where, doc.date or "undated", doc.format, f"id {doc.id}"]
        html = (
            f'<article class="doc-open"><h3 class="doc-title">{escape(doc.title)}</h3>'
            f'<p class="src-meta">{" · ".join(escape(m) for m in meta)}</p>'
            f'<div class="doc-text" tabindex="0">{escape(doc.text)}</div></article>'
        )
        return shown(html, not read_only(request), doc.id, doc.title, doc.date or "")

    def correct(
        self, doc_id: str, title: str, day: str | None, request: gr.Request | None = None
    ) -> Updates:
        """Save the open report's title and date as given (an empty date: as it was), and
        show it again; a title or date that cannot be taken is said, and nothing changes."""
        docs = self.view.docs
        if read_only(request):
            return {docs.removed: f'<p class="qa-note">{NOT_YOURS}</p>'}
        try:
            doc = self.service.engine.correct(
                doc_id, title=title, date=(day or "").strip() or None, exact=True
            )
        except DocumentNotFoundError:
            return {docs.removed: '<p class="qa-note">That report was removed.</p>'}
        except ValueError as exc:
            return {docs.removed: f'<p class="qa-error-text">{escape(str(exc))}</p>'}
        saved = f"Saved: “{escape(doc.title)}”, {escape(doc.date or 'undated')}."
        return {
            **self.open(doc.id, request),
            docs.removed: f'<p class="qa-note">{saved}</p>',
            docs.changed: self.changed(),
        }

    def writers_only(self, request: gr.Request | None = None) -> Updates:
        """The upload box and the removal of several reports, shown only to a user who may
        change the index."""
        shown = not read_only(request)
        docs = self.view.docs
        return {docs.upload: gr.File(visible=shown), docs.several: gr.Accordion(visible=shown)}

    def remove(self, doc_id: str | None, request: gr.Request | None = None) -> Updates:
        """Remove the open report. Updates the status line, what :meth:`open` shows with
        nothing open, the header, and ``changed`` (:meth:`changed`). A read-only user (marked
        by the login middleware) is told so, and nothing is removed."""
        docs = self.view.docs
        if not doc_id:  # the user said no
            return gr.skip()
        if read_only(request):
            return {docs.removed: f'<p class="qa-note">{NOT_YOURS}</p>'}
        try:
            doc = self.service.remove_exact(doc_id)
            where = relative_source(doc.source, self.service.engine.roots())
            status = f"Removed “{escape(doc.title)}” ({escape(where)})."
        except DocumentNotFoundError:
            status = "That report was already removed."
        return {
            **self.open(None),
            docs.removed: f'<p class="qa-note">{status}</p>',
            self.view.header: header_html(self.service),
            docs.changed: self.changed(),
        }

    def remove_chosen(
        self, doc_ids: list[str], opened: str | None, request: gr.Request | None = None
    ) -> Updates:
        """Remove the reports chosen in the list, in one write, after one question
        (:data:`CONFIRM_REMOVE_CHOSEN`; ``opened`` is None when the user said no). Those
        removed meanwhile are said; the open report is closed if it was one of them."""
        docs = self.view.docs
        if opened is None:
            return gr.skip()
        if read_only(request):
            return {docs.removed: f'<p class="qa-note">{NOT_YOURS}</p>'}
        if not doc_ids:
            note = "Choose the reports to remove in “Remove several reports” first."
            return {docs.removed: f'<p class="qa-note">{note}</p>'}
        engine = self.service.engine
        gone = engine.remove_many(doc_ids, exact=True, missing_ok=True)
        roots = engine.roots()
        names = ", ".join(
            f"“{escape(d.title)}” ({escape(relative_source(d.source, roots))})" for d in gone
        )
        status = f"Removed {len(gone)} report{'s' if len(gone) != 1 else ''}: {names}."
        if len(gone) < len(set(doc_ids)):
            status += f" {len(set(doc_ids)) - len(gone)} had already been removed."
        closed = self.open(None) if opened in {d.id for d in gone} else {}
        return {
            **closed,
            docs.removed: f'<p class="qa-note">{status}</p>',
            self.view.header: header_html(self.service),
            docs.changed: self.changed(),
        }

    @staticmethod
    def changed() -> int:
        """A value never sent before: reports were added or removed, so the list (which
        only :meth:`listing` writes) is read again."""
        return next(_changes)
