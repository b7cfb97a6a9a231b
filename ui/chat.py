"""The Gradio page: chat, question box, settings, uploads and the sources panel.

Chat messages are HTML built by :mod:`qa.ui.render` from escaped text, with Markdown and LaTeX
off, so report text is never read as Markdown, HTML or math (Gradio typesets ``$$...$$`` in
chat messages even with Markdown off, unless ``latex_delimiters`` is empty). What the events
do is in :mod:`qa.ui.handlers`.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import gradio as gr

from qa.answer.answerer import DEFAULT_K
from qa.index import MODES
from qa.loaders import SUPPORTED_SUFFIXES
from qa.ui import render
from qa.ui.handlers import Handlers, settings_label
from qa.ui.schemas import MAX_ASK_K
from qa.ui.service import Service

PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # not part of Gradio's own API page
# every 5 minutes, delete uploads left for over 15 (the upload event deletes its own at once)
DELETE_UPLOADS = (300, 900)
STATE_SECONDS = 6 * 3600  # a chat's state is dropped after hours without a change
SCROLL_SOURCES_TOP = (
    "() => { const s = document.getElementById('sources'); if (s) s.scrollTop = 0; }"
)
COPY_CONVERSATION = "() => navigator.clipboard.writeText(window.qaConversation())"
# once the box is free again, the next question can be typed at once
FOCUS_QUESTION = "() => { const q = document.querySelector('#question textarea'); q?.focus(); }"


def static_text(name: str) -> str:
    """A file of ``qa/ui/static`` (the page's CSS and script)."""
    return files("qa.ui").joinpath("static", name).read_text(encoding="utf-8")


def theme() -> gr.themes.Base:
    """The default look with system fonts: no font files, no Google Fonts request."""
    return gr.themes.Default(
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )


def head() -> str:
    """The page's one script: citation links that open the report at the highlight."""
    return f"<script>\n{static_text('chat.js')}\n</script>"


def build_chat(service: Service) -> gr.Blocks:
    """The chat page; its events all work on ``service``."""
    on = Handlers(service)
    with gr.Blocks(title="reportqa", analytics_enabled=False, delete_cache=DELETE_UPLOADS) as demo:
        asked = gr.State([], time_to_live=STATE_SECONDS)  # questions so far, for follow-ups
        # each answer's rendered sources (render.Sources), newest first
        panels = gr.State([], time_to_live=STATE_SECONDS)
        pending = gr.State("", time_to_live=STATE_SECONDS)
        header = gr.HTML(on.header(), elem_classes="qa-header", js_on_load=None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=420):
                chat = gr.Chatbot(
                    label="Chat",
                    elem_id="chat",
                    height=520,
                    render_markdown=False,
                    latex_delimiters=[],
                    sanitize_html=True,
                    feedback_options=None,
                    buttons=[],  # "Copy conversation" below copies text, not HTML
                    placeholder="Ask a question about the reports. Every answer cites the "
                    "exact sentence it comes from.",
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        placeholder="Ask a question, e.g. How many missiles were fired?",
                        label="Question",  # its accessible name; not shown
                        show_label=False,
                        elem_id="question",
                        lines=1,
                        max_lines=4,
                        autofocus=True,
                        container=False,
                    )
                    ask = gr.Button("Ask", variant="primary", elem_id="ask", scale=0, min_width=96)
                    new = gr.Button("New chat", elem_id="new-chat", scale=0, min_width=112)
                with gr.Row():
                    copy = gr.Button(
                        "Copy conversation", elem_id="copy-chat", size="sm", scale=0, min_width=180
                    )
                with gr.Accordion("Settings", open=False, elem_id="settings") as settings_box:
                    with gr.Row():
                        k = gr.Slider(
                            1, MAX_ASK_K, DEFAULT_K, step=1, label="Passages (k)", elem_id="k"
                        )
                        mode = gr.Radio(
                            list(MODES), value="hybrid", label="Retrieval", elem_id="mode"
                        )
                    with gr.Row():
                        source_filter = gr.Textbox(
                            label="Sources (comma-separated)", elem_id="source-filter"
                        )
                        date_from = gr.Textbox(
                            label="From date", placeholder="YYYY-MM-DD", elem_id="date-from"
                        )
                        date_to = gr.Textbox(
                            label="To date", placeholder="YYYY-MM-DD", elem_id="date-to"
                        )
                with gr.Accordion("Add reports", open=False, elem_id="add-reports"):
                    upload = gr.File(
                        label=f"Report files ({', '.join(SUPPORTED_SUFFIXES)}), up to "
                        f"{service.max_upload_mb:g} MB each",
                        file_count="multiple",
                        file_types=list(SUPPORTED_SUFFIXES),
                        elem_id="upload",
                    )
                    status = gr.HTML("", elem_id="upload-status", js_on_load=None)
            with gr.Column(scale=4, min_width=360):
                sources = gr.HTML(render.panel_html([]), elem_id="sources", js_on_load=None)

        settings = [k, mode, source_filter, date_from, date_to]
        for box in (source_filter, date_from, date_to):
            box.change(
                settings_label,
                [source_filter, date_from, date_to],
                settings_box,
                queue=False,
                **PRIVATE,
            )
        for trigger in (question.submit, ask.click):
            trigger(
                on.start, [question, chat], [chat, pending, question, ask], queue=False, **PRIVATE
            ).then(
                on.respond,
                [pending, chat, asked, panels, *settings],
                [chat, asked, panels, sources],
                show_progress="hidden",
                **PRIVATE,
            ).then(
                on.finish, None, [question, ask], queue=False, js=SCROLL_SOURCES_TOP, **PRIVATE
            ).then(None, None, None, queue=False, js=FOCUS_QUESTION, **PRIVATE)
        copy.click(None, None, None, js=COPY_CONVERSATION, **PRIVATE)
        cleared = [chat, asked, panels, sources, pending]
        new.click(on.clear, None, cleared, queue=False, **PRIVATE)
        chat.clear(on.clear, None, cleared, queue=False, **PRIVATE)

        def add_reports(paths: list[str] | None) -> Iterator[tuple[Any, ...]]:
            yield from on.add_reports(paths)

        upload.upload(
            add_reports, upload, [upload, status, header], show_progress="hidden", **PRIVATE
        )
    return demo
