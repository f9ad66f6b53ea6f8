"""A generated partnership graph at scale: N entities, about 5N links, every item with provenance.

Seeded and stateless per item (ids come from indexes), so it streams in batches without holding
the graph in memory. The shape follows what partner data gives:

- people (40%), crimes (20%), addresses (15%), phones (15%), vehicles (10%);
- each person lives at an address, uses one to three phones, sometimes a vehicle (the nominal
  record that names them asserts it all);
- each crime occurred at an address and involves three to nine people in the usual roles (the crime
  record asserts it all);
- social links (knows, family, social contact), about 6.1 per person, mostly inside groups of
  about 20 people, the rest drawn towards a few very connected people (hubs of thousands), from
  intelligence reports of five links each, graded across the 3x5x2 range.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from nimgraph.ontology import Core
from nimgraph.records import Assertion, Batch, Entity, Link

SHARES = {"people": 0.40, "crimes": 0.20, "addresses": 0.15, "phones": 0.15, "vehicles": 0.10}
SOCIAL_PER_PERSON = 6.1
GROUP = 20
GRADES = ["1AP", "1BP", "2BC", "2CC", "3DC", "1AC"]
ROLES = [Core.VICTIM_IN, Core.OFFENDER_IN, Core.SUSPECT_IN, "witnessIn"]


@dataclass(frozen=True)
class Plan:
    entities: int
    seed: int = 7

    def count(self, kind: str) -> int:
        return int(self.entities * SHARES[kind])


def _id(prefix: str, i: int) -> str:
    return f"{prefix}{i:08d}"


def person_id(i: int) -> str:
    return _id("P", i)


def _record(source: str, record_id: str, grade: str, day: str) -> Assertion:
    return Assertion(source, record_id, f"{source}.csv", 0, day, grade, grade[-1])


def _day(rng: random.Random) -> str:
    return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _skewed(rng: random.Random, n: int) -> int:
    """Mostly anyone, sometimes one of the few hubs at the low indexes."""
    return int(n * rng.random() ** 6) if rng.random() < 0.3 else rng.randrange(n)


def entity_batches(plan: Plan, size: int = 20_000) -> Iterator[Batch]:
    """Every entity once, asserted by the record that first names it."""
    rng = random.Random(plan.seed)
    kinds = [
        ("people", "P", "Person", "nominals"),
        ("crimes", "C", "CrimeIncident", "crimes"),
        ("addresses", "A", "Address", "gazetteer"),
        ("phones", "T", "Phone", "gazetteer"),
        ("vehicles", "V", "Vehicle", "gazetteer"),
    ]
    batch: list[Entity] = []
    for kind, prefix, type_name, source in kinds:
        for i in range(plan.count(kind)):
            eid = _id(prefix, i)
            props: dict = {"name": f"{type_name} {i}"}
            if type_name == "CrimeIncident":
                props = {"reference": eid, "date": _day(rng), "category": "Burglary"}
            record = _record(source, eid, "1AP", _day(rng))
            batch.append(Entity(id=eid, type=type_name, properties=props, provenance=[record]))
            if len(batch) >= size:
                yield Batch(entities=batch, run="generated")
                batch = []
    if batch:
        yield Batch(entities=batch, run="generated")


def link_batches(plan: Plan, size: int = 20_000) -> Iterator[Batch]:
    """About five links per entity, each asserted by a nominal, crime or intelligence record."""
    rng = random.Random(plan.seed + 1)
    people, crimes = plan.count("people"), plan.count("crimes")
    addresses, phones, vehicles = plan.count("addresses"), plan.count("phones"), plan.count("vehicles")
    links: list[Link] = []

    def add(kind: str, source: str, target: str, record: Assertion) -> Iterator[Batch]:
        nonlocal links
        links.append(
            Link(
                id=f"{kind}:{source}:{target}:{len(links)}",
                type=kind,
                source=source,
                target=target,
                provenance=[record],
            )
        )
        if len(links) >= size:
            yield Batch(links=links, run="generated")
            links = []

    for i in range(people):
        person = person_id(i)
        record = _record("nominals", person, "1AP", _day(rng))
        yield from add(Core.LIVES_AT, person, _id("A", rng.randrange(addresses)), record)
        for _ in range(rng.randint(1, 3)):
            yield from add("usesPhone", person, _id("T", rng.randrange(phones)), record)
        if rng.random() < 0.25:
            yield from add("usesVehicle", person, _id("V", rng.randrange(vehicles)), record)
    for i in range(crimes):
        crime = _id("C", i)
        record = _record("crimes", crime, "1AP", _day(rng))
        yield from add(Core.OCCURRED_AT, crime, _id("A", rng.randrange(addresses)), record)
        group = rng.randrange(people // GROUP)
        for _ in range(rng.randint(3, 9)):
            member = group * GROUP + rng.randrange(GROUP) if rng.random() < 0.7 else rng.randrange(people)
            yield from add(rng.choice(ROLES), person_id(member), crime, record)
    social = int(people * SOCIAL_PER_PERSON)
    for n in range(social):
        if n % 5 == 0:
            record = _record("intel", f"IR{n // 5:08d}", rng.choice(GRADES), _day(rng))
        a = rng.randrange(people)
        b = (a // GROUP) * GROUP + rng.randrange(GROUP) if rng.random() < 0.8 else _skewed(rng, people)
        if a != b:
            kind = rng.choices([Core.FAMILY_OF, "knows", "socialContact"], weights=[1, 5, 3])[0]
            yield from add(kind, person_id(a), person_id(b), record)
    if links:
        yield Batch(links=links, run="generated")
