"""The Milvus backend: the same index in Milvus Lite's file, a Milvus server or a cluster.

Locations::

    milvus:///path/to/file.db          Milvus Lite (embedded: a local file, no server)
    milvus://host:19530/name           a Milvus server or cluster; collections name_*

A server's token is read from ``$QA_MILVUS_TOKEN`` ("user:password" or an API key) and TLS is
switched on by ``$QA_MILVUS_TLS`` ("1", or the path of the server's CA certificate): neither
is ever part of the location, so neither shows in a command line or a log.

Documents, chunks, vectors and BM25 all live in Milvus (:mod:`qa.index.milvus_store`), so any
number of app servers can share one index with no local state. The manifest (model, tokenizer,
chunking) is stored as a property of the chunks collection and checked on open, as the local
index checks its ``manifest.json``. Needs ``pip install 'reportqa[milvus]'``.
"""

from __future__ import annotations

import functools
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
from qa.index.backend import Settings, holding
from qa.index.base import MILVUS_SCHEME
from qa.index.manifest import Manifest
from qa.index.milvus_store import MilvusStore, one_of
from qa.index.retrieve import ChunkId, Ranked
from qa.index.store import NewDocument, StoredChunk
from qa.options import Filters
from qa.types import Document

TOKEN_ENV = "QA_MILVUS_TOKEN"
TLS_ENV = "QA_MILVUS_TLS"
DEFAULT_NAME = "reportqa"
MANIFEST_PROPERTY = "reportqa.manifest"
CONNECT_SECONDS = 10
RECOVER_AFTER = 600  # seconds after which an unfinished write is taken for one cut short
INSTALL = "pip install 'reportqa[milvus]'"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,200}")
_lite_handles: dict[str, int] = {}  # open handles per Milvus Lite file in this process
_lite_lock = threading.Lock()


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
        return Address(rest, DEFAULT_NAME, True)
    host, _, name = rest.partition("/")
    name = name or DEFAULT_NAME
    if not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", host) or not _NAME.fullmatch(name):
        raise ValueError(f"{location} is not a Milvus location; use {forms}")
    return Address(host, name, False)


def connect(address: Address, location: str) -> Any:
    """A ``MilvusClient`` for ``address``, or IndexUnavailableError saying why not."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise IndexUnavailableError(
            f"{location} needs the Milvus backend, which is not installed: {INSTALL}"
        ) from None
    for name in ("pymilvus", "milvus_lite"):  # failures come back as errors, one line each
        logging.getLogger(name).setLevel(logging.CRITICAL)
    options: dict[str, Any] = {"timeout": CONNECT_SECONDS}
    if address.lite:
        options["uri"] = address.uri
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
        reason = _reason(exc)
        if address.lite:
            reason += " (Milvus Lite serves a file to one process at a time: is another using it?)"
        raise IndexUnavailableError(f"cannot open Milvus at {location}: {reason}") from None
    if address.lite:
        with _lite_lock:
            _lite_handles[address.uri] = _lite_handles.get(address.uri, 0) + 1
    return _Client(client, location)


def disconnect(client: Any, address: Address) -> None:
    """Close ``client``; with it the last handle on a Lite file in this process, stop Milvus
    Lite's server for the file, so that another process may open it."""
    client.close()
    if not address.lite:
        return
    with _lite_lock:
        _lite_handles[address.uri] -= 1
        if _lite_handles[address.uri]:
            return
        del _lite_handles[address.uri]
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(address.uri)


class _Client:
    """A ``MilvusClient`` whose failures are IndexUnavailableError naming the index."""

    def __init__(self, client: Any, location: str) -> None:
        self._client = client
        self._location = location

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)

        @functools.wraps(call)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                return call(*args, **kwargs)
            except Exception as exc:
                if type(exc).__module__.startswith(("pymilvus", "grpc")):
                    raise IndexUnavailableError(
                        f"Milvus at {self._location}: {_reason(exc)}"
                    ) from None
                raise

        return checked


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
            allowed = self.store.allowed_documents(filters)
            matching = len(allowed)
            if not allowed:
                return None, matching
            expr = one_of("doc_id", allowed)
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
            store.create(manifest.dim, {MANIFEST_PROPERTY: manifest.to_json()})
        text = store.properties().get(MANIFEST_PROPERTY)
        if text is None:
            raise IndexFormatError(
                f"{location}: collection {store.chunks_name} is not a reportqa index"
            )
        manifest = Manifest.parse(text, f"{location} ({MANIFEST_PROPERTY})", location)
        settings.check(manifest, location)
        store.load()
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
