"""Deciding what an ingest changes: new, replaced, unchanged documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qa.errors import IngestError
from qa.index.store import Store
from qa.types import Document


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


def plan_ingest(
    store: Store, docs: list[Document]
) -> tuple[IngestReport, list[str], list[Document]]:
    """Sort ``docs`` into the report; returns it, the ids to remove and the documents to add.

    Identity is the content: a document whose text is already stored is unchanged (whatever
    its source); a new text from a source already stored replaces that source's old version.
    Within one batch the last document for a source wins, and the others are reported.
    """
    report = IngestReport()
    by_source: dict[str, Document] = {}
    for doc in docs:
        if doc.source in by_source:
            report.errors.append(
                IngestError(doc.source, "given twice in one ingest; the last copy was used")
            )
        by_source[doc.source] = doc
    remove: list[str] = []
    new_docs: list[Document] = []
    seen: set[str] = set()
    for doc in by_source.values():
        old = [doc_id for doc_id in store.ids_where("source", doc.source) if doc_id != doc.id]
        remove += old  # even when the new text is stored already, under another source
        if doc.id in seen or store.document(doc.id) is not None:
            report.unchanged.append(doc)
            continue
        seen.add(doc.id)
        (report.replaced if old else report.added).append(doc)
        new_docs.append(doc)
    return report, remove, new_docs
