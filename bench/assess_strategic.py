"""A strategic assessment over a busy partnership's 1M incidents, on the embedded store.

    .venv/bin/python bench/assess_strategic.py [--incidents 1000000] [--seed 7] [--profile] [--what-if] [--write]

The data: a generated partnership kept under var/bench/assess-N-seed/graph.db (built once, reused
when present; the build streams batches through ``EmbeddedStore.upsert``, every entity and link
with its source record). 24 months of incidents ending 2026-10-31, N of them:

- police crimes (``CrimeIncident``, 65%), police.uk style: dated to the month only
  (``date: YYYY-MM-01, datePrecision: Month``), ``category`` and ``crimeType`` one of the
  police.uk categories named in nimgraph/data/harm_index.yaml, in roughly national proportions,
  each with its own trend between the two years (shoplifting and robbery up, burglary down...);
  source police-uk-street-crime, graded 1AP;
- ASB reports (``ASBIncident``, 27%): day dates and ``dateTime`` (evenings busiest),
  Nuisance / Personal / Environmental, summer peak; council-asb, 1BP;
- deliberate fires (``DeliberateFire``, 8%): day dates and ``dateTime``, primary and secondary,
  spring and summer peak; fire-deliberate, 1AP;
- each incident ``occurredAt`` one of 40,000 streets (``Street``: name, latitude, longitude) in a
  25 km square city, a quarter of them packed round 40 town and estate centres; streets are
  picked with lognormal popularity, six times as often in 25 hot zones, and in the last two months
  some ASB and fires go to 3 emerging zones, so Gi* has persistent and emerging hotspots to find;
  each street lies ``within`` one of 1,500 LSOAs (a 30 x 50 grid of ``LSOA``s: areaCode, name), each
  LSOA within one of 60 wards (5 x 5 LSOAs each); the gazetteer (source gazetteer, 1AP) asserts the
  places once, where ingest would have each incident's row assert its street and LSOA again;
- 40% of crimes name one to three people (``victimIn`` most, ``offenderIn``, ``suspectIn``), each
  asserted with the ``Person`` by a record of the restricted nominal file (police-nominals-restricted,
  graded 1AC: handling C, so a partner viewer sees none of them); victims and offenders are drawn
  skewed, so there are repeat victims and prolific offenders;
- N / 250 intelligence reports (``IntelligenceReport``: reference, reportDate; intelligence-log,
  graded across 3x5x2, mostly C), each asserting, as the shipped intel mapping does, an
  association between a subject (usually an offender) and an associate (``knows``, ``familyOf``,
  ``livesWith``) and its ``mentions`` of both; and 50 problems (``Problem``: reference, title,
  saraStage, opened), each ``concerns`` a hot LSOA (csp-problem-register, 1AP).

Ids are keyed as ingest keys them: ``store.id_key().entity_id(type, type, [reference])`` for
each entity (people in the nominal file's namespace, northshire-nominal), ``link_id(type, start,
end)`` for links, symmetric links' ends in ``model.oriented`` order. Type names come from
``Core`` where it has them and are checked against ``default_model()`` before anything is written.

What is timed, each in a fresh process of its own (so its peak memory is its own, and SQLite's
cache starts empty; the store file is read through first, as a running server's would be cached),
one after the other, never two at once. Peak memory is the kernel's high-water mark of resident
memory, read as VmHWM from /proc/self/status: ``ru_maxrss`` is the same counter but Linux carries
the parent's size into it across fork and exec, so for a child it is never below the parent's.

1. the read alone: ``store.incidents(since, until)`` over the window the product reads (36 whole
   months ending today's month: the product's widest read), for the analyst's codes (all) and the
   partner viewer's (P): the floor under any assessment built on it;
2. ``build_strategic_assessment(ClearedView(store, model, clearance_for(Role.ANALYST)), model,
   AssessmentSettings.load(), progress=...)`` with its defaults (12 months ending at the latest
   incident, screenings on), split where it reports progress and, inside, by the functions it
   calls (wrapped in this process to time them; the product code is not changed); then
   ``to_html``, ``json.dumps(product.to_dict())`` and ``to_xlsx``;
3. the same as a partner viewer (``Role.PARTNER_VIEWER``: P records only, so the store's read
   filters every row by its records), and the partner / analyst ratio;
4. with ``--profile``, or when the analyst's build is over the target: the analyst's build under
   cProfile (slower than without; read its shares, not its seconds), its top functions (the whole
   profile is kept beside the store, strategic.prof and strategic-profile.txt);
5. with ``--what-if``: the analyst's build again with one of the product's choices undone in that
   child process only, so that what it saves is a ratio from the same run: with Python's cycle
   collector running throughout (``gc.disable`` made a no-op, so ``collector_paused`` pauses nothing).

The product files are named in the results by a hash of their contents: other work changes
them, and a figure belongs to the code it was measured on.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import math
import os
import platform
import pstats
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from analysis_profiles import warm  # noqa: E402
from ingest_neo4j import list_in_readme, publish  # noqa: E402

from nimgraph.access.roles import Role, clearance_for  # noqa: E402
from nimgraph.access.view import ClearedView  # noqa: E402
from nimgraph.ids import IdKey, link_id  # noqa: E402
from nimgraph.ontology import Core, Model, default_model  # noqa: E402
from nimgraph.products import assessment_output, strategic  # noqa: E402
from nimgraph.products.assessing import AssessmentSettings  # noqa: E402
from nimgraph.products.periods import whole_months  # noqa: E402
from nimgraph.records import Assertion, Batch, Entity, Link  # noqa: E402
from nimgraph.store import embedded  # noqa: E402
from nimgraph.store.embedded import EmbeddedStore  # noqa: E402

TARGET_S = 60
MONTHS = 12  # the product's default
PRODUCT_FILES = [  # what the build runs, hashed into the results (others change them as they work)
    f"nimgraph/{name}.py"
    for name in (
        "products/strategic",
        "products/assessing",
        "products/priorities",
        "products/screenings",
        "products/assessment_output",
        "store/incident_read",
        "store/embedded",
        "access/view",
        "collector",
        "analysis/hotspots",
        "analysis/significance",
        "analysis/concentration",
        "analysis/volumes",
    )
]


def words(text: str) -> list[str]:
    return text.split()


# ------------------------------------------------------------------------------------- the partnership
LAST_DAY = date(2026, 10, 31)
SPAN_MONTHS = 24  # 2024-11 to 2026-10
FIRST_MONTH = (2024, 11)
STREETS, LSOA_ROWS, LSOA_COLS, WARD_BLOCK = 40_000, 50, 30, 5  # 1,500 LSOAs, 60 wards of 5 x 5
WARDS = (LSOA_ROWS // WARD_BLOCK) * (LSOA_COLS // WARD_BLOCK)
CENTRE_LAT, CENTRE_LON, HALF_KM = 53.40, -1.47, 12.5  # a 25 km square city
CLUSTERS, CLUSTERED_SHARE, HOT_ZONES, EMERGING_ZONES = 40, 0.25, 25, 3
PROBLEMS = 50
REPORTS_PER = 250  # one intelligence report per this many incidents
KIND_SHARES = {"crime": 0.65, "asb": 0.27, "fire": 0.08}
NAMED_SHARE = 0.40  # crimes that name people
BATCH = 5_000  # incidents per upsert
# police.uk categories (names as in nimgraph/data/harm_index.yaml): share of crimes, year-on-year trend
CRIMES = {
    "Violence and sexual offences": (0.34, 1.03),
    "Public order": (0.10, 1.00),
    "Criminal damage and arson": (0.09, 0.97),
    "Shoplifting": (0.09, 1.18),
    "Other theft": (0.08, 1.00),
    "Vehicle crime": (0.07, 0.94),
    "Burglary": (0.06, 0.90),
    "Drugs": (0.03, 1.00),
    "Theft from the person": (0.02, 1.08),
    "Robbery": (0.02, 1.12),
    "Bicycle theft": (0.02, 0.88),
    "Possession of weapons": (0.015, 1.10),
    "Other crime": (0.025, 1.02),
}
ASB = {"Nuisance": (0.65, 0.95), "Personal": (0.20, 1.05), "Environmental": (0.15, 1.00)}
FIRES = {"Deliberate secondary fire": (0.75, 1.10), "Deliberate primary fire": (0.25, 1.00)}
SEASONAL = {"crime": 0.08, "asb": 0.30, "fire": 0.35}  # amplitude of the summer peak
SOURCES = {  # source: (agency, file, grade)
    "police-uk-street-crime": ("Northshire Police", "street.csv", "1AP"),
    "council-asb": ("Northwick Borough Council", "asb.csv", "1BP"),
    "fire-deliberate": ("Northshire Fire and Rescue Service", "fires.csv", "1AP"),
    "police-nominals-restricted": ("Northshire Police", "nominals.csv", "1AC"),
    "intelligence-log": ("Northshire Police", "intel.csv", None),
    "csp-problem-register": ("Northwick Community Safety Partnership", "problems.csv", "1AP"),
    "gazetteer": ("Northwick Borough Council", "gazetteer.csv", "1AP"),
}
INTEL_GRADES = (["2BC"] * 6) + (["1BC", "2CC", "3CC", "1AC"] * 2) + ["2BP", "3DC", "1AP", "2EC"]
ROLE_NAMES = {Core.VICTIM_IN: "Victim", Core.OFFENDER_IN: "Offender", Core.SUSPECT_IN: "Suspect"}
ASSOCIATIONS = [("knows", 0.60), (Core.FAMILY_OF, 0.25), (Core.LIVES_WITH, 0.15)]
SARA = ["Scanning", "Analysis", "Response", "Assessment"]
STREET_WORDS = words(
    "Acacia Albert Alexandra Ash Beech Birch Bridge Brook Castle Cedar Chapel Church Clifton Coronation "
    "Cross Derwent Elm Fir Forge Garden George Glebe Grange Green Grove Hall Hawthorn Heath High Hill "
    "Holly Kings Lime Manor Maple Market Meadow Mill New North Oak Orchard Park Priory Queens Railway "
    "Rectory Riverside School Spring Station Victoria Water Well West Willow Windsor York"
)
STREET_KINDS = words("Road Street Lane Avenue Close Way Drive Crescent Terrace Grove Place Walk Row Gardens View Court")
FORENAMES = words(
    "Aaron Abigail Adam Aisha Amir Amy Ben Chloe Connor Daniel Ella Emma Hannah Jack Jade Jamie Kyle Leah "
    "Liam Lucy Mason Megan Mohammed Nathan Olivia Owen Reece Ryan Sophie Tyler Zara Zoe"
)
SURNAMES = words(
    "Ahmed Bailey Brown Clarke Davies Evans Green Hall Hughes Hussain Jackson Jones Khan Lewis Martin "
    "Patel Roberts Robinson Shaw Smith Taylor Thomas Walker White Williams Wilson Wood Wright"
)
README_ROW = (
    "| `assess_strategic.py` | The strategic assessment over 1M generated incidents (24 months of a busy "
    "partnership: crimes, ASB, fires on 40,000 streets in 1,500 LSOAs, named people, intelligence, problems) on "
    "the embedded store: `build_strategic_assessment` with its defaults as an analyst and as a partner viewer "
    "(ratio in the same run), split by its progress steps and the functions it calls, then HTML, JSON and xlsx; "
    "wall and CPU seconds and peak memory, each in a fresh process, against the store's incident read alone; "
    "with `--profile` (or over 60 s) the build's top functions under cProfile; with `--what-if`, the build with "
    "the cycle collector running (undone in the bench's process: what pausing it saves) |"
)
README_COMMAND = ".venv/bin/python bench/assess_strategic.py --what-if --write"


# ------------------------------------------------------------------------------------- the data
class Plan:
    """The partnership's fixed parts (places, people pools, category tables), from the seed."""

    def __init__(self, incidents: int, seed: int) -> None:
        self.incidents, self.seed = incidents, seed
        rng = np.random.default_rng([seed, 0])
        half_lat = HALF_KM / 111.32
        half_lon = HALF_KM / (111.32 * math.cos(math.radians(CENTRE_LAT)))
        self.box = (CENTRE_LAT - half_lat, CENTRE_LAT + half_lat, CENTRE_LON - half_lon, CENTRE_LON + half_lon)
        south, north, west, east = self.box
        # streets: most spread evenly, a quarter packed round centres (about 300 m across)
        clustered = int(STREETS * CLUSTERED_SHARE)
        centres = np.column_stack([rng.uniform(south, north, CLUSTERS), rng.uniform(west, east, CLUSTERS)])
        around = centres[rng.integers(0, CLUSTERS, clustered)]
        spread = np.column_stack([rng.normal(0, 0.0027, clustered), rng.normal(0, 0.0045, clustered)])
        even = np.column_stack(
            [rng.uniform(south, north, STREETS - clustered), rng.uniform(west, east, STREETS - clustered)]
        )
        points = np.vstack([even, around + spread])
        points[:, 0] = np.clip(points[:, 0], south, north - 1e-9)
        points[:, 1] = np.clip(points[:, 1], west, east - 1e-9)
        self.lat, self.lon = points[:, 0], points[:, 1]
        row = ((self.lat - south) / (north - south) * LSOA_ROWS).astype(int)
        col = ((self.lon - west) / (east - west) * LSOA_COLS).astype(int)
        self.lsoa_of = row * LSOA_COLS + col  # the LSOA each street lies within
        # how often each street is picked: lognormal, six times as often in hot zones (about 400 m round)
        weight = rng.lognormal(0.0, 1.0, STREETS)
        hot = centres[rng.choice(CLUSTERS, HOT_ZONES, replace=False)]
        self.hot_lsoas = sorted({int(self.lsoa_of[self._nearest(c)]) for c in hot})
        near_hot = self._within(hot, 0.0036)
        weight[near_hot] *= 6.0
        self.street_cdf = np.cumsum(weight) / weight.sum()
        emerging = np.column_stack([rng.uniform(south, north, EMERGING_ZONES), rng.uniform(west, east, EMERGING_ZONES)])
        self.emerging_streets = np.flatnonzero(self._within(emerging, 0.0030))
        # categories: kind -> (names, cumulative shares, per category the cumulative month weights)
        self.categories = {}
        for kind, table in (("crime", CRIMES), ("asb", ASB), ("fire", FIRES)):
            names = list(table)
            shares = np.array([table[n][0] for n in names])
            months = np.array([self._month_weights(kind, table[n][1]) for n in names])
            self.categories[kind] = (names, np.cumsum(shares / shares.sum()), np.cumsum(months, axis=1))
        # people: victims drawn from everyone, offenders from a quarter of them, both skewed to repeat
        self.people = max(1_000, int(incidents * 0.30))
        self.reports = max(100, incidents // REPORTS_PER)

    def _nearest(self, point: np.ndarray) -> int:
        return int(np.argmin((self.lat - point[0]) ** 2 + ((self.lon - point[1]) * 0.6) ** 2))

    def _within(self, centres: np.ndarray, degrees: float) -> np.ndarray:
        inside = np.zeros(STREETS, dtype=bool)
        for lat, lon in centres:
            inside |= (self.lat - lat) ** 2 + ((self.lon - lon) * 0.6) ** 2 < degrees**2
        return inside

    @staticmethod
    def _month_weights(kind: str, trend: float) -> np.ndarray:
        weights = []
        for index in range(SPAN_MONTHS):
            month = (FIRST_MONTH[1] - 1 + index) % 12 + 1
            season = 1 + SEASONAL[kind] * math.cos(2 * math.pi * (month - 7) / 12)
            weights.append(season * trend ** (index / 12))
        weights = np.array(weights)
        return weights / weights.sum()

    @staticmethod
    def month(index: int) -> tuple[int, int]:
        absolute = FIRST_MONTH[0] * 12 + FIRST_MONTH[1] - 1 + index
        return absolute // 12, absolute % 12 + 1


def check_names(model: Model, settings: AssessmentSettings) -> None:
    """Every type, link and category the data uses, as the ontology and the harm index name them."""
    types = ["CrimeIncident", "ASBIncident", "DeliberateFire", "Street", "LSOA", "Ward"]
    types += [Core.PERSON, Core.INTELLIGENCE_REPORT, Core.PROBLEM]
    for name in types:
        model.entity_type(name)
    for name in types[:3]:
        assert model.is_a(name, Core.INCIDENT), name
    for name in types[4:6]:
        assert model.is_a(name, Core.AREA), name
    for name in [Core.OCCURRED_AT, Core.WITHIN, Core.CONCERNS, Core.MENTIONS, *ROLE_NAMES]:
        model.link_type(name)
    for name, _ in ASSOCIATIONS:
        assert model.is_a(name, Core.ASSOCIATED_WITH), name
    for category in [*CRIMES, *ASB, *FIRES]:
        assert settings.harm.weight(category) is not None, f"{category} is not in the harm index"


class Writer:
    """Entities and links by the records that assert them, keyed as ingest keys them."""

    def __init__(self, key: IdKey, model: Model) -> None:
        self.key, self.model = key, model
        self.entities: dict[str, Entity] = {}
        self.links: dict[str, Link] = {}

    def entity_id(self, type_name: str, reference: str, namespace: str | None = None) -> str:
        return self.key.entity_id(type_name, namespace or type_name, [reference])

    def entity(self, entity_id: str, type_name: str, properties: dict, record: Assertion) -> str:
        known = self.entities.get(entity_id)
        if known is None:
            self.entities[entity_id] = Entity(entity_id, type_name, properties, [record])
        elif record not in known.provenance:
            known.properties.update(properties)
            known.provenance.append(record)
        return entity_id

    def link(self, type_name: str, source: str, target: str, record: Assertion) -> None:
        start, end = self.model.oriented(type_name, source, target)
        identifier = link_id(type_name, start, end)
        known = self.links.get(identifier)
        if known is None:
            self.links[identifier] = Link(identifier, type_name, start, end, {}, [record])
        elif record not in known.provenance:
            known.provenance.append(record)

    def batch(self, run: str) -> Batch:
        batch = Batch(entities=list(self.entities.values()), links=list(self.links.values()), run=run)
        self.entities, self.links = {}, {}
        return batch


def record(source: str, record_id: str, row: int, day: str, grade: str | None = None) -> Assertion:
    _, file, default = SOURCES[source]
    grade = grade or default
    return Assertion(source, record_id, file, row, day, grade, grade[-1])


def person_name(n: int) -> dict:
    forename, surname = FORENAMES[n % len(FORENAMES)], SURNAMES[(n // len(FORENAMES)) % len(SURNAMES)]
    return {"nominalId": f"N{n:07d}", "forename": forename, "surname": surname, "name": f"{forename} {surname}"}


def gazetteer(plan: Plan, out: Writer) -> Iterator[Batch]:
    wards = {}
    for ward in range(WARDS):
        code = f"E05{ward + 1:06d}"
        said = record("gazetteer", code, ward, "2026-01-01")
        wards[ward] = out.entity(
            out.entity_id("Ward", code), "Ward", {"areaCode": code, "name": f"Ward {ward + 1}"}, said
        )
    lsoas = {}
    for lsoa in range(LSOA_ROWS * LSOA_COLS):
        code = f"E01{lsoa + 1:06d}"
        said = record("gazetteer", code, lsoa, "2026-01-01")
        name = f"Northwick {lsoa // 4 + 1:03d}{'ABCD'[lsoa % 4]}"
        lsoas[lsoa] = out.entity(out.entity_id("LSOA", code), "LSOA", {"areaCode": code, "name": name}, said)
        ward = (lsoa // LSOA_COLS // WARD_BLOCK) * (LSOA_COLS // WARD_BLOCK) + (lsoa % LSOA_COLS) // WARD_BLOCK
        out.link(Core.WITHIN, lsoas[lsoa], wards[ward], said)
    yield out.batch("bench-gazetteer")
    for street in range(STREETS):
        reference = f"S{street:05d}"
        said = record("gazetteer", reference, street, "2026-01-01")
        word, kind = STREET_WORDS[street % len(STREET_WORDS)], STREET_KINDS[(street // 7) % len(STREET_KINDS)]
        properties = {"name": f"{word} {kind}", "latitude": round(float(plan.lat[street]), 6)}
        properties["longitude"] = round(float(plan.lon[street]), 6)
        street_id = out.entity(out.entity_id("Street", reference), "Street", properties, said)
        out.link(Core.WITHIN, street_id, lsoas[int(plan.lsoa_of[street])], said)
        if (street + 1) % 10_000 == 0:
            yield out.batch("bench-gazetteer")
    yield out.batch("bench-gazetteer")


def street_ids(plan: Plan, out: Writer) -> list[str]:
    return [out.entity_id("Street", f"S{street:05d}") for street in range(STREETS)]


def problems(plan: Plan, out: Writer) -> Iterator[Batch]:
    rng = np.random.default_rng([plan.seed, 3])
    for n in range(PROBLEMS):
        lsoa = plan.hot_lsoas[n % len(plan.hot_lsoas)] if n < 2 * len(plan.hot_lsoas) else int(rng.integers(1500))
        reference = f"PR-{n + 1:03d}"
        opened = (LAST_DAY - timedelta(days=int(rng.integers(30, 700)))).isoformat()
        said = record("csp-problem-register", reference, n, opened)
        category = list(CRIMES)[int(rng.integers(len(CRIMES)))] if n % 3 else "Anti-social behaviour"
        properties = {"reference": reference, "title": f"{category} around Northwick {lsoa // 4 + 1:03d}"}
        properties.update(saraStage=SARA[int(rng.integers(4))], opened=opened, owner="Neighbourhood team")
        problem = out.entity(out.entity_id(Core.PROBLEM, reference), Core.PROBLEM, properties, said)
        out.link(Core.CONCERNS, problem, out.entity_id("LSOA", f"E01{lsoa + 1:06d}"), said)
    yield out.batch("bench-problems")


def incidents(plan: Plan, out: Writer, streets: list[str], start: int, size: int) -> Batch:
    """Incidents ``start`` to ``start + size``: seeded by their batch, so any batch is the same each time."""
    rng = np.random.default_rng([plan.seed, 1, start])
    kinds = np.array(list(KIND_SHARES))[np.searchsorted(np.cumsum(list(KIND_SHARES.values())), rng.random(size))]
    pick = np.minimum(np.searchsorted(plan.street_cdf, rng.random(size)), STREETS - 1)
    draws = rng.random((size, 8))
    for offset in range(size):
        n, kind, u = start + offset, str(kinds[offset]), draws[offset]
        names, shares, months = plan.categories[kind]
        category = min(int(np.searchsorted(shares, u[0])), len(names) - 1)
        month = min(int(np.searchsorted(months[category], u[1])), SPAN_MONTHS - 1)
        year, month_number = Plan.month(month)
        street = int(pick[offset])
        if kind != "crime" and month >= SPAN_MONTHS - 2 and u[2] < 0.15 and len(plan.emerging_streets):
            street = int(plan.emerging_streets[int(u[3] * len(plan.emerging_streets))])
        if kind == "crime":
            day = f"{year}-{month_number:02d}-01"
            reference = f"CR{n:08d}"
            said = record("police-uk-street-crime", reference, n, day)
            properties = {"reference": reference, "date": day, "datePrecision": "Month"}
            properties.update(category=names[category], crimeType=names[category])
            type_name = "CrimeIncident"
        else:
            last = (date(year + month_number // 12, month_number % 12 + 1, 1) - timedelta(days=1)).day
            day = f"{year}-{month_number:02d}-{1 + int(u[4] * last):02d}"
            hour = int((u[5] ** 0.6) * 24) if kind == "asb" else int(u[5] * 24)  # ASB: evenings busiest
            reference = f"{'ASB' if kind == 'asb' else 'FI'}{n:08d}"
            source = "council-asb" if kind == "asb" else "fire-deliberate"
            said = record(source, reference, n, day)
            properties = {"reference": reference, "date": day, "dateTime": f"{day}T{hour:02d}:{int(u[6] * 60):02d}:00"}
            properties["category"] = names[category]
            type_name = "ASBIncident" if kind == "asb" else "DeliberateFire"
        event = out.entity(out.entity_id(type_name, reference), type_name, properties, said)
        out.link(Core.OCCURRED_AT, event, streets[street], said)
        if kind == "crime" and u[7] < NAMED_SHARE:
            name_people(plan, out, rng, event, reference, n, day)
    return out.batch("bench-incidents")


def name_people(plan: Plan, out: Writer, rng: np.random.Generator, event: str, reference: str, n: int, day: str):
    u = rng.random(6)
    named = []
    if u[0] < 0.85:
        named.append((Core.VICTIM_IN, int(plan.people * u[1] ** 1.6)))
    if u[2] < 0.45:
        named.append((Core.OFFENDER_IN, int(plan.people * 0.25 * u[3] ** 2.5)))
    elif u[2] < 0.75 or not named:
        named.append((Core.SUSPECT_IN, int(plan.people * 0.25 * u[4] ** 2.0)))
    for role, person in named:
        nominal = f"N{person:07d}"
        said = record("police-nominals-restricted", f"{reference}/{nominal}/{ROLE_NAMES[role]}", n, day)
        person_id = out.entity(
            out.entity_id(Core.PERSON, nominal, "northshire-nominal"), Core.PERSON, person_name(person), said
        )
        out.link(role, person_id, event, said)


def intelligence(plan: Plan, out: Writer) -> Iterator[Batch]:
    rng = np.random.default_rng([plan.seed, 2])
    weights = np.cumsum([w for _, w in ASSOCIATIONS])
    span = (LAST_DAY - date(*FIRST_MONTH, 1)).days
    for n in range(plan.reports):
        u = rng.random(5)
        reference = f"IR{n:06d}"
        day = (date(*FIRST_MONTH, 1) + timedelta(days=int(u[0] * span))).isoformat()
        said = record("intelligence-log", reference, n, day, INTEL_GRADES[int(rng.integers(len(INTEL_GRADES)))])
        report = out.entity(
            out.entity_id(Core.INTELLIGENCE_REPORT, reference),
            Core.INTELLIGENCE_REPORT,
            {"reference": reference, "reportDate": day},
            said,
        )
        subject = int(plan.people * 0.25 * u[1] ** 2.0)  # usually an offender
        associate = int(plan.people * u[2] ** 1.5) if u[3] < 0.7 else int(plan.people * 0.25 * u[2])
        if associate == subject:
            associate = (associate + 1) % plan.people
        ids = []
        for person in (subject, associate):
            nominal = f"N{person:07d}"
            ids.append(
                out.entity(
                    out.entity_id(Core.PERSON, nominal, "northshire-nominal"), Core.PERSON, person_name(person), said
                )
            )
            out.link(Core.MENTIONS, report, ids[-1], said)
        kind = ASSOCIATIONS[min(int(np.searchsorted(weights, u[4])), len(ASSOCIATIONS) - 1)][0]
        out.link(kind, ids[0], ids[1], said)
        if (n + 1) % 2_000 == 0:
            yield out.batch("bench-intelligence")
    yield out.batch("bench-intelligence")


def build(plan: Plan, model: Model, folder: Path) -> float:
    """The store under ``folder``: built once, streamed in batches; its build seconds."""
    done = folder / "loaded"
    if done.exists():
        return float(done.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (folder / f"graph.db{suffix}").unlink(missing_ok=True)
    store = EmbeddedStore(folder / "graph.db", model)
    started = time.perf_counter()
    try:
        out = Writer(store.id_key(), model)
        for source, (agency, _, _) in SOURCES.items():
            store.register_source(source, {"agency": agency})
        for batch in [*gazetteer(plan, out), *problems(plan, out)]:
            store.upsert(batch)
        streets = street_ids(plan, out)
        with tqdm(total=plan.incidents, unit=" incidents", unit_scale=True, desc="incidents", mininterval=5) as bar:
            for start in range(0, plan.incidents, BATCH):
                size = min(BATCH, plan.incidents - start)
                store.upsert(incidents(plan, out, streets, start, size))
                bar.update(size)
        for batch in intelligence(plan, out):
            store.upsert(batch)
        counts = store.counts()
    finally:
        store.close()
    seconds = time.perf_counter() - started
    (folder / "counts.json").write_text(json.dumps(counts, indent=1))
    done.write_text(f"{seconds:.0f}")
    return seconds


# ------------------------------------------------------------------------------------- measuring (a child)
class Timer:
    """Wall and CPU seconds at each mark, and the name given to the span that follows it."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float, float]] = []

    def mark(self, name: str) -> None:
        self.marks.append((name, time.perf_counter(), time.process_time()))

    def spans(self) -> list[tuple[str, float, float]]:
        pairs = zip(self.marks, self.marks[1:], strict=False)
        return [(a[0], b[1] - a[1], b[2] - a[2]) for a, b in pairs]


def timed(work: Callable):
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


# The functions build_strategic_assessment calls, by the names it calls them (module globals of
# nimgraph.products.strategic), timed by wrapping them in this process; the product is unchanged.
PARTS = (
    "read_scoped",
    "_volume",
    "_harm",
    "_screenings",
    "_people",
    "_concentration",
    "_hotspots",
    "_priorities",
    "score_candidates",
    "_gaps",
    "sources_and_handling",
    "map_points",
    "_partnership",
    "_intelligence",
    "intelligence_by_grade",
)


def wrap_parts(store: EmbeddedStore) -> dict[str, list[float]]:
    """Times each of PARTS that the product has (and the read's parts) where the build calls it."""
    spent: dict[str, list[float]] = {}

    def wrapper(name: str, function: Callable) -> Callable:
        def timed_call(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                total = spent.setdefault(name, [0.0, 0.0, 0])
                total[0] += time.perf_counter() - wall
                total[1] += time.process_time() - cpu
                total[2] += 1

        return timed_call

    for name in PARTS:
        if callable(getattr(strategic, name, None)):  # the product's own names, as they are today
            setattr(strategic, name, wrapper(name, getattr(strategic, name)))
    # inside the read: the store's rows and what assemble makes of them (the rest is the records count)
    store.incidents = wrapper("store.incidents", store.incidents)
    store._incident_rows = wrapper("store: incident rows", store._incident_rows)
    embedded.assemble = wrapper("store: assemble", embedded.assemble)
    # across the build (the read, the screenings' reads, the problems' neighbourhoods): ids into temp tables
    store._load_ids = wrapper("store: _load_ids", store._load_ids)
    return spent


WHAT_IFS = {  # child name -> what the results call it
    "build-collecting": "with the cycle collector running (`gc.disable` a no-op in the bench's process)",
}


def peak_mib() -> float:
    """This process image's peak resident memory (VmHWM): what ``ru_maxrss`` reports, less what it carries
    over from the parent through fork and exec (Linux keeps the larger of the two across exec)."""
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def child(role: str, db: Path, what: str, since: str, until: str, folder: Path) -> dict:
    result: dict = {"role": role, "what": what, "rss_start": peak_mib()}
    if what == "build-collecting":  # the what-ifs: patched in this process only
        gc.disable = lambda: None
    model = default_model()
    warm(db)
    store = EmbeddedStore(db, model)
    clearance = clearance_for(Role(role))
    try:
        if what == "read":
            only = None if clearance.sees_everything else clearance.handling
            read, wall, cpu = timed(lambda: store.incidents(since, until, handling=only))
            result.update(wall=wall, cpu=cpu, incidents=len(read.incidents), involvements=len(read.involvements))
            result.update(places=len(read.places), reports=len(read.reports))
        elif what == "profile":
            view = ClearedView(store, model, clearance)
            settings = AssessmentSettings.load()
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            strategic.build_strategic_assessment(view, model, settings)
            profiler.disable()
            result["wall"] = time.perf_counter() - started
            profiler.dump_stats(folder / "strategic.prof")
            stats = pstats.Stats(profiler)
            result["total_tt"] = sum(row[2] for row in stats.stats.values())
            rows = []
            for (file, line, function), (_, calls, tottime, cumtime, _) in stats.stats.items():
                where = f"{file.rsplit('site-packages/', 1)[-1].removeprefix(str(ROOT) + '/')}:{line}"
                rows.append(
                    {"function": f"{function} ({where})", "calls": calls, "tottime": tottime, "cumtime": cumtime}
                )
            result["by_tottime"] = sorted(rows, key=lambda r: -r["tottime"])[:25]
            result["by_cumtime"] = sorted(rows, key=lambda r: -r["cumtime"])[:40]
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
            (folder / "strategic-profile.txt").write_text(text.getvalue())
        else:
            spent = wrap_parts(store)
            view = ClearedView(store, model, clearance)
            settings = AssessmentSettings.load()
            timer = Timer()

            def progress(step: str) -> None:
                timer.mark(step)
                print(f"  [{role}] {step}", file=sys.stderr, flush=True)

            started = time.perf_counter(), time.process_time()
            product = strategic.build_strategic_assessment(view, model, settings, progress=progress)
            timer.mark("end")
            result["wall"] = time.perf_counter() - started[0]
            result["cpu"] = time.process_time() - started[1]
            result["steps"] = timer.spans()
            result["parts"] = spent
            result["rss_build"] = peak_mib()
            tor = product.terms_of_reference
            result["period"] = tor["period"]
            result["incidents"] = product.summary["incidents"]
            result["previous"] = product.summary["same_period_last_year"]
            result["priorities"] = product.priorities["candidates"]
            result["hot_cells"] = product.summary["hot_cells"]
            result["emerging"] = product.summary["emerging_hotspots"]
            result["people"] = {k: product.people[k] for k in ("victims", "repeat_victims", "offenders")}
            result["screenings"] = {k: v["people"] for k, v in (product.people["screenings"] or {}).items()}
            result["significant"] = product.volume["significant_changes"]
            result["tests"] = product.volume["tests"]
            result["handling"] = product.handling
            renders = {}
            for name, render in (
                ("html", lambda: assessment_output.to_html(product)),
                ("json", lambda: json.dumps(product.to_dict())),
                ("xlsx", lambda: assessment_output.to_xlsx(product)),
            ):
                body, wall, cpu = timed(render)
                renders[name] = (wall, cpu, len(body.encode() if isinstance(body, str) else body))
            result["renders"] = renders
    finally:
        store.close()
    result["rss"] = peak_mib()
    return result


def run_child(role: str, db: Path, what: str, since: str, until: str) -> dict:
    print(f"{what} as {role}", flush=True)
    command = [sys.executable, __file__, "--child", what, "--role", role, "--db", str(db)]
    command += ["--since", since, "--until", until]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    line = next(line for line in reversed(done.stdout.splitlines()) if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


class OtherLoad:
    """CPU time other processes used while the bench ran, as a share of all cores (children are ours)."""

    def __init__(self) -> None:
        self.started = (time.monotonic(), self._busy(), self._own())

    @staticmethod
    def _busy() -> float:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own() -> float:
        mine = os.times()
        return mine.user + mine.system + mine.children_user + mine.children_system

    def share(self) -> float:
        wall, busy, own = self.started
        others = (self._busy() - busy) - (self._own() - own)
        return max(others, 0.0) / ((time.monotonic() - wall) * (os.cpu_count() or 1))


def product_hash() -> str:
    digest = hashlib.sha256()
    for name in PRODUCT_FILES:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()[:12]


# ------------------------------------------------------------------------------------- the block
def _answer(run: dict) -> tuple:
    return run["incidents"], run["priorities"], run["hot_cells"], run["significant"], str(run["screenings"])


def report(args, plan: Plan, db: Path, build_seconds: float, counts: dict, runs: dict, started: str, share) -> str:
    analyst, partner, what_ifs = runs["analyst"], runs["partner"], runs.get("what_ifs", {})
    reads = runs["reads"]
    entities, links = sum(counts["entities"].values()), sum(counts["links"].values())
    met = "met" if analyst["wall"] <= TARGET_S else "**not met**"

    def row(name: str, a: tuple, p: tuple | None) -> str:
        right = f"{p[0]:.1f} | {p[1]:.1f}" if p else " | "
        ratio = f"{p[0] / a[0]:.2f}x" if p and a[0] > 0.05 else ""
        return f"| {name} | {a[0]:.1f} | {a[1]:.1f} | {right} | {ratio} |"

    table = [
        "| what | analyst s | CPU s | partner viewer s | CPU s | partner / analyst |",
        "|---|---|---|---|---|---|",
        row("**strategic assessment** (`build_strategic_assessment`)", (analyst["wall"], analyst["cpu"]),
            (partner["wall"], partner["cpu"])),
        row("the store's incident read alone (`store.incidents`, 36-month window)",
            (reads["analyst"]["wall"], reads["analyst"]["cpu"]), (reads["partner"]["wall"], reads["partner"]["cpu"])),
    ]  # fmt: skip
    for n, (name, what_if) in enumerate(what_ifs.items()):
        table.insert(
            3 + n,
            row(
                f"what-if, analyst: the same {WHAT_IFS[name]}; {what_if['wall'] / analyst['wall']:.2f}x the run as "
                f"it is; peak {what_if['rss_build']:,.0f} MiB",
                (what_if["wall"], what_if["cpu"]),
                None,
            ),
        )
    for name in ("html", "json", "xlsx"):
        a, p = analyst["renders"][name], partner["renders"][name]
        label = {"html": "`to_html`", "json": "`json.dumps(product.to_dict())`", "xlsx": "`to_xlsx`"}[name]
        table.append(row(f"{label} ({a[2] / 2**20:.1f} MiB; partner {p[2] / 2**20:.1f} MiB)", a[:2], p[:2]))
    memory = (
        f"Peak memory (VmHWM, each process its own; {analyst['rss_start']:,.0f} MiB once the modules are "
        f"imported, before any work): the read alone {reads['analyst']['rss']:,.0f} MiB "
        f"(partner {reads['partner']['rss']:,.0f}); the assessment {analyst['rss_build']:,.0f} MiB "
        f"(partner {partner['rss_build']:,.0f}), with rendering {analyst['rss']:,.0f} MiB "
        f"(partner {partner['rss']:,.0f})."
    )
    steps = [
        "| progress step (time to the next) | analyst s | CPU s | partner viewer s | CPU s |",
        "|---|---|---|---|---|",
    ]
    for (name, wall, cpu), (_, p_wall, p_cpu) in zip(analyst["steps"], partner["steps"], strict=True):
        steps.append(f"| {name} | {wall:.1f} | {cpu:.1f} | {p_wall:.1f} | {p_cpu:.1f} |")
    part_names = ["read_scoped", "store.incidents", "store: incident rows", "store: assemble", *PARTS[1:]]
    part_names.append("store: _load_ids")
    inside = {"store.incidents", "store: incident rows", "store: assemble", "score_candidates"}
    header = "| function (calls) | analyst s | CPU s | partner viewer s | CPU s |"
    for name in what_ifs:
        header += f" analyst, {name.removeprefix('build-')} s | CPU s |"
    parts = [header, "|---" * header.count(" |") + "|"]
    for name in part_names:
        a, p = analyst["parts"].get(name), partner["parts"].get(name)
        if a is None and p is None:
            continue
        a, p = a or [0, 0, 0], p or [0, 0, 0]
        label = {
            "store.incidents": "of which `store.incidents`",
            "store: incident rows": "of which: SQL rows (`_incident_rows`)",
            "store: assemble": "of which: `assemble`",
            "score_candidates": "of which `score_candidates`",
            "store: _load_ids": "across all of them: `EmbeddedStore._load_ids` (ids into temp tables)",
        }.get(name, f"`{name}`")
        indent = "&nbsp;&nbsp;" if name in inside else ""
        line = f"| {indent}{label} ({a[2]}) | {a[0]:.1f} | {a[1]:.1f} | {p[0]:.1f} | {p[1]:.1f} |"
        for what_if in what_ifs.values():
            w = what_if["parts"].get(name) or [0, 0, 0]
            line += f" {w[0]:.1f} | {w[1]:.1f} |"
        parts.append(line)
    read_a, read_p = reads["analyst"], reads["partner"]
    text = (
        f"\n### Strategic assessment, {started} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, SQLite {embedded.sqlite3.sqlite_version}\n\n"
        f"bench/assess_strategic.py: generated partnership (seed {plan.seed}), {plan.incidents:,} incidents over "
        f"24 months to {LAST_DAY.isoformat()} (crimes 65%, month-only; ASB 27%; deliberate fires 8%), on "
        f"{STREETS:,} streets in {LSOA_ROWS * LSOA_COLS:,} LSOAs and {WARDS} wards, "
        f"40% of crimes naming people (C records), {plan.reports:,} intelligence reports, {PROBLEMS} "
        f"problems: {entities:,} entities, {links:,} links, embedded store built in {build_seconds:,.0f} s "
        f"({db.stat().st_size / 2**30:.1f} GiB; store file read through before each run). Timed, each in a fresh "
        "process, one at a time: `build_strategic_assessment(ClearedView(store, model, clearance_for(role)), "
        "model, AssessmentSettings.load())` with its defaults (12 months ending at the latest incident, "
        f"screenings on): period {analyst['period']['from']} to {analyst['period']['to']}, "
        f"{analyst['incidents']:,} incidents against {analyst['previous']:,} the year before "
        f"(partner viewer: {partner['incidents']:,}); {analyst['significant']} of {analyst['tests']} changes "
        f"significant, {analyst['priorities']:,} candidate priorities scored, {analyst['hot_cells']} hot cells "
        f"listed, {analyst['emerging']} emerging; {analyst['people']['victims']:,} victims "
        f"({analyst['people']['repeat_victims']:,} repeat), {analyst['people']['offenders']:,} offenders and "
        f"suspects (partner viewer: {partner['people']['victims']:,} and {partner['people']['offenders']:,}); "
        f"screenings {analyst['screenings']}. The read alone read {read_a['incidents']:,} incidents and "
        f"{read_a['involvements']:,} involvements (partner viewer {read_p['incidents']:,} and "
        f"{read_p['involvements']:,}). Target (acceptance): a strategic assessment over 1M incidents within "
        f"{TARGET_S} s on the embedded store. Product code: the working tree's {len(PRODUCT_FILES)} files the "
        f"build runs (strategic, assessing, priorities, screenings, assessment_output, incident_read, embedded, "
        f"collector, view, hotspots, significance, concentration, volumes), sha256 {runs['code']}.\n\n"
        "Wall and CPU seconds (each process's own; what other processes take shows as wall beyond CPU):\n\n"
        + "\n".join(table)
        + "\n\n"
        + memory
        + "\n\nThe build split where it reports progress (from each step to the next):\n\n"
        + "\n".join(steps)
        + "\n\nAnd by the functions it calls (wrapped to time them, in the order the build calls them; "
        '"of which" rows are inside the row above; screenings run inside "people and concentration"):\n\n'
        + "\n".join(parts)
        + "\n\n"
        f"Target: {met} (analyst {analyst['wall']:.1f} s). Partner viewer / analyst, same run: "
        f"{partner['wall'] / analyst['wall']:.2f}x for the assessment, "
        f"{read_p['wall'] / read_a['wall']:.2f}x for the read alone. "
        + "".join(
            f"What-if (the product with one of its choices undone), {WHAT_IFS[name]}: the analyst's build took "
            f"{what_if['wall']:.1f} s, {what_if['wall'] / analyst['wall']:.2f}x the run as it is, with "
            + ("the same" if _answer(what_if) == _answer(analyst) else "**a different**")
            + f" answer ({what_if['incidents']:,} incidents, {what_if['priorities']:,} candidates, "
            f"screenings {what_if['screenings']}). "
            for name, what_if in what_ifs.items()
        )
        + (
            f"The machine was shared: other processes used {share:.0%} of its {os.cpu_count()} cores over the run."
            if share >= 0.05
            else f"The machine was otherwise idle (other processes used {share:.0%} of its cores over the run)."
        )
        + (f" {args.note}" if args.note else "")
        + "\n"
    )
    profile = runs.get("profile")
    if profile:
        total = profile["total_tt"]
        text += (
            f"\nWhere the analyst's build goes, under cProfile ({profile['wall']:.0f} s with the profiler's "
            "overhead; shares of the profiled time, top functions by own time):\n\n"
            "| function | calls | own s | share | with callees s |\n|---|---|---|---|---|\n"
            + "\n".join(
                f"| `{r['function']}` | {r['calls']:,} | {r['tottime']:.1f} | {r['tottime'] / total:.0%} "
                f"| {r['cumtime']:.1f} |"
                for r in profile["by_tottime"][:15]
            )
            + "\n"
        )
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="also profile the analyst's build (cProfile)")
    parser.add_argument("--note", default="", help="a sentence for the results (e.g. what else ran)")
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="also the analyst's build with the cycle collector running, and with the store file not memory-mapped",
    )
    parser.add_argument("--child", choices=["read", "build", *WHAT_IFS, "profile"], help=argparse.SUPPRESS)
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--since", help=argparse.SUPPRESS)
    parser.add_argument("--until", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        db = Path(args.db)
        result = child(args.role, db, args.child, args.since, args.until, db.parent)
        print("RESULT " + json.dumps(result), flush=True)
        return

    model, settings = default_model(), AssessmentSettings.load()
    check_names(model, settings)
    plan = Plan(args.incidents, args.seed)
    folder = ROOT / "var" / "bench" / f"assess-{args.incidents}-{args.seed}"
    print(f"the store under {folder.relative_to(ROOT)}", flush=True)
    build_seconds = build(plan, model, folder)
    db = folder / "graph.db"
    counts = json.loads((folder / "counts.json").read_text())
    widest = whole_months(date.today(), MONTHS * 2 + 12)  # what the product reads with its defaults

    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    code = product_hash()
    load = OtherLoad()
    analyst, partner = Role.ANALYST.value, Role.PARTNER_VIEWER.value
    runs: dict = {"reads": {}}
    runs["reads"]["analyst"] = run_child(analyst, db, "read", widest.since, widest.until)
    runs["reads"]["partner"] = run_child(partner, db, "read", widest.since, widest.until)
    runs["analyst"] = run_child(analyst, db, "build", widest.since, widest.until)
    print(f"  analyst: {runs['analyst']['wall']:.1f} s", flush=True)
    runs["partner"] = run_child(partner, db, "build", widest.since, widest.until)
    print(f"  partner viewer: {runs['partner']['wall']:.1f} s", flush=True)
    if args.profile or runs["analyst"]["wall"] > TARGET_S:
        runs["profile"] = run_child(analyst, db, "profile", widest.since, widest.until)
    if args.what_if:
        runs["what_ifs"] = {}
        for name in WHAT_IFS:
            runs["what_ifs"][name] = run_child(analyst, db, name, widest.since, widest.until)
            print(f"  analyst, {name}: {runs['what_ifs'][name]['wall']:.1f} s", flush=True)
    share = load.share()
    runs["code"] = code if product_hash() == code else f"{code}, **changed during the run** to {product_hash()}"
    text = report(args, plan, db, build_seconds, counts, runs, started, share)
    publish(text, write=args.write)
    if args.write:
        list_in_readme("assess_strategic.py", README_ROW, README_COMMAND)


if __name__ == "__main__":
    main()
