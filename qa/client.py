"""A running ``qa serve`` asked over its REST API: answers without loading any model here.

``qa ask --server URL`` (or ``$QA_SERVER``) uses it, so a command costs a request instead of
the seconds a process needs to load the models. Credentials go in the URL
(``http://user:password@host:7860``) when the server asks for a login.
"""

from __future__ import annotations

from typing import Any

from qa.errors import QAError
from qa.types import Answer, Hit

SERVER_ENV = "QA_SERVER"
TIMEOUT_SECONDS = 300.0


class Client:
    """The REST API of one server; every failure is a QAError with one line to show."""

    def __init__(self, url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def ask(self, question: str, *, k: int, mode: str, **filters: Any) -> Answer:
        body = {"question": question, "k": k, "mode": mode, "filters": _filters(filters)}
        return Answer.from_dict(self._post("/api/v1/ask", body))

    def search(self, query: str, *, k: int, mode: str, **filters: Any) -> list[Hit]:
        body = {"query": query, "k": k, "mode": mode, "filters": _filters(filters)}
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


def _filters(filters: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if v}
