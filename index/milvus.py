"""The Milvus backend: the same index in Milvus Lite's file, a Milvus server or a cluster.

Locations::

    milvus:///path/to/file.db          Milvus Lite (embedded: a local file, no server)
    milvus://host:19530/name           a Milvus server or cluster; collections name_*

A server's token is read from ``$QA_MILVUS_TOKEN`` ("user:password" or an API key) and TLS is
switched on by ``$QA_MILVUS_TLS`` ("1", or the path of the server's CA certificate): neither
is ever part of the location, so neither shows in a command line or a log.

Documents, chunks, vectors and BM25 all live in Milvus (:mod:`qa.index.milvus_store`), so any
number of app servers can share one index with no local state. The manifest (model, tokenizer,
chunking) is stored in a row of the documents collection (collection properties are not kept
by every engine) and checked on open, as the local index checks its ``manifest.json``.
Milvus Lite's file is served by the native engine milvus-lite 2.5 ships, run as a child
process (:mod:`qa.index.milvus_engine`). Needs ``pip install 'reportqa[milvus]'``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexFormatError, IndexNotFoundError, IndexUnavailableError
from qa.index import milvus_engine
from qa.index.backend import Settings, holding
from qa.index.base import MILVUS_SCHEME
from qa.index.manifest import Manifest
from qa.index.milvus_engine import NativeMilvus, check_file_name
from qa.index.milvus_store import MilvusStore
from qa.index.retrieve import ChunkId, Ranked
from qa.index.store import NewDocument, StoredChunk
from qa.options import Filters
from qa.types import Document

TOKEN_ENV = "QA_MILVUS_TOKEN"
TLS_ENV = "QA_MILVUS_TLS"
DEFAULT_NAME = "reportqa"
TIMEOUT_ENV = "QA_MILVUS_TIMEOUT"
CALL_SECONDS = 30.0  # the longest one call may take (a write of WRITE_ROWS rows included)
# pymilvus pings every 10 s, idle or not; a gRPC server that keeps gRPC's default policy (the
# native engine does) takes more than one ping in 5 minutes for abuse, hangs up
# ("too_many_pings") and the channel backs off from reconnecting: one ping in 5.5 minutes
KEEPALIVE = {"grpc.keepalive_time_ms": 330_000}
RECOVER_AFTER = 600  # seconds after which an unfinished write is taken for one cut short
INSTALL = "pip install 'reportqa[milvus]'"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,200}")


@dataclass(frozen=True)
class Address:
    """Where a Milvus index lives: a Lite file or a server's URI, and its collections' name."""

    uri: str
    name: str
    lite: bool


def parse_location(location: str) -> Address:
    """The address in a ``milvus://`` location, or ValueError saying what the forms are."""
    rest = location[len(MILVUS_SCHEME) :]
    forms = "milvus:///path/to/file.db (Milvus Lite) or milvus://host:port/name (a server)"
    if rest.startswith("/"):
        if not rest.endswith(".db") or rest.endswith("/.db"):
            raise ValueError(
                f"{location}: a Milvus Lite index is a file ending in .db; use {forms}"
            )
        check_file_name(Path(rest))
        return Address(rest, DEFAULT_NAME, True)
    host, _, name = rest.partition("/")
    name = name or DEFAULT_NAME
    if not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", host) or not _NAME.fullmatch(name):
        raise ValueError(f"{location} is not a Milvus location; use {forms}")
    return Address(host, name, False)


def connect(address: Address, location: str) -> Any:
    """A ``MilvusClient`` for ``address``, or IndexUnavailableError saying why not."""
    # gRPC's own log lines (its C core writes to the terminal) stay out of the user's output:
    # failures come back as errors, one line each
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise IndexUnavailableError(
            f"{location} needs the Milvus backend, which is not installed: {INSTALL}"
        ) from None
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # failures come back as errors
    # connecting takes the timeout of any call
    options: dict[str, Any] = {"timeout": call_seconds(), "grpc_options": KEEPALIVE}
    if address.lite:
        options["uri"] = milvus_engine.acquire(Path(address.uri)).uri
    else:
        tls = os.environ.get(TLS_ENV, "")
        options["uri"] = f"{'https' if tls else 'http'}://{address.uri}"
        if tls and tls != "1":
            options["server_pem_path"] = tls
        if os.environ.get(TOKEN_ENV):
            options["token"] = os.environ[TOKEN_ENV]
    try:
        client = MilvusClient(**options)
    except Exception as exc:
        if address.lite:
            milvus_engine.release(Path(address.uri))
        raise IndexUnavailableError(f"cannot open Milvus at {location}: {_reason(exc)}") from None
    return _Client(client, location)


def lite_engine(location: str) -> NativeMilvus:
    """The engine this process runs for a ``milvus:///file.db`` location opened now (for the
    benchmarks, which measure its memory)."""
    return milvus_engine.running(Path(parse_location(location).uri))


def disconnect(client: Any, address: Address) -> None:
    """Close ``client``; with it the last handle on a Lite file in this process, stop Milvus
    Lite's server for the file, so that another process may open it."""
    client.close()
    if address.lite:
        milvus_engine.release(Path(address.uri))


class _Client:
    """A ``MilvusClient`` whose every call that can wait carries a timeout (``$QA_MILVUS_
    TIMEOUT`` seconds, default :data:`CALL_SECONDS`) and whose failures are
    IndexUnavailableError naming the index."""

    def __init__(self, client: Any, location: str) -> None:
        self._client = client
        self._location = location
        self._timeout = call_seconds()

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)
        waits = _takes_timeout(name)

        @functools.wraps(call)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if waits:
                kwargs.setdefault("timeout", self._timeout)
            try:
                return call(*args, **kwargs)
            except Exception as exc:
                if type(exc).__module__.startswith(("pymilvus", "grpc")):
                    reason = _reason(exc)
                    if "deadline" in reason.lower() or "timeout" in reason.lower():
                        reason = f"no answer within {self._timeout:g} s ({reason})"
                    raise IndexUnavailableError(f"Milvus at {self._location}: {reason}") from None
                raise

        return checked


def call_seconds() -> float:
    """How long one call to Milvus may take: ``$QA_MILVUS_TIMEOUT`` or :data:`CALL_SECONDS`."""
    text = os.environ.get(TIMEOUT_ENV, "")
    try:
        value = float(text) if text else CALL_SECONDS
    except ValueError:
        raise ValueError(f"${TIMEOUT_ENV} must be a number of seconds, not {text!r}") from None
    if not 0 < value <= 3600:
        raise ValueError(f"${TIMEOUT_ENV} must be between 0 and 3600 seconds, not {text}")
    return value


@functools.cache
def _takes_timeout(name: str) -> bool:
    """Whether ``MilvusClient``'s method ``name`` takes a ``timeout``."""
    from pymilvus import MilvusClient

    method = getattr(MilvusClient, name, None)
    return method is not None and "timeout" in inspect.signature(method).parameters


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc).splitlines()[0]


class MilvusBackend:
    """An index in Milvus (:func:`open_backend` of a ``milvus://`` location)."""

    def __init__(
        self, location: str, address: Address, store: MilvusStore, manifest: Manifest
    ) -> None:
        self._location = location
        self._address = address
        self.store: MilvusStore = store
        self.manifest = manifest
        self._writer = threading.Lock()  # one writer in this process
        self._closed = False

    @property
    def location(self) -> str:
        return self._location

    def close(self) -> None:
        with self._writer:
            if not self._closed:
                self._closed = True
                disconnect(self.store.client, self._address)

    def wait_for_merges(self) -> None:
        """Nothing to wait for: Milvus compacts its segments itself."""

    def candidates(self, filters: Filters) -> tuple[MilvusCandidates | None, int | None]:
        expr, matching = "", None
        if filters.active:
            expr, matching = self.store.filtered(filters)
            if not matching:
                return None, matching
        return MilvusCandidates(self.store, expr), matching

    def writing(self) -> Any:
        # one writer in this process; writers in other processes are not shut out
        return holding(self._writer)

    def write(
        self, remove: list[str], new: list[NewDocument], update: Sequence[Document] = ()
    ) -> None:
        self.store.write(remove, new, update)


def open_backend(location: str, create: bool, settings: Settings) -> MilvusBackend:
    """The index at the ``milvus://`` location (created if missing, with ``create``)."""
    address = parse_location(location)
    missing = IndexNotFoundError(
        f"no index at {location}; create one with `qa ingest PATH --index {location}`"
    )
    if address.lite and not Path(address.uri).exists():
        if not create:
            raise missing
        Path(address.uri).parent.mkdir(parents=True, exist_ok=True)
    client = connect(address, location)
    try:
        store = MilvusStore(client, address.name)
        if not store.exists():
            if not create:
                raise missing
            manifest = settings.new_manifest()
            store.create(manifest.dim, manifest.to_json())
        store.load()
        text = store.setting("manifest")
        if text is None:
            raise IndexFormatError(
                f"{location}: collection {store.chunks_name} is not a reportqa index"
            )
        manifest = Manifest.parse(text, f"{location} (its manifest)", location)
        settings.check(manifest, location)
        store.recover(older_than=time.time() - RECOVER_AFTER)
    except BaseException:
        disconnect(client, address)
        raise
    return MilvusBackend(location, address, store, manifest)


class MilvusCandidates:
    """One search's candidates from the chunks collection, within ``expr`` (a filter)."""

    def __init__(self, store: MilvusStore, expr: str) -> None:
        self.store = store
        self.expr = expr

    def bm25(self, query: str, n: int) -> Ranked:
        return [(cid, s) for cid, s in self.store.search("sparse", query, n, self.expr) if s > 0]

    def dense(self, vector: np.ndarray, n: int) -> Ranked:
        return self.store.search("dense", vector, n, self.expr)

    def bm25_scores(self, query: str, ids: Sequence[ChunkId]) -> dict[ChunkId, float]:
        # none: only another whole search would score them, doubling the time of a hybrid
        # search (a chunk BM25's list left out scores under its last candidate)
        return {}

    def dense_scores(self, vector: np.ndarray, ids: Sequence[ChunkId]) -> dict[ChunkId, float]:
        return {cid: float(v @ vector) for cid, v in self.store.vectors(ids).items()}

    def chunks(self, ids: Sequence[ChunkId]) -> dict[ChunkId, StoredChunk]:
        return self.store.chunks(ids)
