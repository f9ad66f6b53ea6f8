"""Dates as partners write them: day-first or month-first, said or inferred, and never guessed in silence.

``03/04/2015`` is 3 April in a UK file and 4 March in a US one. A format list cannot tell them
apart, so every date read through a format with both a day and a month is also tried in the other
order: a value that fits both and gives another date is *ambiguous* (counted, and read in the
order the spec states or, failing that, the order of its first such format); a value that only fits
the other order is rejected with the fix in the message, since it is the sign of a file in the
other order.

>>> read_date("20/01/2015", "date", ("%d/%m/%Y",))
DateRead(value='2015-01-20', ambiguous=False)
>>> read_date("03/04/2015", "date", ("%d/%m/%Y",))
DateRead(value='2015-04-03', ambiguous=True)
>>> read_date("01/20/2015", "date", ("%d/%m/%Y",))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
nimgraph.ingest.dates.DateError: '01/20/2015' is not a day-first date ('%d/%m/%Y'); it reads month-first as ...
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Literal, NamedTuple

Order = Literal["day_first", "month_first"]
ORDERS: tuple[Order, ...] = ("day_first", "month_first")


class DateError(ValueError):
    """A value that is not a date in the column's formats; the message is the reject reason."""


_SPOKEN = {"day_first": "day-first", "month_first": "month-first"}

# The formats tried when a spec states an order and no format: what partner systems and
# spreadsheets write, with the year first (never ambiguous) after the stated order's own.
_DAY_FIRST_FORMATS = (
    "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d-%m-%y", "%d.%m.%Y",
    "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S",
    "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%SZ",
    "%Y/%m/%d", "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%d-%b-%y", "%d %b %Y %H:%M",
    "%d/%m/%Y %I:%M %p", "%d/%m/%Y %I:%M:%S %p",  # a 12-hour clock: 7/28/2026 4:07:00 AM, read month-first
)  # fmt: skip


class DateRead(NamedTuple):
    value: str  # ISO date or date-time
    ambiguous: bool  # the value also fits the other order, as another date


def order_of(fmt: str) -> Order | None:
    """Whether a format reads the day or the month first; None if it cannot be misread (year first, or a month name).

    >>> order_of("%d/%m/%Y"), order_of("%m-%d-%y %H:%M"), order_of("%Y-%m-%d"), order_of("%d %b %Y")
    ('day_first', 'month_first', None, None)
    """
    day, month, year = fmt.find("%d"), fmt.find("%m"), max(fmt.find("%Y"), fmt.find("%y"))
    if day < 0 or month < 0 or 0 <= year < min(day, month):
        return None
    return "day_first" if day < month else "month_first"


def swapped(fmt: str) -> str:
    """The same format in the other order.

    >>> swapped("%d/%m/%Y %H:%M")
    '%m/%d/%Y %H:%M'
    """
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def default_formats(order: Order) -> tuple[str, ...]:
    """The formats tried for a column whose spec states an order but no format.

    >>> default_formats("month_first")[:2]
    ('%m/%d/%Y', '%m/%d/%y')
    """
    return (
        _DAY_FIRST_FORMATS
        if order == "day_first"
        else tuple(swapped(f) if order_of(f) else f for f in _DAY_FIRST_FORMATS)
    )


def implied_order(formats: tuple[str, ...]) -> Order | None:
    """The order a format list reads ambiguous values in: that of its first format with a day and a month.

    >>> implied_order(("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y"))
    'month_first'
    """
    return next((o for f in formats if (o := order_of(f))), None)


def spoken(order: Order | None) -> str:
    return _SPOKEN.get(order or "", "as written")


def _parse(text: str, fmt: str, pivot: int | None) -> datetime | None:
    try:
        parsed = datetime.strptime(text, fmt)
    except ValueError:
        return None
    if pivot is not None and "%y" in fmt:
        two_digits = parsed.year % 100
        try:
            parsed = parsed.replace(year=(2000 if two_digits <= pivot else 1900) + two_digits)
        except ValueError:  # 29 February in a century year that is not a leap year
            return None
    return parsed


def _iso(parsed: datetime, text: str, datatype: str) -> str:
    if not date(1900, 1, 1) <= parsed.date() <= date(2100, 12, 31):
        raise DateError(f"{text!r} is outside the accepted years 1900-2100")
    return parsed.date().isoformat() if datatype == "date" else parsed.isoformat()


@lru_cache(maxsize=65536)  # partner files repeat the same dates many times over
def read_date(text: str, datatype: str, formats: tuple[str, ...], pivot: int | None = None) -> DateRead:
    """``text`` read by the first of ``formats`` that fits, checked against the other order; see the module."""
    for fmt in formats:
        parsed = _parse(text, fmt, pivot)
        if parsed is None:
            continue
        value = _iso(parsed, text, datatype)
        other = _parse(text, swapped(fmt), pivot) if order_of(fmt) else None
        return DateRead(value, other is not None and other != parsed)
    for fmt in formats:  # fits no format: does it fit one read the other way round?
        if (order := order_of(fmt)) and (parsed := _parse(text, swapped(fmt), pivot)) is not None:
            other = "month_first" if order == "day_first" else "day_first"
            raise DateError(
                f"{text!r} is not a {spoken(order)} date ({fmt!r}); it reads {spoken(other)} as "
                f"{_iso(parsed, text, datatype)}: if this column is {spoken(other)}, set date_order: {other} on it"
            )
    if formats in (default_formats("day_first"), default_formats("month_first")):
        order = implied_order(formats)
        raise DateError(f"{text!r} is not a {spoken(order)} date in any of the {len(formats)} common formats "
                        "(docs/mapping.md, Dates); give its format")  # fmt: skip
    raise DateError(f"{text!r} is not a date in the format {' or '.join(repr(f) for f in formats)}")
