"""Progress reporting: plain lines in a log, bars on a terminal."""

from __future__ import annotations

import io

import pytest

from qa import progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_come_now_and_then_and_at_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(progress.time, "monotonic", clock)
    out = io.StringIO()  # not a terminal, as in a log file or CI
    report = progress.reporter(out, every=10)
    for done in range(0, 1000, 100):
        report("embedding", done, 1000)
        clock.now += 4  # a line at most every ten seconds
    report("embedding", 1000, 1000)
    lines = out.getvalue().splitlines()
    assert lines == [
        "qa: embedding 300/1000 chunks (30%)",
        "qa: embedding 600/1000 chunks (60%)",
        "qa: embedding 900/1000 chunks (90%)",
        "qa: embedding 1000/1000 chunks (100%)",
    ]


def test_small_work_prints_nothing() -> None:
    out = io.StringIO()
    report = progress.reporter(out)
    report("reading", 0, 2)
    report("reading", 2, 2)
    assert out.getvalue() == ""


def test_a_terminal_gets_bars() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    report = progress.reporter(out)
    for done in range(0, 11):
        report("reading", done, 10)
    assert "reading" in out.getvalue() and "10/10" in out.getvalue()
