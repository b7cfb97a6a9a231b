"""Publication dates as documents write them, normalised to ISO ``YYYY-MM-DD``."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date

_MONTH_NAMES = "january february march april may june july august september october november"
_MONTH_NAMES += " december"
_MONTHS = {n: i for i, full in enumerate(_MONTH_NAMES.split(), start=1) for n in (full, full[:3])}
_MONTHS["sept"] = 9
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_COMPACT_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})(\d{2})")
_DAY_MONTH = re.compile(
    r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([A-Za-z]{3,9})\.?,?\s+(\d{4})"
)
_MONTH_DAY = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)")


def parse_date(value: str) -> str | None:
    """ISO ``YYYY-MM-DD`` for ISO dates, ``D:YYYYMMDD`` (PDF), "9 March 2023", "March 9, 2023"."""
    value = value.strip()
    found: tuple[str, str, str] | None = None
    if match := _ISO_DATE.search(value) or _COMPACT_DATE.match(value):
        found = match.group(1), match.group(2), match.group(3)
    elif (match := _DAY_MONTH.search(value)) and match.group(2).lower() in _MONTHS:
        found = match.group(3), str(_MONTHS[match.group(2).lower()]), match.group(1)
    elif (match := _MONTH_DAY.search(value)) and match.group(1).lower() in _MONTHS:
        found = match.group(3), str(_MONTHS[match.group(1).lower()]), match.group(2)
    if found is None:
        return None
    try:
        day = date(int(found[0]), int(found[1]), int(found[2]))
    except ValueError:
        return None
    return day.isoformat() if 1800 <= day.year <= 2200 else None


def first_date(values: Iterable[str]) -> str | None:
    """The first of ``values`` that parses as a date, as ISO."""
    return next((day for value in values if (day := parse_date(value))), None)


_ISO_SHAPE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def not_a_day(value: str) -> str | None:
    """Why ``value``, written as YYYY-MM-DD, names no day ("2023-02-30 is not a day: February
    2023 has 28 days"); None if it is a day, or not written so."""
    match = _ISO_SHAPE.fullmatch(value.strip())
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        return f"{value.strip()} is not a day: there is no month {month}"
    days = calendar.monthrange(year, month)[1] if year >= 1 else 31
    if not 1 <= day <= days:
        name = calendar.month_name[month]
        return f"{value.strip()} is not a day: {name} {year} has {days} days"
    return None
