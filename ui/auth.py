"""HTTP Basic authentication for the whole server: the chat, its assets and the REST API.

One pure-ASGI middleware (no ``BaseHTTPMiddleware``), so Gradio's server-sent events and
websockets pass through untouched. Gradio's own ``auth=`` is not used: it protects only
Gradio's paths and shows a login form, while this guards every path with one mechanism.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qa.ui.guards import UNSAFE_METHODS, refuse, under

REALM = "reportqa"

Scope = dict[str, Any]
Receive = Any
Send = Any
ASGIApp = Any


READ_ONLY = "read-only "  # an auth file line so marked: the user may ask and search only
READ_ONLY_HEADER = b"x-qa-read-only"  # set by the middleware alone, for the chat's handlers


class Users(dict[str, str]):
    """Users and their passwords, and which of them may only read."""

    read_only: frozenset[str] = frozenset()


def parse_credentials(pairs: Iterable[str] = (), files: Iterable[str | Path] = ()) -> Users:
    """Users and passwords from ``user:password`` strings and files of such lines.

    In files, blank lines and lines starting with ``#`` are skipped, and a line starting
    with ``read-only `` names a user who may ask and search but not upload or remove. The
    password is all that follows the first colon, so it may contain colons. Every bad entry
    is named in one ValueError, and so is a file without users (else the server would run
    without a login).
    """
    users = Users()
    readers: set[str] = set()
    entries: list[tuple[str, str]] = [(pair, "--auth") for pair in pairs]
    for file in files:
        path = Path(file).expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ValueError(f"cannot read the auth file {path}: {why}") from None
        found = [
            (line.strip(), f"{path}:{n}")
            for n, line in enumerate(lines, start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if not found:
            raise ValueError(f"the auth file {path} has no user:password lines")
        entries += found
    bad = []
    for pair, where in entries:
        reader = where != "--auth" and pair.startswith(READ_ONLY)
        user, sep, password = pair.removeprefix(READ_ONLY if reader else "").partition(":")
        if not sep or not user.strip() or not password:
            bad.append(f"{where}: {_masked(pair)!r}")
        else:
            users[user.strip()] = password
            if reader:
                readers.add(user.strip())
    if bad:
        raise ValueError(f"expected user:password, got {'; '.join(bad)}")
    users.read_only = frozenset(readers)
    return users


def _masked(pair: str) -> str:
    user, _, password = pair.partition(":")
    return f"{user}:***" if password else pair


class Throttle:
    """Failed logins counted per client address and per user name: after ``allowed`` of
    them within ``window`` seconds, that address or name is refused, right password or not,
    until the oldest of them is ``window`` seconds old. At most ``keys`` addresses and names
    are kept (the oldest forgotten first), so a flood of names cannot fill the memory."""

    def __init__(self, allowed: int = 5, window: float = 60.0, keys: int = 10_000) -> None:
        self.allowed = allowed
        self.window = window
        self.keys = keys
        self.failures: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, *keys: str, now: float | None = None) -> float:
        """Seconds until these keys may try again (0.0: now)."""
        now = time.monotonic() if now is None else now
        waits = [0.0]
        for key in keys:
            times = self.failures.get(key)
            while times and times[0] <= now - self.window:
                times.popleft()
            if times and len(times) >= self.allowed:
                waits.append(times[0] + self.window - now)
        return max(waits)

    def failed(self, *keys: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for key in keys:
            self.failures.setdefault(key, deque(maxlen=self.allowed)).append(now)
            self.failures.move_to_end(key)
        while len(self.failures) > self.keys:
            self.failures.popitem(last=False)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self.failures.pop(key, None)


class BasicAuthMiddleware:
    """Answers 401 (with a ``WWW-Authenticate`` challenge) unless a user's password is sent,
    and 429 (with ``Retry-After``) to an address or user name that failed too often."""

    def __init__(
        self,
        app: ASGIApp,
        users: dict[str, str],
        realm: str = REALM,
        throttle: Throttle | None = None,
    ) -> None:
        if not users:
            raise ValueError("no users given; pass at least one user:password")
        self.app = app
        self.users = {u.encode(): p.encode() for u, p in users.items()}
        self.read_only = {u.encode() for u in getattr(users, "read_only", ())}
        self.realm = realm
        self.throttle = throttle or Throttle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        sent = credentials(header)
        client = scope.get("client") or ("?", 0)
        keys = (f"address {client[0]}", f"user {sent[0]!r}") if sent else ()
        wait = self.throttle.wait(*keys)
        if wait > 0:
            await self._refuse(scope, send, wait)
            return
        if self._allowed(sent):
            self.throttle.succeeded(*keys)
            # only this middleware says who may only read: a client's own header is dropped
            headers = [(k, v) for k, v in scope.get("headers") or [] if k != READ_ONLY_HEADER]
            if sent and sent[0] in self.read_only:
                if scope["type"] == "http" and writes(scope["method"], scope["path"]):
                    await refuse(send, 403, "a read-only user may ask and search, not change")
                    return
                headers.append((READ_ONLY_HEADER, b"1"))
            await self.app({**scope, "headers": headers}, receive, send)
            return
        self.throttle.failed(*keys)  # no credentials at all is no failed login
        challenge = f'Basic realm="{self.realm}", charset="UTF-8"'.encode()
        body = b"401 Unauthorized: log in first\n"
        await _answer(scope, send, 401, (b"www-authenticate", challenge), body)

    async def _refuse(self, scope: Scope, send: Send, wait: float) -> None:
        seconds = str(math.ceil(wait)).encode()
        body = b"429 Too many failed logins: try again in " + seconds + b" s\n"
        await _answer(scope, send, 429, (b"retry-after", seconds), body)

    def _allowed(self, sent: tuple[bytes, bytes] | None) -> bool:
        user, password = sent if sent else (b"", b"")
        expected = self.users.get(user)
        # compare even for an unknown user, so the timing does not tell which users exist
        ok = secrets.compare_digest(
            password, expected if expected is not None else b"\0" + password
        )
        return sent is not None and expected is not None and ok


async def _answer(
    scope: Scope, send: Send, status: int, header: tuple[bytes, bytes], body: bytes
) -> None:
    """A refusal as plain text with ``header``; a websocket is closed instead."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    headers = [header, (b"content-type", b"text/plain; charset=utf-8")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def read_only(request: Any) -> bool:
    """Whether the login middleware marked this (Gradio) request's user as read-only."""
    return request is not None and bool(request.headers.get(READ_ONLY_HEADER.decode()))


WRITE_ROUTES = ("/api/v1/documents", "/gradio_api/upload")  # and everything under them


def writes(method: str, path: str) -> bool:
    """Whether a request changes the index (uploads or removes reports)."""
    return method in UNSAFE_METHODS and any(under(path, route) for route in WRITE_ROUTES)


def credentials(header: bytes) -> tuple[bytes, bytes] | None:
    """The user and password of an ``Authorization: Basic`` header, or None."""
    scheme, _, token = header.partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    return (user, password) if sep else None


def user_of(authorization: str | None) -> str | None:
    """The user named by a request's Authorization header (which the middleware has
    checked, when the server asks for a login)."""
    sent = credentials((authorization or "").encode("latin-1", "replace"))
    return sent[0].decode("utf-8", "replace") if sent else None
