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
    """A key value that cannot be what it claims, e.g. an NHS number without 10 digits."""


_NATIONAL_START = "1235789"  # a UK number after its 0: none begins 0, 4 (unallocated) or 6 (unallocated)


def phone(text: str) -> str:
    """A UK phone number as dialled at home: digits only, with +44/0044 written as 0.

    >>> phone("+44 (0)7700 900-123"), phone("07700 900123"), phone("0044 7700 900123")
    ('07700900123', '07700900123', '07700900123')

    A UK number is 0 and 9 or 10 digits. A spreadsheet that keeps it as a number drops the 0, so
    9 or 10 digits that could follow it (not written with +) are the number without its 0:

    >>> phone("7700900123"), phone("7700 900123"), phone("169772345")
    ('07700900123', '07700900123', '0169772345')
    >>> phone("+32 2 123 45 67"), phone("4412345678")  # another country's; no UK number begins 04
    ('3221234567', '4412345678')
    """
    digits = re.sub(r"\D", "", text.replace("(0)", ""))
    for prefix in ("0044", "44"):
        if digits.startswith(prefix) and len(digits) > 10:
            return "0" + digits[len(prefix) :]
    if len(digits) in (9, 10) and digits[0] in _NATIONAL_START and not text.lstrip().startswith("+"):
        return "0" + digits
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
    """A well-formed NHS number: 10 digits once spaces and dashes are removed. Only the format is
    checked; the check digit is :func:`nhs_check_digit_valid`'s, as test systems issue numbers of
    the right form that fail it, and a caller decides whether that warns or rejects.

    >>> nhs_number("943 476 5919"), nhs_number("943-476-5918")
    ('9434765919', '9434765918')
    >>> nhs_number("943 476 591")
    Traceback (most recent call last):
    ...
    nimgraph.identity.IdentityError: NHS number '943 476 591' does not have 10 digits
    >>> nhs_number("943 476 591X")
    Traceback (most recent call last):
    ...
    nimgraph.identity.IdentityError: NHS number '943 476 591X' does not have 10 digits
    """
    digits = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"[0-9]{10}", digits):
        raise IdentityError(f"NHS number {text!r} does not have 10 digits")
    return digits


def nhs_check_digit_valid(digits: str) -> bool:
    """True when an NHS number's tenth digit is its modulus 11 check digit.

    The first nine digits are weighted 10 down to 2; the check digit is 11 minus the sum's
    remainder by 11 (11 becomes 0, and 10 means no valid number has those nine digits).
    ``digits`` may carry spaces or dashes; anything not well-formed (see :func:`nhs_number`) is False.

    >>> nhs_check_digit_valid("9434765919"), nhs_check_digit_valid("943 476 5918")
    (True, False)
    >>> nhs_check_digit_valid("943476591")
    False
    """
    try:
        number = nhs_number(digits)
    except IdentityError:
        return False
    remainder = sum(int(d) * (10 - i) for i, d in enumerate(number[:9])) % 11
    check = 0 if remainder == 0 else 11 - remainder
    return check != 10 and check == int(number[9])


NORMALISERS: dict[str, Callable[[str], str]] = {
    "phone": phone,
    "postcode": postcode,
    "vehicle_registration": vehicle_registration,
    "email": email,
    "nhs_number": nhs_number,
}
