"""Documents and chunks in two Milvus collections, and the searches over them.

``<name>_documents`` holds each report's text in pieces (a Milvus VARCHAR holds at most 65,535
bytes), one row per piece keyed ``<doc id>:<piece>``; piece 0 carries the metadata and is the
row that makes a document visible. ``<name>_chunks`` holds one row per chunk keyed
``<doc id>:<ordinal>``: its offsets, its text (``doc.text[start:end]``), its embedding, and
its BM25 terms: the words as the local index sees them (:func:`qa.index.sparse.tokenize`:
English stop words out, Snowball stems), joined by spaces for Milvus's BM25 function, so both
backends score the same terms (Milvus Lite's analyser has no stemmer), with k1 1.5, b 0.75.
Keys follow from the text, so writing a document again overwrites its rows.

Milvus has no transactions; a write orders its steps so that a search never sees a
document without its chunks. It first leaves a marker row (piece -1) per document it adds or
removes, then writes the chunks, then the document's pieces, piece 0 last (the commit
point); a removal deletes the pieces, then the chunks; the markers go last. Chunks whose
document has no piece 0 are left out of every result and count. What a write cut short left
is deleted when the index is opened ``RECOVER_AFTER`` seconds later (see qa.index.milvus; a
younger marker may be another app server's write in flight), or overwritten when the same
document is written again.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from qa.index import sparse
from qa.index.backend import crash_point
from qa.index.ingest import Correction
from qa.index.retrieve import ChunkId
from qa.index.sparse import K1, B
from qa.index.store import NewDocument, StoredChunk
from qa.options import Filters
from qa.types import Catalog, Chunk, Document, DocumentInfo, Order

PIECE = 16_000  # characters of text per document row: at most 64,000 bytes in UTF-8
WRITE_ROWS = 500  # rows per insert call: the fastest of 250-4,000 on the native engine (README)
READ_ROWS = 1000  # rows per page of a long read
MAX_VARCHAR = 65_535
DENSE_INDEX = "AUTOINDEX"
SETTING = -2  # the piece number of a setting's row (the manifest, the roots)
SETTINGS_ID = "reportqa"  # the doc_id of the settings' rows: no document's (ids are hex)
OLD_PROPERTY = "reportqa.{}"  # where indexes before 0.x kept them: the chunks' properties
_HEX = re.compile(r"[0-9a-f]+")


def _correction_name(source: str) -> str:
    return "correction:" + hashlib.sha256(source.encode("utf-8")).hexdigest()[:32]


def literal(value: str) -> str:
    """``value`` as a string literal of Milvus's filter expressions."""
    return json.dumps(value, ensure_ascii=False)


def one_of(field: str, values: Iterable[str]) -> str:
    return f"{field} in {_listed(values)}"


def none_of(field: str, values: Iterable[str]) -> str:
    """Rows whose ``field`` is none of ``values`` (the native engine refuses ``not (...)``)."""
    return f"{field} not in {_listed(values)}"


def _listed(values: Iterable[str]) -> str:
    return f"[{', '.join(literal(v) for v in values)}]"


class MilvusStore:
    """The two collections of one index, read and written through one ``MilvusClient``."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.documents_name = f"{name}_documents"
        self.chunks_name = f"{name}_chunks"
        self._filterable: bool | None = None  # whether chunk rows carry the filters' fields

    # -- schema --------------------------------------------------------------------------

    def exists(self) -> bool:
        return bool(self.client.has_collection(self.chunks_name))

    def create(self, dim: int, manifest: str) -> None:
        """Create both collections, and store the ``manifest`` (JSON) in a row of the
        documents' (not in collection properties, which not every engine keeps)."""
        from pymilvus import DataType, Function, FunctionType

        client = self.client
        docs = client.create_schema(auto_id=False, enable_dynamic_field=False)
        docs.add_field("key", DataType.VARCHAR, is_primary=True, max_length=96)
        docs.add_field("doc_id", DataType.VARCHAR, max_length=64)
        docs.add_field("piece", DataType.INT64)
        docs.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
        for field in ("source", "source_key", "title"):
            docs.add_field(field, DataType.VARCHAR, max_length=MAX_VARCHAR)
        docs.add_field("format", DataType.VARCHAR, max_length=32)
        docs.add_field("date", DataType.VARCHAR, max_length=10)  # "" when undated
        docs.add_field("pages", DataType.JSON)
        docs.add_field("written", DataType.INT64)  # a write's marker: when it began
        docs.add_field("marker", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field
        params = client.prepare_index_params()
        params.add_index("marker", index_type="FLAT", metric_type="IP")
        client.create_collection(
            self.documents_name, schema=docs, index_params=params, consistency_level="Strong"
        )

        chunks = client.create_schema(auto_id=False, enable_dynamic_field=False)
        chunks.add_field("id", DataType.VARCHAR, is_primary=True, max_length=96)
        chunks.add_field("doc_id", DataType.VARCHAR, max_length=64)
        for field in ("ordinal", "start", "end", "page"):  # page -1: none
            chunks.add_field(field, DataType.INT64)
        chunks.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
        # what the filters test, on every chunk: a search filters the chunks themselves
        chunks.add_field("source_key", DataType.VARCHAR, max_length=MAX_VARCHAR)
        chunks.add_field("date", DataType.VARCHAR, max_length=10)
        chunks.add_field(
            "terms",
            DataType.VARCHAR,
            max_length=MAX_VARCHAR,
            enable_analyzer=True,
            analyzer_params={"tokenizer": "standard"},  # splits the terms at the spaces
        )
        chunks.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        chunks.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        chunks.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["terms"],
                output_field_names=["sparse"],
            )
        )
        params = client.prepare_index_params()
        # AUTOINDEX: the engine's own choice, HNSW on a server; the local engine refuses HNSW
        params.add_index("dense", index_type=DENSE_INDEX, metric_type="IP")
        params.add_index(
            "sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": K1, "bm25_b": B},
        )
        client.create_collection(
            self.chunks_name,
            schema=chunks,
            index_params=params,
            consistency_level="Strong",
        )
        self.put_setting("manifest", manifest)
        self.put_setting("dense_index", DENSE_INDEX)  # recorded beside the manifest

    def load(self) -> None:
        """Have Milvus hold both collections in memory (searches need it; a no-op when a
        server already does)."""
        for name in (self.documents_name, self.chunks_name):
            self.client.load_collection(name)

    def setting(self, name: str) -> str | None:
        """A setting's text (``manifest``, ``roots``): its row, or for an index made before
        settings had rows, the chunks collection's property; None when neither is there (or
        the collections are not a reportqa index's)."""
        if not self.client.has_collection(self.documents_name):
            return None
        described = self.client.describe_collection(self.documents_name)
        if not {"key", "piece", "text"} <= {f["name"] for f in described.get("fields", [])}:
            return None  # another program's collection
        key = f"{SETTINGS_ID}:{name}"
        rows = self.client.get(self.documents_name, ids=[key], output_fields=["text"])
        if rows:
            return str(rows[0]["text"])
        described = self.client.describe_collection(self.chunks_name)
        value = (described.get("properties") or {}).get(OLD_PROPERTY.format(name))
        return None if value is None else str(value)

    def put_setting(self, name: str, text: str) -> None:
        if len(text.encode("utf-8")) > MAX_VARCHAR:
            raise ValueError(f"the index's {name} would take over {MAX_VARCHAR} bytes")
        row = {**_row(SETTINGS_ID, SETTING, text), "key": f"{SETTINGS_ID}:{name}"}
        self.client.upsert(self.documents_name, [row])

    def roots(self) -> list[str]:
        return sorted(json.loads(self.setting("roots") or "[]"))

    def corrections(self, sources: Sequence[str]) -> dict[str, Correction]:
        """Each a setting row of its own, named after a hash of its source."""
        found: dict[str, Correction] = {}
        for first in range(0, len(sources), 500):
            keys = [f"{SETTINGS_ID}:{_correction_name(s)}" for s in sources[first : first + 500]]
            for row in self.client.get(self.documents_name, ids=keys, output_fields=["text"]):
                fix = Correction(*json.loads(row["text"]))
                found[fix.source] = fix
        return found

    def correct(self, correction: Correction) -> None:
        self.put_setting(_correction_name(correction.source), json.dumps(list(correction)))

    def add_roots(self, roots: Sequence[str]) -> None:
        known = self.roots()
        if set(roots) - set(known):
            self.put_setting("roots", json.dumps(sorted({*known, *roots})))

    # -- documents -----------------------------------------------------------------------

    def document(self, doc_id: str) -> Document | None:
        if not _HEX.fullmatch(doc_id):
            return None
        found = self._documents(f"doc_id == {literal(doc_id)}")
        return found[0] if found else None

    def documents(self) -> list[Document]:
        return sorted(self._documents(""), key=lambda d: (d.source, d.id))

    def ids_where(self, column: str, value: str) -> list[str]:
        """Ids of documents whose ``id`` starts with ``value``, whose ``source`` equals it,
        or (``name``) whose source ends with it after a ``/``."""
        if column == "id":
            prefix = value.strip().lower()
            if not _HEX.fullmatch(prefix):
                return []
            expr = f'piece == 0 and doc_id like "{prefix}%"'
        elif column == "name":
            expr = f"piece == 0 and source_key like {literal(_contains(value.lower()))}"
            rows = self._query(self.documents_name, expr, ["doc_id", "source"])
            return [r["doc_id"] for r in rows if r["source"].endswith("/" + value)]
        else:
            expr = f"piece == 0 and source == {literal(value)}"
        return [row["doc_id"] for row in self._query(self.documents_name, expr, ["doc_id"])]

    def catalog(self, contains: str, limit: int, offset: int, order: Order = "source") -> Catalog:
        """Milvus queries have no order and LIKE is case-sensitive: the documents' metadata
        (no text) is read, matched and sorted here, and only the page's chunks counted."""
        needle = contains.casefold()
        fields = ["doc_id", "source", "title", "format", "date"]
        rows = [
            row
            for row in self._query(self.documents_name, "piece == 0", fields)
            if needle in row["source"].casefold() or needle in row["title"].casefold()
        ]
        rows.sort(key=lambda r: (r["source"], r["doc_id"]))
        if order == "title":
            rows.sort(key=lambda r: r["title"].casefold())
        elif order == "date":  # newest first, undated last (the sorts are stable)
            rows.sort(key=lambda r: r["date"] or "", reverse=True)
        page = rows[offset : offset + limit]
        ids = [row["doc_id"] for row in page]
        chunks = self._query(self.chunks_name, one_of("doc_id", ids), ["doc_id"]) if ids else []
        passages = Counter(row["doc_id"] for row in chunks)
        infos = [
            DocumentInfo(
                r["doc_id"],
                r["source"],
                r["title"],
                r["format"],
                r["date"] or None,
                passages[r["doc_id"]],
            )
            for r in page
        ]
        return Catalog(len(rows), infos)

    def counts(self) -> dict[str, int]:
        """Documents, and their chunks (not those of a write in flight or cut short)."""
        orphans = list(self.unfinished())
        chunks = self._count(self.chunks_name, "")
        if orphans:
            chunks -= self._count(self.chunks_name, one_of("doc_id", orphans))
        return {"documents": self._count(self.documents_name, "piece == 0"), "chunks": chunks}

    def filtered(self, filters: Filters) -> tuple[str, int]:
        """The filter expression over the chunks for ``filters`` (their documents' fields are
        on every chunk row, so no list of document ids is sent, however many pass), and how
        many documents pass; ("", 0) when none can. An index made before chunk rows carried
        those fields gets the list of its passing documents' ids instead."""
        clauses = []
        if filters.doc_ids:
            prefixes = [p.strip().lower() for p in filters.doc_ids]
            prefixes = [p for p in prefixes if _HEX.fullmatch(p)]
            if not prefixes:
                return "", 0
            clauses.append(" or ".join(f'doc_id like "{p}%"' for p in prefixes))
        if filters.sources:
            likes = [f"source_key like {literal(_contains(s.lower()))}" for s in filters.sources]
            clauses.append(" or ".join(likes))
        if filters.date_from or filters.date_to:
            clauses.append('date != ""')
        if filters.date_from:
            clauses.append(f"date >= {literal(filters.date_from)}")
        if filters.date_to:
            clauses.append(f"date <= {literal(filters.date_to)}")
        expr = " and ".join(f"({c})" for c in clauses)
        documents = f"piece == 0 and {expr}" if expr else "piece == 0"
        if self._chunks_filterable():
            return expr, self._count(self.documents_name, documents)
        ids = [row["doc_id"] for row in self._query(self.documents_name, documents, ["doc_id"])]
        return (one_of("doc_id", ids) if ids else ""), len(ids)

    def _chunks_filterable(self) -> bool:
        if self._filterable is None:
            described = self.client.describe_collection(self.chunks_name)
            names = {f["name"] for f in described.get("fields", [])}
            self._filterable = {"source_key", "date"} <= names
        return self._filterable

    def _documents(self, expr: str) -> list[Document]:
        fields = ["doc_id", "piece", "text", "source", "title", "format", "date", "pages"]
        pieces: dict[str, list[dict[str, Any]]] = {}
        for row in self._query(self.documents_name, expr, fields):
            pieces.setdefault(row["doc_id"], []).append(row)
        found = []
        for doc_id, rows in pieces.items():
            rows.sort(key=lambda r: r["piece"])
            head = rows[0]
            if head["piece"] != 0:  # a document being written or removed: not there yet
                continue
            text = "".join(r["text"] for r in rows)
            found.append(
                Document(
                    text,
                    head["source"],
                    head["title"],
                    head["format"],
                    head["date"] or None,
                    tuple(head["pages"] or ()),
                    doc_id,
                )
            )
        return found

    # -- chunks --------------------------------------------------------------------------

    def vectors(self, ids: Sequence[ChunkId]) -> dict[ChunkId, np.ndarray]:
        """The embeddings of the given chunks that are stored."""
        if not ids:
            return {}
        rows = self.client.get(
            self.chunks_name, ids=[str(i) for i in ids], output_fields=["id", "dense"]
        )
        return {row["id"]: np.asarray(row["dense"], dtype=np.float32) for row in rows}

    def chunks(self, ids: Sequence[ChunkId]) -> dict[ChunkId, StoredChunk]:
        """The given chunks whose documents are stored."""
        if not ids:
            return {}
        fields = ["id", "doc_id", "ordinal", "start", "end", "page", "text"]
        rows = self.client.get(self.chunks_name, ids=[str(i) for i in ids], output_fields=fields)
        heads = {
            row["doc_id"]: row
            for row in self.client.get(
                self.documents_name,
                ids=sorted({f"{row['doc_id']}:0" for row in rows}),
                output_fields=["doc_id", "source", "title", "date"],
            )
        }
        found: dict[ChunkId, StoredChunk] = {}
        for row in rows:
            head = heads.get(row["doc_id"])
            if head is None:
                continue
            page = row["page"] if row["page"] >= 0 else None
            chunk = Chunk(
                row["doc_id"], row["ordinal"], row["start"], row["end"], row["text"], page
            )
            found[row["id"]] = StoredChunk(
                row["id"], chunk, head["title"], head["source"], head["date"] or None
            )
        return found

    def chunk_ids(self) -> np.ndarray:
        """Every stored document's chunk keys, in order."""
        orphans = list(self.unfinished())
        expr = none_of("doc_id", orphans) if orphans else ""
        return np.array(sorted(r["id"] for r in self._query(self.chunks_name, expr, ["id"])))

    def search(
        self, field: str, data: str | np.ndarray, n: int, expr: str
    ) -> list[tuple[ChunkId, float]]:
        """The ``n`` best chunks by ``field`` ("dense" or "sparse") for ``data``."""
        metric = "BM25" if field == "sparse" else "IP"
        if isinstance(data, str):
            query: Any = " ".join(sparse.tokenize([data])[0])
            if not query:  # only stop words: no chunk scores above 0
                return []
        else:
            query = np.asarray(data, dtype=np.float32).tolist()
        results = self.client.search(
            self.chunks_name,
            data=[query],
            anns_field=field,
            limit=n,
            filter=expr,
            output_fields=[],
            search_params={"metric_type": metric},
        )
        if field == "dense":
            return [(hit["id"], float(hit["distance"])) for hit in results[0]]
        # Milvus scores BM25 with the classic (k1 + 1) factor, which the local index (as
        # Lucene now) leaves out: divided out, both report the same scores. Milvus Lite
        # reports them negated (as a distance); a BM25 score is never negative.
        return [(hit["id"], abs(float(hit["distance"])) / (K1 + 1)) for hit in results[0]]

    # -- writing -------------------------------------------------------------------------

    def write(
        self, remove: Sequence[str], add: Sequence[NewDocument], update: Sequence[Document]
    ) -> None:
        """Add, update, then remove documents, each step visible whole or not at all to a
        search (see the module's note); a document both removed and added (new pages) is
        written again in place."""
        added = [new.document.id for new in add]
        gone = [doc_id for doc_id in remove if doc_id not in added]
        self._upsert(self.documents_name, (_marker(doc_id) for doc_id in added + gone))
        again = [doc_id for doc_id in remove if doc_id in added]
        if again:
            self.client.delete(self.chunks_name, filter=one_of("doc_id", again))
        self._upsert(self.chunks_name, (row for new in add for row in _chunk_rows(new)))
        rows = [row for new in add for row in _document_rows(new.document)]
        self._upsert(self.documents_name, (r for r in rows if r["piece"] > 0))
        crash_point("before-commit")
        self._upsert(self.documents_name, (r for r in rows if r["piece"] == 0))
        crash_point("after-commit")
        self._upsert(self.documents_name, (_document_rows(doc)[0] for doc in update))
        self._retag(update)
        if gone:
            self.client.delete(
                self.documents_name, filter=f"piece >= 0 and {one_of('doc_id', gone)}"
            )
            self.client.delete(self.chunks_name, filter=one_of("doc_id", gone))
        self._forget(added + gone)

    def _retag(self, docs: Sequence[Document]) -> None:
        """Give the chunks of documents whose metadata changed their new source and date."""
        if not docs or not self._chunks_filterable():
            return
        by_id = {doc.id: doc for doc in docs}
        fields = ["id", "doc_id", "ordinal", "start", "end", "page", "text", "terms", "dense"]
        rows = list(self._query(self.chunks_name, one_of("doc_id", by_id), fields))
        for row in rows:
            doc = by_id[row["doc_id"]]
            row.update(source_key=doc.source.lower(), date=doc.date or "")
            row["dense"] = np.asarray(row["dense"], dtype=np.float32).tolist()
        self._upsert(self.chunks_name, rows)

    def unfinished(self) -> dict[str, int]:
        """Documents whose write did not finish (their marker is there, their piece 0 is
        not): doc id -> when the write began (Unix seconds). Their chunks are orphans."""
        markers = {
            row["doc_id"]: row["written"]
            for row in self._query(self.documents_name, "piece == -1", ["doc_id", "written"])
        }
        if not markers:
            return {}
        heads = self.client.get(
            self.documents_name, ids=[f"{d}:0" for d in markers], output_fields=["doc_id"]
        )
        done = [row["doc_id"] for row in heads]
        self._forget(done)  # committed, their markers left by a crash before they went
        return {d: t for d, t in markers.items() if d not in set(done)}

    def recover(self, older_than: float) -> None:
        """Delete what the writes that began before ``older_than`` (and never finished)
        left: their chunks and pieces, then their markers."""
        stale = [d for d, began in self.unfinished().items() if began < older_than]
        if stale:
            self.client.delete(self.chunks_name, filter=one_of("doc_id", stale))
            self.client.delete(self.documents_name, filter=one_of("doc_id", stale))

    def _forget(self, doc_ids: Sequence[str]) -> None:
        if doc_ids:
            self.client.delete(self.documents_name, ids=[f"{d}:pending" for d in doc_ids])

    def _upsert(self, collection: str, rows: Iterable[dict[str, Any]]) -> None:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == WRITE_ROWS:
                self.client.upsert(collection, batch)
                batch = []
        if batch:
            self.client.upsert(collection, batch)

    def _query(self, collection: str, expr: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        """Every row matching ``expr``, read a page at a time."""
        pages = self.client.query_iterator(
            collection, batch_size=READ_ROWS, filter=expr, output_fields=fields
        )
        try:
            while rows := pages.next():
                yield from rows
        finally:
            pages.close()

    def _count(self, collection: str, expr: str) -> int:
        rows = self.client.query(collection, filter=expr, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])


def _contains(text: str) -> str:
    """A LIKE pattern matching strings that contain ``text`` (its wildcards escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _document_rows(doc: Document) -> list[dict[str, Any]]:
    pieces = [doc.text[i : i + PIECE] for i in range(0, len(doc.text), PIECE)] or [""]
    head = {
        "source": doc.source,
        "source_key": doc.source.lower(),
        "title": doc.title,
        "format": doc.format,
        "date": doc.date or "",
        "pages": list(doc.pages),
    }
    return [_row(doc.id, i, piece, **(head if i == 0 else {})) for i, piece in enumerate(pieces)]


def _marker(doc_id: str) -> dict[str, Any]:
    """The row saying a write of ``doc_id`` (adding or removing it) has begun."""
    return {**_row(doc_id, -1, ""), "key": f"{doc_id}:pending", "written": int(time.time())}


def _row(doc_id: str, piece: int, text: str, **head: Any) -> dict[str, Any]:
    return {
        "key": f"{doc_id}:{piece}",
        "doc_id": doc_id,
        "piece": piece,
        "text": text,
        "source": "",
        "source_key": "",
        "title": "",
        "format": "",
        "date": "",
        "pages": [],
        "written": 0,
        "marker": [1.0, 0.0],
        **head,
    }


def _chunk_rows(new: NewDocument) -> Iterator[dict[str, Any]]:
    doc = new.document
    words = sparse.tokenize([doc.text[a:b] for a, b in new.spans])
    for ordinal, ((start, end), vector) in enumerate(zip(new.spans, new.embeddings)):
        page = doc.page_at(start)
        yield {
            "terms": " ".join(words[ordinal]),
            "source_key": doc.source.lower(),
            "date": doc.date or "",
            "id": f"{doc.id}:{ordinal}",
            "doc_id": doc.id,
            "ordinal": ordinal,
            "start": start,
            "end": end,
            "page": -1 if page is None else page,
            "text": doc.text[start:end],
            "dense": np.asarray(vector, dtype=np.float32).tolist(),
        }
