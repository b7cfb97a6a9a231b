"""One ASGI app: the REST API under /api/v1, its OpenAPI page at /docs, the chat at /.

Order matters: the API routes are added before Gradio is mounted at ``/``, because a mount
at the root matches every path and Starlette tries routes in the order they were added.
Middlewares run last added first: host check, then login, then the guards: same-origin
writes everywhere, no cross-origin reads, report types only in the chat's uploads, and the
API's body limits.
"""

from __future__ import annotations

import gradio as gr
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from qa import __version__
from qa.loaders import SUPPORTED_SUFFIXES
from qa.ui import chat, handlers
from qa.ui.api import PREFIX, http_error, router, validation_error
from qa.ui.auth import BasicAuthMiddleware
from qa.ui.conversations import ChatStore
from qa.ui.guards import (
    BodyLimitMiddleware,
    NoFetchMiddleware,
    SameOriginMiddleware,
    UploadTypeMiddleware,
    trusted_hosts,
)
from qa.ui.service import MAX_FILES, Service

MULTIPART_SLACK = 64 * 1024  # room for multipart headers around the files themselves
JSON_LIMIT = 1024 * 1024  # a question with its history, or a search, is far smaller
GRADIO_API = "/gradio_api"  # Gradio's routes and events
GRADIO_UPLOAD = f"{GRADIO_API}/upload"  # where the chat's file box sends files


def create_app(
    service: Service,
    users: dict[str, str] | None = None,
    *,
    host: str | None = None,
    chats: ChatStore | None = None,
) -> FastAPI:
    """The whole server for ``service``; with ``users`` every path asks for HTTP Basic auth.
    The chat keeps conversations in ``chats`` (in memory if None).

    ``host`` is the address the server is bound to: on a loopback address only its own
    names (localhost, 127.0.0.1, [::1]) are accepted in the Host header.
    """
    from fastapi_offline import FastAPIOffline  # serves Swagger UI's files itself, no CDN

    app: FastAPI = FastAPIOffline(
        title="reportqa",
        version=__version__,
        description="Question answering over news reports, every answer tied to the exact "
        "words of its source. The chat is at [/](/).",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.service = service  # what the API's routes work on (api.get_service)
    app.include_router(router)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    demo = chat.build_chat(service, chats, logins=bool(users))
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
    # Gradio checks that the files an event names were uploaded to it only once `launch()`
    # has run; mounted, it never runs, and any client could name any file on the disk
    demo.has_launched = True
    upload = service.max_upload_bytes * MAX_FILES + MULTIPART_SLACK
    limits = {("POST", f"{PREFIX}/documents"): upload}
    app.add_middleware(BodyLimitMiddleware, prefix=PREFIX, default=JSON_LIMIT, limits=limits)
    app.add_middleware(NoFetchMiddleware, prefix=GRADIO_API)
    app.add_middleware(
        UploadTypeMiddleware,
        path=GRADIO_UPLOAD,
        suffixes=SUPPORTED_SUFFIXES,
        folder=handlers.upload_folder,
    )
    # no origin but the server's own may read its answers; Gradio, seeing CORS handled here,
    # drops its own rule that lets any page served from localhost read them
    app.add_middleware(CORSMiddleware, allow_origins=[])
    app.add_middleware(SameOriginMiddleware)
    if users:
        app.add_middleware(BasicAuthMiddleware, users=users)
    allowed = trusted_hosts(host)
    if allowed is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed)
    return app
