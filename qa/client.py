"""A running ``qa serve`` asked over its REST API: answers without loading any model here.

``qa ask --server URL`` (or ``$QA_SERVER``) uses it, so a command costs a request instead of
the seconds a process needs to load the models. Credentials go in the URL
(``http://user:password@host:7860``) when the server asks for a login.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from qa.errors import QAError
from qa.options import AskOptions, SearchOptions
from qa.types import Answer, Hit

SERVER_ENV = "QA_SERVER"
TIMEOUT_SECONDS = 300.0


class Client:
    """The REST API of one server, as :class:`qa.engine.Answering`: what
    :class:`qa.Engine` answers, with the same types; every failure is a QAError with one line
    to show. The server's own threshold decides when to abstain."""

    def __init__(self, url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def ask(
        self, question: str, options: AskOptions = AskOptions(), history: Sequence[str] = ()
    ) -> Answer:
        body = {"question": question, **_body(options.search.to_dict()), "history": list(history)}
        return Answer.from_dict(self._post("/api/v1/ask", body))

    def ask_stream(
        self, question: str, options: AskOptions = AskOptions(), history: Sequence[str] = ()
    ) -> Iterator[Answer | str]:
        """The answer, as one event: the server writes no text here as it comes."""
        yield self.ask(question, options, history)

    def search(self, query: str, options: SearchOptions = SearchOptions()) -> list[Hit]:
        body = {"query": query, **_body(options.to_dict())}
        return [Hit.from_dict(h) for h in self._post("/api/v1/search", body)["hits"]]

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        import httpx

        try:
            response = httpx.post(self.url + path, json=body, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise QAError(f"cannot reach the server at {self.url}: {exc}") from None
        if response.status_code >= 400:
            try:
                detail = response.json()["detail"]
            except (ValueError, KeyError, TypeError):
                detail = response.text.strip()[:200] or response.reason_phrase
            raise QAError(f"the server at {self.url} answered {response.status_code}: {detail}")
        return response.json()


def _body(options: dict[str, Any]) -> dict[str, Any]:
    """Search options as the API takes them (no empty filters object)."""
    return {key: value for key, value in options.items() if value}
