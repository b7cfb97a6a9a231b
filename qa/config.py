"""Where things live by default; environment variables are only for these switches."""

from __future__ import annotations

import os
from pathlib import Path

INDEX_ENV = "QA_INDEX"


def default_index_location() -> str:
    """``$QA_INDEX`` (a folder or a ``milvus://`` address), else the folder
    ``$XDG_DATA_HOME/reportqa/index`` (``~/.local/share/...``)."""
    if os.environ.get(INDEX_ENV):
        return os.environ[INDEX_ENV]
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return str(Path(data_home) / "reportqa" / "index")


def sample_corpus() -> Path:
    """The sample reports shipped with the package."""
    return Path(__file__).resolve().parent / "corpus"
