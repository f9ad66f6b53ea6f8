"""Everything nimgraph shows is called what the data calls it: labels from the ontology's patterns."""

from __future__ import annotations

import json
import re

from conftest import Demo

from nimgraph.demo import PLAN
from nimgraph.labels import entity_label, fill, label, short_id
from nimgraph.ontology import Model, load_model
from nimgraph.products.subject import build_subject_profile

# The fallback, "<Type in words> <eight hex digits>": what a label looks like when nothing readable was known.
FALLBACK = re.compile(r"^[A-Z][A-Za-z -]* [0-9a-f]{8}$")


def _every_entity(demo: Demo):
    offset = 0
    while page := demo.store.find(limit=1000, offset=offset):
        yield from page
        offset += len(page)


def test_every_demo_entity_from_every_source_is_labelled_from_its_properties(demo: Demo):
    sources: set[str] = set()
    for entity in _every_entity(demo):
        shown = entity_label(demo.model, entity)
        assert short_id(entity.id) not in shown, (entity.type, entity.properties)
        pattern = next(p for p in demo.model.labelling(entity.type) if fill(p, entity.properties))
        assert shown == fill(pattern, entity.properties)
        sources |= {record.source for record in entity.provenance}
    assert len(sources) == len(PLAN) + 1  # every partner file of the demo, and the partnership's own records


def test_people_are_named_in_full_and_things_by_what_identifies_them(model: Model):
    assert label(model, "Person", "Person-1", {"forename": "Dana", "surname": "Marlowe", "name": "Dana"}) == (
        "Dana Marlowe"
    )
    assert label(model, "Person", "Person-1", {"surname": "Marlowe", "nominalId": "NP1"}) == "Marlowe"
    assert label(model, "Phone", "Phone-1", {"phoneNumber": "07700 900123"}) == "07700 900123"
    assert label(model, "EmailAddress", "EmailAddress-1", {"identifier": "a@b.example"}) == "a@b.example"
    assert label(model, "Vehicle", "Vehicle-1", {"registration": "NS21 ABC"}) == "NS21 ABC"
    assert label(model, "Address", "Address-1", {"addressLine": "4 Mill Lane", "postcode": "NS1 4AB"}) == (
        "4 Mill Lane, NS1 4AB"
    )
    assert label(model, "CrimeIncident", "CrimeIncident-1", {"crimeType": "Burglary", "date": "2026-03-01"}) == (
        "Burglary, 2026-03-01"
    )
    # a subclass without its own patterns inherits its parent's (an ASB incident is an Event)
    assert label(model, "ASBIncident", "ASBIncident-1", {"category": "Noise", "date": "2026-01-02"}) == (
        "Noise, 2026-01-02"
    )
    hashed = "Phone-3b94c1d2e5f60718293a"
    assert label(model, "Phone", hashed, {}) == "Phone 3b94c1d2"  # the type in words, never the bare hash


def test_a_label_pattern_naming_an_unknown_property_fails_the_load(tmp_path):
    from nimgraph.ontology import ONTOLOGY_DIR

    for path in ONTOLOGY_DIR.glob("*.ttl"):
        text = path.read_text()
        if path.name == "nim.ttl":
            text = text.replace('nim:labelPatterns ( "{phoneNumber}" )', 'nim:labelPatterns ( "{phoneNumbr}" )')
        (tmp_path / path.name).write_text(text)
    try:
        load_model(tmp_path)
    except KeyError as err:
        assert "phoneNumbr" in str(err) and "Phone" in str(err) and "phoneNumber" in str(err)
    else:
        raise AssertionError("a pattern naming no property loaded")


def test_profiles_and_their_pages_show_labels_not_hashes(demo: Demo):
    profile = build_subject_profile(demo.store, demo.model, demo.result.subject_id).to_dict()
    labels: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            labels.extend(str(v) for k, v in value.items() if k == "label" or k.endswith("_label"))
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(profile)
    problem = json.loads(demo.result.reports["problem"].with_suffix(".json").read_text())
    walk(problem)
    assert len(labels) > 20
    assert not [text for text in labels if FALLBACK.match(text) or re.search(r"-[0-9a-f]{20}", text)]
    for page in (demo.result.reports["subject"], demo.result.reports["problem"]):  # the drawn networks
        drawn = re.findall(r'"label": "([^"]*)"', page.read_text())
        assert drawn and not [text for text in drawn if FALLBACK.match(text)], page
