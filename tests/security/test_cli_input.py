"""Bad input to the CLI, as an attacker or a tired analyst gives it: one escaped line on stderr, exit 2.

Also what `nimgraph demo` serves and logs: development keys work, and no query string reaches the log.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_ingest import SPEC
from test_uploads import CASES, malformed_inputs
from uvicorn.logging import AccessFormatter

from nimgraph.access.audit import AuditLog
from nimgraph.cli import DropQuery, log_config
from nimgraph.config import Settings


def _env(**settings: str) -> dict[str, str]:
    """This environment without any NIMGRAPH_* setting (production mode, no secrets), plus ``settings``."""
    return {k: v for k, v in os.environ.items() if not k.startswith("NIMGRAPH_")} | settings


def nimgraph(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nimgraph.cli", *args],
        cwd=cwd,
        env=_env(**settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def refused(result: subprocess.CompletedProcess) -> str:
    """What the refusal printed, after checking it is all that was printed to stderr: one line, or one
    line and the problems it lists, one indented line each."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("nimgraph") and all(line.startswith("  ") for line in lines[1:]), result.stderr
    assert all(line.isprintable() for line in lines), lines  # no escape sequence reaches the terminal
    return "\n".join(lines)


@pytest.fixture(scope="module")
def malformed(tmp_path_factory):
    return malformed_inputs(tmp_path_factory.mktemp("malformed"))


@pytest.mark.parametrize("case", CASES)
def test_each_malformed_input_is_one_line_and_exit_2(tmp_path, malformed, case):
    spec, data, says = malformed[case]
    line = refused(nimgraph("--store", "g.db", "ingest", str(spec), str(data), "--dry-run", cwd=tmp_path))
    assert says in line


def test_a_directory_as_the_data_file_or_the_spec(tmp_path, malformed):
    spec, _, _ = malformed["nested JSON"]  # its spec is a good one
    (tmp_path / "folder").mkdir()
    assert "is a directory" in refused(nimgraph("ingest", str(spec), "folder", "--dry-run", cwd=tmp_path))
    assert "Is a directory" in refused(nimgraph("ingest", "folder", "x.csv", "--dry-run", cwd=tmp_path))


def test_file_content_echoed_in_row_reports_is_escaped(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "rows.csv").write_text(
        "Ref,Date,Kind,Street,LSOA,Lat\nA1,\x1b]0;owned\x07,Nuisance,Elm Street,E01000001,53.1\n"
    )
    result = nimgraph("ingest", "spec.yaml", "rows.csv", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "rejected" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_an_id_with_an_escape_sequence_is_echoed_escaped(tmp_path):
    line = refused(
        nimgraph(
            "--store",
            "g.db",
            "profile",
            "subject",
            "Person-\x1b[2J",
            "--purpose",
            "t",
            cwd=tmp_path,
            NIMGRAPH_AUDIT_KEY="k7Jv2Qp9Lx4Rz8Wt1Ny6Bm3Hc5Fd0Gs",
        )
    )
    assert "Person-\\x1b[2J" in line


def test_serve_with_weak_production_settings_says_why_in_one_line(tmp_path):
    line = refused(nimgraph("serve", "--port", str(_free_port()), cwd=tmp_path))
    assert "refusing to start outside development mode" in line and "NIMGRAPH_API_KEYS" in line


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("NIMGRAPH_ENV", "staging"),
        ("NIMGRAPH_PORT", "eighty"),
        ("NIMGRAPH_API_KEYS", "{oops"),
        ("NIMGRAPH_API_KEYS", '{"k": {"name": "ops", "role": "boss"}}'),  # read by access control, not the settings
    ],
)
def test_a_bad_setting_in_the_environment_is_one_line(tmp_path, setting, value):
    line = refused(nimgraph("serve", cwd=tmp_path, **{setting: value}))
    assert setting.removeprefix("NIMGRAPH_").lower() in line.lower()


def test_a_bad_argument_is_one_line(tmp_path):
    assert "at least" in refused(nimgraph("demo", "--incidents", "50", cwd=tmp_path))
    assert "required" in refused(nimgraph("ingest", cwd=tmp_path))


def test_the_access_log_keeps_the_path_and_drops_the_query():
    config = log_config()
    assert config["loggers"]["uvicorn.access"]["filters"] == ["drop_query"]
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:50000", "GET", "/search?q=Smith&purpose=Op%20Larch", "1.1", 200),
        None,
    )
    assert DropQuery().filter(record)
    line = AccessFormatter(config["formatters"]["access"]["fmt"], use_colors=False).format(record)
    assert '"GET /search HTTP/1.1" 200' in line
    assert "Smith" not in line and "Larch" not in line


def _get(url: str, key: str) -> int | None:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"X-API-Key": key}), timeout=2) as answer:
            return answer.status
    except urllib.error.HTTPError as refusal:
        return refusal.code
    except OSError:  # not listening yet
        return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_demo_serves_in_development_and_logs_no_query_strings(tmp_path):
    """With no NIMGRAPH_ENV (production by default), the demo still chooses development and its dev-* keys."""
    port = _free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "nimgraph.cli", "--store", "w/g.db", "demo", "--work-dir", "w", "--incidents", "300"],
        cwd=tmp_path,
        env=_env(NIMGRAPH_PORT=str(port), PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/search?q=Smith&purpose=Op%20Larch"
    status, deadline = None, time.monotonic() + 60
    try:
        while status is None and demo.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            status = _get(url, "dev-analyst")
    finally:
        demo.terminate()
        output = demo.communicate(timeout=20)[0]
    assert status == 200, output
    assert "GET /search HTTP/1.1" in output
    assert "Smith" not in output and "Larch" not in output


def test_the_command_line_is_audited_and_refuses_to_run_unlogged(tmp_path):
    spec = tmp_path / "asb.yaml"
    spec.write_text((Path(__file__).parents[2] / "nimgraph" / "mappings" / "council_asb.yaml").read_text())
    (tmp_path / "asb.csv").write_text(
        "Case Reference,Date Reported,Time Reported,ASB Type,Description,Street,LSOA Code\n"
        "ASB1,01/02/2026,10:00,Noise,loud music,High Street,E01000001\n"
    )
    # production without an audit key: refused before the store is touched
    line = refused(nimgraph("--store", "g.db", "ingest", "asb.yaml", "asb.csv", cwd=tmp_path))
    assert "NIMGRAPH_AUDIT_KEY" in line and not (tmp_path / "g.db").exists()
    development = {"NIMGRAPH_ENV": "development"}
    loaded = nimgraph("--store", "g.db", "ingest", "asb.yaml", "asb.csv", cwd=tmp_path, **development)
    assert loaded.returncode == 0, loaded.stderr
    exported = nimgraph(
        "--store", "g.db", "export", "rdf", "-o", "all.ttl", "--purpose", "Op Larch", cwd=tmp_path, **development
    )
    assert exported.returncode == 0, exported.stderr
    verified = nimgraph("audit", "verify", cwd=tmp_path, **development)
    assert verified.returncode == 0 and "intact: 2 entries" in verified.stdout, verified.stdout + verified.stderr
    settings = Settings(
        env="development", access_db=tmp_path / "var" / "access.db", audit_anchor=tmp_path / "var" / "audit-anchor.log"
    )
    log = AuditLog.from_settings(settings)
    entries = log.query(limit=10)
    log.close()
    assert [(e["method"], e["role"], e["purpose"]) for e in entries] == [
        ("INGEST", "cli", ""),
        ("EXPORT", "cli", "Op Larch"),
    ]
