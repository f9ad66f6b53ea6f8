"""What a write reports: an entity is "updated" only when a value changed; re-asserted as it was, "unchanged".

On both stores: each compares the values it holds with those written, like with like.
"""

from __future__ import annotations

from nimgraph.records import Assertion, Batch, Entity
from tests.test_provenance_lifecycle import ORIGINAL, ingest


def _counts(report) -> tuple[int, int, int, int]:
    e = report.entities
    return e.created, e.merged, e.updated, e.unchanged


def test_a_rerun_changes_nothing_and_one_changed_value_is_one_update(store, model, tmp_path):
    assert _counts(ingest(store, model, tmp_path, ORIGINAL)) == (5, 0, 0, 0)  # 3 incidents, 2 streets
    assert _counts(ingest(store, model, tmp_path, ORIGINAL)) == (0, 0, 0, 5)

    changed = [row[:] for row in ORIGINAL]
    changed[2][2] = "Fly-tipping"  # A3's category
    assert _counts(ingest(store, model, tmp_path, changed)) == (0, 0, 1, 4)
    assert _counts(ingest(store, model, tmp_path, changed)) == (0, 0, 0, 5)


def _person(properties: dict, source: str = "test", record_id: str = "r1") -> Batch:
    record = Assertion(source, record_id, "t.csv", 2, None, "1AP", "P")
    return Batch(entities=[Entity("ann", "Person", properties, [record])])


def test_values_are_compared_as_stored(store):
    said = {"name": "Ann", "dateOfBirth": "2001-02-03", "score": 0.5, "age": 24, "flag": True}
    stats = store.upsert(_person(said))
    assert (stats.created, stats.updated, stats.unchanged) == (1, 0, 0)
    again = store.upsert(_person(dict(reversed(said.items()))))  # the same values, said in another order
    assert (again.updated, again.unchanged) == (0, 1)
    for change in ({"flag": False}, {"score": 0.75}, {"age": 25}, {"dateOfBirth": "2001-03-02"}, {"nickname": "Annie"}):
        said = {**said, **change}
        stats = store.upsert(_person(said))  # the record written again, one value changed
        assert (stats.updated, stats.unchanged) == (1, 0), change
    subset = store.upsert(_person({"name": "Ann"}, record_id="r2"))  # another record saying less: properties merge
    assert (subset.updated, subset.unchanged) == (0, 1)
    assert store.get("ann").properties["nickname"] == "Annie"
    emptied = store.upsert(_person({k: v for k, v in said.items() if k != "nickname"}))  # r1 corrected: no nickname
    assert (emptied.updated, emptied.unchanged) == (1, 0)  # no value it gave changed, but one went
    assert store.get("ann").properties == {k: v for k, v in said.items() if k != "nickname"}


def test_a_new_source_is_merged_whether_or_not_values_changed(store):
    store.upsert(_person({"name": "Ann"}))
    joined = store.upsert(_person({"name": "Ann"}, source="housing"))
    assert (joined.merged, joined.updated, joined.unchanged, joined.merged_ids) == (1, 0, 0, ["ann"])
