"""Admission (issue 23): only so many questions worked on at once, the rest in line in order,
a full line or a long wait turned away with a time to try again; then through the API and
the chat, on the real app."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qa.engine import Engine
from qa.index import Index
from qa.ui.admission import Admission, Busy
from qa.ui.server import create_app
from qa.ui.service import Service
from tests.test_api import BASE, KINZHAL, LOCAL, ask_in_chat, handlers


def held(gate: Admission) -> tuple[threading.Event, threading.Thread]:
    """A thread holding a turn of ``gate`` until the event returned is set."""
    release, taken = threading.Event(), threading.Event()

    def hold() -> None:
        with gate.turn():
            taken.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(10)
    return release, thread


def wait_for_line(gate: Admission, waiting: int) -> None:
    deadline = time.monotonic() + 10
    while gate.counts()[1] != waiting:
        assert time.monotonic() < deadline, gate.counts()
        time.sleep(0.005)


def test_turns_are_handed_out_in_order_of_arrival() -> None:
    gate = Admission(running=1, waiting=5)
    release, holder = held(gate)
    order: list[int] = []

    def ask(n: int) -> None:
        with gate.turn():
            order.append(n)

    threads = []
    for n in range(4):  # each in line before the next comes
        threads.append(threading.Thread(target=ask, args=(n,)))
        threads[-1].start()
        wait_for_line(gate, n + 1)
    assert gate.counts() == (1, 4) and order == []
    release.set()
    for thread in [holder, *threads]:
        thread.join(10)
    assert order == [0, 1, 2, 3] and gate.counts() == (0, 0)


def test_a_full_line_is_turned_away_at_once_with_a_time_to_retry() -> None:
    gate = Admission(running=1, waiting=0)
    release, holder = held(gate)
    start = time.monotonic()
    busy = r"the server is busy .* try again in \d+ s"
    with pytest.raises(Busy, match=busy) as refused, gate.turn():
        pass
    assert time.monotonic() - start < 1 and refused.value.retry_after >= 1
    release.set()
    holder.join(10)
    with gate.turn():  # and served again once the turn is free
        assert gate.counts() == (1, 0)


def test_a_wait_past_patience_leaves_the_line() -> None:
    gate = Admission(running=1, waiting=3, patience=0.2)
    release, holder = held(gate)
    with pytest.raises(Busy, match=r"no turn came within 0\.2 s"), gate.turn():
        pass
    assert gate.counts() == (1, 0)
    release.set()
    holder.join(10)
    assert gate.counts() == (0, 0)


def test_the_retry_guess_follows_how_long_turns_take() -> None:
    gate = Admission(running=1, waiting=0)
    for _ in range(20):  # turns of ~0.3 s each, as recent history
        with gate.turn():
            time.sleep(0.3)
    release, holder = held(gate)
    with pytest.raises(Busy) as refused, gate.turn():
        pass
    release.set()
    holder.join(10)
    assert refused.value.retry_after == 1  # ceil(~0.3 s x 1 ahead / 1 running)
    slow = Admission(running=1, waiting=0)
    slow._turn_seconds = 7.5  # as if turns took 7.5 s
    release, holder = held(slow)
    with pytest.raises(Busy) as refused, slow.turn():
        pass
    release.set()
    holder.join(10)
    assert refused.value.retry_after == 8


def test_a_coroutine_waits_its_turn_on_the_loop_and_a_cancelled_one_leaves_the_line() -> None:
    gate = Admission(running=1, waiting=5)

    async def scenario() -> list[str]:
        order: list[str] = []
        release, holder = held(gate)

        async def ask(name: str) -> None:
            async with gate.turn_async():
                order.append(name)

        first = asyncio.create_task(ask("first"))
        gone = asyncio.create_task(ask("gone"))
        last = asyncio.create_task(ask("last"))
        while gate.counts()[1] < 3:
            await asyncio.sleep(0.005)
        gone.cancel()  # its client left while it waited
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert gate.counts() == (1, 2)
        release.set()
        await asyncio.wait_for(asyncio.gather(first, last), 10)
        holder.join(10)
        return order

    assert asyncio.run(scenario()) == ["first", "last"]
    assert gate.counts() == (0, 0)


def test_a_turn_handed_to_a_coroutine_that_left_goes_to_the_next() -> None:
    gate = Admission(running=1, waiting=5)

    async def scenario() -> None:
        release, holder = held(gate)
        entered = asyncio.Event()

        async def leaver() -> None:
            async with gate.turn_async():
                entered.set()

        task = asyncio.create_task(leaver())
        while gate.counts()[1] < 1:
            await asyncio.sleep(0.005)
        release.set()  # the turn is handed over on another thread ...
        holder.join(10)
        task.cancel()  # ... and its client leaves before the loop runs it
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not entered.is_set()

    asyncio.run(scenario())
    assert gate.counts() == (0, 0)
    with gate.turn():  # the turn came back
        pass


@pytest.fixture
def busy(module_sample_index: Index) -> Iterator[tuple[TestClient, Service]]:
    """A client of an app that works on one question at once and lets none wait."""
    service = Service(Engine(module_sample_index), admission=Admission(running=1, waiting=0))
    with TestClient(create_app(service, host="127.0.0.1"), base_url=BASE, client=LOCAL) as client:
        yield client, service


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/ask", {"question": KINZHAL}),
        ("/api/v1/ask/stream", {"question": KINZHAL}),
        ("/api/v1/search", {"query": "Kinzhal"}),
    ],
)
def test_a_busy_server_answers_503_with_retry_after_and_health_still_answers(
    busy: tuple[TestClient, Service], path: str, body: dict[str, Any]
) -> None:
    client, service = busy
    release, holder = held(service.admission)
    try:
        refused = client.post(path, json=body)
        health = client.get("/api/v1/health")
    finally:
        release.set()
        holder.join(10)
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["detail"].startswith("the server is busy")
    assert health.status_code == 200
    assert client.post(path, json=body).status_code == 200
    assert service.admission.counts() == (0, 0)


def test_the_chat_says_the_server_is_busy(busy: tuple[TestClient, Service]) -> None:
    _, service = busy
    on = handlers(service)
    release, holder = held(service.admission)
    try:
        steps = ask_in_chat(on, KINZHAL)
    finally:
        release.set()
        holder.join(10)
    shown = steps[-1][on.view.chat.messages][-1]["content"]
    assert "the server is busy" in shown and "try again in" in shown
    assert "six" in str(ask_in_chat(on, KINZHAL)[-1][on.view.chat.messages][-1]["content"])
