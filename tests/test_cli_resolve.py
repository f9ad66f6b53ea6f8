"""``nimgraph resolve``: propose, queue and decide from the command line, audited."""

from __future__ import annotations

import json

import pytest
from test_resolution_proposals import plant

from nimgraph.access.audit import AuditLog
from nimgraph.cli import main
from nimgraph.config import Settings
from nimgraph.store.embedded import EmbeddedStore


def test_resolve_from_the_command_line(cli_development, capsys, tmp_path, model, monkeypatch):
    monkeypatch.setenv("NIMGRAPH_WORK_DIR", str(tmp_path))  # the trained models are kept under it
    path = tmp_path / "graph.db"
    store = EmbeddedStore(path, model)
    store.id_key()
    plant(store)
    store.close()
    args = ["--store", str(path)]
    assert main([*args, "resolve", "run"]) == 0
    assert "pairs proposed" in capsys.readouterr().out
    assert list((tmp_path / "resolution" / "models").glob("*.json"))
    assert main([*args, "resolve", "queue", "--purpose", "dedupe review", "--limit", "500"]) == 0
    analyst = capsys.readouterr().out.splitlines()
    assert (
        main([*args, "resolve", "queue", "--purpose", "dedupe review", "--role", "partner_viewer", "--limit", "500"])
        == 0
    )
    partner = capsys.readouterr().out.splitlines()
    assert analyst and 0 < len(partner) < len(analyst)  # the partner sees only proposals on records it may see
    first = analyst[0].split()[0]
    assert main([*args, "resolve", "show", first, "--purpose", "dedupe review"]) == 0
    shown = capsys.readouterr().out
    weights = [float(line.split()[-1]) for line in shown.splitlines() if "  = " in line and "match weight" not in line]
    stated = float(shown.split("weight ")[1].split(",")[0])
    assert weights and weights[-1] == pytest.approx(stated, abs=0.01)  # the waterfall ends at the match weight
    assert "sources" in shown and "prior odds" in shown
    hidden = next(line.split()[0] for line in analyst if line.split()[0] not in {p.split()[0] for p in partner})
    assert main([*args, "resolve", "show", hidden, "--purpose", "dedupe review", "--role", "partner_viewer"]) == 2
    assert main([*args, "resolve", "reject", first, "--analyst", "DC 1234"]) == 0
    assert json.loads(capsys.readouterr().out) == {"proposal": first, "status": "Rejected", "by": "DC 1234"}
    assert main([*args, "resolve", "run"]) == 0
    assert "1 already decided" in capsys.readouterr().out
    assert main([*args, "resolve", "accept", "possiblySameAs-nothing"]) == 2
    settings = Settings()
    entries = AuditLog(settings.access_db, settings.secret("audit_key"), settings.audit_anchor).query(limit=100)
    logged = {e["method"] for e in entries}
    assert {"RESOLVE-RUN", "RESOLVE-QUEUE", "RESOLVE-SHOW", "RESOLVE-SHOW-REFUSED", "RESOLVE-REJECT"} <= logged
    assert "RESOLVE-ACCEPT-REFUSED" in logged
