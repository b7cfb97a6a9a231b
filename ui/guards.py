"""Request guards of the REST API: same-origin writes, a body size limit, trusted host names.

Pure-ASGI middlewares (no ``BaseHTTPMiddleware``), so Gradio's server-sent events and
websockets pass through untouched. Without them any web page the user opens could change the
index: a multipart upload is a "simple" request that browsers send cross-site without asking,
and a DNS-rebinding page reaches a server on localhost under its own host name.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

Scope = dict[str, Any]
Receive = Any
Send = Any
ASGIApp = Any

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def trusted_hosts(bind: str | None) -> list[str] | None:
    """The Host names to accept for a server bound to ``bind``, or None to accept any.

    Only a loopback server is limited: reached from this machine it has no other name, so
    any other Host header is a rebinding attack. On other addresses the name is unknown.
    """
    if bind is None:
        return None
    name = bind.strip("[]").lower()
    if name != "localhost":
        try:
            if not ipaddress.ip_address(name).is_loopback:
                return None
        except ValueError:  # a host name other than localhost
            return None
        if ":" in name:
            name = f"[{name}]"
    return list(dict.fromkeys([*LOOPBACK_NAMES, name]))


def under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


async def refuse(send: Send, status: int, detail: str) -> None:
    """Answer with ``status`` and a JSON ``detail``, as FastAPI's own errors look."""
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def cross_site(headers: dict[bytes, bytes]) -> str | None:
    """Why a request comes from another site's page, or None when it does not.

    Browsers send ``Origin`` (and ``Sec-Fetch-Site``) with every POST; clients such as curl
    and httpx send neither, so they pass. Another port on the same host is another origin.
    """
    site = headers.get(b"sec-fetch-site")
    if site is not None and site not in (b"same-origin", b"none"):
        return f"the browser marked it {site.decode('latin-1')}"
    origin = headers.get(b"origin")
    if origin is None:
        return None
    text = origin.decode("latin-1")
    host = headers.get(b"host", b"").decode("latin-1")
    if text == "null" or urlsplit(text).netloc.lower() != host.lower():
        return f"it was sent by a page of {text}"
    return None


class SameOriginMiddleware:
    """Refuses (403) a POST, PUT, PATCH or DELETE sent by another site's page, on every path:
    the REST API and the chat's own event and upload routes alike.

    Reads (GET) are not checked: no CORS header lets another page read the answer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            why = cross_site(dict(scope.get("headers") or []))
            if why is not None:
                detail = (
                    f"cross-site request refused: {why}; use this server's own pages, or a "
                    "client such as curl"
                )
                await refuse(send, 403, detail)
                return
        await self.app(scope, receive, send)


class UploadTypeMiddleware:
    """Keeps the chat's upload route (Gradio's, which stores any file) to report files.

    Gradio answers an upload with the paths it saved; when any of them is not of a
    supported type, every file of the upload is deleted and the answer becomes a 415.
    """

    def __init__(
        self, app: ASGIApp, path: str, suffixes: tuple[str, ...], folder: Callable[[], str]
    ) -> None:
        self.app = app
        self.path = path
        self.suffixes = suffixes
        self.folder = folder
        self.uploading = 0  # uploads in flight (one event loop: no lock needed)
        self.begun = 0  # uploads ever begun

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        self.uploading += 1
        self.begun += 1
        ticket, since, status = self.begun, time.time(), [0]

        async def noted_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self._upload(scope, receive, noted_send)
        finally:
            self.uploading -= 1
            alone = ticket == self.begun and not self.uploading  # no upload overlapped it
            if status[0] != 200 and alone:
                self.sweep(since)
            elif not self.uploading:
                self.sweep(None)

    def sweep(self, since: float | None) -> None:
        """Delete what refused uploads left, which ``/gradio_api/file=`` would serve.
        Gradio parses an upload into ``tmp*`` files at the top of its folder and moves each
        into a folder of its own once it takes it; an upload it refuses halfway (a file
        named "..", a body cut short) leaves both kinds. With no upload in flight every
        ``tmp*`` file at the top is a leftover; with ``since`` (a refused upload that no
        other overlapped), so is every file saved from then on."""
        folder = self.folder()
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                if entry.name.startswith("tmp") and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                elif since is not None and entry.is_dir(follow_symlinks=False):
                    _remove_newer(entry.path, since)

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: dict[str, Any] = {}
        body: list[bytes] = []

        async def held_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            data = b"".join(body)
            refused = self.refused(data) if start.get("status") == 200 else None
            if refused:
                await refuse(send, 415, refused)
                return
            await send(start)
            await send({"type": "http.response.body", "body": data})

        await self.app(scope, receive, held_send)

    def refused(self, answer: bytes) -> str | None:
        """Why the saved files may not stay (they are then deleted), or None."""
        try:
            paths = [Path(p) for p in json.loads(answer)]
        except (ValueError, TypeError):
            return None
        bad = [p.name for p in paths if p.suffix.lower() not in self.suffixes]
        if not bad:
            return None
        folder = Path(self.folder()).resolve()
        for path in paths:
            real = path.resolve()
            if real.is_relative_to(folder) and real != folder:
                with contextlib.suppress(OSError):
                    real.unlink()
                    if real.parent != folder:
                        real.parent.rmdir()
        return f"{bad[0]}: unsupported file type; supported: {', '.join(self.suffixes)}"


def _remove_newer(folder: str, since: float) -> None:
    """The files of ``folder`` changed at or after ``since``, and the folder once empty."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.is_file(follow_symlinks=False) and entry.stat().st_ctime >= since:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        os.rmdir(folder)


class BodyTooLarge(Exception):
    """Raised into the app by the counting ``receive`` once a body passes its limit."""


class BodyLimitMiddleware:
    """Refuses (413) an API request whose body is over its limit, declared or not.

    A declared ``Content-Length`` over the limit is refused unread. A chunked body declares
    no length, so ``receive`` counts the bytes and stops the app's read once they pass the
    limit, before Starlette spools the rest of a multipart body to disk. ``limits`` maps
    (method, path) to a limit; every other request under ``prefix`` gets ``default``.
    """

    def __init__(
        self, app: ASGIApp, prefix: str, default: int, limits: dict[tuple[str, str], int]
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.default = default
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not under(scope["path"], self.prefix):
            await self.app(scope, receive, send)
            return
        limit = self.limits.get((scope["method"], scope["path"]), self.default)
        detail = f"the request body is over {limit / 2**20:.3g} MB; send less at once"
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await refuse(send, 413, detail)
            return
        received = 0
        over = started = False

        async def counting_receive() -> dict[str, Any]:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge(detail)
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if over:  # the app's own answer to the cut-off read (FastAPI makes it a 400)
                return
            started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not over:
                raise
        if over and not started:
            await refuse(send, 413, detail)


class NoFetchMiddleware:
    """No route or event makes this server fetch a URL a client names.

    Gradio downloads a file an event names by URL (a ``FileData`` whose path is
    ``http://...``), and ``/gradio_api/file=http://...`` streams one; the product makes no
    network calls but to a configured language model. Both are refused here: the file
    routes with a URL (403), and any Gradio event whose JSON holds a file path that is a URL
    (400; the body is read first, up to ``limit`` bytes, then handed on unchanged).
    """

    def __init__(self, app: ASGIApp, prefix: str, limit: int = 1 << 20) -> None:
        self.app = app
        self.prefix = prefix
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not under(scope["path"], self.prefix):
            await self.app(scope, receive, send)
            return
        route = scope["path"][len(self.prefix) :]
        target = route.split("=", 1)[1] if route.startswith(("/file=", "/proxy=")) else None
        if target is not None and _URL.match(target):
            await refuse(send, 403, "this server fetches nothing from other hosts")
            return
        if scope["method"] != "POST" or b"json" not in _header(scope, b"content-type"):
            await self.app(scope, receive, send)
            return
        body, messages = b"", []
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if len(body) > self.limit:
                await refuse(send, 413, f"the request body is over {self.limit >> 20} MB")
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        with contextlib.suppress(ValueError, RecursionError):
            if _names_a_url(json.loads(body or b"null")):
                detail = "a file given by URL; this server fetches nothing: upload the file"
                await refuse(send, 400, detail)
                return

        async def replay() -> dict[str, Any]:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


_URL = re.compile(r"\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:|[/\\]{2})")


def _header(scope: Scope, name: bytes) -> bytes:
    return dict(scope.get("headers") or []).get(name, b"").lower()


def _names_a_url(data: Any) -> bool:
    """Whether ``data`` (an event's JSON) holds a file whose path is a URL, at any depth."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            path = item.get("path")
            if isinstance(path, str) and _URL.match(path):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
