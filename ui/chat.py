"""The Gradio page: the chat list (a side bar), and two tabs: Chat (the conversation, the
question box, the sources panel, the settings) and Documents (the reports: listed, opened,
removed, uploaded).

Chat messages are HTML built by :mod:`qa.ui.render` from escaped text, with Markdown and LaTeX
off, so report text is never read as Markdown, HTML or math (Gradio typesets ``$$...$$`` in
chat messages even with Markdown off, unless ``latex_delimiters`` is empty). What the events
do is in :mod:`qa.ui.handlers` (asking, uploads), :mod:`qa.ui.history` (the chat list) and
:mod:`qa.ui.library` (the Documents tab).
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import gradio as gr

from qa.loaders import SUPPORTED_SUFFIXES
from qa.options import ASK_K, MODES
from qa.ui import render
from qa.ui.conversations import ChatStore
from qa.ui.handlers import Handlers, settings_label
from qa.ui.history import Chats
from qa.ui.library import CONFIRM_REMOVE, EMPTY_VIEW, Library
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
# the page asks first; the handler gets no browser id if the user says no (the chat's id is
# server-side state, which a script cannot change)
CONFIRM_DELETE = """(chat, browser) => [chat,
  confirm('Delete this chat? This cannot be undone.') ? browser : null]"""
HEADER_SECONDS = 15  # how often the header's counts are read again
# on a wide screen the chat list is open beside the chat; then the question box takes the focus
OPEN_CHATS_IF_WIDE = """() => {
  const bar = document.getElementById('chats-bar');
  if (innerWidth >= 1024 && bar && !bar.classList.contains('open'))
    bar.querySelector('.toggle-button')?.click();
  document.querySelector('#question textarea')?.focus(); }"""
# once the box is free again, the next question can be typed at once
FOCUS_QUESTION = "() => { const q = document.querySelector('#question textarea'); q?.focus(); }"


def static_text(name: str) -> str:
    """A file of ``qa/ui/static`` (the page's CSS and script)."""
    return files("qa.ui").joinpath("static", name).read_text(encoding="utf-8")


def theme() -> gr.themes.Base:
    """The default look with system fonts (no font files, no Google Fonts request), its
    greys and orange darkened (lightened on dark) so all text is at WCAG AA contrast."""
    return gr.themes.Default(
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    ).set(
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_400",
        input_placeholder_color="*neutral_500",
        input_placeholder_color_dark="*neutral_400",
        color_accent="*primary_700",  # lighter on dark: chat.css
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover_dark="*primary_800",
        button_primary_text_color="white",
        button_primary_text_color_dark="white",
        button_cancel_background_fill="#b91c1c",  # the Remove button
        button_cancel_background_fill_hover="#991b1b",
        button_cancel_background_fill_dark="#b91c1c",
        button_cancel_background_fill_hover_dark="#991b1b",
        button_cancel_text_color="white",
        button_cancel_text_color_dark="white",
    )


def head() -> str:
    """The page's one script: citation links that open the report at the highlight."""
    return f"<script>\n{static_text('chat.js')}\n</script>"


def build_chat(
    service: Service, chat_store: ChatStore | None = None, *, logins: bool = False
) -> gr.Blocks:
    """The chat page; its events all work on ``service``, and chats are kept in
    ``chat_store`` (one in memory, gone with the process, if none is given), under the
    signed-in user's name when the server checks ``logins``, else the browser's."""
    store = chat_store or ChatStore()
    chats = Chats(service, store, logins)
    on = Handlers(service, chats)
    with gr.Blocks(title="reportqa", analytics_enabled=False, delete_cache=DELETE_UPLOADS) as demo:
        browser = gr.BrowserState(None, storage_key="reportqa-browser", secret=store.secret)
        chat_id = gr.State("", time_to_live=STATE_SECONDS)  # the open chat, "" before saving
        asked = gr.State([], time_to_live=STATE_SECONDS)  # questions so far, for follow-ups
        # each answer's rendered sources (render.Sources), newest first
        panels = gr.State([], time_to_live=STATE_SECONDS)
        pending = gr.State("", time_to_live=STATE_SECONDS)
        header = gr.HTML(on.header(), elem_classes="qa-header", js_on_load=None)
        # closed at first (open, it covers a phone's screen); the page opens it when wide
        with gr.Sidebar(label="Chats", open=False, elem_id="chats-bar", width=280):
            chat_list = gr.Radio([], label="Your chats", elem_id="chat-list")
            name = gr.Textbox(label="Name of this chat", elem_id="chat-name", max_lines=1)
            with gr.Row():
                rename = gr.Button("Rename", elem_id="rename-chat", size="sm", min_width=80)
                delete = gr.Button("Delete", elem_id="delete-chat", size="sm", min_width=80)
        with gr.Tabs(elem_id="views"):
            with gr.Tab("Chat", id="chat-tab", elem_id="chat-tab"):
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
                            placeholder="Ask a question about the reports. Every answer cites "
                            "the exact sentence it comes from.",
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
                                interactive=False,  # until the browser's chats are known
                            )
                            ask = gr.Button(
                                "Ask", variant="primary", elem_id="ask", scale=0, min_width=96
                            )
                            new = gr.Button("New chat", elem_id="new-chat", scale=0, min_width=112)
                        with gr.Row():
                            copy = gr.Button(
                                "Copy conversation",
                                elem_id="copy-chat",
                                size="sm",
                                scale=0,
                                min_width=180,
                            )
                    with gr.Column(scale=4, min_width=360):
                        sources = gr.HTML(render.panel_html([]), elem_id="sources", js_on_load=None)
                with gr.Accordion("Settings", open=False, elem_id="settings") as settings_box:
                    with gr.Row():
                        k = gr.Slider(
                            1, MAX_ASK_K, ASK_K, step=1, label="Passages (k)", elem_id="k"
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
            documents_view(service, on, header)

        shown = [chat_id, chat_list, name, chat, asked, panels, sources]
        demo.load(chats.restore, browser, [browser, *shown, question], queue=False, **PRIVATE).then(
            None, None, None, queue=False, js=OPEN_CHATS_IF_WIDE, **PRIVATE
        )
        settings = [k, mode, source_filter, date_from, date_to]
        # "always_last" where several triggers or quick repeats write one output: the page
        # sends the next only once the last is back, so an older reply never lands last (and,
        # unlike the default "once", the latest is not dropped)
        gr.on(
            [source_filter.change, date_from.change, date_to.change],
            settings_label,
            [source_filter, date_from, date_to],
            settings_box,
            queue=False,
            trigger_mode="always_last",
            **PRIVATE,
        )
        controls = [ask, new, chat_list, name, rename, delete]  # handlers.controls
        # Enter and Ask are one event, so both at once ask once
        gr.on(
            [question.submit, ask.click],
            on.start,
            [question, chat],
            [chat, pending, question, *controls],
            queue=False,
            **PRIVATE,
        ).then(
            on.respond,
            [pending, chat, asked, panels, chat_id, browser, *settings],
            [chat, asked, panels, sources, chat_id, chat_list, name],
            show_progress="hidden",
            **PRIVATE,
        ).then(
            on.finish,
            None,
            [question, *controls],
            queue=False,
            js=SCROLL_SOURCES_TOP,
            **PRIVATE,
        ).then(None, None, None, queue=False, js=FOCUS_QUESTION, **PRIVATE)
        copy.click(None, None, None, js=COPY_CONVERSATION, **PRIVATE)
        cleared = [chat, asked, panels, sources, pending, chat_id, chat_list, name]
        new.click(on.clear, None, cleared, queue=False, **PRIVATE).then(
            None, None, None, queue=False, js=FOCUS_QUESTION, **PRIVATE
        )
        chat.clear(on.clear, None, cleared, queue=False, **PRIVATE)
        chat_list.input(
            chats.open,
            [chat_list, browser],
            shown,
            queue=False,
            trigger_mode="always_last",
            **PRIVATE,
        )
        for trigger in (rename.click, name.submit):
            trigger(chats.rename, [chat_id, name, browser], [chat_list, name], **PRIVATE)
        # "multiple": a click right after a "No" is not dropped while that one is in flight
        delete.click(
            chats.delete,
            [chat_id, browser],
            shown,
            js=CONFIRM_DELETE,
            queue=False,
            trigger_mode="multiple",
            **PRIVATE,
        )

        # reports added or removed elsewhere (the API, another page) show in the counts
        demo.load(on.header, None, header, queue=False, **PRIVATE)
        gr.Timer(HEADER_SECONDS).tick(on.header, None, header, queue=False, **PRIVATE)
    return demo


def documents_view(service: Service, on: Handlers, header: gr.HTML) -> None:
    """The Documents tab: the reports listed and filtered, one open, removal, uploads."""
    library = Library(service)
    tab = gr.Tab("Documents", id="docs-tab", elem_id="docs-tab")
    with tab:
        with gr.Row(equal_height=False):  # on a phone: the list, then the open report
            with gr.Column(scale=4, min_width=320):
                contains = gr.Textbox(
                    label="Filter by title or source", elem_id="doc-filter", max_lines=1
                )
                note = gr.HTML("", elem_id="doc-note", js_on_load=None)
                listing = gr.Radio([], label="Reports", elem_id="doc-list")
            with gr.Column(scale=5, min_width=360):
                removed = gr.HTML("", elem_id="doc-status", js_on_load=None)
                # the open report's id: the list's choice is cleared when the list is read
                # again (a filter, the tab), while the report stays open to be removed. Not a
                # State: the page's confirmation must be able to send "" instead
                opened = gr.Textbox("", visible=False)
                changed = gr.State(0)  # reports were added or removed: read the list again
                view = gr.HTML(EMPTY_VIEW, elem_id="doc-view", js_on_load=None)
                remove = gr.Button(
                    "Remove this report", variant="stop", elem_id="remove-doc", visible=False
                )
        upload = gr.File(
            label=f"Add reports ({', '.join(SUPPORTED_SUFFIXES)}), up to "
            f"{service.max_upload_mb:g} MB each",
            file_count="multiple",
            file_types=list(SUPPORTED_SUFFIXES),
            elem_id="upload",
            height=140,
        )
        status = gr.HTML("", elem_id="upload-status", js_on_load=None)

    listed = [listing, note]
    # The list's one writer, for every trigger, queued, "always_last": the browser sends a
    # listing only after the one in flight is back, so a listing for the tab's old filter, or
    # from before an upload, can never land after the one for the filter just typed.
    gr.on(
        [tab.select, contains.change, changed.change],
        library.listing,
        contains,
        listed,
        trigger_mode="always_last",
        **PRIVATE,
    )
    shown = [view, remove, opened]
    listing.input(library.open, listing, shown, queue=False, trigger_mode="always_last", **PRIVATE)
    tab.select(library.upload_box, None, upload, queue=False, **PRIVATE)  # none for readers
    remove.click(
        library.remove,
        opened,
        [removed, *shown, header, changed],
        js=CONFIRM_REMOVE,
        trigger_mode="multiple",  # as Delete
        **PRIVATE,
    )

    def add_reports(paths: list[str] | None) -> Iterator[tuple[Any, ...]]:
        yield from on.add_reports(paths)

    upload.upload(
        add_reports, upload, [upload, status, header], show_progress="hidden", **PRIVATE
    ).then(library.changed, None, changed, **PRIVATE)  # queued: else no change event
