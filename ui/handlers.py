"""What the chat's events do: ask (in three steps, for a prompt busy state; each answer is
saved with :mod:`qa.ui.history`), clear, upload (a background job whose progress the page
shows).

Handlers take and return plain values; :mod:`qa.ui.chat` wires them to the components. The
chat history holds rendered HTML, so the raw questions asked so far are kept apart, in state,
to be passed to ``ask`` as the history of a follow-up.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, cast

import gradio as gr

from qa.dates import parse_date
from qa.errors import QAError
from qa.options import AskOptions, Filters, Mode
from qa.types import Answer
from qa.ui import render
from qa.ui.conversations import Turn
from qa.ui.history import MAX_PANELS, Chats, Message, answer_id, message, reply
from qa.ui.jobs import Job
from qa.ui.schemas import MAX_ASK_K
from qa.ui.service import Service, UploadRejected
from qa.ui.sources import Sources, sources

log = logging.getLogger(__name__)
FAILED = "Something went wrong on the server (the error is in its log); please try again."
WAITING = '<div class="qa-pending">Looking through the reports…</div>'
POLL_SECONDS = 0.5  # how often the page hears how an upload goes


@dataclass
class Handlers:
    """The chat's event handlers, all working on one service and its saved chats."""

    service: Service
    chats: Chats

    def start(self, text: str, history: list[Message]) -> tuple[Any, ...]:
        """Show the question and a placeholder reply at once; lock the input.

        Returns the chat, the pending question, the text box, then the controls (see
        :func:`controls`).
        """
        text = (text or "").strip()
        if not text:
            return gr.skip(), "", gr.skip(), *(gr.skip() for _ in range(CONTROLS))
        user = message("user", render.question_html(text))
        history = [*history, user, message("assistant", WAITING)]
        return history, text, gr.Textbox(value="", interactive=False), *controls(False)

    def respond(
        self,
        text: str,
        history: list[Message],
        questions: list[str],
        panels: list[Sources],
        chat_id: str,
        browser: str,
        k: float,
        mode: str,
        source_filter: str,
        date_from: str,
        date_to: str,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        """Answer the pending question in place of the placeholder (with a language model,
        its answer streams in below), and save it.

        Yields the chat, the questions asked, the sources blocks, the sources panel, and
        what ``Chats.save`` returns.
        """
        if not text:
            yield (gr.skip(),) * 7
            return
        owner = self.chats.owner(request, browser)
        try:
            filters = parse_filters(source_filter, date_from, date_to)
            k = min(max(int(k), 1), MAX_ASK_K)  # the client sends the slider's value
            options = AskOptions(k, cast(Mode, mode), filters)
            events = self.service.engine.ask_stream(text, options, questions)
            answer = next(events)
            assert isinstance(answer, Answer)
        except (QAError, ValueError) as exc:
            error = str(exc)
        except Exception:  # else the placeholder reply would stay, busy, for good
            log.exception("answering %r failed", text)
            error = FAILED
        else:
            try:
                shown = yield from self._answered(text, answer, events, history, questions, panels)
            finally:
                events.close()  # a user who left hangs up on the language model too
            bubble = message("assistant", render.answer_html(*shown))
            saved = self.chats.save(owner, chat_id, Turn(text, shown[0]))
            yield [*history[:-1], bubble], gr.skip(), gr.skip(), gr.skip(), *saved
            return
        turn = Turn(text, None, error)
        bubble, _ = reply(turn, None)
        saved = self.chats.save(owner, chat_id, turn)
        yield [*history[:-1], bubble], questions, panels, gr.skip(), *saved

    def _answered(
        self,
        text: str,
        answer: Answer,
        events: Iterator[Answer | str],
        history: list[Message],
        questions: list[str],
        panels: list[Sources],
    ) -> Generator[tuple[Any, ...], None, tuple[Answer, str]]:
        """Show the extractive answer and its sources at once, then a language model's
        text as it is written; returns the answer to show and keep, and its id."""
        aid = answer_id()
        panels = [sources(answer, aid, answer.documents), *panels][:MAX_PANELS]
        skips = (gr.skip(),) * 6

        def bubble(html: str) -> list[Message]:
            return [*history[:-1], message("assistant", html)]

        shown = bubble(render.answer_html(answer, aid))
        yield shown, [*questions, text], panels, render.panel_html(panels), *skips[:3]
        model = self.service.engine.llm.model if self.service.engine.llm else ""
        written = ""
        try:
            for event in events:
                if isinstance(event, Answer):
                    answer = event
                elif not event:  # the model is still at work: a no-op, so a user who left
                    yield (gr.skip(),) * 7  # is noticed and the model hung up on
                else:
                    written += event
                    yield bubble(render.writing_html(answer, aid, model, written)), *skips
        except Exception:  # the extractive answer stands; the page must not stay busy
            log.exception("writing an answer to %r failed", text)
        return answer, aid

    def finish(self) -> tuple[Any, ...]:
        return gr.Textbox(interactive=True), *controls(True)

    def clear(self) -> tuple[Any, ...]:
        """A new conversation: no messages, no history for follow-ups, an empty panel, no
        pending question, no chat chosen in the list and no name."""
        return [], [], [], render.panel_html([]), "", "", gr.Radio(value=None), ""

    def add_reports(self, paths: list[str] | None) -> Iterator[tuple[Any, ...]]:
        """Store the uploaded files as a background job, showing its progress until it ends.

        Only files that Gradio itself received into its upload folder are read (a client
        names the paths, and could name any file on the server's disk); Gradio's copies are
        deleted once read. Yields the upload box, the status list and the header.
        """
        items: list[str] = []
        try:
            files = self.received(paths or [], items)
        except Exception:  # else the upload would seem to hang, with no word of what failed
            log.exception("reading %d uploaded files failed", len(paths or []))
            yield None, status_html([f'<li class="rejected">{escape(FAILED)}</li>']), gr.skip()
            return
        if not files:
            yield None, status_html(items), gr.skip()
            return
        try:
            job = self.service.submit(files)
        except UploadRejected as exc:
            yield (
                None,
                status_html([*items, f'<li class="rejected">{escape(str(exc))}</li>']),
                gr.skip(),
            )
            return
        while not self.service.jobs.wait(job, POLL_SECONDS):
            yield None, status_html([*items, progress_html(job)]), gr.skip()
        yield None, status_html(items + outcome(job)), self.header()

    def received(self, paths: list[str], items: list[str]) -> list[tuple[str, bytes]]:
        """The name and bytes of each uploaded file that may be stored; a line in ``items``
        for each one refused. Every file is deleted after, if it is Gradio's."""
        folder = Path(upload_folder()).resolve()
        files: list[tuple[str, bytes]] = []
        for raw in paths:
            path = Path(raw)
            try:
                real = path.resolve(strict=True)
                if not real.is_relative_to(folder) or not real.is_file():
                    log.warning("refused to read %r: not a file Gradio received", raw)
                    raise UploadRejected(403, f"{path.name}: not a file uploaded to this server")
                try:
                    name = self.service.check_upload(path.name, real.stat().st_size)
                    files.append((name, real.read_bytes()))
                finally:
                    with contextlib.suppress(OSError):
                        real.unlink()
                        if real.parent != folder:  # Gradio keeps each upload in a folder
                            real.parent.rmdir()  # of its own, named by a hash
            except (UploadRejected, OSError) as exc:
                reason = exc if isinstance(exc, UploadRejected) else f"{path.name}: unreadable"
                items.append(f'<li class="rejected">Rejected: {escape(str(reason))}</li>')
        return files

    def header(self) -> str:
        return render.header_html(self.service.engine.counts())


CONTROLS = 6


def controls(ready: bool) -> tuple[Any, ...]:
    """The Ask button, New chat, the chat list, the chat's name, Rename and Delete: locked
    while an answer is being written, since the answer's own updates would undo a chat
    opened, started or renamed meanwhile (and Delete would remove the chat opened, not the
    one on screen)."""
    ask = gr.Button(value="Ask" if ready else "Working…", interactive=ready)
    return ask, *(gr.update(interactive=ready) for _ in range(CONTROLS - 1))


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
    return Filters((), names, day(date_from, "from"), day(date_to, "to"))


def settings_label(sources: str, date_from: str, date_to: str) -> Any:
    """The Settings section's title, saying which filters are on, so it shows while the
    section is folded."""
    on = []
    names = [s.strip() for s in (sources or "").split(",") if s.strip()]
    if names:
        on.append("sources " + ", ".join(f"“{n}”" for n in names))
    if (date_from or "").strip():
        on.append(f"from {date_from.strip()}")
    if (date_to or "").strip():
        on.append(f"to {date_to.strip()}")
    return gr.Accordion(label="Settings · filters on: " + "; ".join(on) if on else "Settings")


def upload_folder() -> str:
    """The folder Gradio saves uploads in (``$GRADIO_TEMP_DIR``, else a temp folder)."""
    from gradio.utils import get_upload_folder

    return get_upload_folder()


def status_html(items: list[str]) -> str:
    return f"<ul>{''.join(items)}</ul>" if items else ""


def progress_html(job: Job) -> str:
    """A list item with a progress bar for a job under way."""
    what = {"reading": "Reading", "embedding": "Indexing"}.get(job.stage, "Waiting to start")
    unit = {"reading": "files", "embedding": "passages"}.get(job.stage, "")
    count = f" {job.done}/{job.total} {unit}" if job.total else ""
    bar = (
        f'<progress value="{job.done}" max="{job.total}" aria-label="{what}"></progress>'
        if job.total
        else ""
    )
    files = len(job.files)
    return (
        f'<li class="pending">{what}{count} ({files} report{"s" if files != 1 else ""}){bar}</li>'
    )


def outcome(job: Job) -> list[str]:
    """HTML list items saying what happened to each file of a finished job."""
    if job.report is None:
        return [f'<li class="rejected">{escape(job.error or FAILED)}</li>']
    report = job.report
    items = [
        f'<li class="rejected">Rejected {escape(e.path)}: {escape(e.reason)}</li>'
        for e in report.errors
    ]
    done = ("Added", report.added), ("Replaced", report.replaced)
    for what, stored in (*done, ("Already in the index", report.unchanged)):
        items += [f"<li>{what}: “{escape(d.title)}” ({escape(d.source)})</li>" for d in stored]
    return items
