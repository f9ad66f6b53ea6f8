"""The partnership's own records on both stores: written, changed, linked, unlinked, with history.

Each change is a record signed by its author; the store's merge gives the current state and the
records give the history. A partner viewer (P) sees only what P records say.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.ontology import Core
from nimgraph.records import Assertion, Batch, Entity
from nimgraph.tasking.history import history
from nimgraph.tasking.kinds import kind_named
from nimgraph.tasking.writes import SOURCE, RecordError, RecordNotFound, add_links, create, remove_link, update

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def keyed(store):
    store.id_key()  # as ingest does before its first write: the store's ids are keyed from the start


def partner_problem(store, handling: str = "P") -> str:
    """A problem from a partner's register, as ingest writes it."""
    record = Assertion("csp-problems", "PRB-7", "problems.csv", 2, "2026-10-01", f"1A{handling}", handling)
    store.upsert(
        Batch(
            entities=[Entity("Problem-7", Core.PROBLEM, {"title": "Eastfield ASB", "saraStage": "scanning"}, [record])]
        )
    )
    return "Problem-7"


def test_a_tasking_is_written_changed_and_its_history_kept(store, model):
    problem = partner_problem(store)
    made = create(
        store,
        model,
        kind_named("tasking"),
        {"title": "Visit repeat callers", "owner": "PC Lee", "dueDate": "2026-11-20", "taskingStatus": "Open"},
        {"concerning": [problem]},
        author="Sgt Shah",
        now=at(0),
    )
    update(store, model, made.id, {"taskingStatus": "in progress"}, author="PC Lee", now=at(60))
    update(store, model, made.id, {"taskingStatus": "done", "result": "12 visits"}, author="PC Lee", now=at(120))

    tasking = store.get(made.id)
    assert tasking.type == Core.TASKING
    assert tasking.properties == {
        "title": "Visit repeat callers",
        "owner": "PC Lee",
        "dueDate": "2026-11-20",
        "taskingStatus": "Done",  # the code list's label, as ingest stores it, whatever word was sent
        "result": "12 visits",
    }
    revisions = history(tasking)
    assert [(r.author, r.said) for r in revisions] == [
        (
            "Sgt Shah",
            {"title": "Visit repeat callers", "owner": "PC Lee", "dueDate": "2026-11-20", "taskingStatus": "Open"},
        ),
        ("PC Lee", {"taskingStatus": "In progress"}),
        ("PC Lee", {"taskingStatus": "Done", "result": "12 visits"}),
    ]
    assert [r.at[:16] for r in revisions] == ["2026-11-02T09:00", "2026-11-02T10:00", "2026-11-02T11:00"]
    assert all(r.source == SOURCE and r.handling == "P" for r in revisions)
    links = store.neighbourhood([made.id], 1, [Core.TASKS]).links
    assert [(k.source, k.target) for k in links.values()] == [(made.id, problem)]


def test_a_null_removes_a_value_and_the_history_says_so(store, model):
    made = create(
        store, model, kind_named("activity"), {"pillar": "prevention", "hours": 6, "cost": 250.5}, author="A", now=at(0)
    )
    update(store, model, made.id, {"cost": None}, author="B", now=at(5))
    activity = store.get(made.id)
    assert activity.properties == {"pillar": "Prevention", "hours": 6.0}
    assert history(activity)[-1].said == {"cost": None}


def test_a_partner_sees_only_what_p_records_say(store, model):
    made = create(store, model, kind_named("tasking"), {"title": "Patrol", "owner": "PC Lee"}, author="A", now=at(0))
    update(store, model, made.id, {"result": "Informant named a dealer"}, author="B", handling="C", now=at(1))
    update(store, model, made.id, {"owner": "DS Grey"}, author="B", handling="C", now=at(2))
    with pytest.raises(RecordError, match=r"(?i)a tasking needs an owner"):
        update(store, model, made.id, {"owner": None}, author="B", now=at(3))
    assert store.get(made.id).properties["owner"] == "DS Grey"
    partner = ClearedView(store, model, clearance_for(Role.PARTNER_VIEWER))
    seen = partner.get(made.id)
    assert seen.properties == {"title": "Patrol", "owner": "PC Lee"}  # neither C change shows
    assert [r.author for r in history(seen)] == ["A"]
    hidden = create(store, model, kind_named("tasking"), {"title": "X", "owner": "Y"}, author="A", handling="C")
    assert partner.get(hidden.id) is None
    assert [e.id for e in partner.find(Core.TASKING)] == [made.id]


def test_an_ingested_problem_moves_through_sara_and_gains_a_project(store, model):
    problem = partner_problem(store)
    update(store, model, problem, {"saraStage": "Response", "owner": "Insp Khan"}, author="Insp Khan", now=at(0))
    project = create(
        store,
        model,
        kind_named("problem"),
        {"title": "Alleygating, Eastfield Road", "owner": "Council ASB team"},
        {"parent": problem},
        author="Insp Khan",
        type_name=Core.PROJECT,
        now=at(1),
    )
    assert store.get(problem).properties["saraStage"] == "Response"
    assert [r.source for r in history(store.get(problem))] == ["csp-problems", SOURCE]
    assert store.get(project.id).type == Core.PROJECT
    sub = store.neighbourhood([problem], 1, [Core.SUB_PROBLEM_OF]).links
    assert [(k.source, k.target) for k in sub.values()] == [(project.id, problem)]


def test_unlinking_withdraws_only_the_partnerships_record(store, model):
    problem = partner_problem(store)
    activity = create(store, model, kind_named("activity"), {"pillar": "enforcement"}, author="A", now=at(0))
    add_links(store, model, activity.id, "problems", [problem], author="A", now=at(1))
    assert store.neighbourhood([activity.id], 1, [Core.RESPONDS_TO]).links
    assert remove_link(store, model, activity.id, "problems", problem) == 1
    assert not store.neighbourhood([activity.id], 1, [Core.RESPONDS_TO]).links
    assert remove_link(store, model, activity.id, "problems", problem) == 0
    assert store.get(activity.id) is not None and store.get(problem) is not None


@pytest.mark.parametrize(
    ("kind", "properties", "links", "message"),
    [
        ("tasking", {"title": "T"}, {}, r"(?i)a tasking needs an owner"),
        ("tasking", {"title": "T", "owner": "O", "dueDate": "20/11/2026"}, {}, "not a date written YYYY-MM-DD"),
        ("tasking", {"title": "T", "owner": "O", "taskingStatus": "parked"}, {}, "'parked' is not in the tasking"),
        ("tasking", {"title": "T", "owner": "O", "dateOfBirth": "2000-01-01"}, {}, "not a property of a tasking"),
        ("tasking", {"title": "T", "owner": "   "}, {}, "send null to remove"),
        ("activity", {"pillar": "prevention", "hours": -3}, {}, "outside 0"),
        ("activity", {"pillar": "prevention", "hours": "six"}, {}, "must be a number"),
        ("activity", {"pillar": "prevention", "hours": True}, {}, "must be a number"),
        ("activity", {"pillar": "reassurance"}, {"problems": ["no-such-id"]}, "no record with id 'no-such-id'"),
        ("activity", {"pillar": "reassurance"}, {"owners": ["x"]}, "has no link 'owners'"),
        ("priority", {"rank": 0}, {}, "outside 1"),
        ("priority", {"rank": 1.5}, {}, "whole number"),
    ],
)
def test_a_bad_write_says_what_is_wrong_and_writes_nothing(store, model, kind, properties, links, message):
    before = store.counts()
    with pytest.raises((RecordError, KeyError), match=message):
        create(store, model, kind_named(kind), properties, links, author="A")
    assert store.counts() == before


def test_a_link_must_reach_the_links_range(store, model):
    tasking = create(store, model, kind_named("tasking"), {"title": "T", "owner": "O"}, author="A")
    activity = create(store, model, kind_named("activity"), {"pillar": "prevention"}, author="A")
    with pytest.raises(RecordError, match="responds to needs a problem"):
        add_links(store, model, activity.id, "problems", [tasking.id], author="A")


def test_only_the_partnerships_kinds_can_be_changed(store, model):
    store.upsert(
        Batch(entities=[Entity("p1", Core.PERSON, {"name": "Ann"}, [Assertion("t", "1", "f", 1, None, "1AP", "P")])])
    )
    with pytest.raises(RecordNotFound):
        update(store, model, "p1", {"owner": "me"}, author="A")
    with pytest.raises(RecordNotFound):
        update(store, model, "nothing-here", {"owner": "me"}, author="A")


@pytest.mark.parametrize("author", ["", "   ", "a\nb", "x" * 201])
def test_every_change_is_signed_by_a_plain_name(store, model, author):
    with pytest.raises(RecordError, match="author"):
        create(store, model, kind_named("group"), {"name": "Tactical TCG", "taskingLevel": "tactical"}, author=author)


def test_two_changes_in_the_same_instant_both_stay(store, model):
    made = create(store, model, kind_named("tasking"), {"title": "T", "owner": "O"}, author="A", now=at(0))
    update(store, model, made.id, {"result": "first"}, author="B", now=at(1))
    update(store, model, made.id, {"result": "second"}, author="C", now=at(1))
    assert [r.author for r in history(store.get(made.id))][1:] in (["B", "C"], ["C", "B"])
    assert len(history(store.get(made.id))) == 3
