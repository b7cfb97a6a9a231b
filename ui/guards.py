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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
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
