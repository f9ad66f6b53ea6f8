"""How one person's details drift between agencies: the near-duplicates the demo plants for record linkage.

Each function changes one thing the way a clerk or a form does: a slip of the keyboard, the short form
of a name someone gives, a date of birth written month first.
"""

from __future__ import annotations

import random
from datetime import date

__all__ = ["SHORT_FORMS", "short_form", "short_street", "swapped_day_month", "typo"]

# How a clerk shortens the kind of street.
STREET_SHORT = {"street": "St", "road": "Rd", "lane": "Ln", "close": "Cl.", "avenue": "Ave", "grove": "Gr"}

# The name people give a front desk, by the name on their birth certificate.
SHORT_FORMS = {
    "Abigail": "Abby",
    "Amelia": "Millie",
    "Callum": "Cal",
    "Daniel": "Danny",
    "Finley": "Finn",
    "Jasmine": "Jas",
    "Nathan": "Nate",
}
_NEIGHBOURS = {
    "a": "sq",
    "e": "wr",
    "i": "uo",
    "o": "ip",
    "n": "bm",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "l": "k",
    "m": "n",
}


def typo(rng: random.Random, text: str) -> str:
    """``text`` with one slip: a doubled or dropped letter, two letters swapped, or a neighbouring key.

    >>> typo(random.Random(1), "Fletcher") != "Fletcher"
    True
    >>> len(typo(random.Random(2), "Ellis")) in (4, 5, 6)
    True
    """
    inner = range(1, len(text) - 1)
    for _ in range(20):
        at = rng.choice(inner)
        kind = rng.choice(("double", "drop", "swap", "key"))
        if kind == "double":
            changed = text[: at + 1] + text[at] + text[at + 1 :]
        elif kind == "drop":
            changed = text[:at] + text[at + 1 :]
        elif kind == "swap":
            changed = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
        else:
            near = _NEIGHBOURS.get(text[at].lower())
            changed = text[:at] + rng.choice(near) + text[at + 1 :] if near else text
        if changed != text:
            return changed
    return text[:-1]


def short_form(forename: str) -> str | None:
    """The short form a person may give, if the name has a common one.

    >>> short_form("Daniel"), short_form("Owen")
    ('Danny', None)
    """
    return SHORT_FORMS.get(forename)


def swapped_day_month(day: date) -> date | None:
    """The date written month first, when that is a different, valid date.

    >>> swapped_day_month(date(1990, 4, 11)), swapped_day_month(date(1990, 4, 23)), swapped_day_month(date(1990, 5, 5))
    (datetime.date(1990, 11, 4), None, None)
    """
    if day.day > 12 or day.day == day.month:
        return None
    return date(day.year, day.day, day.month)


def short_street(address_line: str) -> str:
    """The address with its kind of street shortened, as a form with little room writes it.

    >>> short_street("12 Albion Street"), short_street("3 Marlowe Parade")
    ('12 Albion St', '3 Marlowe Parade')
    """
    head, _, kind = address_line.rpartition(" ")
    return f"{head} {STREET_SHORT[kind.lower()]}" if kind.lower() in STREET_SHORT else address_line
