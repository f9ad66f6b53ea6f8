"""Attacks on POST /ingest/jobs: oversized streamed bodies, uploads without a key, malformed files.

Each test sends what an attacker would and checks the refusal and that nothing stays on disk.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import socket
import threading
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest
import uvicorn
from conftest import dev_settings
from fastapi.testclient import TestClient
from test_ingest import SPEC

from api.main import create_app

LIMIT = 1_000_000
ATTACK = 60_000_000  # bytes the attacker offers; generated lazily, never held
PIECE = 64 * 1024
BOUNDARY = "attack"
PROBLEM = "application/problem+json"


def _app(tmp_path: Path, store, model):
    settings = dev_settings(
        store="unused", work_dir=tmp_path / "work", access_db=tmp_path / "access.db", max_upload_bytes=LIMIT
    )
    return create_app(settings, store=store, model=model)


def _left_on_disk(tmp_path: Path) -> list[Path]:
    jobs = tmp_path / "work" / "jobs"
    return [path for path in jobs.rglob("*") if path.is_file()] if jobs.exists() else []


def _preamble() -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\nRef,Date\r\n"
    ).encode()


# ------------------------------------------------------------------ in process: how much is read
class Offered:
    """An endless-looking body that counts how much of it the server pulled."""

    def __init__(self) -> None:
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield _preamble()
        piece = b"A1,01/03/2026\r\n" * (PIECE // 16)
        while self.pulled < ATTACK:
            self.pulled += len(piece)
            yield piece


def _post(app, headers: dict[str, str]) -> tuple[httpx.Response, Offered]:
    body = Offered()

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            content_type = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
            return await client.post("/ingest/jobs", headers=content_type | headers, content=body)

    return asyncio.run(send()), body


def _basic(key: str) -> dict[str, str]:
    """A browser's upload from the app's own page: HTTP Basic, and fetch metadata saying same-origin."""
    credentials = base64.b64encode(f"anyone:{key}".encode()).decode()
    return {"Authorization": f"Basic {credentials}", "Sec-Fetch-Site": "same-origin"}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"X-API-Key": "not-a-key"}, 401),
        (_basic("not-a-key"), 401),
        ({"X-API-Key": "dev-researcher"}, 403),  # a key, but not one that may ingest
        (_basic("dev-partner"), 403),
    ],
)
def test_an_upload_without_an_ingest_key_is_refused_before_a_byte_is_read(
    tmp_path, embedded_store, model, headers, status
):
    response, body = _post(_app(tmp_path, embedded_store, model), headers)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert body.pulled == 0
    assert _left_on_disk(tmp_path) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "dev-analyst"},  # chunked: no Content-Length at all
        {"X-API-Key": "dev-analyst", "Content-Length": "1000"},  # a Content-Length that lies
        _basic("dev-analyst"),
    ],
)
def test_a_streamed_body_past_the_limit_is_cut_off_while_it_streams(tmp_path, embedded_store, model, headers):
    response, body = _post(_app(tmp_path, embedded_store, model), headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert "limit" in response.json()["detail"]
    assert body.pulled < 4 * LIMIT  # the limit, the slack for the spec and framing, and one piece
    assert _left_on_disk(tmp_path) == []


def test_a_declared_oversized_body_is_refused_unread(tmp_path, embedded_store, model):
    headers = {"X-API-Key": "dev-analyst", "Content-Length": str(ATTACK)}
    response, body = _post(_app(tmp_path, embedded_store, model), headers)
    assert response.status_code == 413 and body.pulled == 0


# ------------------------------------------------------------------ over a socket, against uvicorn
@pytest.fixture
def server(tmp_path, embedded_store, model) -> Iterator[int]:
    """A real uvicorn serving the app on a port of its own (bound here, so no other test can take it)."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    config = uvicorn.Config(_app(tmp_path, embedded_store, model), log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield listening.getsockname()[1]
    running.should_exit = True
    thread.join(10)
    listening.close()


def _chunked_attack(port: int, headers: str) -> tuple[int, str]:
    """Stream ATTACK bytes, chunked, from one thread while reading the answer in this one."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        (
            f"POST /ingest/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{headers}\r\n"
        ).encode()
    )
    stop = threading.Event()

    def stream() -> None:
        piece = b"A1,01/03/2026\r\n" * (PIECE // 16)
        chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        try:
            sock.sendall(f"{len(_preamble()):x}\r\n".encode() + _preamble() + b"\r\n")
            for _ in range(ATTACK // len(piece)):
                if stop.is_set():
                    return
                sock.sendall(chunk)
        except OSError:  # the server closed the connection: the refusal we want
            return

    sender = threading.Thread(target=stream, daemon=True)
    sender.start()
    try:
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.getheader("content-type")
    finally:
        stop.set()
        sock.close()
        sender.join(10)


def test_a_chunked_upload_without_a_key_gets_401_and_leaves_nothing(server, tmp_path):
    assert _chunked_attack(server, "") == (401, PROBLEM)
    assert _left_on_disk(tmp_path) == []


def test_a_chunked_upload_past_the_limit_gets_413_and_leaves_nothing(server, tmp_path):
    assert _chunked_attack(server, "X-API-Key: dev-analyst\r\n") == (413, PROBLEM)
    assert _left_on_disk(tmp_path) == []


# ------------------------------------------------------------------ malformed uploads
def _xlsx(path: Path, sheet_prolog: str, cell: str) -> Path:
    """A workbook whose first sheet declares ``sheet_prolog`` (a DTD) and holds ``cell`` inline."""
    plain = path.with_suffix(".plain.xlsx")
    book = openpyxl.Workbook()
    book.active.append(["Ref", "Date"])
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                body = xml[xml.index("<worksheet") :]
                start, end = body.index("<sheetData"), body.index("</sheetData>") + len("</sheetData>")
                row = f'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{cell}</t></is></c></row></sheetData>'
                prolog = f'<?xml version="1.0"?><!DOCTYPE worksheet [{sheet_prolog}]>'
                data = (prolog + body[:start] + row + body[end:]).encode()
            out.writestr(item, data)
    plain.unlink()
    return path


LAUGHS = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
DEEP = "[" * 100_000 + "]" * 100_000
ALIASES = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
)


def malformed_inputs(directory: Path) -> dict[str, tuple[Path, Path, str]]:
    """Each malformed upload the review sent: (spec, data file, what the refusal must say)."""
    good_spec = directory / "good.yaml"
    good_spec.write_text(SPEC)
    good_csv = directory / "good.csv"
    good_csv.write_text("Ref,Date,Kind,Street,LSOA,Lat\nA1,01/03/2026,Nuisance,Elm Street,E01000001,53.1\n")

    def spec(name: str, data: bytes) -> Path:
        (directory / name).write_bytes(data)
        return directory / name

    def data(name: str, text: str) -> Path:
        (directory / name).write_text(text)
        return directory / name

    return {
        "nested YAML spec": (spec("nested.yaml", b"a: " + b"[" * 50_000 + b"]" * 50_000), good_csv, "nested"),
        "YAML alias bomb": (spec("aliases.yaml", ALIASES.encode()), good_csv, "aliases expand"),
        "binary spec": (spec("binary.yaml", bytes(range(256)) * 16), good_csv, "binary file"),
        "latin-1 spec": (spec("latin1.yaml", SPEC.replace("Test", "Café").encode("latin-1")), good_csv, "UTF-8"),
        "nested JSON": (good_spec, data("nested.json", DEEP), "nested"),
        "nested JSON Lines": (good_spec, data("deep.jsonl", '{"a": ' + DEEP + "}\n"), "nested"),
        "XML bomb xlsx": (good_spec, _xlsx(directory / "bomb.xlsx", LAUGHS, "&lol9;"), "entities or a DTD"),
        "XXE xlsx": (
            good_spec,
            _xlsx(directory / "xxe.xlsx", '<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;"),
            "entities or a DTD",
        ),
        "escape in a header": (good_spec, data("escape.csv", "Ref\x1b[31m,Date\nA1,x\n"), "Ref\\x1b[31m"),
    }


@pytest.fixture(scope="module")
def malformed(tmp_path_factory) -> dict[str, tuple[Path, Path, str]]:
    return malformed_inputs(tmp_path_factory.mktemp("malformed"))


CASES = [
    "nested YAML spec",
    "YAML alias bomb",
    "binary spec",
    "latin-1 spec",
    "nested JSON",
    "nested JSON Lines",
    "XML bomb xlsx",
    "XXE xlsx",
    "escape in a header",
]


@pytest.mark.parametrize("case", CASES)
def test_a_malformed_upload_gets_a_one_line_problem_and_leaves_nothing(
    tmp_path, embedded_store, model, malformed, case
):
    spec, data, says = malformed[case]
    with TestClient(_app(tmp_path, embedded_store, model), raise_server_exceptions=False) as client:
        response = client.post(
            "/ingest/jobs",
            headers={"X-API-Key": "dev-analyst"},
            files={"spec": ("spec.yaml", spec.read_bytes()), "file": (data.name, data.read_bytes())},
        )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM
    detail = response.json()["detail"]
    assert says in detail and detail.isprintable(), detail  # one line, no control characters
    assert _left_on_disk(tmp_path) == []
