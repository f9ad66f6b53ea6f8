"""The attack that broke the researcher role: many clients of mixed roles at once, over real HTTP.

Researchers register pseudonyms while every request appends to the audit log in the same SQLite
file; a locked write once left the register's connection inside a transaction and every later
researcher request failed until a restart. Here 20 clients run for a few seconds against a real
uvicorn server, then a researcher must still be answered.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import httpx
import pytest
import uvicorn
from conftest import dev_settings, person_id

from api.main import create_app

PORT = 18110
CLIENTS = 20
SECONDS = 6
KEYS = ["dev-researcher"] * 8 + ["dev-analyst"] * 5 + ["dev-partner"] * 5 + ["dev-admin"] * 2


@pytest.fixture
def server(demo, tmp_path):
    settings = dev_settings(store="unused", work_dir=demo.work_dir, access_db=tmp_path / "access.db")
    config = uvicorn.Config(create_app(settings, store=demo.store, model=demo.model), port=PORT, log_level="error")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "the test server did not start"
    yield f"http://127.0.0.1:{PORT}"
    running.should_exit = True
    thread.join(timeout=30)


def _client_loop(base: str, key: str, urls: list[str], until: float, statuses: Counter, seed: int) -> None:
    chooser = random.Random(seed)
    headers = {"X-API-Key": key, "X-Purpose": "concurrency test"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        while time.monotonic() < until:
            url = chooser.choice(urls)
            if key == "dev-researcher" and "/search" in url:
                url += f"&offset={chooser.randrange(0, 1500, 50)}"  # new people: new pseudonyms to register
            statuses[client.get(url).status_code] += 1


def test_twenty_mixed_clients_cause_no_server_error_and_researchers_still_work(server, demo):
    person = person_id(demo, demo.planted["network"][0])
    urls = [
        "/search?type=Person&limit=50",
        f"/entities/{person}",
        f"/entities/{person}/associations",
        "/problems?limit=20",
    ]
    statuses: Counter = Counter()
    until = time.monotonic() + SECONDS
    threads = [
        threading.Thread(target=_client_loop, args=(server, key, urls, until, statuses, n))
        for n, key in enumerate(KEYS[:CLIENTS])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(statuses.values()) > CLIENTS, statuses
    assert not [s for s in statuses if s >= 500], statuses
    after = httpx.get(
        f"{server}/search?type=Person&limit=5",
        headers={"X-API-Key": "dev-researcher", "X-Purpose": "after the load"},
        timeout=30,
    )
    assert after.status_code == 200 and all(e["id"].startswith("psn-") for e in after.json()["items"])
