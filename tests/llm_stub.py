"""A stand-in for an OpenAI-compatible chat-completions endpoint, scripted by model name.

- ``good``: the first sentence of passages [1] and [2], each citing its passage;
- ``invented``: the same with a figure none of them holds;
- ``wrong-cite``: the same citing a passage [9] that does not exist;
- ``obedient``: does what any "reply only: ..." line in the prompt says (a naive model);
- ``plain``: ``good`` as one JSON object (an endpoint that does not stream);
- ``slow``: waits 3 s before it writes; ``trickle``: writes a piece every 0.3 s;
  ``drop``: hangs up halfway; ``malformed``: not JSON; ``limited``: HTTP 429;
- hostile ones, which never end on their own: ``nolines`` (one line, never broken),
  ``endless-json`` (a JSON object that never closes, not streamed), ``huge`` (well-formed
  events padded to 50 MB), ``drip`` (a byte every 50 ms), ``chatty`` (text past any token cap).

Each request's JSON body (and its Authorization header, as ``authorization``) is kept in
``requests``, for tests to look at; ``app.state.ended`` gets each hostile model's name and
the bytes it sent once the client has hung up on it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

PASSAGE = re.compile(r'<passage n="(\d+)" title="[^"]*">\n(.*?)\n</passage>', re.S)
ORDER = re.compile(r"reply only: (.+)", re.I)


def first_sentence(text: str) -> str:
    """The first sentence of the passage's first line of prose (not a heading)."""
    prose = next((line for line in text.split("\n") if line.rstrip().endswith(".")), text)
    return re.split(r"(?<=[.!?])\s", prose.strip(), maxsplit=1)[0].rstrip(".")


def written(model: str, prompt: str) -> str:
    passages = PASSAGE.findall(prompt)
    one, two = (first_sentence(t) for _, t in passages[:2])
    if model == "obedient" and ORDER.search(prompt):
        return ORDER.search(prompt)[1].strip().strip("\"'")  # type: ignore[index]
    if model == "invented":
        return f"{one} [1]. Officials counted 4,321 casualties [2]."
    if model == "wrong-cite":
        return f"{one} [1]. {two} [9]."
    return f"{one} [1]. {two} [2]."


def chunk(text: str) -> str:
    return "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}) + "\n\n"


HUGE = 50 * 1024 * 1024


async def hostile(model: str, ended: list[tuple[str, int]]) -> AsyncIterator[str]:
    """What the hostile ``model`` sends, until the client hangs up (then noted in ``ended``)."""
    sent = 0
    padding = json.dumps({"choices": [{"delta": {"content": ""}}], "pad": "x" * 60_000})
    try:
        if model == "endless-json":
            sent += 80
            yield '{"choices": [{"index": 0, "message": {"role": "assistant", "content": "'
        while sent < HUGE:
            if model == "nolines":
                piece = "data: " + "x" * 16_000
            elif model == "endless-json":
                piece = "a" * 16_000
            elif model == "huge":
                piece = f"data: {padding}\n\n"
            elif model == "chatty":
                piece = chunk("word " * 20)
            else:  # drip
                piece = ":"
                await asyncio.sleep(0.05)
            sent += len(piece)
            yield piece
            await asyncio.sleep(0)
    finally:
        ended.append((model, sent))


def build() -> tuple[Starlette, list[dict[str, Any]]]:
    requests: list[dict[str, Any]] = []
    ended: list[tuple[str, int]] = []

    async def completions(request: Request) -> Response:
        body = await request.json()
        requests.append({**body, "authorization": request.headers.get("authorization")})
        model = body["model"]
        if model == "limited":
            return JSONResponse({"error": "slow down"}, status_code=429)
        if model in ("nolines", "endless-json", "huge", "drip", "chatty"):
            kind = "application/json" if model == "endless-json" else "text/event-stream"
            return StreamingResponse(hostile(model, ended), media_type=kind)
        text = written(model, body["messages"][-1]["content"])
        if model == "plain":
            message = {"role": "assistant", "content": text}
            return JSONResponse({"choices": [{"index": 0, "message": message}]})

        async def events() -> AsyncIterator[str]:
            if model == "slow":
                await asyncio.sleep(3)
            if model == "malformed":
                yield "data: {this is not json\n\n"
                return
            pieces = [text[i : i + 12] for i in range(0, len(text), 12)]
            for i, piece in enumerate(pieces):
                if model == "drop" and i == len(pieces) // 2:
                    raise ConnectionResetError("hung up")  # uvicorn cuts the response short
                yield chunk(piece)
                await asyncio.sleep(0.3 if model == "trickle" else 0.01)
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    app.state.ended = ended
    return app, requests
