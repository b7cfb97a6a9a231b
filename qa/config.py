"""Where things live by default; environment variables are only for these switches."""

from __future__ import annotations

import os
from pathlib import Path

INDEX_ENV = "QA_INDEX"
SHARED_ENV = "QA_SHARED"
# the data sets in the shared folder that the training and benchmark scripts read by default
SQUAD_TRAIN = "bench/squad-train/train-v1.1.json.gz"
SCIFACT_TRAIN = "bench/scifact-train"
DROP_DEV = "bench/drop/drop-dev.json"


def data_folder() -> Path:
    """``$XDG_DATA_HOME/reportqa`` (``~/.local/share/reportqa``)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "reportqa"


def default_index_location() -> str:
    """``$QA_INDEX`` (a folder or a ``milvus://`` address), else ``index`` in the data folder."""
    return os.environ.get(INDEX_ENV) or str(data_folder() / "index")


def default_chats_location() -> Path:
    """The file of the chat's saved conversations, in the data folder."""
    return data_folder() / "chats.sqlite3"


def shared_folder() -> Path:
    """The benchmark and training data, not shipped (SQuAD v1.1 train, SciFact, DROP dev, under
    ``bench/``): ``$QA_SHARED``, else ``shared`` beside the source checkout (``../shared``
    from the repository root; an installed package has no such sibling, so set the variable)."""
    location = os.environ.get(SHARED_ENV)
    if location:
        return Path(location).expanduser()
    return Path(__file__).resolve().parents[2] / "shared"


def sample_corpus() -> Path:
    """The sample reports shipped with the package."""
    return Path(__file__).resolve().parent / "corpus"
