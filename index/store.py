"""SQLite store: documents, chunks and their embeddings, the index's source of truth.

Chunk ids are never reused (AUTOINCREMENT), so a stale vector can never pass for a new chunk.
Chunk text is not stored twice: it is read back as a slice of its document's text, so
``doc.text[start:end] == chunk.text`` holds by construction. Each committed write bumps
``generation``; the FAISS and BM25 files record the generation they were built from.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexFormatError
from qa.index.ingest import Correction
from qa.options import Filters
from qa.types import Catalog, Chunk, Document, DocumentInfo, Order, content_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, title TEXT NOT NULL, format TEXT NOT NULL,
    date TEXT, pages TEXT NOT NULL, text TEXT NOT NULL, added TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_source ON documents (source);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, page INTEGER,
    embedding BLOB NOT NULL, crc INTEGER
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id);
CREATE TABLE IF NOT EXISTS roots (path TEXT PRIMARY KEY);
"""
# made apart (and not at all on read-only media): indexes made before them lack these
CORRECTIONS = """CREATE TABLE IF NOT EXISTS corrections (
    source TEXT PRIMARY KEY, title TEXT, date TEXT
)"""
# a page of the listing by title or newest first reads the page, not a sort of every report
ORDER_INDEXES = (
    "CREATE INDEX IF NOT EXISTS documents_title ON documents (title COLLATE NOCASE, source, id)",
    "CREATE INDEX IF NOT EXISTS documents_date ON documents (date IS NULL, date DESC, source, id)",
)

_ORDER_BY: dict[Order, str] = {
    "source": "source, id",
    "title": "title COLLATE NOCASE, source, id",
    "date": "date IS NULL, date DESC, source, id",
}
IN_BATCH = 500  # values in one "IN (...)" of a statement
BUSY_SECONDS = 60  # how long a statement waits for another process's write to finish
_CHUNK_COLUMNS = """c.id, c.doc_id, c.ordinal, c.start, c."end", c.page,
    substr(d.text, c.start + 1, c."end" - c.start), d.title, d.source, d.date"""


@dataclass(frozen=True)
class StoredChunk:
    """A chunk row with its document's metadata, as search results need it."""

    id: int | str  # the local store numbers chunks; Milvus names them "<doc id>:<ordinal>"
    chunk: Chunk
    title: str
    source: str
    date: str | None


@dataclass(frozen=True)
class NewDocument:
    """A document ready to store: its chunks' spans, pages and embeddings."""

    document: Document
    spans: Sequence[tuple[int, int]]
    embeddings: np.ndarray


class Store:
    """Documents and chunks in one SQLite file (WAL mode, one writer at a time).

    Each thread borrows a connection of its own from a small pool, so readers never see a
    writer's open transaction and run beside it (WAL lets readers and one writer overlap).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._idle: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._closed = False
        self._counted: tuple[int, dict[str, int]] | None = None  # (generation, counts)
        try:
            with self._db() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(SCHEMA)
                with contextlib.suppress(sqlite3.OperationalError):  # read-only media
                    for statement in (CORRECTIONS, *ORDER_INDEXES):
                        db.execute(statement)
                columns = {row[1] for row in db.execute("PRAGMA table_info(chunks)")}
                if "crc" not in columns:  # made before vectors had checksums: theirs stay NULL
                    with contextlib.suppress(sqlite3.OperationalError):  # read-only media
                        db.execute("ALTER TABLE chunks ADD COLUMN crc INTEGER")
                        columns.add("crc")
            self._crc = "c.crc" if "crc" in columns else "NULL"  # NULL: not checked
        except sqlite3.Error as exc:
            self.close()
            raise IndexFormatError(f"{path} is not a readable index database: {exc}") from exc

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection for this thread's use until the block ends, then back to the pool."""
        with self._guard:
            if self._closed:
                raise sqlite3.ProgrammingError("the index is closed")
            db = self._idle.pop() if self._idle else None
        if db is None:
            db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=BUSY_SECONDS
            )
            db.execute("PRAGMA foreign_keys=ON")
            db.create_function("casefold", 1, _casefold, deterministic=True)
        try:
            yield db
        finally:
            with self._guard:
                if self._closed:
                    db.close()
                else:
                    self._idle.append(db)

    def close(self) -> None:
        with self._guard:
            self._closed = True
            idle, self._idle = self._idle, []
        for db in idle:
            db.close()

    def built_with(self, settings: dict[str, str]) -> dict[str, str]:
        """The settings the index was built with, as first recorded: ``settings`` are
        recorded where none are yet (an index made before they were kept), unless the file
        cannot be written (read-only media), which changes nothing."""
        rows = [(f"built.{key}", value) for key, value in settings.items()]
        with self._db() as db:
            with contextlib.suppress(sqlite3.OperationalError):
                db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)", rows)
            found = db.execute("SELECT key, value FROM meta WHERE key LIKE 'built.%'").fetchall()
        return {key.removeprefix("built."): value for key, value in found}

    def generation(self) -> int:
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def write(
        self,
        remove: Iterable[str],
        add: Iterable[NewDocument],
        update: Iterable[Document] = (),
    ) -> tuple[list[int], list[int]]:
        """Remove, update and add documents in one transaction, in that order.

        Returns the (removed, added) chunk ids; an updated document keeps its chunks.
        """
        removed: list[int] = []
        added: list[int] = []
        docs = 0  # documents added less those removed
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for doc_id in remove:
                    rows = db.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))
                    removed += [r[0] for r in rows]
                    docs -= db.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount
                for doc in update:
                    _update_metadata(db, doc)
                for new in add:
                    added += _insert(db, new)
                    docs += 1
                generation, counts = _kept_counts(db)
                if counts is not None:  # kept as of the generation before: add the change
                    counts = {
                        "documents": counts["documents"] + docs,
                        "chunks": counts["chunks"] + len(added) - len(removed),
                    }
                _keep_counts(db, generation + 1, counts or _counted(db))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return removed, added

    # -- corrections ---------------------------------------------------------------------

    def corrections(self, sources: Sequence[str]) -> dict[str, Correction]:
        query = "SELECT source, title, date FROM corrections WHERE source IN (%s)"
        with self._db() as db:
            try:
                return {row[0]: Correction(*row) for row in _rows_in(db, query, sources)}
            except sqlite3.OperationalError:  # an index made before corrections
                return {}

    def correct(self, correction: Correction) -> None:
        with self._db() as db:
            db.execute(CORRECTIONS)
            db.execute(
                "INSERT INTO corrections VALUES (?, ?, ?) ON CONFLICT (source) DO UPDATE "
                "SET title = excluded.title, date = excluded.date",
                correction,
            )

    # -- documents -----------------------------------------------------------------------

    def document(self, doc_id: str) -> Document | None:
        with self._db() as db:
            row = db.execute(
                "SELECT id, source, title, format, date, pages, text FROM documents WHERE id = ?",
                (doc_id,),
            ).fetchone()
        return _document(row) if row else None

    def documents(self) -> list[Document]:
        with self._db() as db:
            rows = db.execute(
                "SELECT id, source, title, format, date, pages, text FROM documents ORDER BY source"
            ).fetchall()
        return [_document(row) for row in rows]

    def ids_where(self, column: str, value: str) -> list[str]:
        """Ids of documents whose ``id`` starts with ``value``, whose ``source`` equals it,
        or (``name``) whose source ends with it after a ``/``."""
        if column == "id":
            query = "SELECT id FROM documents WHERE id LIKE ? || '%' ESCAPE '\\'"
            value = _like_escape(value)
        elif column == "name":
            query = "SELECT id FROM documents WHERE source LIKE '%/' || ? ESCAPE '\\'"
            value = _like_escape(value)
        else:
            query = "SELECT id FROM documents WHERE source = ?"
        with self._db() as db:
            return [row[0] for row in db.execute(query, (value,))]

    def roots(self) -> list[str]:
        with self._db() as db:
            return [row[0] for row in db.execute("SELECT path FROM roots ORDER BY path")]

    def add_roots(self, roots: Sequence[str]) -> None:
        with self._db() as db:
            db.executemany("INSERT OR IGNORE INTO roots VALUES (?)", [(r,) for r in roots])

    def catalog(self, contains: str, limit: int, offset: int, order: Order = "source") -> Catalog:
        where, args = "", []
        if contains and contains.isascii():  # LIKE ignores the case of ASCII letters, in C
            where = "WHERE title LIKE ? ESCAPE '\\' OR source LIKE ? ESCAPE '\\'"
            args = [f"%{_like_escape(contains)}%"] * 2
        elif contains:  # of any letter ("КИЄВА" finds "Києва"), in Python
            where = "WHERE instr(casefold(title), ?) OR instr(casefold(source), ?)"
            args = [contains.casefold()] * 2
        passages = "(SELECT count(*) FROM chunks c WHERE c.doc_id = d.id)"
        with self._db() as db:
            if contains:
                total = db.execute(f"SELECT count(*) FROM documents d {where}", args).fetchone()[0]
            else:  # kept from the last count
                total = self.counts()["documents"]
            rows = db.execute(
                f"SELECT id, source, title, format, date, {passages} FROM documents d {where} "
                f"ORDER BY {_ORDER_BY[order]} LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return Catalog(total, [DocumentInfo(*row) for row in rows])

    def counts(self) -> dict[str, int]:
        """Documents and chunks, as every write keeps them beside its generation: counting
        reads a whole index (30 ms at a million chunks). Where they were not kept by the last
        write (an index written by an older version), they are counted, once a generation."""
        with self._db() as db:
            db.execute("BEGIN")  # the generation and the counts from one snapshot
            try:
                generation, counts = _kept_counts(db)
                if counts is None:
                    counted = self._counted
                    if counted is None or counted[0] != generation:
                        counted = self._counted = (generation, _counted(db))
                    counts = counted[1]
            finally:
                db.execute("COMMIT")
        return dict(counts)

    def vector_bytes(self) -> int | None:
        """The size of one stored embedding in bytes (None when there are no chunks)."""
        with self._db() as db:
            row = db.execute("SELECT length(embedding) FROM chunks LIMIT 1").fetchone()
        return int(row[0]) if row else None

    # -- chunks --------------------------------------------------------------------------

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        """The stored chunks among ``ids`` (ids removed since are left out)."""
        found: dict[int, StoredChunk] = {}
        query = (
            f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id "
            "WHERE c.id IN (%s)"
        )
        with self._db() as db:
            for cid, doc_id, ordinal, start, end, page, text, title, source, date in _rows_in(
                db, query, ids
            ):
                chunk = Chunk(doc_id, ordinal, start, end, text, page)
                found[cid] = StoredChunk(cid, chunk, title, source, date)
        return found

    def chunk_ids(self) -> np.ndarray:
        """Every chunk id, ascending."""
        with self._db() as db:
            rows = db.execute("SELECT id FROM chunks ORDER BY id").fetchall()
        return np.array([row[0] for row in rows], dtype=np.int64)

    def chunk_data(
        self, first: int, last: int, dim: int
    ) -> tuple[np.ndarray, list[str], list[int]]:
        """The embeddings and texts of the chunks with ids from ``first`` to ``last``, in id
        order, read in one snapshot (a write meanwhile is not half seen), and the positions
        of the vectors that fail their checksum (their texts are sound: a text that no
        longer hashes to its document's id is an IndexFormatError)."""
        with self._db() as db:
            rows = db.execute(
                'SELECT c.embedding, substr(d.text, c.start + 1, c."end" - c.start), '
                f"{self._crc}, c.id, c.doc_id FROM chunks c JOIN documents d ON d.id = c.doc_id "
                "WHERE c.id BETWEEN ? AND ? ORDER BY c.id",
                (first, last),
            ).fetchall()
            self._check_texts(db, rows)
        vectors = np.frombuffer(b"".join(row[0] for row in rows), dtype=np.float32)
        damaged = [
            i for i, row in enumerate(rows) if row[2] is not None and zlib.crc32(row[0]) != row[2]
        ]
        return vectors.reshape(len(rows), dim), [row[1] for row in rows], damaged

    def put_vectors(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Store ``vectors`` (re-embedded) for the chunks ``ids``, with their checksums."""
        rows = [(v.tobytes(), zlib.crc32(v.tobytes()), int(i)) for i, v in zip(ids, vectors)]
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("UPDATE chunks SET embedding = ?, crc = ? WHERE id = ?", rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _check_texts(self, db: sqlite3.Connection, rows: list[Any]) -> None:
        """IndexFormatError when a document's text no longer hashes to its id: SQLite's own
        integrity check does not look inside the values."""
        for doc_id in dict.fromkeys(row[4] for row in rows):
            (text,) = db.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
            if content_id(text) != doc_id:
                raise IndexFormatError(
                    f"{self.path} is damaged: the text of document {doc_id} no longer matches "
                    "its id; add the report again from its file"
                )

    def chunk_ids_matching(self, filters: Filters) -> tuple[list[int], int]:
        """Chunk ids of documents passing every given filter (sources match by substring),
        and how many documents they are."""
        doc_ids, sources = filters.doc_ids, list(filters.sources)
        clauses: list[str] = []
        params: list[str] = []
        if doc_ids:
            # an id prefix as a range of the primary key, so only the matching documents'
            # chunks are read (ids are lower-case hex; the prefix is matched as such)
            clauses.append("(" + " OR ".join("(d.id >= ? AND d.id < ?)" for _ in doc_ids) + ")")
            for prefix in (d.strip().lower() for d in doc_ids):
                params += [prefix, prefix + "\U0010ffff"]
        if sources:
            clauses.append(
                "(" + " OR ".join("instr(lower(d.source), lower(?))" for _ in sources) + ")"
            )
            params += sources
        if filters.date_from:
            clauses.append("d.date >= ?")
            params.append(filters.date_from)
        if filters.date_to:
            clauses.append("d.date <= ?")
            params.append(filters.date_to)
        where = " AND ".join(clauses) or "1"
        with self._db() as db:
            rows = db.execute(
                "SELECT c.id, c.doc_id FROM chunks c JOIN documents d ON d.id = c.doc_id "
                f"WHERE {where}",
                params,
            ).fetchall()
            return [row[0] for row in rows], len({row[1] for row in rows})


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _document(row: tuple) -> Document:
    doc_id, source, title, fmt, date, pages, text = row
    return Document(text, source, title, fmt, date, tuple(json.loads(pages)), doc_id)


def _rows_in(db: sqlite3.Connection, query: str, values: Sequence[Any]) -> Iterator[Any]:
    """The rows of ``query``, whose ``IN (%s)`` takes ``values``, asked for ``IN_BATCH``
    values at a time (SQLite takes only so many parameters in one statement)."""
    for first in range(0, len(values), IN_BATCH):
        part = list(values[first : first + IN_BATCH])
        yield from db.execute(query % ",".join("?" * len(part)), part)


def _update_metadata(db: sqlite3.Connection, doc: Document) -> None:
    """Give the stored row with ``doc``'s id (same text) ``doc``'s source, title, date."""
    cursor = db.execute(
        "UPDATE documents SET source = ?, title = ?, format = ?, date = ? WHERE id = ?",
        (doc.source, doc.title, doc.format, doc.date, doc.id),
    )
    if cursor.rowcount != 1:
        raise ValueError(f"document {doc.id} is not stored; add it instead of updating it")


def _kept_counts(db: sqlite3.Connection) -> tuple[int, dict[str, int] | None]:
    """The generation, and the counts the write that made it kept (None if it kept none)."""
    rows = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('generation', 'counts')"))
    generation = int(rows.get("generation", 0))
    kept = json.loads(rows["counts"]) if "counts" in rows else {}
    if kept.get("generation") != generation:
        return generation, None
    return generation, {"documents": int(kept["documents"]), "chunks": int(kept["chunks"])}


def _keep_counts(db: sqlite3.Connection, generation: int, counts: dict[str, int]) -> None:
    rows = [
        ("generation", str(generation)),
        ("counts", json.dumps({**counts, "generation": generation})),
    ]
    db.executemany(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        rows,
    )


def _counted(db: sqlite3.Connection) -> dict[str, int]:
    """Documents and chunks, counted: a read of the whole index."""
    docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    return {"documents": docs, "chunks": db.execute("SELECT count(*) FROM chunks").fetchone()[0]}


def _insert(db: sqlite3.Connection, new: NewDocument) -> list[int]:
    doc = new.document
    db.execute(
        "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, datetime('now'))",
        (doc.id, doc.source, doc.title, doc.format, doc.date, json.dumps(doc.pages), doc.text),
    )
    ids = []
    for ordinal, ((start, end), vector) in enumerate(zip(new.spans, new.embeddings)):
        data = vector.astype(np.float32).tobytes()
        cursor = db.execute(
            'INSERT INTO chunks (doc_id, ordinal, start, "end", page, embedding, crc) '
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (doc.id, ordinal, start, end, doc.page_at(start), data, zlib.crc32(data)),
        )
        assert cursor.lastrowid is not None
        ids.append(cursor.lastrowid)
    return ids


def _casefold(text: str | None) -> str | None:
    return None if text is None else text.casefold()
