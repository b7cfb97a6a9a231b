"""Persistent hybrid index: SQLite documents and chunks, FAISS vectors, BM25."""

from qa.index.core import Index
from qa.index.ingest import IngestReport
from qa.index.retrieve import MODES

__all__ = ["MODES", "Index", "IngestReport"]
