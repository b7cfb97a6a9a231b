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
import queue
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
MAX_TOKENS = 400  # a short answer, asked for and enforced here (as characters, below)
MAX_REPLY_CHARS = MAX_TOKENS * 8  # English runs about 4 characters a token: twice that
MAX_REPLY_BYTES = 512 * 1024  # all a reply may send (400 streamed tokens take about 60 KB)
MAX_LINE_BYTES = 64 * 1024  # one event line of the stream
PUMP_QUEUE = 8  # pieces received and not yet taken: memory stays bounded
HEARTBEAT_SECONDS = 1.0  # "" is yielded when nothing was written for this long
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
        # no compression: the caps count what the endpoint sends, a zip bomb cannot grow it
        headers = {"Accept": "text/event-stream", "Accept-Encoding": "identity"}
        if os.environ.get(KEY_ENV):
            headers["Authorization"] = f"Bearer {os.environ[KEY_ENV]}"
        deadline = time.monotonic() + self.total_seconds
        pump = _Pump(f"{self.url.rstrip('/')}/chat/completions", body, headers, self.read_seconds)
        try:
            yield from self._pieces(pump, deadline)
        finally:
            pump.stop.set()  # the asker left, or the reply ended: the pump hangs up

    def _pieces(self, pump: _Pump, deadline: float) -> Iterator[str]:
        """The text of the reply's events as the pump receives them, within the deadline,
        the byte cap, the line cap and the token cap; "" when nothing was written for
        :data:`HEARTBEAT_SECONDS`, so the asker can tell whether its client is still there."""
        streamed: bool | None = None  # None until the reply's head came
        received, written, buffer = 0, 0, bytearray()
        last = time.monotonic()
        while (item := pump.next(deadline, self.total_seconds)) is not None:
            if isinstance(item, httpx.Response):
                _check_status(item)
                streamed = "text/event-stream" in item.headers.get("content-type", "")
                continue
            received += len(item)
            if received > MAX_REPLY_BYTES:
                raise GenerationError(
                    f"the language model's reply went over {MAX_REPLY_BYTES // 1024} KB"
                )
            buffer += item
            if streamed:
                lines = buffer.split(b"\n")
                buffer = bytearray(lines.pop())
                if len(buffer) > MAX_LINE_BYTES:
                    raise GenerationError(
                        f"the language model sent a line over {MAX_LINE_BYTES // 1024} KB"
                    )
                for line in lines:
                    piece = _event(line.decode("utf-8", "replace").rstrip("\r"))
                    if piece is None:
                        return
                    written += len(piece)
                    _check_written(written)
                    if piece:
                        last = time.monotonic()
                        yield piece
            if time.monotonic() - last >= HEARTBEAT_SECONDS:
                last = time.monotonic()
                yield ""
        if streamed is False:  # an endpoint that ignores "stream": one JSON object
            text = _content(_json(buffer.decode("utf-8", "replace")), "message")
            _check_written(len(text))
            yield text
            return
        raise GenerationError("the language model's reply ended without its end mark")


def _check_written(chars: int) -> None:
    if chars > MAX_REPLY_CHARS:
        raise GenerationError(f"the language model wrote past the {MAX_TOKENS} tokens asked for")


class _Pump:
    """The request, run in a thread of its own that hands the reply on (its head, then its
    bytes) through a short queue: the asker waits on the queue with the reply's deadline,
    so no endpoint (silent, dripping, endless) holds it past that deadline. Once ``stop``
    is set the thread hangs up at its next piece, or when a read times out."""

    def __init__(
        self, url: str, body: dict[str, Any], headers: dict[str, str], read_seconds: float
    ) -> None:
        self.stop = threading.Event()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=PUMP_QUEUE)
        timeout = httpx.Timeout(read_seconds, connect=CONNECT_SECONDS)
        args = (url, body, headers, timeout)
        threading.Thread(target=self._run, args=args, daemon=True, name="qa-llm").start()

    def next(self, deadline: float, total_seconds: float) -> httpx.Response | bytes | None:
        """The next thing the thread received (None: the reply ended; b"" when nothing came
        for :data:`HEARTBEAT_SECONDS`), or GenerationError for what went wrong, the
        deadline included."""
        left = deadline - time.monotonic()
        try:
            item = self._queue.get(timeout=max(0.0, min(left, HEARTBEAT_SECONDS)))
        except queue.Empty:
            if left > HEARTBEAT_SECONDS:
                return b""
            raise GenerationError(f"the language model took over {total_seconds:g} s") from None
        if isinstance(item, GenerationError):
            raise item
        assert item is None or isinstance(item, (httpx.Response, bytes))
        return item

    def _run(self, url: str, body: Any, headers: dict[str, str], timeout: httpx.Timeout) -> None:
        try:
            with httpx.stream("POST", url, json=body, headers=headers, timeout=timeout) as reply:
                if not self._put(reply):
                    return
                for data in reply.iter_raw():  # as each read arrives (a size would wait to fill)
                    if not self._put(data):
                        return
            self._put(None)
        except httpx.TimeoutException:
            self._put(
                GenerationError(f"the language model did not answer within {timeout.read:g} s")
            )
        except httpx.RemoteProtocolError:
            self._put(GenerationError("the connection to the language model dropped"))
        except httpx.HTTPError as exc:
            reason = type(exc).__name__
            self._put(GenerationError(f"cannot reach the language model ({reason})"))
        except Exception as exc:  # else the asker would wait out the deadline for nothing
            reason = type(exc).__name__
            self._put(GenerationError(f"reading the language model's reply failed ({reason})"))

    def _put(self, item: object) -> bool:
        """Hand ``item`` on; False once the asker has gone (the thread then hangs up)."""
        while not self.stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False


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
