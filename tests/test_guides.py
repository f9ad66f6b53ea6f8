"""The guides run as written: docs/library.md's Python, and docs/analyst-guide.md's commands and API calls.

- Every ```python block of the library guide runs, in order, in one namespace, from an empty
  directory (the guide's first blocks make their own small demo store there).
- Every ```sh block line of the analyst's guide that starts with ``nimgraph `` runs in process
  against the session's demo store, and every ```bash block line that starts with ``curl `` is
  sent to the real app over that store. The guide's id placeholders (``PERSON_ID``...) become
  that demo's ids, found by the nominal numbers, references and names the guide gives for them.
  Each must succeed with a non-empty answer.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import TEST_ID_KEY, Demo, dev_settings, person_id
from fastapi.testclient import TestClient

from api.main import create_app
from nimgraph.cli import main
from nimgraph.config import get_settings
from nimgraph.demo import find_problem

DOCS = Path(__file__).resolve().parent.parent / "docs"
LIBRARY = (DOCS / "library.md").read_text(encoding="utf-8")
GUIDE = (DOCS / "analyst-guide.md").read_text(encoding="utf-8")
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]*_ID\b")
SERVED_AT = "http://127.0.0.1:8000"


def _blocks(text: str, language: str) -> list[str]:
    """The bodies of the fenced blocks of one language, dedented (a block may sit in a list item)."""
    found = []
    for indent, body in re.findall(rf"^( *)```{language}\n(.*?)^\1```", text, re.S | re.M):
        found.append("\n".join(line[len(indent) :] for line in body.splitlines()))
    return found


def _lines(language: str, start: str) -> list[str]:
    return [line for body in _blocks(GUIDE, language) for line in body.splitlines() if line.startswith(start)]


COMMANDS = _lines("sh", "nimgraph ")
CALLS = _lines("bash", "curl ")


def _short(line: str) -> str:
    return "-".join(word for word in line.split()[:3] if not word.startswith("-"))[:40]


def _one(demo: Demo, type_name: str, prop: str, value: str) -> str:
    found = [e for e in demo.store.find(type_name, value, limit=500) if e.properties.get(prop) == value]
    assert len(found) == 1, f"expected one {type_name} with {prop} {value!r}, found {len(found)}"
    return found[0].id


@pytest.fixture(scope="module")
def placeholders(demo: Demo) -> dict[str, str]:
    """The guide's placeholders, as its table defines them, with this demo's ids."""
    planted = demo.planted
    assert planted["vulnerable"] == "NP000216" and {"NP000184", "NP000185"} <= set(planted["network"])
    assert planted["problem"] == "PRB-0014" and planted["hotspot"]["lsoa_code"] == "E01099004"
    assert planted["hotspot"]["street"] == "Marlowe Parade"
    return {
        "PERSON_ID": person_id(demo, "NP000216"),
        "OTHER_PERSON_ID": person_id(demo, "NP000185"),
        "ASSOCIATE_ID": person_id(demo, "NP000184"),
        "PROBLEM_ID": find_problem(demo.store, "PRB-0014"),
        "AREA_ID": _one(demo, "LSOA", "areaCode", "E01099004"),
        "STREET_ID": _one(demo, "Street", "name", "Marlowe Parade"),
    }


def _filled(line: str, placeholders: dict[str, str]) -> str:
    filled = PLACEHOLDER.sub(lambda m: placeholders.get(m.group(0), m.group(0)), line)
    left = PLACEHOLDER.findall(filled)
    assert not left, f"placeholders the guide's table does not define: {left}"
    return filled


def _has_rows(text: str, kind: str) -> bool:
    if kind == "csv":
        return len(list(csv.reader(io.StringIO(text)))) >= 2  # a header and at least one row
    if kind == "html":
        return text.startswith("<!DOCTYPE html>")
    data = json.loads(text)
    return any(data.get(key) for key in ("rows", "items", "links", "paths"))


def test_the_guides_have_examples_to_run():
    assert len(_blocks(LIBRARY, "python")) >= 8
    assert len(COMMANDS) >= 20 and len(CALLS) >= 10
    for name in ("rank", "groups", "screen", "places", "search", "paths", "connect", "problem-links"):
        assert any(line.split()[1] == name for line in COMMANDS), name


def test_the_library_guide_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "library_guide"}
    for number, block in enumerate(_blocks(LIBRARY, "python"), start=1):
        exec(compile(block, f"docs/library.md, python block {number}", "exec"), namespace)
    assert (tmp_path / "partnership" / "graph.db").exists()


@pytest.mark.parametrize("line", COMMANDS, ids=[f"{n:02d}-{_short(c)}" for n, c in enumerate(COMMANDS)])
def test_each_command_of_the_analyst_guide_answers(
    line, demo, placeholders, cli_development, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NIMGRAPH_ID_KEY", TEST_ID_KEY)  # the key the session's demo store was made with
    get_settings.cache_clear()
    args = shlex.split(_filled(line, placeholders))[1:]
    code = main(["--store", str(demo.work_dir / "graph.db"), *args])
    out, err = capsys.readouterr()
    assert code == 0, f"{line}\n{err}"
    kind = args[args.index("--format") + 1] if "--format" in args else "json"
    if "-o" in args:
        out = (tmp_path / args[args.index("-o") + 1]).read_text(encoding="utf-8")
    assert _has_rows(out, kind), f"{line}\nanswered nothing:\n{out[:500]}"


@pytest.fixture(scope="module")
def client(demo: Demo, tmp_path_factory: pytest.TempPathFactory):
    access_db = tmp_path_factory.mktemp("guide-access") / "access.db"
    with TestClient(create_app(dev_settings(store="unused", access_db=access_db), store=demo.store)) as served:
        yield served


def _route(line: str) -> str:
    return urlsplit(shlex.split(line)[-1]).path


@pytest.mark.parametrize("line", CALLS, ids=[f"{n:02d}-{_route(c)}" for n, c in enumerate(CALLS)])
def test_each_api_call_of_the_analyst_guide_answers(line, placeholders, client):
    words = shlex.split(_filled(line, placeholders))
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    url = words[-1]
    assert url.startswith(SERVED_AT), url
    answer = client.get(url[len(SERVED_AT) :], headers=headers)
    assert answer.status_code == 200, f"{line}\n{answer.text[:500]}"
    kind = "csv" if "format=csv" in url else "html" if "format=html" in url else "json"
    assert _has_rows(answer.text, kind), f"{line}\nanswered nothing:\n{answer.text[:500]}"
