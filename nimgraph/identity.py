"""Identity across sources: when do two records name the same thing?

Exact identity: entities whose key values, normalised, are equal get the same stable id and so
become one entity, whichever source named them; the entity's provenance then lists the records
it joined. A mapping spec asks for a normaliser per key (``normalise: phone``), so that
``+44 7700 900123`` in one file and ``07700900123`` in another are the same phone.

Fuzzy identity (people whose names and dates of birth nearly match) is deliberately not done by
merging: it belongs to analysis, which proposes ``possiblySameAs`` inferences for an analyst to
accept or reject (issue 6). That keeps a wrong guess from silently fusing two people's records.
"""

from __future__ import annotations

import re
from collections.abc import Callable


class IdentityError(ValueError):
    """A key value that cannot be what it claims, e.g. an NHS number with a wrong check digit."""


def phone(text: str) -> str:
    """A UK phone number as dialled at home: digits only, with +44/0044 written as 0.

    >>> phone("+44 (0)7700 900-123"), phone("07700 900123"), phone("0044 7700 900123")
    ('07700900123', '07700900123', '07700900123')
    """
    digits = re.sub(r"\D", "", text.replace("(0)", ""))
    for prefix in ("0044", "44"):
        if digits.startswith(prefix) and len(digits) > 10:
            return "0" + digits[len(prefix) :]
    return digits


def postcode(text: str) -> str:
    """A UK postcode in capitals with one space before the inward code.

    >>> postcode("nw59wr"), postcode(" NW5  9WR ")
    ('NW5 9WR', 'NW5 9WR')
    """
    compact = re.sub(r"\s", "", text).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def vehicle_registration(text: str) -> str:
    """A registration mark without spaces or dashes, in capitals.

    >>> vehicle_registration("ab12 cde"), vehicle_registration("AB12-CDE")
    ('AB12CDE', 'AB12CDE')
    """
    return re.sub(r"[\s-]", "", text).upper()


def email(text: str) -> str:
    """An email address, trimmed and in lower case.

    >>> email("  Ann.Ames@Example.ORG ")
    'ann.ames@example.org'
    """
    return text.strip().lower()


def nhs_number(text: str) -> str:
    """A 10-digit NHS number, checked with its modulus 11 check digit.

    >>> nhs_number("943 476 5919")
    '9434765919'
    >>> nhs_number("943 476 5918")
    Traceback (most recent call last):
    ...
    nimgraph.identity.IdentityError: NHS number '943 476 5918' fails its check digit
    """
    digits = re.sub(r"\D", "", text)
    if len(digits) != 10:
        raise IdentityError(f"NHS number {text!r} does not have 10 digits")
    remainder = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9])) % 11
    check = 11 - remainder
    check = 0 if check == 11 else check
    if check == 10 or check != int(digits[9]):
        raise IdentityError(f"NHS number {text!r} fails its check digit")
    return digits


NORMALISERS: dict[str, Callable[[str], str]] = {
    "phone": phone,
    "postcode": postcode,
    "vehicle_registration": vehicle_registration,
    "email": email,
    "nhs_number": nhs_number,
}
