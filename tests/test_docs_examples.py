"""The worked examples in the docs run as written."""

from __future__ import annotations

import re
from pathlib import Path

from nimgraph.cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_headerless_worked_example_in_the_mapping_guide_loads(tmp_path, capsys, cli_development):
    section = (DOCS / "mapping.md").read_text().split("### Worked example: a headerless file")[1]
    data = re.findall(r"```\n(.*?)```", section, re.S)[0]
    spec = re.findall(r"```yaml\n(.*?)```", section, re.S)[0]
    (tmp_path / "tenancy_asb.txt").write_bytes(data.encode("cp1252"))
    (tmp_path / "housing.yaml").write_text(spec)
    store = str(tmp_path / "g.db")

    code = main(["--store", store, "ingest", str(tmp_path / "housing.yaml"), str(tmp_path / "tenancy_asb.txt")])
    assert code == 0
    out = capsys.readouterr().out
    assert "2 of 2 rows loaded" in out and "read as CSV, cp1252 (detected), delimiter ';'" in out
