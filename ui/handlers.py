"""What the chat's events do: ask (in three steps, for a prompt busy state; each answer is
saved with :mod:`qa.ui.history`), clear, upload (a background job whose progress the page
shows).

Handlers take plain values (``respond``, which reads eleven, takes them in one dict by
component) and return :data:`~qa.ui.view.Updates`, keyed by the components of the page's
:class:`~qa.ui.view.ChatView`; :mod:`qa.ui.chat` wires them. The chat history holds rendered
HTML, so the raw questions asked so far are kept apart, in state, to be passed to ``ask`` as
the history of a follow-up.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, cast

import gradio as gr
from gradio.blocks import Block

from qa.dates import not_a_day, parse_date
from qa.errors import QAError
from qa.options import AskOptions, Filters, Mode
from qa.types import Answer
from qa.ui import render
from qa.ui.conversations import Turn
from qa.ui.history import MAX_PANELS, Chats, Message, answer_id, message, reply
from qa.ui.jobs import Job
from qa.ui.schemas import MAX_ASK_K
from qa.ui.service import MAX_FILES, Service, UploadRejected
from qa.ui.sources import Sources, sources
from qa.ui.view import ChatView, Updates

log = logging.getLogger(__name__)
FAILED = "Something went wrong on the server (the error is in its log); please try again."
WAITING = '<div class="qa-pending">Looking through the reports…</div>'
POLL_SECONDS = 0.5  # how often the page hears how an upload goes
MAX_REFUSED_TEXT = 64 * 1024  # characters of the page's list of the files it took out


@dataclass
class Handlers:
    """The chat's event handlers, all working on one service and its saved chats; each
    returns (or yields) the updates of the page's components (``view``) it changes."""

    service: Service
    chats: Chats
    view: ChatView

    def start(self, text: str, history: list[Message]) -> Updates:
        """Show the question and a placeholder reply at once; lock the input. The question
        becomes ``pending``, for :meth:`respond` (nothing is pending for an empty box)."""
        v = self.view
        text = (text or "").strip()
        if not text:
            return {v.pending: ""}
        user = message("user", render.question_html(text))
        return {
            v.chat.messages: [*history, user, message("assistant", WAITING)],
            v.pending: text,
            v.chat.question: gr.Textbox(value="", interactive=False),
            **controls(v, ready=False),
        }

    def respond(self, values: dict[Block, Any], request: gr.Request) -> Iterator[Updates]:
        """Answer the pending question in place of the placeholder (with a language model,
        its answer streams in below), and save it.

        ``values`` holds the view's ``pending`` question, the messages, ``asked``,
        ``panels``, ``chat_id``, ``browser`` and the settings. Updates the messages, the
        questions asked, the sources blocks and panel, and what ``Chats.save`` changes.
        """
        v, settings = self.view, self.view.settings
        text: str = values[v.pending]
        if not text:
            yield gr.skip()
            return
        history: list[Message] = values[v.chat.messages]
        questions: list[str] = values[v.asked]
        panels: list[Sources] = values[v.panels]
        chat_id: str = values[v.chat_id]
        owner = self.chats.owner(request, values[v.browser])
        try:
            filters = parse_filters(
                values[settings.sources], values[settings.date_from], values[settings.date_to]
            )
        except ValueError as exc:  # the settings' fault, not an answer: nothing is saved, and
            gr.Warning(f"Settings: {exc}")  # the question goes back in its box
            yield {v.chat.messages: history[:-2], v.chat.question: text}
            return
        try:
            # the client sends the slider's value
            k = min(max(int(values[settings.k]), 1), MAX_ASK_K)
            options = AskOptions(k, cast(Mode, values[settings.mode]), filters)
            with self.service.admission.turn():  # the language model's part is not CPU's
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
            yield {v.chat.messages: [*history[:-1], bubble], **saved}
            return
        turn = Turn(text, None, error)
        bubble, _ = reply(turn, None)
        saved = self.chats.save(owner, chat_id, turn)
        yield {v.chat.messages: [*history[:-1], bubble], **saved}

    def _answered(
        self,
        text: str,
        answer: Answer,
        events: Iterator[Answer | str],
        history: list[Message],
        questions: list[str],
        panels: list[Sources],
    ) -> Generator[Updates, None, tuple[Answer, str]]:
        """Show the extractive answer and its sources at once, then a language model's
        text as it is written; returns the answer to show and keep, and its id."""
        v = self.view
        aid = answer_id()
        panels = [sources(answer, aid, answer.documents), *panels][:MAX_PANELS]

        def bubble(html: str) -> list[Message]:
            return [*history[:-1], message("assistant", html)]

        yield {
            v.chat.messages: bubble(render.answer_html(answer, aid)),
            v.asked: [*questions, text],
            v.panels: panels,
            v.chat.sources: render.panel_html(panels),
        }
        model = self.service.engine.llm.model if self.service.engine.llm else ""
        written = ""
        try:
            for event in events:
                if isinstance(event, Answer):
                    answer = event
                    if answer.generated is not None and answer.generated.claims:
                        # the passages its sentences cite join the sources
                        panels = [sources(answer, aid, answer.documents), *panels[1:]]
                        yield {v.panels: panels, v.chat.sources: render.panel_html(panels)}
                elif not event:  # the model is still at work: a no-op, so a user who left
                    yield gr.skip()  # is noticed and the model hung up on
                else:
                    written += event
                    yield {
                        v.chat.messages: bubble(render.writing_html(answer, aid, model, written))
                    }
        except Exception:  # the extractive answer stands; the page must not stay busy
            log.exception("writing an answer to %r failed", text)
        return answer, aid

    def finish(self) -> Updates:
        """The question box and the controls free again."""
        return {self.view.chat.question: gr.Textbox(interactive=True), **controls(self.view, True)}

    def clear(self) -> Updates:
        """A new conversation: no messages, no history for follow-ups, an empty panel, no
        pending question, no chat chosen in the list and no name."""
        v = self.view
        return {
            v.chat.messages: [],
            v.asked: [],
            v.panels: [],
            v.chat.sources: render.panel_html([]),
            v.pending: "",
            v.chat_id: "",
            v.side.chats: gr.Radio(value=None),
            v.side.name: "",
        }

    def add_reports(self, paths: list[str] | None, refused: str = "[]") -> Iterator[Updates]:
        """Store the uploaded files as a background job, showing its progress until it ends;
        the files the page took out (``refused``: see :meth:`refused`) are said first.

        Only files that Gradio itself received into its upload folder are read (a client
        names the paths, and could name any file on the server's disk); Gradio's copies are
        deleted once read. Updates the upload box (emptied), the status list and, once the
        job ends, the header.
        """
        docs = self.view.docs

        def shown(items: list[str]) -> Updates:
            return {docs.upload: None, docs.status: status_html(items)}

        items = self.refused(refused)
        try:
            files = self.received(paths or [], items)
        except Exception:  # else the upload would seem to hang, with no word of what failed
            log.exception("reading %d uploaded files failed", len(paths or []))
            yield shown([f'<li class="rejected">{escape(FAILED)}</li>'])
            return
        if not files:
            yield shown(items)
            return
        try:
            job = self.service.submit(files)
        except UploadRejected as exc:
            yield shown([*items, f'<li class="rejected">{escape(str(exc))}</li>'])
            return
        while not self.service.jobs.wait(job, POLL_SECONDS):
            yield shown([*items, progress_html(job)])
        yield {**shown(items + outcome(job)), self.view.header: self.header()}

    def say_refused(self, refused: str) -> Updates:
        """The status when the page took every file out of an upload: why, for each."""
        return {self.view.docs.status: status_html(self.refused(refused))}

    def refused(self, text: str) -> list[str]:
        """A status line for each file the page took out of an upload before sending it,
        given as JSON ``[[name, bytes], ...]``, worded as the server words the files it
        refuses itself (:meth:`qa.ui.service.Service.check_upload`). What is not such a list,
        or a file the server would take, gives no line."""
        if not isinstance(text, str) or len(text) > MAX_REFUSED_TEXT:
            return []
        try:
            files = json.loads(text)
        except ValueError:
            return []
        lines = []
        for file in files[:MAX_FILES] if isinstance(files, list) else []:
            if not (isinstance(file, list) and len(file) == 2):
                continue
            name, size = file
            if not isinstance(name, str) or not isinstance(size, int) or isinstance(size, bool):
                continue
            try:
                self.service.check_upload(name, size)
            except UploadRejected as exc:
                lines.append(f'<li class="rejected">Rejected: {escape(str(exc))}</li>')
        return lines

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
        return header_html(self.service)


def header_html(service: Service) -> str:
    """The page's header: what the index holds."""
    return render.header_html(service.engine.counts())


def controls(view: ChatView, ready: bool) -> Updates:
    """The Ask button, New chat, the chat list, the chat's name, Rename and Delete: locked
    while an answer is being written, since the answer's own updates would undo a chat
    opened, started or renamed meanwhile (and Delete would remove the chat opened, not the
    one on screen)."""
    updates: Updates = {control: gr.update(interactive=ready) for control in view.controls}
    updates[view.chat.ask] = gr.Button(value="Ask" if ready else "Working…", interactive=ready)
    return updates


def parse_filters(sources: str, date_from: str | None, date_to: str | None) -> Filters:
    """The settings as filters; a date that cannot be read is a ValueError naming it."""

    def day(value: str | None, label: str) -> str | None:
        if not value or not value.strip():
            return None
        parsed = parse_date(value)
        if why := not_a_day(value):
            raise ValueError(f"the {label} date: {why}")
        if parsed is None:
            raise ValueError(f"the {label} date {value.strip()!r} is not a date; use YYYY-MM-DD")
        return parsed

    names = [s.strip() for s in (sources or "").split(",") if s.strip()]
    return Filters((), names, day(date_from, "from"), day(date_to, "to"))


def settings_label(sources: str, date_from: str | None, date_to: str | None) -> Any:
    """The Settings section's title, saying which filters are on, so it shows while the
    section is folded."""
    on = []
    names = [s.strip() for s in (sources or "").split(",") if s.strip()]
    if names:
        on.append("sources " + ", ".join(f"“{n}”" for n in names))
    if start := (date_from or "").strip():
        on.append(f"from {start}")
    if end := (date_to or "").strip():
        on.append(f"to {end}")
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
