"""The Gradio page: the chat list (a side bar), and two tabs: Chat (the conversation, the
question box, the sources panel, the settings) and Documents (the reports: listed, opened,
removed, uploaded).

Each part has a builder that lays out its components (``side_bar``, ``chat_panel``,
``settings_panel``, ``documents_tab``) and a function that wires its events (``*_events``);
the components are held by name in one :class:`~qa.ui.view.ChatView`, which the handlers
return their updates for.

Chat messages are HTML built by :mod:`qa.ui.render` from escaped text, with Markdown and LaTeX
off, so report text is never read as Markdown, HTML or math (Gradio typesets ``$$...$$`` in
chat messages even with Markdown off, unless ``latex_delimiters`` is empty). What the events
do is in :mod:`qa.ui.handlers` (asking, uploads), :mod:`qa.ui.history` (the chat list) and
:mod:`qa.ui.library` (the Documents tab).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import gradio as gr

from qa.loaders import SUPPORTED_SUFFIXES
from qa.options import ASK_K, MODES
from qa.ui import render
from qa.ui.conversations import ChatStore
from qa.ui.handlers import Handlers, header_html, settings_label
from qa.ui.history import Chats
from qa.ui.library import CONFIRM_REMOVE, CONFIRM_REMOVE_CHOSEN, EMPTY_VIEW, Library
from qa.ui.schemas import MAX_ASK_K
from qa.ui.service import MB, Service
from qa.ui.view import ChatPanel, ChatView, Documents, Settings, SideBar

PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # not part of Gradio's own API page
# every 5 minutes, delete uploads left for over 15 (the upload event deletes its own at once)
DELETE_UPLOADS = (300, 900)
STATE_SECONDS = 6 * 3600  # a chat's state is dropped after hours without a change
SCROLL_SOURCES_TOP = (
    "() => { const s = document.getElementById('sources'); if (s) s.scrollTop = 0; }"
)
COPY_CONVERSATION = "() => navigator.clipboard.writeText(window.qaConversation())"
EXPORT_MARKDOWN = "() => window.qaExport('md')"
EXPORT_HTML = "() => window.qaExport('html')"
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
CHATS_HIDDEN = """() => { const bar = document.getElementById('chats-bar');
  if (bar?.classList.contains('open')) bar.querySelector('.toggle-button')?.click();
  document.body.classList.add('qa-no-chats'); }"""
CHATS_SHOWN = "() => { document.body.classList.remove('qa-no-chats'); }"
# the files the page took out of the last upload (chat.js), sent for the server to word
REFUSED = "() => window.qaRefused || '[]'"
REFUSED_WITH = "(files, refused) => [files, window.qaRefused || '[]']"
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


@dataclass(frozen=True, eq=False)
class ChatPage:
    """The page, its components by name, and the handlers its events call."""

    demo: gr.Blocks
    view: ChatView
    on: Handlers
    chats: Chats
    library: Library


def build_chat(
    service: Service, chat_store: ChatStore | None = None, *, logins: bool = False
) -> gr.Blocks:
    """The chat page; its events all work on ``service``, and chats are kept in
    ``chat_store`` (one in memory, gone with the process, if none is given), under the
    signed-in user's name when the server checks ``logins``, else the browser's."""
    return chat_page(service, chat_store, logins=logins).demo


def chat_page(
    service: Service, chat_store: ChatStore | None = None, *, logins: bool = False
) -> ChatPage:
    """The chat page (see :func:`build_chat`) with its view and handlers. The parts are all
    laid out before any event is wired, since events read and write across parts (an answer
    updates the side bar; a chat opened there fills the conversation)."""
    store = chat_store or ChatStore()
    with gr.Blocks(title="reportqa", analytics_enabled=False, delete_cache=DELETE_UPLOADS) as demo:
        view = lay_out(service, store.secret)
        chats = Chats(service, store, view, logins)
        on = Handlers(service, chats, view)
        library = Library(service, view)
        side_bar_events(view, chats)
        chat_events(view, on)
        settings_events(view.settings)
        documents_events(view, on, library)
        page_events(demo, view, on, chats)
    return ChatPage(demo, view, on, chats, library)


def lay_out(service: Service, secret: str) -> ChatView:
    """The page's components, in place: the header, the side bar, and the Chat (the
    conversation and its settings) and Documents tabs; ``secret`` signs the browser's id."""
    browser = gr.BrowserState(None, storage_key="reportqa-browser", secret=secret)
    chat_id = gr.State("", time_to_live=STATE_SECONDS)
    asked = gr.State([], time_to_live=STATE_SECONDS)
    panels = gr.State([], time_to_live=STATE_SECONDS)
    pending = gr.State("", time_to_live=STATE_SECONDS)
    header = gr.HTML(header_html(service), elem_classes="qa-header", js_on_load=None)
    side = side_bar()
    with gr.Tabs(elem_id="views"):
        with gr.Tab("Chat", id="chat-tab", elem_id="chat-tab") as chat_tab:
            chat = chat_panel()
            settings = settings_panel()
        docs = documents_tab(service.max_upload_bytes)
    # the chat list acts on the Chat tab only: elsewhere it is folded away and hidden
    chat_tab.select(None, None, None, js=CHATS_SHOWN, queue=False, **PRIVATE)
    docs.tab.select(None, None, None, js=CHATS_HIDDEN, queue=False, **PRIVATE)
    return ChatView(
        header=header,
        browser=browser,
        chat_id=chat_id,
        asked=asked,
        panels=panels,
        pending=pending,
        side=side,
        chat=chat,
        settings=settings,
        docs=docs,
    )


def side_bar() -> SideBar:
    """The chat list, closed at first (open, it covers a phone's screen); the page opens it
    when wide."""
    with gr.Sidebar(label="Chats", open=False, elem_id="chats-bar", width=280):
        chats = gr.Radio([], label="Your chats", elem_id="chat-list")
        name = gr.Textbox(label="Name of this chat", elem_id="chat-name", max_lines=1)
        with gr.Row():
            rename = gr.Button("Rename", elem_id="rename-chat", size="sm", min_width=80)
            delete = gr.Button("Delete", elem_id="delete-chat", size="sm", min_width=80)
    return SideBar(chats=chats, name=name, rename=rename, delete=delete)


def side_bar_events(view: ChatView, chats: Chats) -> None:
    """Opening, renaming and deleting a chat."""
    side = view.side
    side.chats.input(
        chats.open,
        [side.chats, view.browser],
        view.shown,
        queue=False,
        trigger_mode="always_last",
        **PRIVATE,
    )
    for trigger in (side.rename.click, side.name.submit):
        trigger(
            chats.rename,
            [view.chat_id, side.name, view.browser],
            [side.chats, side.name],
            **PRIVATE,
        )
    # "multiple": a click right after a "No" is not dropped while that one is in flight
    side.delete.click(
        chats.delete,
        [view.chat_id, view.browser],  # in the order CONFIRM_DELETE takes them
        view.shown,
        js=CONFIRM_DELETE,  # queued, as Rename: else its warnings never reach the page
        trigger_mode="multiple",
        **PRIVATE,
    )


def chat_panel() -> ChatPanel:
    """The conversation, the question box with Ask and New chat, and the sources panel."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=420):
            messages = gr.Chatbot(
                label="Chat",
                # its floating label covered the empty chat's text on a phone and scrolled
                # messages on a desktop; the page names the conversation instead (chat.js)
                show_label=False,
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
                    # short enough for one line beside Ask and New chat on a phone (the box
                    # is 212 px wide at 390: a longer one took two lines, cut when Gradio
                    # sized the box before the row was laid out)
                    placeholder="Ask about the reports",
                    label="Question",  # its accessible name; not shown
                    show_label=False,
                    elem_id="question",
                    lines=1,
                    max_lines=4,
                    autofocus=True,
                    container=False,
                    interactive=False,  # until the browser's chats are known
                )
                ask = gr.Button("Ask", variant="primary", elem_id="ask", scale=0, min_width=96)
                new = gr.Button("New chat", elem_id="new-chat", scale=0, min_width=112)
            with gr.Row():
                copy = gr.Button(
                    "Copy conversation", elem_id="copy-chat", size="sm", scale=0, min_width=180
                )
                export_md = gr.Button(
                    "Export Markdown", elem_id="export-md", size="sm", scale=0, min_width=150
                )
                export_html = gr.Button(
                    "Export printable page",
                    elem_id="export-html",
                    size="sm",
                    scale=0,
                    min_width=180,
                )
        with gr.Column(scale=4, min_width=360):
            sources = gr.HTML(render.panel_html([]), elem_id="sources", js_on_load=None)
    return ChatPanel(
        messages=messages,
        question=question,
        ask=ask,
        new=new,
        copy=copy,
        export_md=export_md,
        export_html=export_html,
        sources=sources,
    )


def chat_events(view: ChatView, on: Handlers) -> None:
    """Asking (Enter or Ask: the question shown and the controls locked at once, then the
    answer, then the controls free again), copying and clearing the conversation."""
    chat, settings = view.chat, view.settings
    # Enter and Ask are one event, so both at once ask once
    gr.on(
        [chat.question.submit, chat.ask.click],
        on.start,
        [chat.question, chat.messages],
        [chat.messages, view.pending, chat.question, *view.controls],
        queue=False,
        **PRIVATE,
    ).then(
        on.respond,
        # a set: respond takes the values in one dict, by component
        {view.pending, chat.messages, view.asked, view.panels, view.chat_id, view.browser}
        | {settings.k, settings.mode, *settings.filters},
        # the messages, questions and sources, the chat's id, name and list; the question
        # back in its box when the settings cannot be used
        [*view.shown, chat.question],
        show_progress="hidden",
        **PRIVATE,
    ).then(
        on.finish,
        None,
        [chat.question, *view.controls],
        queue=False,
        js=SCROLL_SOURCES_TOP,
        **PRIVATE,
    ).then(None, None, None, queue=False, js=FOCUS_QUESTION, **PRIVATE)
    chat.copy.click(None, None, None, js=COPY_CONVERSATION, **PRIVATE)
    chat.export_md.click(None, None, None, js=EXPORT_MARKDOWN, **PRIVATE)
    chat.export_html.click(None, None, None, js=EXPORT_HTML, **PRIVATE)
    cleared = [*view.shown, view.pending]
    chat.new.click(on.clear, None, cleared, queue=False, **PRIVATE).then(
        None, None, None, queue=False, js=FOCUS_QUESTION, **PRIVATE
    )
    # no .clear listener: the chat's trash icon (hidden by chat.css) only emptied the screen


def settings_panel() -> Settings:
    """The Settings section below the chat: passages, retrieval mode, filters."""
    with gr.Accordion("Settings", open=False, elem_id="settings") as box:
        with gr.Row():
            k = gr.Slider(1, MAX_ASK_K, ASK_K, step=1, label="Passages (k)", elem_id="k")
            mode = gr.Radio(list(MODES), value="hybrid", label="Retrieval", elem_id="mode")
        with gr.Row():
            sources = gr.Textbox(label="Sources (comma-separated)", elem_id="source-filter")
            date_from = day_picker("From date", "date-from")
            date_to = day_picker("To date", "date-to")
    return Settings(box=box, k=k, mode=mode, sources=sources, date_from=date_from, date_to=date_to)


def day_picker(label: str, elem_id: str) -> gr.DateTime:
    """A day, typed as YYYY-MM-DD or picked from a calendar; handed over as typed, so a day
    that does not exist ("2023-02-30") is named by the handler, not silently moved."""
    return gr.DateTime(
        label=label, include_time=False, type="string", elem_id=elem_id, elem_classes="qa-day"
    )


def settings_events(settings: Settings) -> None:
    """The section's title says which filters are on."""
    # "always_last" where several triggers or quick repeats write one output: the page
    # sends the next only once the last is back, so an older reply never lands last (and,
    # unlike the default "once", the latest is not dropped)
    gr.on(
        [box.change for box in settings.filters],
        settings_label,
        settings.filters,
        settings.box,
        queue=False,
        trigger_mode="always_last",
        **PRIVATE,
    )


def page_events(demo: gr.Blocks, view: ChatView, on: Handlers, chats: Chats) -> None:
    """On load, the browser's latest chat (then, on a wide screen, the chat list opened); the
    header's counts read again now and then, so reports added or removed elsewhere (the API,
    another page) show."""
    demo.load(
        chats.restore,
        view.browser,
        [view.browser, *view.shown, view.chat.question],
        queue=False,
        **PRIVATE,
    ).then(None, None, None, queue=False, js=OPEN_CHATS_IF_WIDE, **PRIVATE)
    demo.load(on.header, None, view.header, queue=False, **PRIVATE)
    gr.Timer(HEADER_SECONDS).tick(on.header, None, view.header, queue=False, **PRIVATE)


def documents_tab(max_upload_bytes: int) -> Documents:
    """The Documents tab: the reports listed and filtered, one open, removal, uploads."""
    with gr.Tab("Documents", id="docs-tab", elem_id="docs-tab") as tab:
        with gr.Row(equal_height=False):  # on a phone: the list, then the open report
            with gr.Column(scale=4, min_width=320):
                contains = gr.Textbox(
                    label="Filter by title or source", elem_id="doc-filter", max_lines=1
                )
                order = gr.Radio(
                    [("Source", "source"), ("Title", "title"), ("Newest", "date")],
                    value="source",
                    label="Sort by",
                    elem_id="doc-order",
                )
                note = gr.HTML("", elem_id="doc-note", js_on_load=None)
                listing = gr.Radio([], label="Reports", elem_id="doc-list")
                with gr.Accordion(
                    "Remove several reports", open=False, elem_id="doc-several"
                ) as several:
                    chosen = gr.CheckboxGroup([], label="Reports to remove", elem_id="doc-chosen")
                    remove_chosen = gr.Button(
                        "Remove the chosen reports",
                        variant="stop",
                        size="sm",
                        elem_id="remove-docs",
                    )
            with gr.Column(scale=5, min_width=360):
                removed = gr.HTML("", elem_id="doc-status", js_on_load=None)
                opened = gr.Textbox("", visible=False)
                changed = gr.State(0)
                report = gr.HTML(EMPTY_VIEW, elem_id="doc-view", js_on_load=None)
                with gr.Accordion(
                    "Correct the title or date", open=False, visible=False, elem_id="doc-edit"
                ) as edit:
                    new_title = gr.Textbox(label="Title", max_lines=2, elem_id="doc-title")
                    new_date = day_picker("Date", "doc-date")
                    save = gr.Button("Save", elem_id="save-doc", size="sm")
                remove = gr.Button(
                    "Remove this report", variant="stop", elem_id="remove-doc", visible=False
                )
        # a label on one line on a phone (two lines covered the box's icon); the kinds below
        upload = gr.File(
            label=f"Add reports, up to {max_upload_bytes / MB:g} MB each",
            file_count="multiple",
            # the file dialog offers these kinds; a file of another kind, or too large, is
            # taken out by the page (chat.js, from the note's data) and said in the status
            file_types=list(SUPPORTED_SUFFIXES),
            elem_id="upload",
            height=140,
        )
        kinds = ",".join(SUPPORTED_SUFFIXES)
        gr.HTML(
            f'<p class="qa-note" data-kinds="{kinds}" data-max-bytes="{max_upload_bytes}">'
            f"Text, Markdown, HTML or PDF ({', '.join(SUPPORTED_SUFFIXES)}); several at once.</p>",
            elem_id="upload-kinds",
        )
        status = gr.HTML("", elem_id="upload-status", js_on_load=None)
        refused = gr.Textbox("", visible=False)
        say_refused = gr.Button("Say refused files", elem_id="upload-refused")
    return Documents(
        tab=tab,
        contains=contains,
        order=order,
        note=note,
        listing=listing,
        several=several,
        chosen=chosen,
        remove_chosen=remove_chosen,
        removed=removed,
        opened=opened,
        changed=changed,
        report=report,
        remove=remove,
        edit=edit,
        new_title=new_title,
        new_date=new_date,
        save=save,
        upload=upload,
        status=status,
        refused=refused,
        say_refused=say_refused,
    )


def documents_events(view: ChatView, on: Handlers, library: Library) -> None:
    """Listing, opening and removing reports, and uploads."""
    docs = view.docs
    # The list's one writer, for every trigger, queued, "always_last": the browser sends a
    # listing only after the one in flight is back, so a listing for the tab's old filter, or
    # from before an upload, can never land after the one for the filter just typed.
    gr.on(
        [docs.tab.select, docs.contains.change, docs.order.change, docs.changed.change],
        library.listing,
        [docs.contains, docs.order],
        [docs.listing, docs.chosen, docs.note],
        trigger_mode="always_last",
        **PRIVATE,
    )
    # what opening a report writes; it clears the status line of the last action
    shown = [
        docs.removed,
        docs.report,
        docs.remove,
        docs.edit,
        docs.new_title,
        docs.new_date,
        docs.opened,
    ]
    docs.listing.input(
        library.open, docs.listing, shown, queue=False, trigger_mode="always_last", **PRIVATE
    )
    # no upload box, nor removal of several, for readers
    docs.tab.select(library.writers_only, None, [docs.upload, docs.several], queue=False, **PRIVATE)
    docs.remove.click(
        library.remove,
        docs.opened,
        [*shown, view.header, docs.changed],
        js=CONFIRM_REMOVE,
        trigger_mode="multiple",  # as Delete
        **PRIVATE,
    )
    docs.remove_chosen.click(
        library.remove_chosen,
        [docs.chosen, docs.opened],
        [*shown, view.header, docs.changed],
        js=CONFIRM_REMOVE_CHOSEN,
        trigger_mode="multiple",
        **PRIVATE,
    )
    docs.save.click(
        library.correct,
        [docs.opened, docs.new_title, docs.new_date],
        [*shown, docs.changed],
        **PRIVATE,
    )
    docs.upload.upload(
        on.add_reports,
        [docs.upload, docs.refused],
        [docs.upload, docs.status, view.header],
        js=REFUSED_WITH,
        show_progress="hidden",
        **PRIVATE,
    ).then(library.changed, None, docs.changed, **PRIVATE)  # queued: else no change event
    docs.say_refused.click(
        on.say_refused, docs.refused, docs.status, js=REFUSED, queue=False, **PRIVATE
    )
