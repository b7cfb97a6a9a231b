"""Saved chats: owners kept apart, turns in order, names, deletion, a file that outlives the
server."""

from __future__ import annotations

from base64 import b64encode
from pathlib import Path

import gradio as gr
import pytest

from qa.engine import Engine
from qa.index import Index
from qa.types import Answer, Citation, Claim, Generated, Source
from qa.ui.chat import chat_page
from qa.ui.conversations import MAX_TITLE, ChatStore, Turn
from qa.ui.service import Service

CITED = Citation(1, "abc", "a.txt", "A", None, 0, 4, "Six.", 0, 3)
WRITTEN = Generated(
    "m",
    "Six [1]. Nine [7].",
    (Claim("Six [1].", (1,)), Claim("Nine.", (), ("cites no passage",), (7,))),
    (Source(1, "abc", "A", "a.txt", 0, 4),),
)
ANSWER = Answer("How many?", "six [1]", "six", False, 0.9, (CITED,), generated=WRITTEN)


def test_turns_are_kept_in_order_for_their_owner_only(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / "chats.sqlite3")
    chat = store.add_turn("user:ann", None, Turn("How many?", ANSWER))
    assert store.add_turn("user:ann", chat, Turn("And then?", None, "no such date")) == chat
    assert store.turns("user:ann", chat) == [
        Turn("How many?", ANSWER),  # a generated answer and its checks included
        Turn("And then?", None, "no such date"),
    ]
    assert store.turns("user:bob", chat) == []  # another owner's chat is not there for bob
    other = store.add_turn("user:bob", chat, Turn("Mine?", None, "x"))  # nor can he add to it
    assert other != chat and [c.id for c in store.chats("user:bob")] == [other]
    with pytest.raises(ValueError, match="no longer there"):
        store.rename("user:bob", chat, "taken")
    with pytest.raises(ValueError, match="no longer there"):
        store.delete("user:bob", chat)
    assert [c.title for c in store.chats("user:ann")] == ["How many?"]


def test_chats_are_named_listed_newest_first_and_deleted(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite3"
    store = ChatStore(path)
    first = store.add_turn("b", None, Turn("  A   question\nover lines " + "x" * 200, None, "e"))
    second = store.add_turn("b", None, Turn("Second?", None, "e"))
    listed = store.chats("b")
    assert [c.id for c in listed] == [second, first]
    assert listed[1].title.startswith("A question over lines x") and listed[1].title[-1] == "…"
    assert len(listed[1].title) == MAX_TITLE
    store.add_turn("b", first, Turn("More?", None, "e"))  # a new turn brings a chat to the top
    assert [c.id for c in store.chats("b")] == [first, second]
    assert store.rename("b", second, "  Kharkiv\tmetro ") == "Kharkiv metro"
    with pytest.raises(ValueError, match="empty"):
        store.rename("b", second, "   ")
    secret = store.secret
    store.delete("b", first)
    store.close()
    again = ChatStore(path)  # what the server kept survives its restart, with its secret
    assert [(c.id, c.title) for c in again.chats("b")] == [(second, "Kharkiv metro")]
    assert again.turns("b", first) == [] and again.secret == secret


def test_a_page_with_no_owner_keeps_nothing(module_sample_index: Index) -> None:
    """Without a signed-in user or a browser id, chats are not pooled under a shared owner."""
    store = ChatStore()
    chats = chat_page(Service(Engine(module_sample_index)), store).chats
    assert chats.owner(None, None) == "" and chats.owner(None, "not-an-id") == ""
    browser = "ab" * 16
    assert chats.owner(None, browser) == f"browser:{browser}"
    alice = gr.Request(headers={"authorization": "Basic " + b64encode(b"alice:x").decode()})
    # a server that checks no logins trusts no user name a client sends
    assert chats.owner(alice, browser) == f"browser:{browser}"
    checked = chat_page(Service(Engine(module_sample_index)), store, logins=True).chats
    assert checked.owner(alice, browser) == "user:alice"
    assert chats.save("", "", Turn("How many?", ANSWER)) == {chats.view.chat_id: ""}
    assert store.chats("") == []
