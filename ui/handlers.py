"""What the chat's events do: ask (in three steps, for a prompt busy state), clear, upload.

Handlers take and return plain values; :mod:`qa.ui.chat` wires them to the components. The
chat history holds rendered HTML, so the raw questions asked so far are kept apart, in state,
to be passed to ``ask`` as the history of a follow-up.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from qa.dates import parse_date
from qa.errors import DocumentNotFoundError, IngestError, QAError
from qa.types import Answer, Document
from qa.ui import render
from qa.ui.service import Filters, Service, UploadRejected, read_upload
from qa.ui.sources import Sources, sources

log = logging.getLogger(__name__)
MAX_PANELS = 10  # answers whose sources stay in the panel (and whose markers keep working)
FAILED = "Something went wrong on the server (the error is in its log); please try again."
WAITING = '<div class="qa-pending">Looking through the reports…</div>'
_answer_ids = itertools.count(1)

Message = dict[str, Any]


def message(role: str, content: str) -> Message:
    return {"role": role, "content": content}


@dataclass
class Handlers:
    """The chat's event handlers, all working on one service."""

    service: Service

    def start(self, text: str, history: list[Message]) -> tuple[Any, ...]:
        """Show the question and a placeholder reply at once; lock the input.

        Returns the chat, the pending question, the text box and the Ask button.
        """
        text = (text or "").strip()
        if not text:
            return gr.skip(), "", gr.skip(), gr.skip()
        user = message("user", render.question_html(text))
        history = [*history, user, message("assistant", WAITING)]
        return history, text, gr.Textbox(value="", interactive=False), busy(True)

    def respond(
        self,
        text: str,
        history: list[Message],
        questions: list[str],
        panels: list[Sources],
        k: float,
        mode: str,
        source_filter: str,
        date_from: str,
        date_to: str,
    ) -> tuple[Any, ...]:
        """Answer the pending question in place of the placeholder.

        Returns the chat, the questions asked, the sources blocks and the sources panel.
        """
        if not text:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            filters = parse_filters(source_filter, date_from, date_to)
            answer = self.service.ask(text, k=int(k), mode=mode, history=questions, filters=filters)
            aid = f"a{next(_answer_ids)}"
            reply = message("assistant", render.answer_html(answer, aid))
            block = sources(answer, aid, self.documents(answer))
        except (QAError, ValueError) as exc:
            error = str(exc)
        except Exception:  # else the placeholder reply would stay, busy, for good
            log.exception("answering %r failed", text)
            error = FAILED
        else:
            panels = [block, *panels][:MAX_PANELS]
            return [*history[:-1], reply], [*questions, text], panels, render.panel_html(panels)
        reply = message("assistant", render.error_html(error))
        return [*history[:-1], reply], questions, panels, gr.skip()

    def finish(self) -> tuple[Any, ...]:
        return gr.Textbox(interactive=True), busy(False)

    def clear(self) -> tuple[Any, ...]:
        """A new conversation: no messages, no history for follow-ups, an empty panel."""
        return [], [], [], render.panel_html([]), ""

    def add_reports(self, paths: list[str] | None, progress: Any) -> tuple[Any, ...]:
        """Add uploaded files, then delete Gradio's copies of them; the upload box is emptied.

        Returns the upload box, the status list and the header (its counts change).
        """
        files = [Path(p) for p in paths or []]
        try:
            lines = self.ingest(files, progress)
        except Exception:  # else the upload would seem to hang, with no word of what failed
            log.exception("adding %d uploaded files failed", len(files))
            lines = [f'<li class="rejected">{escape(FAILED)}</li>']
        finally:  # Gradio keeps each upload in a folder of its own, named by a hash
            for file in files:
                with contextlib.suppress(OSError):
                    file.unlink()
                    file.parent.rmdir()
        status = f"<ul>{''.join(lines)}</ul>" if lines else ""
        return None, status, self.header()

    def ingest(self, files: list[Path], progress: Any) -> list[str]:
        """Read the files one by one, with progress, and store the readable ones together in
        one commit; HTML list items saying what happened to each."""
        items: list[str] = []
        docs: list[Document] = []
        errors: list[IngestError] = []
        for file in progress.tqdm(files, desc="Reading"):
            try:
                name = self.service.check_upload(file.name, file.stat().st_size)
                docs.append(read_upload(name, file.read_bytes()))
            except (UploadRejected, OSError) as exc:
                items.append(f'<li class="rejected">Rejected: {escape(str(exc))}</li>')
            except IngestError as exc:
                errors.append(exc)
        progress(1.0, desc=f"Indexing {len(docs)} reports")
        report = self.service.store(docs, errors)
        items += [
            f'<li class="rejected">Rejected {escape(e.path)}: {escape(e.reason)}</li>'
            for e in report.errors
        ]
        done = ("Added", report.added), ("Replaced", report.replaced)
        for what, stored in (*done, ("Already in the index", report.unchanged)):
            items += [f"<li>{what}: “{escape(d.title)}” ({escape(d.source)})</li>" for d in stored]
        return items

    def header(self) -> str:
        counts = self.service.counts()
        reports = f"{counts['documents']} report{'s' if counts['documents'] != 1 else ''}"
        return (
            f"<h1>reportqa</h1><p>Questions answered from {reports} ({counts['chunks']} "
            "passages); every answer cites the exact words of its source.</p>"
        )

    def documents(self, answer: Answer) -> dict[str, Document]:
        """The documents an answer cites or relates to, by id (missing ones left out)."""
        ids = {c.doc_id for c in answer.citations} | {h.doc_id for h in answer.related}
        docs = {}
        for doc_id in ids:
            try:
                docs[doc_id] = self.service.document(doc_id)
            except DocumentNotFoundError:
                continue
        return docs


def busy(on: bool) -> Any:
    """The Ask button while an answer is being computed, or ready again."""
    return gr.Button(value="Working…" if on else "Ask", interactive=not on)


def parse_filters(sources: str, date_from: str, date_to: str) -> Filters:
    """The settings as filters; a date that cannot be read is a ValueError naming it."""

    def day(value: str, label: str) -> str | None:
        if not value or not value.strip():
            return None
        parsed = parse_date(value)
        if parsed is None:
            raise ValueError(f"the {label} date {value.strip()!r} is not a date; use YYYY-MM-DD")
        return parsed

    names = [s.strip() for s in (sources or "").split(",") if s.strip()]
    return Filters(None, names or None, day(date_from, "from"), day(date_to, "to"))
