"""Saved chats: each owner's conversations, their questions and answers, in one SQLite file.

An owner is the signed-in user when the server asks for a login, else a random id that the
browser keeps. Every read and write names its owner, so one never reaches another's chats.
Answers are kept as ``Answer.to_dict()``; they are shown again from the index's current
reports, so a report removed since says so on its card.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from qa.types import Answer

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chats (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS chats_owner ON chats (owner, updated);
CREATE TABLE IF NOT EXISTS turns (
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE, n INTEGER NOT NULL,
    question TEXT NOT NULL, answer TEXT, error TEXT, PRIMARY KEY (chat_id, n)
);
"""
MAX_TITLE = 80  # characters of a chat's name
LISTED = 50  # the most recent chats an owner sees in the list


@dataclass(frozen=True)
class Turn:
    """A question and its answer, or the error it got instead."""

    question: str
    answer: Answer | None
    error: str | None = None


@dataclass(frozen=True)
class ChatInfo:
    id: str
    title: str
    updated: float


class ChatStore:
    """Chats in one SQLite file (``":memory:"`` for a server that keeps nothing).

    Writes are small and rare (one per answer), so one connection behind a lock serves all
    threads.
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self._lock = threading.Lock()
        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False)
            self._setup()
        except (OSError, sqlite3.Error) as exc:
            raise ValueError(
                f"cannot keep chats in {path}: {exc}; give another --chats FILE"
            ) from None

    def _setup(self) -> None:
        with self._lock:
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.executescript(SCHEMA)
            with self._db:
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('secret', ?)", (secrets.token_hex(16),)
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def secret(self) -> str:
        """A random key made with the file: the browser's copy of its owner id is encrypted
        with it, so that copy stays readable after the server restarts."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
        return str(row[0])

    def chats(self, owner: str) -> list[ChatInfo]:
        """The owner's most recent chats, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, title, updated FROM chats WHERE owner = ? "
                "ORDER BY updated DESC LIMIT ?",
                (owner, LISTED),
            ).fetchall()
        return [ChatInfo(*row) for row in rows]

    def turns(self, owner: str, chat_id: str) -> list[Turn]:
        """The chat's turns in order; none when the owner has no such chat."""
        with self._lock:
            rows = self._db.execute(
                "SELECT t.question, t.answer, t.error FROM turns t JOIN chats c "
                "ON c.id = t.chat_id WHERE c.id = ? AND c.owner = ? ORDER BY t.n",
                (chat_id, owner),
            ).fetchall()
        return [Turn(q, Answer.from_dict(json.loads(a)) if a else None, e) for q, a, e in rows]

    def add_turn(self, owner: str, chat_id: str | None, turn: Turn) -> str:
        """Append ``turn`` to the owner's chat, or to a new one named after the question when
        there is none; the chat's id."""
        answer = json.dumps(turn.answer.to_dict()) if turn.answer else None
        with self._lock, self._db:
            owned = (
                chat_id
                and self._db.execute(
                    "SELECT 1 FROM chats WHERE id = ? AND owner = ?", (chat_id, owner)
                ).fetchone()
            )
            if not owned:
                chat_id = secrets.token_hex(8)
                self._db.execute(
                    "INSERT INTO chats VALUES (?, ?, ?, ?)",
                    (chat_id, owner, title_of(turn.question), time.time()),
                )
            self._db.execute("UPDATE chats SET updated = ? WHERE id = ?", (time.time(), chat_id))
            self._db.execute(
                "INSERT INTO turns VALUES (?, (SELECT count(*) FROM turns WHERE chat_id = ?), "
                "?, ?, ?)",
                (chat_id, chat_id, turn.question, answer, turn.error),
            )
        assert chat_id
        return chat_id

    def rename(self, owner: str, chat_id: str, title: str) -> str:
        """Give the owner's chat a new name (cut to ``MAX_TITLE``); the name it got.
        ValueError for an empty name or a chat that is not there."""
        title = title_of(title)
        if not title:
            raise ValueError("a chat's name cannot be empty")
        self._change("UPDATE chats SET title = ? WHERE id = ? AND owner = ?", title, chat_id, owner)
        return title

    def delete(self, owner: str, chat_id: str) -> None:
        """Delete the owner's chat and its turns; ValueError if it is not there."""
        self._change("DELETE FROM chats WHERE id = ? AND owner = ?", chat_id, owner)

    def _change(self, sql: str, *args: str) -> None:
        with self._lock, self._db:
            if self._db.execute(sql, args).rowcount != 1:
                raise ValueError("that chat is no longer there; it may have been deleted")


def title_of(text: str) -> str:
    """A chat's name from a question or a name typed in: one line, at most ``MAX_TITLE``."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_TITLE else line[: MAX_TITLE - 1].rstrip() + "…"
