"""Where a running ``qa serve`` can be found, so ``qa ask`` and ``qa search`` use it.

A server writes one small file while it runs, ``<data folder>/servers/<key>.json``, keyed by
the index it serves: its URL, process id, and whether it asks for a login. A command over the
same index finds it there (:func:`find`), checks that the process lives and answers its
health check within a moment, and asks it: the models and the index are loaded already, so
the command takes well under a second instead of several. A server behind a login is not
used (the command has no password); nor is a file whose process is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from qa.config import data_folder

FOLDER = "servers"
HEALTH_SECONDS = 1.0  # a server that does not answer its health check in this time is skipped


def key(location: str) -> str:
    """The index a location names, as one string: a folder's whole resolved path; a
    ``milvus://`` location as written."""
    if "://" in location:
        return location
    return str(Path(location).expanduser().resolve())


def _record(location: str) -> Path:
    digest = hashlib.sha256(key(location).encode()).hexdigest()[:24]
    return data_folder() / FOLDER / f"{digest}.json"


@contextlib.contextmanager
def registered(location: str, url: str, login: bool) -> Iterator[None]:
    """Record the server at ``url`` as serving ``location`` while the block runs."""
    path = _record(location)
    record = {"index": key(location), "url": url, "pid": os.getpid(), "login": login}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # a read-only home: commands simply do not find this server
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()


def find(location: str) -> str | None:
    """The URL of a live server of ``location`` that needs no login, or None."""
    try:
        record = json.loads(_record(location).read_text(encoding="utf-8"))
        url, pid = str(record["url"]), int(record["pid"])
        if record["index"] != key(location) or record.get("login", True):
            return None
        os.kill(pid, 0)  # OSError when the process is gone
    except (OSError, ValueError, KeyError, TypeError):
        return None
    import httpx

    try:
        answer = httpx.get(f"{url}/api/v1/health", timeout=HEALTH_SECONDS)
    except httpx.HTTPError:
        return None
    return url if answer.status_code == 200 else None
