"""What the CLI prints while a progress bar runs, or after it, starts a line of its own, never the bar's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from test_ingest import SPEC

GOOD = "01/03/2026,Nuisance,Elm Street,E01000001,53.1"


def run(args: list[str], cwd: Path, merged: bool = False) -> tuple[int, list[str], list[str]]:
    """Exit status, and the lines of standard output and error with carriage returns as line ends, as a
    terminal shows them: a progress bar redraws itself after a carriage return."""
    result = subprocess.run(
        args,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merged else subprocess.PIPE,
        timeout=120,
        env={**os.environ, "NIMGRAPH_ENV": "development"},
    )
    lines = [re.split(r"[\r\n]", (stream or b"").decode("utf-8")) for stream in (result.stdout, result.stderr)]
    return result.returncode, lines[0], lines[1]


def test_an_error_in_the_middle_of_a_file_is_not_written_onto_its_progress_bar(tmp_path):
    (tmp_path / "asb.yaml").write_text(SPEC.replace("entities:", "read: {encoding: utf-8}\nentities:"))
    rows = "".join(f"A{n},{GOOD}\n" for n in range(3000))  # more than the 64 KB read to find the delimiter
    bad = "B1,01/03/2026,Café,Elm Street,E01000001,53.1\n".encode("cp1252")
    (tmp_path / "asb.csv").write_bytes(b"Ref,Date,Kind,Street,LSOA,Lat\n" + rows.encode() + bad)
    status, _, errors = run(
        [sys.executable, "-m", "nimgraph.cli", "ingest", "asb.yaml", "asb.csv", "--dry-run"], tmp_path
    )
    assert status == 2
    assert any(line.startswith("asb.csv:") and "row/s" in line for line in errors)  # the bar was drawn
    said = [line for line in errors if "nimgraph:" in line]
    assert len(said) == 1 and said[0].startswith("nimgraph: ") and "not utf-8" in said[0]


def test_a_summary_after_a_bar_that_never_filled_starts_its_own_line(tmp_path):
    (tmp_path / "asb.yaml").write_text(SPEC)
    (tmp_path / "asb.csv").write_text("Ref,Date,Kind,Street,LSOA,Lat\n" + f"A1,{GOOD}\n\n\n\nA2,{GOOD}\n")
    args = [sys.executable, "-m", "nimgraph.cli", "ingest", "asb.yaml", "asb.csv", "--dry-run"]
    status, lines, _ = run(args, tmp_path, merged=True)  # 5 lines below the header, 2 records: the bar stops at 2/5
    assert status == 0
    assert any(line.startswith("asb.csv:") and "/5 [" in line for line in lines)  # the bar, drawn and left unfilled
    summary = [line for line in lines if "rows would load" in line]
    assert len(summary) == 1 and summary[0].startswith("asb.csv (dry run, nothing written): 2 of 2 rows would load")


def test_log_records_and_warnings_during_a_bar_start_their_own_lines(tmp_path):
    script = textwrap.dedent(
        """
        import logging, warnings
        from nimgraph import cli

        with cli._bars_give_way():
            advance = cli._progress_bar("asb.csv", 10)
            advance(3)
            logging.getLogger("nimgraph").warning("a warning, logged")
            advance = cli._progress_bar("asb.csv", 10)
            advance(3)
            warnings.warn("a warning, warned")
            advance = cli._progress_bar("asb.csv", 10)
            advance(3)
            print("a summary, printed")
            advance = cli._progress_bar("asb.csv", 10)
            advance(3)
        print("after the command")
        """
    )
    status, lines, _ = run([sys.executable, "-c", script], tmp_path, merged=True)
    assert status == 0
    said = {text: [line for line in lines if text in line] for text in ("logged", "warned", "printed", "after")}
    assert said["logged"] == ["a warning, logged"]  # logging's last resort: the bare message
    assert len(said["warned"]) == 1 and said["warned"][0].startswith("<string>:")
    assert said["printed"] == ["a summary, printed"] and said["after"] == ["after the command"]
