"""``nimgraph record``: the working loop from the command line, audited, on the embedded store."""

from __future__ import annotations

import json

from nimgraph.access.audit import AuditLog
from nimgraph.cli import main
from nimgraph.config import Settings


def test_records_are_written_changed_shown_and_audited(cli_development, capsys, tmp_path):
    store = ["--store", str(tmp_path / "graph.db")]
    assert (
        main([*store, "record", "new", "problem", "--set", "title=Eastfield ASB", "--set", "saraStage=Scanning"]) == 0
    )
    problem = capsys.readouterr().out.strip()
    assert main(
        [*store, "record", "new", "activity", "--set", "pillar=enforcement", "--set", "hours=6",
         "--link", f"problems={problem}", "--author", "PC Lee"]
    ) == 0  # fmt: skip
    activity = capsys.readouterr().out.strip()
    assert (
        main([*store, "record", "set", activity, "--set", "hours=7.5", "--set", "cost=120", "--author", "Sgt Shah"])
        == 0
    )
    assert main([*store, "record", "set", activity, "--unset", "cost", "--author", "Sgt Shah"]) == 0
    capsys.readouterr()
    assert main([*store, "record", "show", activity, "--json", "--purpose", "TTCG check"]) == 0
    page = json.loads(capsys.readouterr().out)
    assert page["properties"] == {"pillar": "Enforcement", "hours": 7.5}
    assert [(h["author"], h["said"]) for h in page["history"]] == [
        ("PC Lee", {"pillar": "Enforcement", "hours": 6.0}),
        ("Sgt Shah", {"hours": 7.5, "cost": 120.0}),
        ("Sgt Shah", {"cost": None}),
    ]
    assert [(k["role"], k["id"]) for k in page["links"]] == [("problems", problem)]

    assert main([*store, "record", "set", activity, "--set", "hours=six"]) == 2
    assert "hours must be a number, not 'six'" in capsys.readouterr().err
    assert main([*store, "record", "set", "Activity-nothing", "--set", "hours=1"]) == 2
    assert main([*store, "record", "show", activity, "--purpose", " "]) == 2
    settings = Settings()
    entries = AuditLog(settings.access_db, settings.secret("audit_key"), settings.audit_anchor).query(limit=100)
    actions = [(e["method"], e["path"]) for e in entries]
    assert ("RECORD-NEW", "activity by PC Lee") in actions
    assert ("RECORD-SET", f"{activity} by Sgt Shah") in actions
    assert ("RECORD-SHOW", f"{activity} as analyst") in actions
    assert ("RECORD-SET-REFUSED", "Activity-nothing") in actions
    assert ("RECORD-SET-REFUSED", activity) in actions


def test_the_loops_views_from_the_command_line(cli_development, capsys, tmp_path, model):
    from test_operational_review import plant

    from nimgraph.store.embedded import EmbeddedStore

    path = tmp_path / "graph.db"
    planted = EmbeddedStore(path, model)
    planted.id_key()
    plant(planted)
    planted.close()
    store = ["--store", str(path)]
    question = {
        "target": {"places": ["Street-target"]},
        "buffer": {"places": ["Street-buffer"]},
        "control": {"places": ["Street-control"]},
        "before": {"since": "2026-01-01", "until": "2026-06-30"},
        "after": {"since": "2026-07-01", "until": "2026-12-31"},
        "categories": ["anti-social behaviour"],
    }
    (tmp_path / "q.json").write_text(json.dumps(question))
    args = [*store, "review", "measure", str(tmp_path / "q.json"), "--format", "json"]
    assert main([*args, "--purpose", "did it work", "--role", "partner_viewer"]) == 0
    review = json.loads(capsys.readouterr().out)
    assert review["counts"]["target"] == {"before": 72, "after": 24}  # the C burst is not the partner's
    assert main([*args, "--purpose", "did it work"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["target"]["after"] > 24
    page = tmp_path / "review.html"
    assert main([*store, "review", "measure", str(tmp_path / "q.json"), "--purpose", "page", "-o", str(page)]) == 0
    assert "Weighted Displacement Quotient" in page.read_text()
    assert main([*store, "review", "save", str(tmp_path / "q.json"), "--title", "Q3", "--lessons", "Patrol early"]) == 0
    assert "stored under handling code C" in capsys.readouterr().out  # the analyst's counts include the C burst

    (tmp_path / "bad.json").write_text(json.dumps({**question, "before": {"since": "2026-13-01", "until": "x"}}))
    assert main([*store, "review", "measure", str(tmp_path / "bad.json"), "--purpose", "bad"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert main([*store, "tasking-pack", "--as-of", "2026-12-31", "--purpose", "TTCG", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == "2026-12-31"
    assert main([*store, "tasking-pack", "--as-of", "31/12/2026", "--purpose", "TTCG"]) == 2
    assert main([*store, "problem-page", "Problem-nope", "--purpose", "TTCG"]) == 2
    settings = Settings()
    entries = AuditLog(settings.access_db, settings.secret("audit_key"), settings.audit_anchor).query(limit=100)
    actions = {e["method"] for e in entries}
    logged = {"REVIEW-MEASURE", "REVIEW-SAVE", "REVIEW-MEASURE-REFUSED", "TASKING-PACK", "PROBLEM-PAGE-REFUSED"}
    assert logged <= actions
