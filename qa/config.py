"""Where things live by default; environment variables are only for these switches."""

from __future__ import annotations

import os
from pathlib import Path

INDEX_ENV = "QA_INDEX"


def data_folder() -> Path:
    """``$XDG_DATA_HOME/reportqa`` (``~/.local/share/reportqa``)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "reportqa"


def default_index_location() -> str:
    """``$QA_INDEX`` (a folder or a ``milvus://`` address), else ``index`` in the data folder."""
    return os.environ.get(INDEX_ENV) or str(data_folder() / "index")


def default_chats_location() -> Path:
    """The file of the chat's saved conversations, in the data folder."""
    return data_folder() / "chats.sqlite3"


def sample_corpus() -> Path:
    """The sample reports shipped with the package."""
    return Path(__file__).resolve().parent / "corpus"
