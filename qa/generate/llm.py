"""A language model behind an OpenAI-compatible chat-completions endpoint (llama.cpp's server,
Ollama, vLLM, hosted services), streamed.

Nothing here runs unless an endpoint is configured: without one the product makes no network
call. The key comes from ``$QA_LLM_API_KEY`` only, never from a flag (flags show in process
lists and shell histories). Every failure is a :class:`~qa.errors.GenerationError` whose
message can be shown to a user as it is.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from qa.errors import GenerationError

KEY_ENV = "QA_LLM_API_KEY"
CONNECT_SECONDS = 5.0  # to open the connection
READ_SECONDS = 30.0  # between two pieces of the reply (the first one included)
TOTAL_SECONDS = 120.0  # for the whole reply
MAX_TOKENS = 400  # a short answer
PARALLEL = 4  # replies written at once; the next waits up to BUSY_SECONDS, then gets a note
BUSY_SECONDS = 2.0

Message = dict[str, str]


@dataclass(frozen=True)
class LLM:
    """An endpoint and a model name. ``url`` is the API's base, as clients are given it
    (``http://localhost:8080/v1``); requests go to ``{url}/chat/completions``."""

    url: str
    model: str
    total_seconds: float = TOTAL_SECONDS
    read_seconds: float = READ_SECONDS
    parallel: int = PARALLEL
    busy_seconds: float = BUSY_SECONDS
    # a reply being written holds a server thread for up to total_seconds: without a bound,
    # a slow endpoint and many questions would take every thread (health checks included)
    _slots: threading.BoundedSemaphore = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.parallel < 1:
            raise ValueError(f"parallel must be 1 or more, got {self.parallel}")
        object.__setattr__(self, "_slots", threading.BoundedSemaphore(self.parallel))
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"the language-model URL {self.url!r} is not an http(s) address; give the "
                "API's base, e.g. http://localhost:8080/v1"
            )
        if parts.username or parts.password:
            raise ValueError(
                f"the language-model URL holds a user or key; put the key in ${KEY_ENV} instead"
            )
        if not self.model.strip():
            raise ValueError("give the language model's name (--llm-model)")

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        """The reply to ``messages``, piece by piece as the endpoint writes it; at most
        ``parallel`` at once."""
        if not self._slots.acquire(timeout=self.busy_seconds):
            raise GenerationError(
                f"the language model is busy (it writes {self.parallel} "
                f"answer{'s' if self.parallel != 1 else ''} at once); ask again shortly"
            )
        try:
            yield from self._stream(messages)
        finally:
            self._slots.release()

    def _stream(self, messages: Sequence[Message]) -> Iterator[str]:
        body = {
            "model": self.model,
            "messages": list(messages),
            "stream": True,
            "temperature": 0.1,
            "max_tokens": MAX_TOKENS,
        }
        headers = {"Accept": "text/event-stream"}
        if os.environ.get(KEY_ENV):
            headers["Authorization"] = f"Bearer {os.environ[KEY_ENV]}"
        timeout = httpx.Timeout(self.read_seconds, connect=CONNECT_SECONDS)
        deadline = time.monotonic() + self.total_seconds
        where = f"{self.url.rstrip('/')}/chat/completions"
        try:
            with httpx.stream("POST", where, json=body, headers=headers, timeout=timeout) as reply:
                _check_status(reply)
                streamed = "text/event-stream" in reply.headers.get("content-type", "")
                if not streamed:  # an endpoint that ignores "stream": one JSON object
                    yield _content(_json(reply.read().decode("utf-8", "replace")), "message")
                    return
                for line in reply.iter_lines():
                    if time.monotonic() > deadline:
                        raise GenerationError(
                            f"the language model took over {self.total_seconds:g} s"
                        )
                    piece = _event(line)
                    if piece is None:
                        return
                    if piece:
                        yield piece
        except httpx.TimeoutException:
            raise GenerationError(
                f"the language model did not answer within {self.read_seconds:g} s"
            ) from None
        except httpx.RemoteProtocolError:
            raise GenerationError("the connection to the language model dropped") from None
        except httpx.HTTPError as exc:
            reason = type(exc).__name__
            raise GenerationError(f"cannot reach the language model ({reason})") from None
        raise GenerationError("the language model's reply ended without its end mark")


def _check_status(reply: httpx.Response) -> None:
    if reply.status_code == 429:
        raise GenerationError("the language model is rate-limited (HTTP 429); try again later")
    if reply.status_code >= 400:
        raise GenerationError(f"the language model answered HTTP {reply.status_code}")


def _event(line: str) -> str | None:
    """The text a server-sent event line adds ("" for none); None at ``[DONE]``."""
    if not line.startswith("data:"):
        return ""  # a comment, an event name or a blank line between events
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    return _content(_json(data), "delta")


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise GenerationError("the language model sent something that is not JSON") from None


def _content(data: Any, key: str) -> str:
    """``choices[0][key]["content"]`` of a completion (or of one chunk of it)."""
    try:
        choice = data["choices"][0] if data["choices"] else {}
        content = choice.get(key, {}).get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        raise GenerationError(
            "the language model sent JSON that is not a chat completion"
        ) from None
    if not isinstance(content, str):
        raise GenerationError("the language model sent JSON that is not a chat completion")
    return content
