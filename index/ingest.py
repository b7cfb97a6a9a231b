"""Deciding what an ingest changes: new, replaced, unchanged documents."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from qa.errors import IngestError
from qa.types import Catalog, Document, Order


class Correction(NamedTuple):
    """A title or date a person gave a report in place of what its file says (None: the
    file's own), kept by source: ingesting the same file again keeps it."""

    source: str
    title: str | None
    date: str | None

    def applied(self, doc: Document) -> Document:
        """``doc`` with this title and date."""
        return dataclasses.replace(doc, title=self.title or doc.title, date=self.date or doc.date)


class DocumentStore(Protocol):
    """The documents a backend holds, as ingest planning and lookups read them."""

    def corrections(self, sources: Sequence[str]) -> dict[str, Correction]:
        """The corrections recorded for these sources, by source."""
        ...

    def correct(self, correction: Correction) -> None:
        """Record a correction (in place of the source's earlier one)."""
        ...

    def document(self, doc_id: str) -> Document | None: ...

    def documents(self) -> list[Document]: ...

    def ids_where(self, column: str, value: str) -> list[str]:
        """Ids of documents whose ``id`` starts with ``value``, whose ``source`` equals it,
        or (``name``) whose source ends with it after a ``/``."""
        ...

    def counts(self) -> dict[str, int]: ...

    def roots(self) -> list[str]:
        """The folders ingests were given (see ``Index.roots``)."""
        ...

    def add_roots(self, roots: Sequence[str]) -> None: ...

    def catalog(self, contains: str, limit: int, offset: int, order: Order = "source") -> Catalog:
        """A page of the documents whose title or source contains ``contains`` (any case),
        in ``order``: by source, by title, or newest first (undated last)."""
        ...


@dataclass
class IngestReport:
    """What an ingest did. ``replaced`` holds the new versions of changed sources."""

    added: list[Document] = field(default_factory=list)
    replaced: list[Document] = field(default_factory=list)
    unchanged: list[Document] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def brief(docs: list[Document]) -> list[dict[str, Any]]:
            return [{"id": d.id, "source": d.source, "title": d.title} for d in docs]

        return {
            "added": brief(self.added),
            "replaced": brief(self.replaced),
            "unchanged": brief(self.unchanged),
            "errors": [{"path": e.path, "error": e.reason} for e in self.errors],
        }


@dataclass
class Step:
    """Part of an ingest that is committed whole: documents to add with the stored ids they
    replace, or the removals and metadata updates left over."""

    remove: list[str] = field(default_factory=list)
    update: list[Document] = field(default_factory=list)
    add: list[Document] = field(default_factory=list)


@dataclass
class IngestPlan(Step):
    """An ingest's changes: ids to remove, stored rows whose metadata changes, documents to
    embed; ``replaces`` maps a source to the stored ids its new document replaces."""

    report: IngestReport = field(default_factory=IngestReport)
    replaces: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.remove or self.update or self.add)

    def steps(self) -> list[Step]:
        """One step per document to add, with the old versions it replaces (so an interrupted
        ingest never loses a file's old text without storing its new one); the rest last."""
        steps, paired = [], set()
        for doc in self.add:
            old = self.replaces.get(doc.source, [])
            paired.update(old)
            steps.append(Step(remove=list(old), add=[doc]))
        rest = [doc_id for doc_id in self.remove if doc_id not in paired]
        if rest or self.update:
            steps.append(Step(remove=rest, update=list(self.update)))
        return steps


def plan_ingest(store: DocumentStore, docs: list[Document]) -> IngestPlan:
    """Sort ``docs`` into the report and the changes to make, for one transaction.

    Identity is the content: one stored document per text. A source's old version is removed
    unless its text is a document of this batch (texts may swap or move between sources).
    A text already stored keeps its chunks and embeddings: when it now comes from another
    source that this batch gives a new text, or with another title, date or format, only its
    stored metadata changes; new page offsets mean new chunks, so it is stored again. A text
    stored under a source this batch does not touch stays there, unchanged. Within one batch
    the last document for a source wins, and the others are reported.
    """
    report = IngestReport()
    fixes = store.corrections([doc.source for doc in docs])
    docs = [fixes[doc.source].applied(doc) if doc.source in fixes else doc for doc in docs]
    by_source: dict[str, Document] = {}
    for doc in docs:
        if doc.source in by_source:
            report.errors.append(
                IngestError(doc.source, "given twice in one ingest; the last copy was used")
            )
        by_source[doc.source] = doc
    incoming = list(by_source.values())
    keep = {doc.id for doc in incoming}
    stored = {doc.id: store.document(doc.id) for doc in incoming}
    owner: dict[str, Document] = {}  # which incoming document each text goes to
    for doc in incoming:  # a text stays with its stored source when that source still has it
        old = stored[doc.id]
        if old is not None and old.source == doc.source:
            owner[doc.id] = doc
    for doc in incoming:
        owner.setdefault(doc.id, doc)

    plan = IngestPlan(report=report)
    for doc in incoming:
        previous = store.ids_where("source", doc.source)
        replaced = [doc_id for doc_id in previous if doc_id not in keep]
        plan.remove += replaced
        plan.replaces[doc.source] = replaced
        old = stored[doc.id]
        if owner[doc.id] is not doc or (
            old is not None and old.source != doc.source and old.source not in by_source
        ):
            report.unchanged.append(doc)  # the text is stored, or given, under another source
        elif old is None:
            plan.add.append(doc)
            replaces = any(doc_id != doc.id for doc_id in previous)
            (report.replaced if replaces else report.added).append(doc)
        elif old.pages != doc.pages:
            plan.remove.append(doc.id)  # removed first, then stored again with new chunks
            plan.replaces[doc.source].append(doc.id)
            plan.add.append(doc)
            report.replaced.append(doc)
        elif _metadata(old) != _metadata(doc):
            plan.update.append(doc)
            report.replaced.append(doc)
        else:
            report.unchanged.append(doc)
    return plan


def _metadata(doc: Document) -> tuple[str, str, str, str | None]:
    return doc.source, doc.title, doc.format, doc.date
