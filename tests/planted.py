"""A small graph with patterns planted on purpose, for checking every graph-wide question.

Everything a partner may see is handled P; a C-only part (a hub with its own circle, crimes at
one street, a hidden associate of the broker) would change every ranking, group and count if it
leaked. ``only_shared()`` is the same graph without the C part: a partner's answers on the full
graph must equal an analyst's on it.
"""

from __future__ import annotations

from itertools import combinations

from nimgraph.records import Assertion, Batch, Entity, Link

GROUP_A = [f"Person-a{i}" for i in range(1, 6)]
GROUP_B = [f"Person-b{i}" for i in range(1, 6)]  # as many as A: the broker alone joins most pairs
BROKER = "Person-broker"
OFFENDERS = ["Person-o1", "Person-o2", "Person-o3"]
VULNERABLE = "Person-v"
FRIEND_OF_VULNERABLE = "Person-w"
SIBLING = "Person-sib"
FLAT = "Address-flat"
HUB = "Person-hub"
HIDDEN_CIRCLE = [f"Person-h{i}" for i in range(1, 9)]
# Seen by a partner, but linked only by C records: a hidden knows link, a hidden offence. Nothing
# asked of knows or offender links may so much as list them for a partner.
QUIET = "Person-quiet"
SECRET_OFFENDER = "Person-secret"
STREETS = {"Street-s1": 3, "Street-s2": 2, "Street-s3": 1}  # P crimes at each street
HIDDEN_CRIMES_AT = "Street-s3"  # and 5 C crimes there: top for an analyst, third for a partner
HIDDEN_CRIMES = 5

NAMES = {
    BROKER: ("Bea", "Broker"),
    VULNERABLE: ("Vic", "Vale"),
    FRIEND_OF_VULNERABLE: ("Wyn", "Webb"),
    SIBLING: ("Sid", "Vale"),
    HUB: ("Hal", "Hidden"),
}


def _record(item: str, handling: str, date: str | None = "2026-03-01") -> Assertion:
    return Assertion("planted", f"rec-{item}", "planted.csv", 2, date, f"1A{handling}", handling)


def _person(entity_id: str, handling: str = "P") -> Entity:
    forename, surname = NAMES.get(entity_id, (entity_id.split("-")[1].title(), "Planted"))
    return Entity(entity_id, "Person", {"forename": forename, "surname": surname}, [_record(entity_id, handling)])


def _link(kind: str, source: str, target: str, handling: str = "P", date: str | None = "2026-03-01") -> Link:
    link_id = f"{kind}-{source}-{target}"
    return Link(link_id, kind, source, target, {}, [_record(link_id, handling, date)])


def knows_pairs() -> list[tuple[str, str]]:
    """The P ``knows`` links, as plain pairs for an independent computation."""
    pairs = [*combinations(GROUP_A, 2), *combinations(GROUP_B, 2)]
    pairs += [(BROKER, GROUP_A[0]), (BROKER, GROUP_B[0])]
    pairs += list(combinations(OFFENDERS, 2))
    pairs += [(VULNERABLE, o) for o in OFFENDERS] + [(FRIEND_OF_VULNERABLE, VULNERABLE)]
    return pairs


def hidden_knows_pairs() -> list[tuple[str, str]]:
    return (
        [(HUB, GROUP_A[2]), (HUB, BROKER), (QUIET, GROUP_A[3])]
        + [(HUB, h) for h in HIDDEN_CIRCLE]
        + list(combinations(HIDDEN_CIRCLE[:4], 2))
    )


def crimes() -> list[tuple[str, str, str, str]]:
    """(crime id, street, handling, outcome) for every planted crime."""
    found = []
    for street, count in STREETS.items():
        found += [
            (f"CrimeIncident-{street[7:]}-{i}", street, "P", "Charged" if i == 0 else "No further action")
            for i in range(count)
        ]
    found += [(f"CrimeIncident-hidden-{i}", HIDDEN_CRIMES_AT, "C", "Charged") for i in range(HIDDEN_CRIMES)]
    return found


def batch(with_hidden: bool = True) -> Batch:
    people = [*GROUP_A, *GROUP_B, BROKER, *OFFENDERS, VULNERABLE, FRIEND_OF_VULNERABLE, SIBLING]
    entities = [_person(p) for p in people]
    entities.append(
        Entity(FLAT, "Address", {"addressLine": "1 Flat Lane", "postcode": "NS1 1AA"}, [_record(FLAT, "P")])
    )
    for street in STREETS:
        entities.append(Entity(street, "Street", {"name": street[7:].upper() + " Street"}, [_record(street, "P")]))
    links = [_link("knows", a, b) for a, b in knows_pairs()]
    joint = "CrimeIncident-joint"
    entities.append(
        Entity(joint, "CrimeIncident", {"crimeType": "Robbery", "date": "2026-02-01"}, [_record(joint, "P")])
    )
    links += [_link("offenderIn", o, joint) for o in OFFENDERS]
    links += [
        _link("familyOf", SIBLING, VULNERABLE),
        _link("livesAt", SIBLING, FLAT),
        _link("livesAt", VULNERABLE, FLAT),
    ]
    for crime, street, handling, outcome in crimes():
        if handling == "C" and not with_hidden:
            continue
        props = {"crimeType": "Burglary", "date": "2026-03-01", "outcome": outcome}
        entities.append(Entity(crime, "CrimeIncident", props, [_record(crime, handling)]))
        links.append(_link("occurredAt", crime, street, handling))
    entities += [_person(QUIET), _person(SECRET_OFFENDER)]
    if with_hidden:
        entities += [_person(HUB, "C"), *(_person(h, "C") for h in HIDDEN_CIRCLE)]
        links += [_link("knows", a, b, "C") for a, b in hidden_knows_pairs()]
        links += [
            _link("knows", QUIET, GROUP_A[3], "C"),
            _link("offenderIn", SECRET_OFFENDER, "CrimeIncident-s1-0", "C"),
        ]
    return Batch(entities=entities, links=links)
