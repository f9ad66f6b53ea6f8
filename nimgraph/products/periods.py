"""The periods an assessment compares: whole months for the strategic, days for the tactical.

Dates are ISO text throughout (``YYYY-MM-DD``), which compare as dates do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from nimgraph.products.common import ProductError


@dataclass(frozen=True)
class Period:
    since: str
    until: str

    @property
    def days(self) -> int:
        return (date.fromisoformat(self.until) - date.fromisoformat(self.since)).days + 1

    def holds(self, day: str) -> bool:
        return self.since <= day <= self.until

    def as_dict(self) -> dict:
        return {"from": self.since, "to": self.until, "days": self.days}


EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)  # far enough for any record, and room for arithmetic


def parse_day(text: str, what: str) -> date:
    """A day written YYYY-MM-DD, between 1900 and 2999; else a ProductError saying so.

    >>> parse_day("2026-02-30", "until")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nimgraph.products.common.ProductError: until must be a real day written YYYY-MM-DD between ...; got '2026-02-30'
    """
    try:
        day = date.fromisoformat(text)
    except (TypeError, ValueError):
        day = None
    if day is None or not EARLIEST <= day <= LATEST or len(text) != 10:
        raise ProductError(
            f"{what} must be a real day written YYYY-MM-DD between {EARLIEST} and {LATEST}; got {text!r}"
        ) from None
    return day


def month_start(day: date, back: int = 0) -> date:
    """The first day of the month ``back`` months before ``day``'s.

    >>> month_start(date(2026, 3, 15), back=14)
    datetime.date(2025, 1, 1)
    """
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    """The last day of ``day``'s month.

    >>> month_end(date(2024, 2, 10))
    datetime.date(2024, 2, 29)
    """
    return month_start(day, back=-1) - timedelta(days=1)


def whole_months(until: date, months: int, back: int = 0) -> Period:
    """``months`` whole months ending with the month ``back`` months before ``until``'s.

    >>> whole_months(date(2026, 10, 28), 12)
    Period(since='2025-11-01', until='2026-10-31')
    >>> whole_months(date(2026, 10, 28), 12, back=12)
    Period(since='2024-11-01', until='2025-10-31')
    """
    last = month_start(until, back)
    return Period(month_start(last, months - 1).isoformat(), month_end(last).isoformat())


def month_list(period: Period) -> list[str]:
    """The months a period touches, as YYYY-MM.

    >>> month_list(Period("2025-11-01", "2026-02-28"))
    ['2025-11', '2025-12', '2026-01', '2026-02']
    """
    first, last = date.fromisoformat(period.since), date.fromisoformat(period.until)
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [month_start(first, back=-i).isoformat()[:7] for i in range(count)]


def days_back(until: date, days: int, back_periods: int = 0) -> Period:
    """The ``days`` days ending ``back_periods`` such periods before ``until``.

    >>> days_back(date(2026, 10, 28), 14)
    Period(since='2026-10-15', until='2026-10-28')
    >>> days_back(date(2026, 10, 28), 14, back_periods=1)
    Period(since='2026-10-01', until='2026-10-14')
    """
    end = until - timedelta(days=days * back_periods)
    return Period((end - timedelta(days=days - 1)).isoformat(), end.isoformat())
