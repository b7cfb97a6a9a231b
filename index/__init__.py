"""Persistent hybrid index: SQLite documents and chunks, FAISS vectors, BM25."""

from qa.index.base import Index
from qa.index.ingest import IngestReport

__all__ = ["Index", "IngestReport"]
