"""One ASGI app: the REST API under /api/v1, its OpenAPI page at /docs, the chat at /.

Order matters: the API routes are added before Gradio is mounted at ``/``, because a mount
at the root matches every path and Starlette tries routes in the order they were added.
"""

from __future__ import annotations

import json
from typing import Any

import gradio as gr
from fastapi import FastAPI

from qa import __version__
from qa.ui import chat
from qa.ui.api import PREFIX, build_router
from qa.ui.auth import BasicAuthMiddleware
from qa.ui.service import MAX_FILES, Service

MULTIPART_SLACK = 64 * 1024  # room for multipart headers around the files themselves


def create_app(service: Service, users: dict[str, str] | None = None) -> FastAPI:
    """The whole server for ``service``; with ``users`` every path asks for HTTP Basic auth."""
    from fastapi_offline import FastAPIOffline  # serves Swagger UI's files itself, no CDN

    app: FastAPI = FastAPIOffline(
        title="reportqa",
        version=__version__,
        description="Question answering over news reports, every answer tied to the exact "
        "words of its source. The chat is at [/](/).",
        docs_url="/docs",
        redoc_url=None,
    )
    app.include_router(build_router(service))
    demo = chat.build_chat(service)
    demo.queue(default_concurrency_limit=4)
    app = gr.mount_gradio_app(
        app,
        demo,
        path="/",
        theme=chat.theme(),
        css=chat.static_text("chat.css"),
        head=chat.head(),
        ssr_mode=False,
        footer_links=[],
        max_file_size=service.max_upload_bytes,
        show_error=True,
    )
    limit = service.max_upload_bytes * MAX_FILES + MULTIPART_SLACK
    app.add_middleware(BodyLimitMiddleware, limit=limit, prefix=PREFIX)
    if users:
        app.add_middleware(BasicAuthMiddleware, users=users)
    return app


class BodyLimitMiddleware:
    """Refuses (413) an API request whose declared body is over ``limit`` bytes, unread.

    Per-file limits are checked by the upload route; this stops a huge request from being
    spooled to disk first. Gradio's own uploads are limited by its ``max_file_size``.
    """

    def __init__(self, app: Any, limit: int, prefix: str) -> None:
        self.app = app
        self.limit = limit
        self.prefix = prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            length = dict(scope.get("headers") or []).get(b"content-length", b"0")
            if length.isdigit() and int(length) > self.limit:
                detail = f"the request body is over {self.limit / 2**20:.0f} MB"
                body = json.dumps({"detail": detail}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
