"""REST API routes under ``/api/v1``: ask (plain or streamed), search, documents (list, get,
upload, delete), health.

The routes are module-level functions on ``router``; each gets the service it works on from
the app (:func:`get_service`, a dependency), which :func:`qa.ui.server.create_app` sets.

Work that blocks runs in threads, never on the event loop: plain ``def`` routes in FastAPI's
threadpool; questions and searches take a turn of the server's :class:`~qa.ui.admission.Admission`
first (waiting on the loop, not in a thread), then run in a thread. Package errors become HTTP
errors with the error's own message: 4xx for the client's mistakes, 503 when the index or the
model cannot be used (a server fault) or too many questions are waiting (with ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import (
    APIRouter,
    Depends,
    File,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa import __version__
from qa.engine import final_answer
from qa.errors import (
    DocumentNotFoundError,
    IndexFormatError,
    IndexNotFoundError,
    ModelLoadError,
    ModelMismatchError,
    QAError,
)
from qa.types import MAX_CATALOG, Answer, Document, Hit, Order
from qa.ui.admission import Busy
from qa.ui.schemas import (
    AnswerOut,
    AskIn,
    DocumentListed,
    DocumentOut,
    DocumentPatch,
    DocumentSummary,
    ErrorOut,
    HealthOut,
    IngestOut,
    JobOut,
    JobState,
    SearchIn,
    SearchOut,
)
from qa.ui.service import MAX_FILES, Service, UploadRejected
from qa.ui.sources import relative_source

Shown = TypeVar("Shown")
T = TypeVar("T")
log = logging.getLogger(__name__)
PREFIX = "/api/v1"
DEFAULT_WAIT = 30.0  # seconds an upload request waits for its job before answering 202
MAX_WAIT = 600.0
DEFAULT_LIST = 1000  # reports in one page of GET /documents
UNPARSED_BODY = "There was an error parsing the body"  # FastAPI's 400 for an unreadable body
# the index or the model cannot be used: nothing the client can change, so a 503
SERVER_FAULTS = (IndexFormatError, IndexNotFoundError, ModelLoadError, ModelMismatchError)
ERROR_CODES: dict[int, str] = {
    400: "A document id prefix that matches several documents; give more of the id",
    403: "A write sent by another site's page (checked from Origin and Sec-Fetch-Site)",
    404: "No document with that id",
    413: "The upload or the request body is too large",
    415: "A file of an unsupported type",
    429: "Too many uploads are waiting to be stored; try again later",
    422: "The request does not fit its schema (every problem named in the one message, "
    "e.g. 'k: Input should be greater than or equal to 1'), or the question cannot be "
    "asked (empty, binary, too long)",
    503: "The server's index or model cannot be used (a damaged index, a model that cannot "
    "load): a fault on the server, not in the request; or too many questions are waiting "
    "for it (then a `Retry-After` header says in how many seconds to try again)",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give; all are ``{"detail": str}``."""
    return {code: {"model": ErrorOut, "description": ERROR_CODES[code]} for code in codes}


@contextlib.contextmanager
def http_errors() -> Iterator[None]:
    """Turn package errors into HTTP errors: 404 unknown document, 422 bad input, 503 when
    the index or the model fails."""
    try:
        yield
    except UploadRejected as exc:
        raise HTTPException(exc.status, str(exc)) from None
    except DocumentNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    except SERVER_FAULTS as exc:
        raise HTTPException(503, str(exc)) from None
    except ValueError as exc:  # InvalidQuestionError is one too
        raise HTTPException(422, str(exc)) from None
    except QAError as exc:  # e.g. an id prefix that matches several documents
        raise HTTPException(400, str(exc)) from None


def validation_message(problems: Sequence[Any]) -> str:
    """FastAPI's list of validation errors as one line: ``k: Input should be ...; ...``."""
    parts = []
    for error in problems:
        loc = [str(p) for p in error.get("loc", ()) if p != "body"]
        where = ".".join(loc) if loc and error.get("type") != "json_invalid" else "body"
        why = error.get("ctx", {}).get("error") if error.get("type") == "json_invalid" else None
        parts.append(f"{where}: {error.get('msg', 'invalid')}" + (f" ({why})" if why else ""))
    return "; ".join(parts) or "the request is not valid"


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with one ``detail`` message, the shape of every other error of the API."""
    problems = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": validation_message(problems)}, status_code=422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's errors as they are, but for a body it could not parse: JSON nested past
    what Python's parser takes is a client's bad request (422), like any other bad JSON."""
    assert isinstance(exc, StarletteHTTPException)
    status, detail = exc.status_code, exc.detail
    if status == 400 and detail == UNPARSED_BODY:
        status, detail = 422, "body: the JSON could not be read (nested too deeply?)"
    return JSONResponse({"detail": detail}, status_code=status, headers=exc.headers)


def for_caller(request: Request, data: Shown, roots: Callable[[], Sequence[str]]) -> Shown:
    """``data`` with every ``source`` that is a path on the server shown below the folder it
    was ingested from (``roots()``), unless the caller is on the server's own machine (a
    loopback address): the server's folders are not for other machines to see."""
    host = request.client.host if request.client else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost"
    return data if local else _without_paths(data, roots())


def _without_paths(value: Any, roots: Sequence[str]) -> Any:
    if isinstance(value, dict):
        return {
            k: relative_source(v, roots)
            if k == "source" and isinstance(v, str)
            else _without_paths(v, roots)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_paths(v, roots) for v in value]
    return value


def sse(event: str, data: Any) -> str:
    """One server-sent event: its name and its data as one line of JSON."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _summary(doc: Document) -> dict[str, Any]:
    return {k: v for k, v in doc.to_dict().items() if k != "text"}


router = APIRouter(prefix=PREFIX)


async def get_service(request: Request) -> Service:
    """The service the app serves (``app.state.service``, set by
    :func:`qa.ui.server.create_app`). A coroutine, so FastAPI calls it on the event loop: a
    plain function would wait for a worker thread, and health and the document list must not
    wait behind the questions being answered (:func:`ahead`)."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def public(request: Request, data: Shown, service: Service) -> Shown:
    """``data`` as the caller may see it (:func:`for_caller`)."""
    return for_caller(request, data, service.engine.roots)


@router.post(
    "/ask",
    response_model=AnswerOut,
    response_model_exclude_unset=True,  # "generated" only from a server with a model
    summary="Answer a question",
    tags=["questions"],
    responses=errors(403, 413, 422, 503),
)
async def ask(body: AskIn, request: Request, service: ServiceDep) -> dict[str, Any]:
    """Answer a question; the same JSON as ``qa ask --json``. On a server with a language
    model (``qa serve --llm-url``) it has the model's checked answer too, once written."""
    first, events = await first_answer(body, service)
    answer = await anyio.to_thread.run_sync(final_answer, events, first)  # the model's part
    return public(request, answer.to_dict(), service)


async def first_answer(
    body: AskIn, service: Service
) -> tuple[Answer, Generator[Answer | str, None, None]]:
    """The extractive answer, worked out in a turn of the server (:func:`admitted`), and the
    events still to come (a language model's, which wait on the model, not the CPU)."""

    def start() -> tuple[Answer, Generator[Answer | str, None, None]]:
        with http_errors():
            events = service.engine.ask_stream(body.question, body.options(), body.history)
            first = next(events)
        assert isinstance(first, Answer)
        return first, events

    async with admitted(service):
        return await anyio.to_thread.run_sync(start)


@contextlib.asynccontextmanager
async def admitted(service: Service) -> AsyncIterator[None]:
    """A turn of the server's admission for the block, or 503 with ``Retry-After`` when too
    many questions are waiting."""
    try:
        async with service.admission.turn_async():
            yield
    except Busy as exc:
        headers = {"Retry-After": str(exc.retry_after)}
        raise HTTPException(503, str(exc), headers=headers) from None


@router.post(
    "/ask/stream",
    summary="Answer a question, streamed",
    tags=["questions"],
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Server-sent events: `answer` (the extractive answer, as from "
            "/ask, at once); with a language model, `delta` ({text}) as it writes and "
            "`generated` (its checked answer); then `done`, or `error` ({detail}) if the "
            "server failed on the way",
        },
        **errors(403, 413, 422, 503),
    },
)
async def ask_stream(body: AskIn, request: Request, service: ServiceDep) -> StreamingResponse:
    """The answer as server-sent events, so a client shows the extractive answer at once
    and a language model's text as it is written. A bad question is an HTTP error, as
    from /ask. A language model that fails gives a note, not an error; a fault of the
    server's own after the first event ends the stream with an `error` event."""
    first, events = await first_answer(body, service)
    roots = service.engine.roots()  # read once, not for every event

    def shown(data: Shown) -> Shown:
        return for_caller(request, data, lambda: roots)

    def stream() -> Iterator[str]:
        yield sse("answer", shown(first.to_dict()))
        try:
            for event in events:
                if isinstance(event, str):
                    # "": the model is still at work; a comment shows whether we are heard
                    yield sse("delta", {"text": event}) if event else ": writing\n\n"
                elif event.generated is not None:
                    yield sse("generated", shown(event.generated.to_dict()))
        except Exception:  # the status line went out with the first event
            log.exception("the answer stream failed")
            yield sse("error", {"detail": "the server failed while writing the answer"})
            return
        finally:
            events.close()  # a client that left hangs up on the language model too
        yield sse("done", {})

    return StreamingResponse(stream(), media_type="text/event-stream")


@router.post(
    "/search",
    response_model=SearchOut,
    summary="Search passages",
    tags=["questions"],
    responses=errors(403, 413, 422, 503),
)
async def search(body: SearchIn, request: Request, service: ServiceDep) -> dict[str, Any]:
    """The passages that best match a query, with every retriever's score."""

    def run() -> list[Hit]:
        with http_errors():
            return service.engine.search(body.query, body.options())

    async with admitted(service):
        hits = await anyio.to_thread.run_sync(run)
    hits_out = [h.to_dict() for h in hits]
    return public(request, {"query": body.query, "mode": body.mode, "hits": hits_out}, service)


@router.get(
    "/documents",
    response_model=list[DocumentListed],
    summary="List reports",
    tags=["documents"],
    responses=errors(422, 503),
)
async def list_documents(
    request: Request,
    response: Response,
    service: ServiceDep,
    contains: Annotated[
        str, Query(max_length=500, description="only reports whose title or source has this")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_CATALOG)] = DEFAULT_LIST,
    offset: Annotated[int, Query(ge=0)] = 0,
    sort: Annotated[
        Order, Query(description="by source, by title, or by date (newest first)")
    ] = "source",
) -> list[dict[str, Any]]:
    """A page of the stored reports, without their texts, ordered by source (or ``sort``);
    the ``X-Total-Count`` header says how many match in all."""
    with http_errors():
        page = functools.partial(
            service.engine.catalog, contains, limit=limit, offset=offset, order=sort
        )
        listing = await ahead(page)
    response.headers["X-Total-Count"] = str(listing.total)
    return public(request, [info.to_dict() for info in listing.documents], service)


one_document = functools.partial(router.api_route, "/documents/{doc_id}", tags=["documents"])


@one_document(
    methods=["GET"],
    response_model=DocumentOut,
    summary="Get a report",
    responses=errors(400, 404, 422, 503),
)
def get_document(doc_id: str, request: Request, service: ServiceDep) -> dict[str, Any]:
    """One report with its full text (citation offsets point into this text). ``doc_id``
    may be a unique prefix of the id (at least 4 characters), as in ``qa show``."""
    with http_errors():
        return public(request, service.engine.document(doc_id).to_dict(), service)


@router.post(
    "/documents",
    response_model=IngestOut,
    summary="Upload reports",
    tags=["documents"],
    responses={
        202: {"model": JobOut, "description": "Still being stored: follow Location"},
        **errors(403, 413, 415, 422, 429, 503),
    },
)
def upload_documents(
    files: Annotated[list[UploadFile], File(description="report files: txt, md, html, pdf")],
    service: ServiceDep,
    wait: Annotated[
        float, Query(ge=0, le=MAX_WAIT, description="seconds to wait for the report")
    ] = DEFAULT_WAIT,
) -> Any:
    """Add reports. An unsupported type (415) or a file over the size limit (413) refuses
    the whole upload before anything is stored; unreadable files are listed in ``errors``.

    The reports are stored by a background job, so questions go on meanwhile. If it ends
    within ``wait`` seconds the answer is its report (200); else 202 with the job, whose
    progress and report ``GET /api/v1/jobs/{id}`` (the ``Location`` header) gives."""
    with http_errors():
        if len(files) > MAX_FILES:
            raise UploadRejected(413, f"{len(files)} files; upload at most {MAX_FILES} at once")
        names = [service.check_upload(f.filename or "", f.size) for f in files]
        contents = [(n, _read(f, n, service.max_upload_bytes)) for n, f in zip(names, files)]
        job = service.submit(contents)
    if not service.jobs.wait(job, wait):
        location = f"{PREFIX}/jobs/{job.id}"
        return JSONResponse(job.to_dict(), status_code=202, headers={"Location": location})
    if job.report is None:
        raise HTTPException(503, job.error or "storing the reports failed")
    report = job.report
    stored = report.added or report.replaced or report.unchanged
    if not stored and report.errors:
        raise HTTPException(422, "; ".join(str(e) for e in report.errors))
    return report.to_dict()


@router.get(
    "/jobs",
    response_model=list[JobOut],
    summary="List upload jobs",
    tags=["documents"],
    responses=errors(422),
)
def list_jobs(
    service: ServiceDep,
    state: Annotated[JobState | None, Query(description="only jobs in this state")] = None,
) -> list[dict[str, Any]]:
    """The uploads being stored and the last ones stored, newest first."""
    return [j.to_dict() for j in service.jobs.recent() if state in (None, j.state)]


@router.get(
    "/jobs/{job_id}",
    response_model=JobOut,
    summary="Follow an upload job",
    tags=["documents"],
    responses={
        **errors(422),
        404: {"model": ErrorOut, "description": "No upload job with that id"},
    },
)
def get_job(job_id: str, service: ServiceDep) -> dict[str, Any]:
    """How far an upload has got: its stage, counts, and at the end its report or error."""
    job = service.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no upload job {job_id!r} (finished jobs are kept a while)")
    return job.to_dict()


@one_document(
    methods=["DELETE"],
    response_model=DocumentSummary,
    summary="Remove a report",
    responses=errors(403, 404, 422, 503),
)
def delete_document(doc_id: str, request: Request, service: ServiceDep) -> dict[str, Any]:
    """Remove a report from every part of the index; returns what was removed. ``doc_id``
    must be the full id: a prefix or a source is refused (404), so a truncated or
    mistyped id cannot remove another report."""
    with http_errors():
        return public(request, _summary(service.remove_exact(doc_id)), service)


@one_document(
    methods=["PATCH"],
    response_model=DocumentSummary,
    summary="Correct a report's title or date",
    responses=errors(403, 404, 422, 503),
)
def correct_document(
    doc_id: str, body: DocumentPatch, request: Request, service: ServiceDep
) -> dict[str, Any]:
    """Give a report the title and/or date a person knows better than its file; the
    correction is kept when the same file is uploaded or ingested again. ``doc_id`` must be
    the full id, as for DELETE."""
    with http_errors():
        doc = service.engine.correct(doc_id, title=body.title, date=body.date, exact=True)
    return public(request, _summary(doc), service)


@router.get(
    "/health",
    response_model=HealthOut,
    summary="Health",
    tags=["service"],
    responses=errors(503),
)
async def health(service: ServiceDep) -> dict[str, Any]:
    """Whether the service is up, with its model and what the index holds (answered
    ahead of questions waiting for a worker)."""
    with http_errors():
        counts = await ahead(service.engine.counts)
    model = service.engine.model
    return {"status": "ok", "version": __version__, "model": model, "counts": counts}


AHEAD_THREADS = 4  # health and the document list: threads of their own
# one limiter per event loop (a limiter belongs to the loop it was made in)
_AHEAD: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


async def ahead(work: Callable[[], T]) -> T:
    """``work`` (quick, blocking) in a thread not counted against the worker threads that
    answer questions: under load, health and the document list do not wait behind them."""
    loop = asyncio.get_running_loop()
    limiter = _AHEAD.get(loop) or _AHEAD.setdefault(loop, anyio.CapacityLimiter(AHEAD_THREADS))
    return await anyio.to_thread.run_sync(work, limiter=limiter)


def _read(upload: UploadFile, name: str, limit: int) -> bytes:
    """The file's bytes, refused when over ``limit`` (its size may not have been declared)."""
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise UploadRejected(413, f"{name}: over the {limit / 2**20:g} MB upload limit")
    return data
