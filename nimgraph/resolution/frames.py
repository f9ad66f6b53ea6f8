"""The canonical columns record linkage compares, and how a value is made ready for comparison.

A person, an address or a vehicle from any source becomes one row of these columns, so that one
model (nimgraph/data/resolution.yaml) serves every partner's records. Names are lower case without
punctuation, with a formal form of a nickname and a phonetic code of the surname; dates of birth are
ISO; postcodes and registrations upper case without spaces, registrations also with the characters
a camera or a witness misreads folded together; phones are digits; the address key is the house
number with the postcode.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

import jellyfish

__all__ = [
    "ADDRESS_COLUMNS",
    "PERSON_COLUMNS",
    "VEHICLE_COLUMNS",
    "address_row",
    "canonical_forename",
    "clean_name",
    "person_row",
    "registration_key",
    "vehicle_row",
]

PERSON_COLUMNS = (
    "forename",
    "forename_canonical",
    "surname",
    "surname_metaphone",
    "dob",
    "address_line",
    "address_key",
    "postcode",
    "phone",
    "email",
    "nhs_number",
)
ADDRESS_COLUMNS = ("address_line", "address_key", "premise", "postcode")
VEHICLE_COLUMNS = ("registration", "registration_key", "vehicle_make", "colour")

# Common English short forms and the name they stand for: a police record's "Bob" is a council's
# "Robert". Deliberately small and unambiguous; a form with two readings (Chris, Alex) is left alone.
NICKNAMES = {
    "bob": "robert", "bobby": "robert", "rob": "robert", "robbie": "robert", "bill": "william",
    "billy": "william", "will": "william", "liam": "william", "jim": "james", "jimmy": "james",
    "jamie": "james", "dave": "david", "davey": "david", "mike": "michael", "mick": "michael",
    "micky": "michael", "tom": "thomas", "tommy": "thomas", "steve": "stephen", "stevie": "stephen",
    "dan": "daniel", "danny": "daniel", "joe": "joseph", "joey": "joseph", "tony": "anthony",
    "ant": "anthony", "pete": "peter", "nick": "nicholas", "rich": "richard", "rick": "richard",
    "dick": "richard", "ricky": "richard", "ben": "benjamin", "sam": "samuel", "matt": "matthew",
    "andy": "andrew", "drew": "andrew", "ed": "edward", "eddie": "edward", "ted": "edward",
    "harry": "henry", "jack": "john", "johnny": "john", "jon": "jonathan", "ken": "kenneth",
    "kenny": "kenneth", "greg": "gregory", "phil": "philip", "ron": "ronald", "ronnie": "ronald",
    "don": "donald", "charlie": "charles", "chuck": "charles", "fred": "frederick", "freddie": "frederick",
    "gaz": "gary", "kate": "katherine", "katie": "katherine", "kathy": "katherine", "cathy": "catherine",
    "liz": "elizabeth", "lizzie": "elizabeth", "beth": "elizabeth", "betty": "elizabeth",
    "sue": "susan", "susie": "susan", "jen": "jennifer", "jenny": "jennifer", "becky": "rebecca",
    "becca": "rebecca", "vicky": "victoria", "vikki": "victoria", "maggie": "margaret", "meg": "margaret",
    "peggy": "margaret", "mandy": "amanda", "debbie": "deborah", "deb": "deborah", "pat": "patricia",
    "trish": "patricia", "tricia": "patricia", "jess": "jessica", "jessie": "jessica", "abby": "abigail",
    "nikki": "nicola", "sally": "sarah", "sadie": "sarah", "annie": "anne", "nan": "anne",
    "nancy": "anne", "lottie": "charlotte", "ellie": "eleanor", "nell": "eleanor", "mo": "maureen",
    "cal": "callum", "nate": "nathan", "jas": "jasmine", "millie": "amelia", "milly": "amelia", "finn": "finley",
    "zach": "zachary", "zack": "zachary",
}  # fmt: skip

_NOT_A_NAME = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")
_MISREAD = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8", "G": "6"})


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def clean_name(value: Any) -> str | None:
    """A name as linkage compares it: lower case, accents and punctuation gone, spaces single.

    >>> clean_name("  O'Brien-Smith "), clean_name("Zoë"), clean_name("")
    ('obrien smith', 'zoe', None)
    """
    text = _text(value)
    if text is None:
        return None
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    cleaned = _SPACES.sub(" ", _NOT_A_NAME.sub("", plain.replace("-", " "))).strip()
    return cleaned or None


def canonical_forename(forename: str | None) -> str | None:
    """The formal name a short form stands for, else the first name itself.

    >>> canonical_forename("bob"), canonical_forename("robert"), canonical_forename("mary ann")
    ('robert', 'robert', 'mary')
    """
    if not forename:
        return None
    first = forename.split(" ")[0]
    return NICKNAMES.get(first, first)


def _dob(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    digits = text.replace("-", "")
    if re.fullmatch(r"\d{8}", digits):
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).isoformat()
        except ValueError:
            return None
    return None


def _postcode(value: Any) -> str | None:
    text = _text(value)
    return re.sub(r"\s+", "", text).upper() if text else None


def _digits(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    digits = re.sub(r"\D", "", text)
    if digits.startswith("44") and len(digits) == 12:  # +44 7700 900123 is 07700 900123
        digits = "0" + digits[2:]
    return digits or None


# The short forms clerks write for the kinds of street, and the words for a flat: one spelling each.
STREET_WORDS = {
    "rd": "road", "st": "street", "str": "street", "ave": "avenue", "av": "avenue", "cl": "close",
    "ln": "lane", "dr": "drive", "ct": "court", "cres": "crescent", "cresc": "crescent", "gdns": "gardens",
    "gr": "grove", "gro": "grove", "pl": "place", "sq": "square", "tce": "terrace", "ter": "terrace",
    "pde": "parade", "wy": "way", "hts": "heights", "apartment": "flat", "apt": "flat", "fl": "flat",
}  # fmt: skip


def _address(value: Any) -> str | None:
    """An address line lower case, without punctuation, its street words in one spelling.

    >>> _address("Flat 2, 15 Kings Cl.") == _address("flat 2 15 KINGS CLOSE")
    True
    """
    text = _text(value)
    if text is None:
        return None
    words = _SPACES.sub(" ", re.sub(r"[^a-z0-9 ]+", " ", text.lower())).split()
    return " ".join(STREET_WORDS.get(w, w) for w in words) or None


def _premise(address_line: str | None) -> str | None:
    """The numbers that pick one home out of a street: the flat's and the house's.

    >>> _premise("flat 2 15 kings close"), _premise("15a kings close"), _premise("rose cottage")
    ('2 15', '15a', None)
    """
    numbers = re.findall(r"\b(\d+[a-z]?)\b", address_line or "")
    return " ".join(numbers) or None


def _address_key(address_line: str | None, postcode: str | None) -> str | None:
    number = re.match(r"(\d+[a-z]?)\b", address_line or "")
    return f"{number.group(1)} {postcode}" if number and postcode else None


def registration_key(value: Any) -> str | None:
    """A registration with the characters that are misread for one another folded together.

    >>> registration_key("ns21 abc") == registration_key("N521 A8C")
    True
    """
    text = _text(value)
    return re.sub(r"[^A-Z0-9]", "", text.upper()).translate(_MISREAD) if text else None


def person_row(unique_id: str, source: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A person's canonical row from the ontology's properties (forename, surname, dateOfBirth,
    nhsNumber) and those of their address, phone and email, as given in ``values``.

    >>> row = person_row("p1", "police", {"forename": "Bob", "surname": "Smyth", "dateOfBirth": "1980-03-07",
    ...     "addressLine": "12 Mill Lane", "postcode": "nw5 9wr", "phoneNumber": "+44 7700 900123"})
    >>> row["forename_canonical"], row["surname_metaphone"], row["address_key"], row["phone"]
    ('robert', 'SM0', '12 NW59WR', '07700900123')
    """
    forename, surname = clean_name(values.get("forename")), clean_name(values.get("surname"))
    address_line, postcode = _address(values.get("addressLine")), _postcode(values.get("postcode"))
    email = _text(values.get("identifier") or values.get("email"))
    return {
        "unique_id": unique_id,
        "source_dataset": source,
        "forename": forename,
        "forename_canonical": canonical_forename(forename),
        "surname": surname,
        "surname_metaphone": jellyfish.metaphone(surname) if surname else None,
        "dob": _dob(values.get("dateOfBirth")),
        "address_line": address_line,
        "address_key": _address_key(address_line, postcode),
        "postcode": postcode,
        "phone": _digits(values.get("phoneNumber")),
        "email": email.lower() if email else None,
        "nhs_number": _digits(values.get("nhsNumber")),
    }


def address_row(unique_id: str, source: str, values: Mapping[str, Any]) -> dict[str, Any]:
    address_line, postcode = _address(values.get("addressLine")), _postcode(values.get("postcode"))
    return {
        "unique_id": unique_id,
        "source_dataset": source,
        "address_line": address_line,
        "address_key": _address_key(address_line, postcode),
        "premise": _premise(address_line),
        "postcode": postcode,
    }


def vehicle_row(unique_id: str, source: str, values: Mapping[str, Any]) -> dict[str, Any]:
    registration = _text(values.get("registration"))
    return {
        "unique_id": unique_id,
        "source_dataset": source,
        "registration": re.sub(r"[^A-Z0-9]", "", registration.upper()) if registration else None,
        "registration_key": registration_key(registration),
        "vehicle_make": clean_name(values.get("vehicleMake")),
        "colour": clean_name(values.get("colour")),
    }
