"""Embedded-store ingest: rows/s and peak memory, at 100k and 1M generated incident rows.

    .venv/bin/python bench/ingest_embedded.py [--incidents 100000 --incidents 1000000] [--write]

Each size runs in its own process (so peak memory is that run's alone) on a fresh store: the
three incident files of the demo partnership (police street-level crime, council ASB, deliberate
fires) through their ready mappings, in one `ingest_plan` (each file's mapping starts while the
file before writes). Rows are input rows read. Peak memory is the writing
process's peak resident set plus the largest sum of the peaks of its mapping processes alive at
once (a file is mapped in a process of its own that lives beside the writer): an upper bound on
what they held at once. Memory that does not grow with the file is the point of streaming.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

INCIDENT_FILES = {
    "police_uk_street": "police_street_crime.csv",
    "council_asb": "council_asb.csv",
    "fire_deliberate": "fire_deliberate.csv",
}


def high_water_mib(pid: int | str = "self") -> float:
    """A process's peak resident set since it began its program (VmHWM, Linux).

    Not ``ru_maxrss``: Linux carries that across exec, so a child started by a large process reports
    its parent's size (the mapping processes are started by fork and exec).
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


class MappingPeaks:
    """Watches this process's mapping children, keeping the largest sum of the peaks of those alive at
    once (the next file's mapping starts while the file before still maps its last rows)."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(every_s,), daemon=True)
        self._thread.start()

    def _watch(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            # From /proc rather than multiprocessing.active_children(), which would reap them.
            alive = 0.0
            for listing in Path("/proc/self/task").glob("*/children"):
                with contextlib.suppress(OSError, RuntimeError):  # a thread or child that ended meanwhile
                    for pid in listing.read_text().split():
                        alive += high_water_mib(pid)
            self.peak_mib = max(self.peak_mib, alive)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mib


def measure(incidents: int) -> dict:
    """Run in a child process: ingest the incident files, report rows, seconds and peak memory."""
    from nimgraph.ingest.engine import ingest_plan
    from nimgraph.mappings import ready_plan
    from nimgraph.ontology import default_model
    from nimgraph.store.embedded import EmbeddedStore

    data = ROOT / "var" / "bench" / str(incidents)
    model = default_model()
    rows = 0
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddedStore(Path(folder) / "graph.db", model)
        mapping_peaks = MappingPeaks()
        started = time.perf_counter()
        plan = ready_plan(model, data, INCIDENT_FILES.items())
        rows += sum(report.rows_read for report in ingest_plan(store, model, plan, rejects_dir=folder))
        seconds = time.perf_counter() - started
        mapping_peak_mib = mapping_peaks.stop()
        store.close()
    # A large file is mapped in a process of its own, alive beside this one: count both peaks.
    peak_mib = high_water_mib()
    return {
        "incidents": incidents,
        "rows": rows,
        "seconds": seconds,
        "peak_mib": peak_mib + mapping_peak_mib,
        "writer_peak_mib": peak_mib,
        "mapping_peak_mib": mapping_peak_mib,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, action="append")
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    if args.generate:
        from nimgraph.demo.generate import write_dataset

        write_dataset(ROOT / "var" / "bench" / str(args.generate), incidents=args.generate)
        return
    results = []
    for incidents in args.incidents or [100_000, 1_000_000]:
        data = ROOT / "var" / "bench" / str(incidents)
        if not (data / "planted.json").exists():  # before, so the measured peak is the ingest's alone
            print(f"generating {incidents:,} incidents", flush=True)
            subprocess.run([sys.executable, __file__, "--generate", str(incidents)], check=True)
        print(f"ingesting {incidents:,} incidents", flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(incidents)], capture_output=True, text=True, check=True
        )
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    from ingest_neo4j import publish

    lines = [
        f"| {r['incidents']:,} | {r['rows']:,} | {r['seconds']:.0f} | {r['rows'] / r['seconds']:,.0f} "
        f"| {r['peak_mib']:,.0f} ({r['writer_peak_mib']:,.0f} + {r['mapping_peak_mib']:,.0f}) |"
        for r in results
    ]
    text = (
        f"\n### Embedded ingest, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}\n\n"
        "| incidents | incident rows read | s | rows/s | peak memory, MiB (writer + mapping) |\n|---|---|---|---|---|\n"
        + "\n".join(lines)
        + "\n"
    )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        text += (
            f"\nPeak memory at {large['rows']:,} rows is {large['peak_mib'] / small['peak_mib']:.2f}x that at "
            f"{small['rows']:,} rows ({large['rows'] / small['rows']:.0f}x the rows); the rate at "
            f"{large['rows']:,} rows is {(large['rows'] / large['seconds']) / (small['rows'] / small['seconds']):.2f}x "
            f"that at {small['rows']:,}.\n"
        )
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
