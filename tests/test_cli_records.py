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
    assert page["properties"] == {"pillar": "enforcement", "hours": 7.5}
    assert [(h["author"], h["said"]) for h in page["history"]] == [
        ("PC Lee", {"pillar": "enforcement", "hours": 6.0}),
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
