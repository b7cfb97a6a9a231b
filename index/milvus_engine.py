"""The native Milvus engine that milvus-lite 2.5 ships (a ``milvus`` executable with knowhere),
run as a child process: over a Unix socket for a ``milvus:///path/file.db`` index, or on a
TCP address (as the tests reach it, like any server).

milvus-lite's own launcher lets the engine write to the terminal; here its output goes to a
log file beside the data (``.<file>.log``), whose last line is the error when the engine fails
to start. Found without importing ``milvus_lite`` (whose ``__init__`` needs ``pkg_resources``).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

from qa.errors import IndexUnavailableError

START_SECONDS = 30  # for the engine to answer after it is started
LOG_LEVEL = "ERROR"
_NAME = re.compile(r"[A-Za-z0-9.\-_]{1,36}")  # what the engine accepts as a data file's name


def engine_folder() -> Path:
    """The folder of milvus-lite's ``milvus`` executable and its libraries."""
    spec = importlib.util.find_spec("milvus_lite")
    if spec is None or not spec.submodule_search_locations:
        raise IndexUnavailableError(
            "the native Milvus engine is not installed: pip install 'reportqa[milvus]'"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "lib"
    if not (folder / "milvus").exists():
        raise IndexUnavailableError(
            f"{folder} holds no Milvus engine (milvus-lite 3.x has none): "
            "pip install 'reportqa[milvus]' (milvus-lite 2.5.1)"
        )
    return folder


def check_file_name(path: Path) -> None:
    if not _NAME.fullmatch(path.name):
        raise ValueError(
            f"{path.name!r}: a Milvus Lite file name may hold only letters, digits, '.', '-' "
            "and '_', at most 36 of them"
        )


class NativeMilvus:
    """One engine process serving ``db_file``: on ``address`` ("127.0.0.1:PORT") if given,
    else on a Unix socket, and then only while this object holds the file's lock (the
    engine stops by itself when the lock is let go, even if this process is killed)."""

    def __init__(self, db_file: Path, address: str | None = None) -> None:
        check_file_name(db_file)
        self.db_file = db_file.absolute()
        self.address = address
        self._socket = f"{tempfile.mktemp(prefix='qa-milvus-')}.sock"
        self._lock_path = self.db_file.parent / f".{self.db_file.name}.lock"
        self.log_path = self.db_file.parent / f".{self.db_file.name}.log"
        self._lock: IO[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The engine process's id while it runs."""
        return self._process.pid if self._process else None

    @property
    def uri(self) -> str:
        """What ``MilvusClient(uri=...)`` takes to reach the engine."""
        return f"http://{self.address}" if self.address else f"unix:{self._socket}"

    def start(self, timeout: float = START_SECONDS) -> None:
        """Start the engine and wait until it takes connections; IndexUnavailableError with
        the engine's last words if it does not."""
        folder = engine_folder()
        try:
            self._lock = open(self._lock_path, "a")  # noqa: SIM115 - held until stop()
        except OSError as exc:
            raise IndexUnavailableError(
                f"cannot serve {self.db_file}: its folder must be writable ({exc.strerror})"
            ) from None
        try:
            fcntl.lockf(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            self._lock = None
            raise IndexUnavailableError(
                f"{self.db_file} is open in another process (Milvus Lite serves a file to one "
                "process at a time)"
            ) from None
        where = self.address or self.uri
        args = [str(folder / "milvus"), str(self.db_file), where, LOG_LEVEL]
        if not self.address:
            args.append(str(self._lock_path))
        env = {**os.environ, "LD_LIBRARY_PATH": f"{folder}:{os.environ.get('LD_LIBRARY_PATH', '')}"}
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                args,
                env=env,
                cwd=self.db_file.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # a Ctrl-C in the terminal reaches us, not the engine
            )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise IndexUnavailableError(
                    f"the Milvus engine for {self.db_file} stopped at start: {self.last_words()}"
                )
            if self._answers():
                return
            time.sleep(0.05)
        raise IndexUnavailableError(
            f"the Milvus engine for {self.db_file} did not start within {timeout:.0f} s"
        )

    def _answers(self) -> bool:
        if self.address:
            host, _, port = self.address.rpartition(":")
            with contextlib.suppress(OSError), socket.create_connection((host, int(port)), 0.2):
                return True
            return False
        return os.path.exists(self._socket)

    def last_words(self) -> str:
        """The last line the engine wrote to its log."""
        with contextlib.suppress(OSError):
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
            for line in reversed(lines):
                if line.strip():
                    return line.strip()[:300]
        return "no message"

    def stop(self) -> None:
        """Let go of the file (the engine stops), then wait for it, killing it if it lingers."""
        if self._lock is not None:
            with contextlib.suppress(OSError):
                fcntl.lockf(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
        process, self._process = self._process, None
        if process is not None:
            if self.address:
                process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for leftover in (self._socket, self._lock_path):
            with contextlib.suppress(OSError):
                os.unlink(leftover)


_engines: dict[Path, tuple[NativeMilvus, int]] = {}  # per data file: its engine, its handles
_engines_lock = threading.Lock()


def acquire(db_file: Path) -> NativeMilvus:
    """The engine serving ``db_file`` in this process, started by the first handle on it."""
    key = db_file.absolute()
    with _engines_lock:
        engine, handles = _engines.get(key) or (NativeMilvus(key), 0)
        if not handles:
            engine.start()
        _engines[key] = (engine, handles + 1)
        return engine


def release(db_file: Path) -> None:
    """One handle on ``db_file`` less; with the last one its engine stops, so that another
    process may open the file."""
    key = db_file.absolute()
    with _engines_lock:
        engine, handles = _engines[key]
        if handles > 1:
            _engines[key] = (engine, handles - 1)
            return
        del _engines[key]
        engine.stop()


def running(db_file: Path) -> NativeMilvus:
    """The engine this process runs for ``db_file`` (KeyError when none)."""
    with _engines_lock:
        return _engines[db_file.absolute()][0]


def free_address() -> str:
    """A TCP address on this machine that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"
