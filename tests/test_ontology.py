from __future__ import annotations

from pathlib import Path

import pytest

from nimgraph.ontology import ONTOLOGY_DIR, Core, UnknownTypeError, fold, load_model, relationship_name


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


# ---------------------------------------------------------------- issue 4: completeness and self-checks
def _ontology_graph():
    from rdflib import Graph

    graph = Graph()
    for path in sorted(ONTOLOGY_DIR.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def test_every_property_has_a_domain_and_a_range():
    from rdflib import OWL, RDF, RDFS

    graph = _ontology_graph()
    nim = "https://w3id.org/nimgraph/ontology#"
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in graph.subjects(RDF.type, kind):
            if str(prop).startswith(nim):
                assert graph.value(prop, RDFS.domain) is not None, f"{prop} has no rdfs:domain"
                assert graph.value(prop, RDFS.range) is not None, f"{prop} has no rdfs:range"
                assert graph.value(prop, RDFS.label) is not None, f"{prop} has no rdfs:label"


def test_every_property_and_code_list_is_documented(model):
    for prop in model.properties.values():
        assert prop.label and prop.definition, prop.name
    for code_list in model.code_lists.values():
        assert code_list.label and code_list.definition, code_list.name
        assert code_list.concepts, f"{code_list.name} has no concepts"
        notations = [c.notation for c in code_list.concepts]
        assert all(notations) and len(set(notations)) == len(notations), code_list.name
        assert all(c.label for c in code_list.concepts), code_list.name


def test_no_two_concepts_of_a_code_list_read_the_same_once_case_spaces_and_hyphens_are_folded(model):
    for code_list in model.code_lists.values():
        seen: dict[str, str] = {}
        for concept in code_list.concepts:
            for word in {concept.notation, concept.label, *concept.alt_labels}:
                folded = fold(word)
                assert seen.setdefault(folded, concept.notation) == concept.notation, (code_list.name, word)
                assert code_list.lookup(word) is concept, (code_list.name, word)


def test_every_concept_belongs_to_a_scheme():
    from rdflib import RDF, SKOS

    graph = _ontology_graph()
    schemes = set(graph.subjects(RDF.type, SKOS.ConceptScheme))
    concepts = set(graph.subjects(RDF.type, SKOS.Concept))
    assert concepts
    for concept in concepts:
        assert graph.value(concept, SKOS.inScheme) in schemes, concept
        assert graph.value(concept, SKOS.notation) is not None, concept


@pytest.mark.parametrize(
    ("type_name", "ancestor"),
    [
        ("Organisation", None),
        ("Vehicle", Core.OBJECT),
        ("Weapon", Core.OBJECT),
        ("Phone", Core.OBJECT),
        ("EmailAddress", "OnlineIdentifier"),
        ("PropertyItem", Core.OBJECT),
        ("Premises", Core.LOCATION),
        ("Address", Core.LOCATION),
        ("Street", Core.LOCATION),
        ("LSOA", Core.AREA),
        ("Ward", Core.AREA),
        ("Neighbourhood", Core.AREA),
        ("PartnershipArea", Core.AREA),
        ("CrimeIncident", Core.EVENT),
        ("ASBIncident", Core.EVENT),
        ("DeliberateFire", Core.EVENT),
        ("HealthReferral", Core.EVENT),
        ("SubstanceMisuseReferral", Core.EVENT),
        ("Call", "Contact"),
        ("InformationSource", None),
        (Core.RECORD, None),
        (Core.INTELLIGENCE_REPORT, None),
        (Core.PROBLEM, None),
        ("Priority", None),
        ("TaskingGroup", None),
        ("TaskingMeeting", Core.EVENT),
        ("Tasking", None),
        ("Activity", None),
        ("Output", None),
        ("Outcome", None),
        ("Evaluation", None),
        ("SubjectProfile", "Product"),
        ("ProblemProfile", "Product"),
        ("TacticalAssessment", "Product"),
        ("StrategicAssessment", "Product"),
        ("Inference", None),
    ],
)
def test_the_ontology_covers_what_a_partnership_records(model, type_name, ancestor):
    assert model.entity_type(type_name).definition
    if ancestor:
        assert model.is_a(type_name, ancestor)


def test_roles_controllers_and_problem_solving_links(model):
    assert {"victimIn", "suspectIn", "offenderIn", "witnessIn", "reporterIn"} <= model.descendants(Core.INVOLVED_IN)
    for name in ("guardianOf", "handlerOf", "managerOf", "subProblemOf", "respondsTo", "producedBy", "evaluates"):
        assert model.link_type(name).definition
    assert model.link_type("managerOf").range == Core.LOCATION
    for name in ("agency", "dataset", "collectionMethod", "sharingAgreement", "legalGateway"):
        assert model.property_def(name).domain == "InformationSource"
    for name in ("owner", "saraStage", "scopeStart", "scopeEnd", "problemType", "proctorCause", "proctorResult"):
        assert name in model.properties_for(Core.PROBLEM)
    for name in ("pillar", "activityStatus", "resources", "owner"):
        assert name in model.properties_for("Activity")
    assert "termsOfReference" in model.properties_for("SubjectProfile")


def test_inferred_links_are_kept_apart_from_recorded_ones(model):
    inferred = {name for name, link in model.links.items() if link.inferred}
    assert {"possiblySameAs", "predictedAssociation"} <= inferred
    recorded_associations = model.descendants(Core.ASSOCIATED_WITH)
    assert not inferred & recorded_associations
    for name in ("inferenceMethod", "score", "evidence", "reviewStatus"):
        assert model.property_def(name).domain == "Inference"
    assert [c.notation for c in model.code_list("ReviewStatus").concepts] == ["proposed", "accepted", "rejected"]


def test_code_lists_cover_grading_and_partnership_vocabularies(model):
    from nimgraph import grading

    def labels(name):
        return {c.notation: c.label.lower() for c in model.code_list(name).concepts}

    # grading.py's tables must say what the ontology says
    assert labels("SourceEvaluation") == grading.SOURCE_EVALUATION
    assert labels("IntelligenceAssessment") == grading.INTELLIGENCE_ASSESSMENT
    assert labels("HandlingCode") == grading.HANDLING
    # 5x5x5 is its own list: same letters, different meanings
    assert labels("Legacy5x5x5Source")["A"] != labels("IntelligenceAssessment")["A"]
    assert len(model.code_list("Legacy5x5x5Intelligence").concepts) == 5
    assert len(model.code_list("Legacy5x5x5Handling").concepts) == 5
    crime_types = {c.label for c in model.code_list("PoliceUkCrimeType").concepts}
    assert {"Anti-social behaviour", "Violence and sexual offences", "Public disorder and weapons"} <= crime_types
    assert "Under investigation" in {c.label for c in model.code_list("PoliceUkOutcome").concepts}
    sara = [c.label for c in model.code_list("SaraStage").concepts]
    assert sara == ["Scanning", "Analysis", "Response", "Assessment"]
    assert {c.notation for c in model.code_list("Pillar").concepts} == {
        "prevention",
        "intelligence",
        "enforcement",
        "reassurance",
    }
    assert {"guardian", "handler", "place-manager", "victim"} <= {c.notation for c in model.code_list("Role").concepts}


def test_reuse_of_standard_vocabularies(model):
    assert "foaf:Person" in model.entity_type(Core.PERSON).aligned_with
    assert "schema:Person" in model.entity_type(Core.PERSON).aligned_with
    assert "prov:Entity" in model.entity_type(Core.RECORD).aligned_with
    assert "prov:wasDerivedFrom" in model.link_type("fromSource").aligned_with
    assert "schema:postalCode" in model.property_def("postcode").aligned_with


def test_keys_and_cardinality(model):
    assert model.entity_type("Vehicle").keys == ("registration",)
    assert model.entity_type("Address").keys == ("addressLine", "postcode")
    assert model.max_count("CrimeIncident", "date") == 1
    assert model.max_count("Person", "forename") is None


def test_the_model_cannot_be_changed(model):
    with pytest.raises(TypeError):
        model.entities["Spy"] = model.entity_type(Core.PERSON)  # type: ignore[index]
    with pytest.raises(TypeError):
        model.code_lists["Pillar"] = None  # type: ignore[index]


# Partner vocabulary that happens to equal a type name: column headers and words in generated files.
_NOT_TYPE_NAMES = {
    ("nimgraph/demo/generate.py", "Location"),  # a police.uk CSV column
    ("nimgraph/demo/generate.py", "Role"),  # a nominal extract column
    ("nimgraph/demo/generate.py", "Street"),  # a column, and a street-name suffix
    ("nimgraph/demo/generate.py", "Ward"),  # a column, and a surname
    ("nimgraph/analysis/inference.py", "Inference"),  # the Python class's name in __all__
    ("nimgraph/products/scope.py", "within"),  # a scope's field: the entities on a chart
    ("nimgraph/products/answers.py", "within"),  # that field, read back from an answer's parameters
    ("nimgraph/products/exporting.py", "within"),  # an export selection's field, as a scope's
}


def test_no_type_names_are_hard_coded_outside_the_ontology_module(model):
    import ast

    root = Path(__file__).resolve().parents[1]
    names = set(model.entities) | set(model.links) | set(model.code_lists)
    found = []
    for package in ("nimgraph", "api"):
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative == "nimgraph/ontology/__init__.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Constant) or node.value not in names:
                    continue
                if (relative, node.value) not in _NOT_TYPE_NAMES:
                    found.append(f"{relative}:{node.lineno}: {node.value!r}")
    assert not found, "type names belong in the ontology (use ontology.Core or the Model):\n" + "\n".join(found)


def test_committed_ontology_docs_are_current(model):
    from nimgraph.ontology_docs import DOCS_DIR, render

    DOCS_DIR = Path(__file__).resolve().parents[1] / DOCS_DIR

    stale = [
        name
        for name, text in render(model).items()
        if not (DOCS_DIR / name).exists() or (DOCS_DIR / name).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"docs/ontology is stale ({', '.join(stale)}): run `nimgraph ontology docs` and commit"


def test_ontology_docs_cover_every_term(model, tmp_path):
    from nimgraph.cli import main

    assert main(["ontology", "docs", "--output", str(tmp_path)]) == 0
    classes = (tmp_path / "classes.md").read_text()
    links = (tmp_path / "links.md").read_text()
    properties = (tmp_path / "properties.md").read_text()
    code_lists = (tmp_path / "code-lists.md").read_text()
    assert all(f"## {name}\n" in classes for name in model.entities)
    assert all(f"`{link.relationship}`" in links for link in model.links.values())
    assert all(f"## {name}\n" in properties for name in model.properties)
    assert all(f"## {name}\n" in code_lists for name in model.code_lists)
    assert "| `A1` | Corroborate only |" in code_lists
    from nimgraph.ontology_docs import write

    assert write(model, tmp_path) == []  # a second run changes nothing
