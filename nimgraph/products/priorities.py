"""Recommended priorities: candidate issues scored with a MoRiLE-style matrix the partnership can change.

A candidate is a set of incidents in the period and the same kind of incidents in the previous
one: a category in an area, a category across the partnership, a problem's area, a cohort of
people. Each measure is scored 1-5 with the evidence behind it; the matrix (YAML) says how the
measures make the factors and the factors the score. Each entry carries the gaps that limit
confidence in it.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

import yaml

from nimgraph.analysis.significance import compare_counts
from nimgraph.products.common import TableError, data_table
from nimgraph.records import Incident

MEASURES = ("harm", "volume", "trend", "repeat_victims", "repeat_locations", "public_reports")
RANKED = ("harm", "volume")
DEFAULT = "priority_matrix.yaml"
_CATEGORY, _TYPE, _LOCATION, _MONTH_ONLY = (attrgetter(name) for name in ("category", "type", "location", "month_only"))


@dataclass(frozen=True)
class Matrix:
    name: str
    source: str
    factors: dict[str, tuple[float, dict[str, float]]]  # factor -> (weight, measure -> weight)
    share_bands: tuple[float, ...]
    public_types: tuple[str, ...]
    min_events: int
    confidence_events: int
    top: int
    file: str = ""

    def describe(self) -> dict:
        return {
            "name": self.name,
            "source": self.source,
            "file": self.file,
            "factors": {f: {"weight": w, "measures": m} for f, (w, m) in self.factors.items()},
            "share_bands": list(self.share_bands),
            "public_types": list(self.public_types),
        }


def load_matrix(path: Path | str | None = None) -> Matrix:
    """The matrix at ``path``, or the shipped default; a malformed one is a ProductError saying what to fix."""
    text, where = data_table(path, DEFAULT, "NIMGRAPH_PRIORITY_MATRIX")
    try:
        data = yaml.safe_load(text)
        factors = {
            str(name): (float(spec["weight"]), {str(m): float(w) for m, w in spec["measures"].items()})
            for name, spec in data["factors"].items()
        }
        matrix = Matrix(
            name=str(data["name"]),
            source=str(data.get("source", "")),
            factors=factors,
            share_bands=tuple(float(b) for b in data.get("share_bands", (0.05, 0.15, 0.30, 0.50))),
            public_types=tuple(str(t) for t in data.get("public_types", ())),
            min_events=int(data.get("min_events", 5)),
            confidence_events=int(data.get("confidence_events", 20)),
            top=int(data.get("top", 10)),
            file=where,
        )
    except (yaml.YAMLError, AttributeError, KeyError, TypeError, ValueError) as err:
        raise TableError(
            f"the priority matrix {where} is not one nimgraph can read ({type(err).__name__}: {err}); "
            "see nimgraph/data/priority_matrix.yaml for the shape"
        ) from None
    unknown = sorted({m for _, measures in factors.values() for m in measures} - set(MEASURES))
    if unknown:
        raise TableError(f"the priority matrix {where} names unknown measures {unknown}; use {list(MEASURES)}")
    weights = [w for w, _ in factors.values()] + [w for _, ms in factors.values() for w in ms.values()]
    finite = all(math.isfinite(w) and w >= 0 for w in weights)
    if not factors or not finite or not any(w > 0 for w, _ in factors.values()):
        raise TableError(f"the priority matrix {where} needs factors with finite weights of 0 or more, one above 0")
    if len(matrix.share_bands) != 4 or list(matrix.share_bands) != sorted(matrix.share_bands):
        raise TableError(f"the priority matrix {where} needs four share_bands in rising order")
    return matrix


@dataclass
class Candidate:
    kind: str  # "category in area", "category", "problem", "cohort"
    name: str
    current: list[Incident]
    previous: list[Incident]
    keys: dict = field(default_factory=dict)  # what identifies it: category, area, problem...
    victims: Counter = field(default_factory=Counter)  # victim -> events in the period


def rank_scores(values: Sequence[float]) -> list[int]:
    """1-5 by where each value ranks among all of them: the least 1, the most 5, the rest between by
    the share of values below them; equal values score alike, and a lone value scores 3.

    >>> rank_scores([10, 20, 30, 40, 50])
    [1, 2, 3, 4, 5]
    >>> rank_scores([0, 0, 7]), rank_scores([4])
    ([1, 1, 5], [3])
    """
    ordered = sorted(values)
    if len(ordered) == 1:
        return [3]
    return [1 + round(4 * bisect_left(ordered, value) / (len(ordered) - 1)) for value in values]


def share_score(share: float | None, bands: Sequence[float]) -> int:
    """1-5 by the bands a share reaches; an unknown share scores the least.

    >>> [share_score(s, (0.05, 0.15, 0.3, 0.5)) for s in (0.0, 0.05, 0.2, 0.49, 0.9, None)]
    [1, 2, 3, 4, 5, 1]
    """
    if share is None:
        return 1
    return 1 + sum(1 for bound in bands if share >= bound)


def trend_score(current: int, previous: int, alpha: float) -> tuple[int, dict]:
    change = compare_counts(current, previous, alpha=alpha)
    if change.significant:
        score = 5 if current > previous else 1
    else:
        score = 4 if current > previous else 2 if current < previous else 3
    return score, change.as_dict()


def score_candidates(
    candidates: list[Candidate],
    matrix: Matrix,
    *,
    harm_weights: Mapping[str, float],
    public_types: Collection[str],
    alpha: float,
    common_gaps: Sequence[str] = (),
) -> list[dict]:
    """Score every candidate with enough events; the list is highest score first, each with its evidence.

    ``harm_weights`` weighs each category of the candidates' incidents; an incident of one of
    ``public_types`` is a report by the public.
    """
    kept = [c for c in candidates if len(c.current) + len(c.previous) >= matrix.min_events and c.current]
    evidence: list[dict] = []
    for candidate in kept:
        # counted by C loops, not a Python loop an incident: tens of thousands of candidates share a million
        categories = Counter(map(_CATEGORY, candidate.current))
        types = Counter(map(_TYPE, candidate.current))
        at = Counter(filter(None, map(_LOCATION, candidate.current)))
        victims = candidate.victims
        events = len(candidate.current)
        evidence.append(
            {
                "harm": math.fsum(harm_weights[c] * n for c, n in categories.items()),
                "volume": events,
                "previous": len(candidate.previous),
                "repeat_victims": (sum(1 for n in victims.values() if n > 1) / len(victims)) if victims else None,
                "repeat_locations": (sum(n for n in at.values() if n > 1) / sum(at.values())) if at else None,
                "public_reports": sum(n for t, n in types.items() if t in public_types) / events,
                "month_only": sum(map(_MONTH_ONLY, candidate.current)) / events,
            }
        )
    ranked: dict[str, list[int]] = {}
    for kind in {c.kind for c in kept}:
        members = [n for n, c in enumerate(kept) if c.kind == kind]
        for measure in RANKED:
            for n, score in zip(members, rank_scores([evidence[n][measure] for n in members]), strict=True):
                ranked.setdefault(measure, [0] * len(kept))[n] = score
    entries = []
    for n, candidate in enumerate(kept):
        facts = evidence[n]
        trend, change = trend_score(facts["volume"], facts["previous"], alpha)
        scores = {
            "harm": {"score": ranked["harm"][n], "value": round(facts["harm"], 2), "how": "rank among its kind"},
            "volume": {"score": ranked["volume"][n], "value": facts["volume"], "how": "rank among its kind"},
            "trend": {"score": trend, "value": change, "how": "change on the previous period"},
            **{
                measure: {
                    "score": share_score(facts[measure], matrix.share_bands),
                    "value": None if facts[measure] is None else round(facts[measure], 3),
                    "how": "share, banded",
                }
                for measure in ("repeat_victims", "repeat_locations", "public_reports")
            },
        }
        factors = {}
        for factor, (_, measures) in matrix.factors.items():
            total = sum(measures.values())
            factors[factor] = (
                round(sum(scores[m]["score"] * w for m, w in measures.items()) / total, 2) if total else 1.0
            )
        weight_sum = sum(w for w, _ in matrix.factors.values())
        overall = sum(factors[f] * w for f, (w, _) in matrix.factors.items()) / weight_sum
        gaps = list(common_gaps)
        if facts["volume"] < matrix.confidence_events:
            gaps.append(f"only {facts['volume']} events in the period: scores and trend are uncertain")
        if facts["month_only"] >= 0.5:
            gaps.append(f"{facts['month_only']:.0%} of its events are dated to the month only")
        if facts["repeat_victims"] is None and any("victim" in m for _, ms in matrix.factors.values() for m in ms):
            gaps.append("no victim is named for its events, so repeat victimisation scores the least")
        entries.append(
            {
                "kind": candidate.kind,
                "name": candidate.name,
                **candidate.keys,
                "score": round((overall - 1) * 25, 1),
                "factors": factors,
                "measures": scores,
                "gaps": gaps,
            }
        )
    entries.sort(key=lambda e: (-e["score"], -e["measures"]["harm"]["value"], e["name"]))
    for rank, entry in enumerate(entries, 1):
        entry["rank"] = rank
    return entries
