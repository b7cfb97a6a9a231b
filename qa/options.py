"""What a search or a question may draw on, and how: typed once, checked once.

Every front builds these (the Python API, the command line, the REST API's models, the chat's
settings, ``qa eval``) and hands them to :class:`qa.Engine`; the index and the answerer take
them as they are. A bad value is a ValueError naming the field (or the flag the user typed).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, get_args

from qa.dates import not_a_day

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = get_args(Mode)
SEARCH_K = 5  # passages a search returns by default
ASK_K = 6  # passages a question is read from by default
MIN_ID_PREFIX = 4  # characters of a document id a filter needs (no accidental matches)


def check_date(value: str | None, name: str) -> str | None:
    """``value`` as given (None for empty), or ValueError naming ``name`` (a field, or the
    flag a user typed) unless it is a date as YYYY-MM-DD."""
    if not value:
        return None
    try:
        valid = isinstance(value, str) and len(value) == 10 and bool(date.fromisoformat(value))
    except ValueError:
        valid = False
    if not valid:
        why = not_a_day(value) if isinstance(value, str) else None
        raise ValueError(
            f"{name}: {why}" if why else f"{name} must be a date as YYYY-MM-DD, got {value!r}"
        )
    return value


@dataclass(frozen=True)
class Filters:
    """Which documents a question or search may draw on (empty: no restriction).

    Document ids match by prefix (at least four characters), sources by case-insensitive
    substring, dates as an inclusive ISO range (documents without a date are left out when a
    date is given). ``labels`` name the date fields in errors (the CLI's ``--from``/``--to``).
    """

    doc_ids: Sequence[str] = ()
    sources: Sequence[str] = ()
    date_from: str | None = None
    date_to: str | None = None
    labels: tuple[str, str] = field(default=("date_from", "date_to"), compare=False, repr=False)

    def __post_init__(self) -> None:
        ids, sources = tuple(self.doc_ids or ()), tuple(self.sources or ())
        if any(not isinstance(x, str) for x in ids + sources):
            raise ValueError("document ids and sources must be text")
        if any(len(d.strip()) < MIN_ID_PREFIX for d in ids):
            raise ValueError(
                f"document ids must have at least {MIN_ID_PREFIX} characters, got {list(ids)!r}"
            )
        object.__setattr__(self, "doc_ids", ids)
        object.__setattr__(self, "sources", sources)
        object.__setattr__(self, "date_from", check_date(self.date_from, self.labels[0]))
        object.__setattr__(self, "date_to", check_date(self.date_to, self.labels[1]))

    @property
    def active(self) -> bool:
        return bool(self.doc_ids or self.sources or self.date_from or self.date_to)

    def describe(self) -> str:
        """Why a question with these filters has nothing to be answered from."""
        parts = []
        if self.doc_ids:
            parts.append("document " + " or ".join(self.doc_ids))
        if self.sources:
            parts.append("source containing " + " or ".join(f"“{s}”" for s in self.sources))
        if self.date_from or self.date_to:
            span = f"from {self.date_from or 'any date'} to {self.date_to or 'any date'}"
            parts.append(f"dated {span} (undated reports are left out by a date filter)")
        return f"No report matches the filters: {'; '.join(parts)}. Change or clear the filters."

    def to_dict(self) -> dict[str, Any]:
        """The filters that are set, as JSON (the REST API's ``filters`` object)."""
        found: dict[str, Any] = {
            "doc_ids": list(self.doc_ids),
            "sources": list(self.sources),
            "date_from": self.date_from,
            "date_to": self.date_to,
        }
        return {key: value for key, value in found.items() if value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Filters:
        data = dict(data or {})
        unknown = sorted(set(data) - {"doc_ids", "sources", "date_from", "date_to"})
        if unknown:
            raise ValueError(f"unknown filters {unknown}")
        return cls(**data)


@dataclass(frozen=True)
class SearchOptions:
    """How to search: ``k`` passages, by ``mode`` (hybrid, dense or bm25), within ``filters``."""

    k: int = SEARCH_K
    mode: Mode = "hybrid"
    filters: Filters = Filters()

    def __post_init__(self) -> None:
        check_search(self.k, self.mode)

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k, "mode": self.mode, "filters": self.filters.to_dict()}


@dataclass(frozen=True)
class AskOptions:
    """How to answer: read the ``k`` best passages found by ``mode`` within ``filters``, and
    abstain under the confidence ``abstain_below`` (None: the threshold shipped with the
    calibration, :data:`qa.answer.ABSTAIN_BELOW`)."""

    k: int = ASK_K
    mode: Mode = "hybrid"
    filters: Filters = Filters()
    abstain_below: float | None = None

    def __post_init__(self) -> None:
        check_search(self.k, self.mode)
        if self.abstain_below is not None and not 0.0 <= self.abstain_below <= 1.0:
            raise ValueError(f"abstain_below must be in [0, 1], got {self.abstain_below}")

    @property
    def search(self) -> SearchOptions:
        return SearchOptions(self.k, self.mode, self.filters)

    def to_dict(self) -> dict[str, Any]:
        return {**self.search.to_dict(), "abstain_below": self.abstain_below}


def check_search(k: int, mode: str) -> None:
    """ValueError unless ``k`` is a whole number of at least 1 and ``mode`` one of MODES."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}")


def whole(least: int, most: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``least`` to ``most``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = least - 1
        if value < least or (most is not None and value > most):
            span = f"from {least} to {most}" if most is not None else f"of {least} or more"
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number {span}")
        return value

    return parse
