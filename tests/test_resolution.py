"""Record linkage finds planted near-duplicates across agencies, and proposes few pairs that are not.

A seeded population of people as the police hold them; a council and a fire service hold some of
them again, each copy changed the way real partner records differ: a typo, a nickname, the day and
month swapped, a moved address, no forename. The model, trained unsupervised on these rows with the
packaged settings, must find at least 95% of the planted pairs with at least 95% precision.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pandas as pd
import pytest
from linkage_places import ADDRESS_CHANGES, VEHICLE_CHANGES, addresses, vehicles

from nimgraph.resolution.frames import NICKNAMES, person_row
from nimgraph.resolution.linkage import LinkageError, load_settings, predict, train

FORMAL = sorted(set(NICKNAMES.values()))
SHORT = {formal: [n for n, f in NICKNAMES.items() if f == formal] for formal in FORMAL}
OTHER_FORENAMES = ["aisha", "bilal", "chloe", "dylan", "freya", "hamza", "imogen", "kai", "layla", "noah", "priya"]
SURNAMES = [
    "smith", "jones", "taylor", "brown", "williams", "wilson", "johnson", "davies", "patel", "robinson", "wright",
    "thompson", "evans", "walker", "white", "roberts", "green", "hall", "thomas", "clarke", "jackson", "wood",
    "harris", "edwards", "turner", "martin", "cooper", "hill", "ward", "hughes", "moore", "clark", "king", "harrison",
    "lewis", "baker", "lee", "allen", "morris", "khan", "scott", "watson", "davis", "parker", "james", "bennett",
    "young", "phillips", "richardson", "mitchell", "bailey", "carter", "cook", "singh", "shaw", "bell", "collins",
]  # fmt: skip
STREETS = ["mill lane", "church street", "park road", "victoria road", "station road", "green lane", "high street"]
CHANGES = ("typo", "nickname", "swapped", "moved", "no_forename")


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if rng.random() < 0.5 else word[:i] + word[i + 1 :]


def _postcode(rng: random.Random) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"NW{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def population(seed: int = 7, people: int = 600, copies: int = 120):
    """Police rows for ``people``; council and fire copies of ``copies`` of them; the planted pairs, each
    with the change its copy carries."""
    rng = random.Random(seed)
    police, partners, planted = [], [], {}
    for n in range(people):
        forename = rng.choice(FORMAL + OTHER_FORENAMES)
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
        person = {
            "forename": forename,
            "surname": rng.choice(SURNAMES),
            "dateOfBirth": born.isoformat(),
            "addressLine": f"{rng.randint(1, 200)} {rng.choice(STREETS)}",
            "postcode": _postcode(rng),
            "phoneNumber": f"07700 9{rng.randint(0, 99999):05d}" if rng.random() < 0.5 else None,
        }
        police.append(person_row(f"police-{n}", "police", {k: v for k, v in person.items() if v}))
        if n >= copies:
            continue
        change = CHANGES[n % len(CHANGES)]
        copy = dict(person, phoneNumber=None)
        made = change
        if change == "typo":
            copy["surname"] = _typo(rng, copy["surname"])
        elif change == "nickname":
            copy["forename"] = rng.choice(SHORT.get(forename) or [forename])
        elif change == "swapped":
            if born.day <= 12 and born.day != born.month:
                copy["dateOfBirth"] = date(born.year, born.day, born.month).isoformat()
            else:
                made = "none"
        elif change == "moved":
            copy["addressLine"] = f"{rng.randint(1, 200)} {rng.choice(STREETS)}"
            copy["postcode"] = _postcode(rng)
        elif change == "no_forename":
            copy.pop("forename")
        source = "council" if n % 2 else "fire"
        partners.append(person_row(f"{source}-{n}", source, {k: v for k, v in copy.items() if v}))
        planted[frozenset((f"police-{n}", f"{source}-{n}"))] = made
    return pd.DataFrame(police), pd.DataFrame(partners), planted


def test_the_model_finds_the_planted_near_duplicates():
    settings = load_settings()["person"]
    police, partners, planted = population()
    trained = train(settings, [pd.concat([police, partners], ignore_index=True)], link_type="dedupe_only")
    pairs = predict(trained)
    proposed = {frozenset((p.left, p.right)) for p in pairs}
    found = proposed & set(planted)
    recall, precision = len(found) / len(planted), len(found) / len(proposed)
    assert recall >= 0.95, f"recall {recall:.3f}: missed {sorted(map(sorted, set(planted) - proposed))[:5]}"
    assert precision >= 0.95, f"precision {precision:.3f}: {sorted(map(sorted, proposed - set(planted)))[:5]}"
    for change in CHANGES:  # every kind of difference is found, not only the easy ones
        kind = [pair for pair, made in planted.items() if made == change]
        assert kind and len(proposed & set(kind)) >= 0.8 * len(kind), change
    # each proposal explains itself: the comparisons that moved it, summing (with the prior) to its weight
    top = pairs[0]
    assert top.contributions and all(isinstance(v, float) for v in top.contributions.values())
    assert 0.9 <= top.match_probability <= 1 and top.match_weight > 0
    assert len(trained.model_id) == 16


def test_a_swapped_day_and_month_is_its_own_level_and_adds_evidence():
    settings = load_settings()["person"]
    police, partners, planted = population()
    trained = train(settings, [pd.concat([police, partners], ignore_index=True)])
    pairs = {frozenset((p.left, p.right)): p for p in predict(trained)}
    swapped = [pairs[pair] for pair, made in planted.items() if made == "swapped" and pair in pairs]
    assert swapped
    # levels count down from the closest: null -1, then exact 5, swapped 4, one edit 3, month 2, year 1, else 0
    assert {p.levels["dob"] for p in swapped} == {"4"}
    assert all(p.contributions["dob"] > 0 for p in swapped)  # evidence for a match, if less than an exact date


def test_settings_say_what_is_wrong(tmp_path):
    bad = tmp_path / "resolution.yaml"
    bad.write_text("person:\n  threshold: 2\n  comparisons: []\n")
    with pytest.raises(LinkageError, match="threshold"):
        load_settings(bad)
    bad.write_text("people:\n  threshold: 0.9\n  comparisons: []\n")
    with pytest.raises(LinkageError, match="not one of"):
        load_settings(bad)
    bad.write_text("person:\n  threshold: 0.9\n  comparisons: [{column: dob, kind: fuzzy}]\n")
    with pytest.raises(LinkageError, match="unknown comparison kinds"):
        load_settings(bad)


@pytest.mark.parametrize("kind", ["address", "vehicle"])
def test_the_same_home_and_the_same_vehicle_are_found_and_their_neighbours_are_not(kind):
    """Homes written another way and misread registrations are found; the next house on the street, a flat
    in the same building, a street of the same name elsewhere and a car like it mostly are not."""
    frame, planted = addresses() if kind == "address" else vehicles()
    trained = train(load_settings()[kind], [frame])
    proposed = {frozenset((p.left, p.right)) for p in predict(trained)}
    found = proposed & set(planted)
    assert len(found) / len(planted) >= 0.95, f"recall {len(found)}/{len(planted)}"
    assert len(found) / len(proposed) >= 0.95, f"precision {len(found)}/{len(proposed)}"
    changes = ADDRESS_CHANGES if kind == "address" else VEHICLE_CHANGES
    for change in changes:
        of_change = [pair for pair, made in planted.items() if made == change]
        assert of_change and len(proposed & set(of_change)) >= 0.8 * len(of_change), change
    if kind == "address":  # two homes at one postcode are never proposed only for sharing it
        rows = frame.set_index("unique_id")
        neighbours = [p for p in proposed - set(planted) if len({rows.loc[i, "premise"] for i in p}) > 1]
        assert neighbours == []


def test_the_same_data_and_settings_give_the_same_model_id_and_linkage_prints_nothing(capfd):
    """A run records the model it used: training twice on the same rows is the same model, so the id says
    whether two runs' proposals came from one model. And Splink configures no logging of its own."""
    police, partners, _ = population(people=300, copies=60)
    rows = pd.concat([police, partners], ignore_index=True)
    first, second = (train(load_settings()["person"], [rows]) for _ in range(2))
    assert first.model_id == second.model_id
    police, partners, _ = population(seed=8, people=300, copies=60)
    other = train(load_settings()["person"], [pd.concat([police, partners], ignore_index=True)])
    assert other.model_id != first.model_id
    printed = capfd.readouterr()
    assert printed.out == "" and printed.err == ""
