from __future__ import annotations

import pytest

from nimgraph.ontology import ONTOLOGY_DIR, Core, UnknownTypeError, load_model, relationship_name


def test_core_terms_are_defined(model):
    for name in Core.entity_terms():
        assert model.entity_type(name).label
    for name in Core.link_terms():
        assert model.link_type(name).definition


def test_every_type_has_a_label_and_definition(model):
    for entity in model.entities.values():
        assert entity.label, entity.name
        assert entity.definition, entity.name
    for link in model.links.values():
        assert link.label and link.definition, link.name


def test_inheritance(model):
    assert model.is_a("CrimeIncident", Core.EVENT)
    assert model.is_a("LSOA", Core.LOCATION)
    assert not model.is_a("Person", Core.EVENT)
    assert {"victimIn", "offenderIn", "suspectIn", "witnessIn", "reporterIn"} <= model.descendants(Core.INVOLVED_IN)
    assert "date" in model.properties_for("ASBIncident")
    assert "dateOfBirth" not in model.properties_for("ASBIncident")


def test_constraints_come_from_shapes_and_are_inherited(model):
    paths = {c.path for c in model.constraints_for("ASBIncident") if c.min_count >= 1}
    assert "date" in paths
    crime = {c.path for c in model.constraints_for("CrimeIncident") if c.min_count >= 1}
    assert {"date", "category"} <= crime


def test_association_weights_rank_household_above_social_above_incidental(model):
    assert model.association_weight("livesWith") > model.association_weight("knows")
    assert model.association_weight("familyOf") > model.association_weight("knows")
    assert model.association_weight("knows") > model.association_weight("Street")


def test_relationship_names_follow_one_rule(model):
    assert model.link_type("victimIn").relationship == "VICTIM_IN"
    for link in model.links.values():
        assert link.relationship == relationship_name(link.name)
        assert link.relationship.replace("_", "").isalpha() and link.relationship.isupper()


def test_unknown_type_suggests_the_nearest(model):
    with pytest.raises(UnknownTypeError, match="Did you mean 'Person'"):
        model.entity_type("Persn")


def test_model_is_immutable(model):
    with pytest.raises(TypeError):
        model.entities["Dragon"] = model.entities["Person"]  # type: ignore[index]


def test_missing_core_term_fails_loading(tmp_path):
    text = (ONTOLOGY_DIR / "nim.ttl").read_text()
    (tmp_path / "nim.ttl").write_text(text.replace("nim:Problem a owl:Class", "nim:Trouble a owl:Class"))
    with pytest.raises(UnknownTypeError, match="Problem"):
        load_model(tmp_path)
