"""3x5x2 grading: parse a grade such as ``1AP``, and rank handling codes.

Source evaluation 1 reliable, 2 untested, 3 not reliable. Intelligence assessment A known directly,
B known indirectly but corroborated, C known indirectly, D not known, E suspected false.
Handling P lawful sharing permitted, C permitted with conditions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

SOURCE_EVALUATION = {"1": "reliable", "2": "untested", "3": "not reliable"}
INTELLIGENCE_ASSESSMENT = {
    "A": "known directly to the source",
    "B": "known indirectly but corroborated",
    "C": "known indirectly",
    "D": "not known",
    "E": "suspected to be false",
}
HANDLING = {"P": "lawful sharing permitted", "C": "lawful sharing permitted with conditions"}

# Least to most restrictive; a product carries the most restrictive code of the records it uses.
HANDLING_ORDER = ("P", "C")

_SOURCE_FACTOR = {"1": 1.0, "2": 0.7, "3": 0.4}
_ASSESSMENT_FACTOR = {"A": 1.0, "B": 0.85, "C": 0.6, "D": 0.4, "E": 0.1}
_PATTERN = re.compile(r"^\s*([123])\s*([A-Ea-e])\s*([PCpc])\s*$")


class GradeError(ValueError):
    pass


@dataclass(frozen=True)
class Grade:
    source: str
    assessment: str
    handling: str

    def __str__(self) -> str:
        return f"{self.source}{self.assessment}{self.handling}"

    @property
    def reliability(self) -> float:
        """How far to trust what the record says, 0..1, from source evaluation and assessment."""
        return _SOURCE_FACTOR[self.source] * _ASSESSMENT_FACTOR[self.assessment]

    @property
    def untested_or_unreliable(self) -> bool:
        return self.source != "1" or self.assessment in "DE"


@lru_cache(maxsize=4096)  # a handful of grades recur across millions of records
def parse_grade(text: str) -> Grade:
    """Parse a 3x5x2 grade.

    >>> parse_grade("2bc")
    Grade(source='2', assessment='B', handling='C')
    >>> parse_grade("4AP")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nimgraph.grading.GradeError: '4AP' is not a 3x5x2 grade: ...
    """
    match = _PATTERN.match(text or "")
    if not match:
        raise GradeError(
            f"{text!r} is not a 3x5x2 grade: expected source 1-3, assessment A-E, handling P or C, e.g. '1AP'"
        )
    source, assessment, handling = match.groups()
    return Grade(source, assessment.upper(), handling.upper())


_MINIMUM = re.compile(r"^\s*([123])\s*([A-Ea-e])\s*$")


def parse_minimum(text: str) -> tuple[str, str]:
    """A minimum grade such as ``2B``: source evaluation and intelligence assessment, no handling.

    >>> parse_minimum("2b")
    ('2', 'B')
    >>> parse_minimum("2BP")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nimgraph.grading.GradeError: '2BP' is not a minimum grade: ...
    """
    match = _MINIMUM.match(text or "")
    if not match:
        raise GradeError(f"{text!r} is not a minimum grade: expected source 1-3 then assessment A-E, e.g. '2B'")
    return match.group(1), match.group(2).upper()


def meets(grade: str, minimum: tuple[str, str]) -> bool:
    """True when ``grade`` is at least as good as ``minimum`` on both source and assessment.

    >>> meets("1AP", ("2", "B")), meets("2CC", ("2", "B")), meets("3AP", ("2", "B"))
    (True, False, False)
    >>> meets("not a grade", ("3", "E"))
    False
    """
    try:
        parsed = parse_grade(grade)
    except GradeError:
        return False
    return parsed.source <= minimum[0] and parsed.assessment <= minimum[1]


def most_restrictive(codes: list[str] | set[str]) -> str:
    """The most restrictive handling code among ``codes``.

    >>> most_restrictive({"P", "C"})
    'C'
    >>> most_restrictive([])
    'P'
    """
    ranked = [HANDLING_ORDER.index(c) for c in codes if c in HANDLING_ORDER]
    return HANDLING_ORDER[max(ranked, default=0)]


def weakly_sourced(records: list[dict] | tuple[dict, ...]) -> bool:
    """True when every graded record is untested or unreliable: a fact that needs corroboration.

    >>> weakly_sourced([{"grade": "2BC"}, {"grade": "3AP"}])
    True
    >>> weakly_sourced([{"grade": "2BC"}, {"grade": "1BP"}])
    False
    """
    grades = []
    for record in records:
        try:
            grades.append(parse_grade(record["grade"]))
        except GradeError:
            continue
    return bool(grades) and all(g.untested_or_unreliable for g in grades)
