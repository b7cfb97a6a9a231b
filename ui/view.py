"""The chat page's components by name: what its events read and write.

:mod:`qa.ui.chat` builds them, one part at a time; the handlers (:mod:`qa.ui.handlers`,
:mod:`qa.ui.history`, :mod:`qa.ui.library`) return ``Updates``, dicts keyed by these
components, so nothing hangs on the order of a tuple or of an event's outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.blocks import Block

Updates = dict[Block, Any]  # what a handler changes, by component; others stay as they are


@dataclass(frozen=True, eq=False)
class SideBar:
    """The chat list, and the open chat's name with Rename and Delete."""

    chats: gr.Radio
    name: gr.Textbox
    rename: gr.Button
    delete: gr.Button


@dataclass(frozen=True, eq=False)
class ChatPanel:
    """The Chat tab's conversation: the messages, the question box and its buttons, and the
    sources panel beside them."""

    messages: gr.Chatbot
    question: gr.Textbox
    ask: gr.Button
    new: gr.Button
    copy: gr.Button
    export_md: gr.Button
    export_html: gr.Button
    sources: gr.HTML


@dataclass(frozen=True, eq=False)
class Settings:
    """The Settings section (``box``) below the chat: passages, retrieval mode, filters."""

    box: gr.Accordion
    k: gr.Slider
    mode: gr.Radio
    sources: gr.Textbox
    date_from: gr.DateTime
    date_to: gr.DateTime

    @property
    def filters(self) -> list[gr.Textbox | gr.DateTime]:
        return [self.sources, self.date_from, self.date_to]


@dataclass(frozen=True, eq=False)
class Documents:
    """The Documents tab: the list and its filter, several of its reports to remove at once,
    the open report with its Remove button and its title and date to correct, and the upload
    box."""

    tab: gr.Tab
    contains: gr.Textbox
    order: gr.Radio  # the list's order: source, title, newest first
    note: gr.HTML  # how many reports the list holds
    listing: gr.Radio
    several: gr.Accordion  # removing several reports of the list at once
    chosen: gr.CheckboxGroup
    remove_chosen: gr.Button
    removed: gr.HTML  # what Remove did
    # the open report's id: the list's choice is cleared when the list is read again (a
    # filter, the tab), while the report stays open to be removed. Not a State: the page's
    # confirmation must be able to send "" instead
    opened: gr.Textbox
    changed: gr.State  # reports were added or removed: read the list again
    report: gr.HTML  # the open report's text
    remove: gr.Button
    edit: gr.Accordion  # correcting the open report's title and date
    new_title: gr.Textbox
    new_date: gr.DateTime
    save: gr.Button
    upload: gr.File
    # the files the page took out of an upload (kind, size) as JSON [[name, bytes], ...],
    # sent with the upload (chat.js); the hidden button says them when nothing is left to send
    refused: gr.Textbox
    say_refused: gr.Button
    status: gr.HTML  # how the uploads went


@dataclass(frozen=True, eq=False)
class ChatView:
    """Every component of the page that an event reads or writes, and the page's state."""

    header: gr.HTML  # the counts of reports and passages
    browser: gr.BrowserState  # the browser's id, the owner of its chats when no one signs in
    chat_id: gr.State  # the open chat, "" before its first answer is saved
    asked: gr.State  # the questions so far, for follow-ups (the chat holds rendered HTML)
    panels: gr.State  # each answer's rendered sources (render.Sources), newest first
    pending: gr.State  # the question being answered, "" when there is none
    side: SideBar
    chat: ChatPanel
    settings: Settings
    docs: Documents

    @property
    def controls(self) -> list[Block]:
        """Ask, New chat, the chat list, the chat's name, Rename and Delete: locked while an
        answer is written (see :func:`qa.ui.handlers.controls`)."""
        side = self.side
        return [self.chat.ask, self.chat.new, side.chats, side.name, side.rename, side.delete]

    @property
    def shown(self) -> list[Block]:
        """What opening a chat writes (:meth:`qa.ui.history.Chats.shown`), and answering
        in it: the messages, questions and sources, and the chat's id, name and list."""
        return [
            self.chat.messages,
            self.asked,
            self.panels,
            self.chat.sources,
            self.chat_id,
            self.side.name,
            self.side.chats,
        ]
