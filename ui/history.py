"""The chat list: the last conversation back on load, chats to reopen, rename and delete, and
each answered question saved (:mod:`qa.ui.conversations` keeps them).

A chat is rendered again from its saved answers, with new answer ids, and the sources of its
latest ``MAX_PANELS`` answers read from the index as it is now.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from qa.ui import render
from qa.ui.auth import user_of
from qa.ui.conversations import ChatInfo, ChatStore, Turn, title_of
from qa.ui.service import Service
from qa.ui.sources import Sources, sources
from qa.ui.view import ChatView, Updates

MAX_PANELS = 10  # answers whose sources stay in the panel (and whose markers keep working)
BROWSER_ID = re.compile(r"[0-9a-f]{32}")
_answer_ids = itertools.count(1)

Message = dict[str, Any]


def message(role: str, content: str) -> Message:
    return {"role": role, "content": content}


def answer_id() -> str:
    """A new answer's id, which its markers' and sources' element ids carry."""
    return f"a{next(_answer_ids)}"


def reply(turn: Turn, docs: dict[str, Any] | None) -> tuple[Message, Sources | None]:
    """The chat bubble of a turn's answer (or error), and the answer's sources block (none
    when ``docs`` is None: an older answer, whose sources the panel no longer keeps)."""
    if turn.answer is None:
        return message("assistant", render.error_html(turn.error or "")), None
    aid = answer_id()
    block = sources(turn.answer, aid, docs) if docs is not None else None
    return message("assistant", render.answer_html(turn.answer, aid)), block


@dataclass
class Chats:
    """The chat list's event handlers, writing to the page's components (``view``); chats
    are the owner's: the signed-in user (when ``logins`` are checked by the server), else the
    browser (an id it keeps in its local storage)."""

    service: Service
    store: ChatStore
    view: ChatView
    logins: bool = False

    def owner(self, request: gr.Request | None, browser: str | None) -> str:
        """``user:NAME`` or ``browser:ID``; "" when neither is known (nothing is kept then,
        rather than pooled with other such browsers). A user name is trusted only from a server
        that checks logins: elsewhere any client could send one and read that user's chats."""
        user = user_of(request.headers.get("authorization")) if request and self.logins else None
        if user:
            return f"user:{user}"
        valid = isinstance(browser, str) and BROWSER_ID.fullmatch(browser)
        return f"browser:{browser}" if valid else ""

    def restore(self, browser: str | None, request: gr.Request) -> Updates:
        """On load: the browser's id (a new one the first time) and its latest chat, as
        :meth:`shown`; the question box is free to use, now that the owner is known."""
        if not (isinstance(browser, str) and BROWSER_ID.fullmatch(browser)):
            browser = secrets.token_hex(16)
        owner = self.owner(request, browser)
        chats = self.store.chats(owner)
        return {
            self.view.browser: browser,
            **self.shown(owner, chats[0].id if chats else ""),
            self.view.chat.question: gr.Textbox(interactive=True),
        }

    def open(self, chat_id: str, browser: str, request: gr.Request) -> Updates:
        return self.shown(self.owner(request, browser), chat_id or "")

    def shown(self, owner: str, chat_id: str) -> Updates:
        """A chat as the page shows it (:attr:`ChatView.shown`): its id, the list, its name,
        the messages, the questions (for follow-ups), the sources blocks and panel."""
        turns = self.store.turns(owner, chat_id) if chat_id else []
        if not turns:
            chat_id = ""
        history: list[Message] = []
        panels: list[Sources] = []
        answered = [i for i, t in enumerate(turns) if t.answer]
        recent = set(answered[-MAX_PANELS:])  # the answers whose sources are shown
        wanted = set()
        for i in recent:
            answer = turns[i].answer
            assert answer
            wanted |= answer.shown_doc_ids
        docs = self.service.engine.documents_by_id(wanted)
        for i, turn in enumerate(turns):
            bubble, block = reply(turn, docs if i in recent else None)
            history += [message("user", render.question_html(turn.question)), bubble]
            if block:
                panels.insert(0, block)
        chats = self.store.chats(owner)
        v = self.view
        return {
            v.chat_id: chat_id,
            v.side.chats: _choices(chats, chat_id),
            v.side.name: next((c.title for c in chats if c.id == chat_id), ""),
            v.chat.messages: history,
            v.asked: [t.question for t in turns if t.answer],
            v.panels: panels,
            v.chat.sources: render.panel_html(panels),
        }

    def save(self, owner: str, chat_id: str, turn: Turn) -> Updates:
        """Keep an answered question: the chat's id (new for a first question), the list
        and, for a new chat, its name. Without an owner nothing is kept."""
        v = self.view
        if not owner:
            return {v.chat_id: chat_id}
        saved = self.store.add_turn(owner, chat_id or None, turn)
        updates: Updates = {v.chat_id: saved, v.side.chats: self.listing(owner, saved)}
        if saved != chat_id:
            updates[v.side.name] = title_of(turn.question)
        return updates

    def rename(self, chat_id: str, name: str, browser: str, request: gr.Request) -> Updates:
        """Updates the list and the name box."""
        side = self.view.side
        owner = self.owner(request, browser)
        if not chat_id:
            gr.Warning("Ask a question first: a chat is saved with its first answer.")
            return {side.name: ""}
        try:
            name = self.store.rename(owner, chat_id, name or "")
        except ValueError as exc:
            gr.Warning(str(exc).capitalize() + ".")
            return gr.skip()
        return {side.chats: self.listing(owner, chat_id), side.name: name}

    def delete(self, chat_id: str, browser: str | None, request: gr.Request) -> Updates:
        """Delete the open chat (the page asks first; ``browser`` is None if the user said
        no) and show an empty one, as :meth:`shown`."""
        if browser is None:
            return gr.skip()
        owner = self.owner(request, browser)
        if not chat_id:
            gr.Warning("No chat is open: choose one in the list to delete it.")
            return gr.skip()
        try:
            self.store.delete(owner, chat_id)
        except ValueError as exc:
            gr.Warning(str(exc).capitalize() + ".")
        return self.shown(owner, "")

    def listing(self, owner: str, current: str) -> Any:
        return _choices(self.store.chats(owner), current)


def _choices(chats: Sequence[ChatInfo], current: str) -> Any:
    """The chat list: each chat by name, the open one chosen; with none, a line saying so."""
    empty = "No chats yet: a chat is saved with its first answer." if not chats else ""
    return gr.Radio(choices=[(c.title, c.id) for c in chats], value=current or None, info=empty)
