"""HTTP Basic authentication for the whole server: the chat, its assets and the REST API.

One pure-ASGI middleware (no ``BaseHTTPMiddleware``), so Gradio's server-sent events and
websockets pass through untouched. Gradio's own ``auth=`` is not used: it protects only
Gradio's paths and shows a login form, while this guards every path with one mechanism.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REALM = "reportqa"

Scope = dict[str, Any]
Receive = Any
Send = Any
ASGIApp = Any


def parse_credentials(
    pairs: Iterable[str] = (), files: Iterable[str | Path] = ()
) -> dict[str, str]:
    """Users and passwords from ``user:password`` strings and files of such lines.

    In files, blank lines and lines starting with ``#`` are skipped. The password is all that
    follows the first colon, so it may contain colons. Every bad entry is named in one
    ValueError, and so is a file without users (else the server would run without a login).
    """
    users: dict[str, str] = {}
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
        user, sep, password = pair.partition(":")
        if not sep or not user.strip() or not password:
            bad.append(f"{where}: {_masked(pair)!r}")
        else:
            users[user.strip()] = password
    if bad:
        raise ValueError(f"expected user:password, got {'; '.join(bad)}")
    return users


def _masked(pair: str) -> str:
    user, _, password = pair.partition(":")
    return f"{user}:***" if password else pair


class BasicAuthMiddleware:
    """Answers 401 (with a ``WWW-Authenticate`` challenge) unless a user's password is sent."""

    def __init__(self, app: ASGIApp, users: dict[str, str], realm: str = REALM) -> None:
        if not users:
            raise ValueError("no users given; pass at least one user:password")
        self.app = app
        self.users = {u.encode(): p.encode() for u, p in users.items()}
        self.realm = realm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        challenge = f'Basic realm="{self.realm}", charset="UTF-8"'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"www-authenticate", challenge),
                    (b"content-type", b"text/plain; charset=utf-8"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"401 Unauthorized: log in first\n"})

    def _allowed(self, scope: Scope) -> bool:
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        sent = credentials(header)
        user, password = sent if sent else (b"", b"")
        expected = self.users.get(user)
        # compare even for an unknown user, so the timing does not tell which users exist
        ok = secrets.compare_digest(
            password, expected if expected is not None else b"\0" + password
        )
        return sent is not None and expected is not None and ok


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
