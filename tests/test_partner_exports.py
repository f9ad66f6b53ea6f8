"""Partner exports in four shapes load with their spec alone, and every row is accounted for.

The fixtures (tests/fixtures/exports/, see its README) are loaded through the CLI as a user runs it,
on the embedded store and on Neo4j. What should load is computed here, independently, with pandas
over the same raw files: rows read, rows rejected by each rule, rows left out by filters, rows
unmatched or warned, entities per type once identifiers are normalised, links per type (a
symmetric link once per pair). Nothing is hard-coded but the rules themselves.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import TEST_ID_KEY, dev_settings, neo4j_settings
from fastapi.testclient import TestClient

from nimgraph.ontology import Model
from nimgraph.records import Link
from nimgraph.store.base import GraphStore
from nimgraph.store.embedded import EmbeddedStore

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
NEO4J, AGENCIES, EXCEL, FEED = (EXPORTS / n for n in ("neo4j_import", "multi_agency", "excel_workbook", "json_lines"))


# ------------------------------------------------------------------------------------------ running
def nimgraph(store: GraphStore, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m nimgraph.cli --store <the fixture's store> ...`` as a user runs it."""
    env = {**os.environ, "NIMGRAPH_ENV": "development", "NIMGRAPH_ID_KEY": TEST_ID_KEY}
    if isinstance(store, EmbeddedStore):
        location = str(store.path)
    else:
        server = neo4j_settings()
        location = server["uri"]
        env["NIMGRAPH_NEO4J_USER"] = server["user"]
        env["NIMGRAPH_NEO4J_PASSWORD"] = server["password"]
    return subprocess.run(
        [sys.executable, "-m", "nimgraph.cli", "--store", location, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def ingest(store: GraphStore, tmp_path: Path, spec: Path, *files: Path) -> str:
    """Load ``files`` with ``spec`` alone; the summary printed, after checking the run succeeded."""
    done = nimgraph(store, tmp_path, "ingest", str(spec), *map(str, files), "--rejects-dir", "listed")
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@dataclass
class Summary:
    """What the CLI said about one file."""

    read: int
    loaded: int
    rejected: int = 0
    filtered: int = 0
    unmatched: int = 0
    warned: int = 0
    ambiguous: dict[str, int] = field(default_factory=dict)  # "date ('Column')" -> values that fit both orders
    text: str = ""


def summaries(stdout: str) -> dict[str, Summary]:
    found: dict[str, Summary] = {}
    current: Summary | None = None
    for line in stdout.splitlines():
        if head := re.match(
            r"^(?P<file>[^\s:]+)(?: \(dry run, nothing written\))?: (?P<loaded>\d+) of "
            r"(?P<read>\d+) rows (?:loaded|would load)",
            line,
        ):
            current = found[head["file"]] = Summary(read=int(head["read"]), loaded=int(head["loaded"]))
        assert current is not None, f"output before the first file's summary: {line!r}"
        current.text += line + "\n"
        if m := re.search(r"; (\d+) rejected, see ", line):
            current.rejected = int(m[1])
        if m := re.search(r"; (\d+) left out by the spec's filters", line):
            current.filtered = int(m[1])
        if m := re.match(r"^(\d+) loaded row\(s\) had a reference that found nothing", line):
            current.unmatched = int(m[1])
        if m := re.match(r"^(\d+) row\(s\) loaded with a warning", line):
            current.warned += int(m[1])
        if m := re.match(r"^(.+?): (\d+) value\(s\) fit both day-first and month-first", line):
            current.ambiguous[m[1]] = int(m[2])
    return found


def listing(folder: Path, file: str, kind: str) -> dict[int, list[str]]:
    """A rejects, unmatched or warnings listing: the row as it was and its reason, by line number."""
    path = folder / f"{Path(file).stem}.{kind}.csv"
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    return {int(row[0]): row[1:] for row in rows}


@dataclass
class Expected:
    """What one file should do, computed with pandas."""

    read: int
    rejected: dict[int, str]  # line -> a pattern its reason must match
    filtered: int = 0
    unmatched: set[int] = field(default_factory=set)  # lines that loaded without a reference
    warned: set[int] = field(default_factory=set)  # lines that loaded with a warning
    ambiguous: dict[str, int] = field(default_factory=dict)  # "date ('Column')" -> values that fit both orders


def check_file(said: dict[str, Summary], folder: Path, file: str, expected: Expected) -> None:
    """The summary's counts, and the listings, against what pandas says; every row is accounted for."""
    summary = said[file]
    assert summary.read == expected.read, summary.text
    assert summary.rejected == len(expected.rejected), summary.text
    assert summary.filtered == expected.filtered, summary.text
    assert summary.loaded == expected.read - len(expected.rejected) - expected.filtered, summary.text
    assert summary.loaded + summary.rejected + summary.filtered == summary.read  # the sum check
    assert summary.unmatched == len(expected.unmatched), summary.text
    assert summary.warned == len(expected.warned), summary.text
    rejects = listing(folder, file, "rejects")
    assert set(rejects) == set(expected.rejected), summary.text
    for line, pattern in expected.rejected.items():
        assert re.search(pattern, rejects[line][0]), (line, rejects[line][0])
    assert set(listing(folder, file, "unmatched")) == expected.unmatched
    assert set(listing(folder, file, "warnings")) == expected.warned
    assert summary.ambiguous == {what: n for what, n in expected.ambiguous.items() if n}, summary.text


# ------------------------------------------------------------------------------------------ pandas helpers
def table(path: Path, columns: list[str] | None = None, **options) -> pd.DataFrame:
    """A CSV as text, as the partner wrote it: nothing guessed, nothing dropped."""
    header = None if columns else "infer"
    return pd.read_csv(path, dtype=str, keep_default_na=False, header=header, names=columns, **options)


def parsed(values: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(values, format=fmt, errors="coerce")


def ambiguous(values: pd.Series, day_first: str, month_first: str) -> pd.Series:
    """Values that read as two different dates, day first and month first."""
    one, other = parsed(values, day_first), parsed(values, month_first)
    return one.notna() & other.notna() & (one != other)


def nhs_digits(value: str) -> str:
    return re.sub(r"[\s-]", "", value)


def nhs_well_formed(value: str) -> bool:
    return re.fullmatch(r"\d{10}", nhs_digits(value)) is not None


def nhs_check_passes(value: str) -> bool:
    digits = nhs_digits(value)
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return check != 10 and check == int(digits[9])


def phone_digits(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return "0" + digits[2:] if value.strip().startswith("+44") else digits


def unordered(pairs) -> set[frozenset]:
    return {frozenset(p) for p in pairs}


def links_of(store: GraphStore, link_type: str) -> list[Link]:
    return list(store.subgraph([link_type]).links.values())


def records(link: Link) -> set[tuple[str, int]]:
    return {(a.file, a.row) for a in link.provenance}


# ================================================================================= 1. Neo4j bulk import
ENDS = {  # the id spaces a link's source and target must come from: the ontology's domain and range
    "suspectIn": ("Person", "Crime"),
    "victimIn": ("Person", "Crime"),
    "knows": ("Person", "Person"),
    "familyOf": ("Person", "Person"),
    "usesPhone": ("Person", "Phone"),
    "officerInCase": ("Crime", "Person"),
}
SYMMETRIC = {"knows", "familyOf"}


def neo4j_expected(model: Model) -> tuple[dict[str, Expected], Counter, Counter, dict]:
    spec = yaml.safe_load((NEO4J / "spec.yaml").read_text())["neo4j_import"]
    files = spec["files"]
    expected: dict[str, Expected] = {}
    people = table(NEO4J / "people.csv")
    pid = "personId:ID(Person)"
    bad_dob = (people["dob:date"] != "") & parsed(people["dob:date"], "%Y-%m-%d").isna()
    rejected = {i + 2: "is empty" for i in people.index[people[pid] == ""]}
    rejected |= {i + 2: "dateOfBirth .*is not a date" for i in people.index[bad_dob]}
    expected["people.csv"] = Expected(len(people), rejected)
    loaded_people = people[(people[pid] != "") & ~bad_dob]

    crimes = table(NEO4J / "crimes.csv")
    codes = files["crimes.csv"]["properties"]["crimeType"]["map"]
    no_date, bad_type = crimes["reported"] == "", ~crimes["type"].isin(list(codes))
    rejected = {i + 2: "needs a date; got ''" for i in crimes.index[no_date]}
    rejected |= {i + 2: "crime type .* is not in the police.uk crime types" for i in crimes.index[bad_type]}
    ok = ~no_date & ~bad_type
    expected["crimes.csv"] = Expected(
        len(crimes),
        rejected,
        ambiguous={"date ('reported')": int(ambiguous(crimes["reported"][ok], "%d/%m/%Y", "%m/%d/%Y").sum())},
    )
    loaded_crimes = crimes[ok]
    phones = table(NEO4J / "phones.csv")
    expected["phones.csv"] = Expected(len(phones), {})

    nodes = {
        "Person": set(loaded_people[pid]),
        "Crime": set(loaded_crimes["crimeId:ID(Crime)"]),
        "Phone": set(phones["phoneId:ID(Phone)"]),
    }
    entities = Counter(
        {"Person": len(nodes["Person"]), "CrimeIncident": len(nodes["Crime"]), "Phone": len(nodes["Phone"])}
    )
    kinds = model.code_list(model.property_def("relationKind").code_list)
    pairs: dict[str, set] = {}
    rows_of: dict[str, dict[int, tuple[str, str]]] = {}  # file -> line -> (source, target) of each loaded row
    for path in sorted(NEO4J.glob("*.csv")):
        frame = table(path)
        if ":TYPE" not in frame.columns:
            continue
        (start, start_space), (end, end_space) = (
            (c, re.search(r"\((\w+)\)", c)[1]) for c in frame.columns if c.startswith((":START_ID", ":END_ID"))
        )
        flipped = files.get(path.name, {}).get("reversed", False)
        rejected, loaded = {}, {}
        for i, row in frame.iterrows():
            link = spec["relationships"].get(row[":TYPE"])
            ends = [(row[start], start_space), (row[end], end_space)]
            (source, source_space), (target, target_space) = ends[::-1] if flipped else ends
            if any(raw not in nodes[space] for raw, space in ends):
                absent = "is not in the node files loaded before, nor the store"
                rejected[i + 2] = rf"node .* ({absent}|was rejected \(\w+\.csv row \d+\); fix that row first)"
            elif ENDS[link] != (source_space, target_space):
                rejected[i + 2] = f"{link} goes (from|to) an? .*, but its (source|target)"
            elif "kind" in row and kinds.lookup(row["kind"]) is None:
                rejected[i + 2] = "relation kind .* is not in the family relation kinds"
            else:
                loaded[i + 2] = (source, target)
                found = pairs.setdefault(link, set())
                found.add(frozenset((source, target)) if link in SYMMETRIC else (source, target))
        expected[path.name] = Expected(len(frame), rejected)
        rows_of[path.name] = loaded
    links = Counter({link: len(found) for link, found in pairs.items()})
    names = {r[pid]: f"{r['first']} {r['last']}" for _, r in loaded_people.iterrows()}
    dates = {
        r["crimeId:ID(Crime)"]: dt.datetime.strptime(r["reported"], "%d/%m/%Y").date().isoformat()
        for _, r in loaded_crimes.iterrows()
    }
    return expected, entities, links, {"rows": rows_of, "name_of": names, "dates": dates}


def test_a_neo4j_bulk_import_export_loads_with_its_spec_alone(store, model, tmp_path):
    expected, entities, links, planted = neo4j_expected(model)
    said = summaries(ingest(store, tmp_path, NEO4J / "spec.yaml", *sorted(NEO4J.glob("*.csv"))))
    assert set(said) == set(expected)
    for file, wanted in expected.items():
        check_file(said, tmp_path / "listed", file, wanted)
    counts = store.counts()
    assert Counter(counts["entities"]) == entities
    assert Counter(counts["links"]) == links

    # values as the spec says: the name template, the non-ISO dates, the mapped crime codes
    people = store.find("Person", limit=1000)
    assert {p.properties["name"] for p in people} == set(planted["name_of"].values())
    crimes = store.find("CrimeIncident", limit=1000)
    assert {c.properties["reference"]: c.properties["date"] for c in crimes} == planted["dates"]
    assert {c.properties["crimeType"] for c in crimes} <= {
        c.label for c in model.code_list("PoliceUkCrimeType").concepts
    }

    # a symmetric pair, listed both ways (or twice), is one link whose records are both rows
    for file, link_type in (("knows.csv", "knows"), ("family.csv", "familyOf")):
        rows = planted["rows"][file]
        by_pair: dict[frozenset, set[int]] = {}
        for line, ends in rows.items():
            by_pair.setdefault(frozenset(ends), set()).add(line)
        doubled = {pair for pair, lines in by_pair.items() if len(lines) > 1}
        assert doubled, f"the fixture plants pairs listed twice in {file}"
        stored = links_of(store, link_type)
        assert len(stored) == len(by_pair)
        for link in stored:
            lines = {row for name, row in records(link) if name == file}
            assert lines in by_pair.values()  # all the rows of one pair, and only them
            assert len({frozenset(rows[line]) for line in lines}) == 1
        assert sum(len(records(link)) > 1 for link in stored) == len(doubled)
        if link_type == "familyOf":  # each side's own word, one kind
            assert all(link.properties.get("relationKind") for link in stored)

    # the reversed file: each victimIn link goes from the person to the crime its row names first
    victims = planted["rows"]["crime_victims.csv"]
    stored = links_of(store, "victimIn")
    assert len(stored) == len({pair for pair in victims.values()})
    for link in stored:
        ((_, line),) = records(link)
        person, crime = victims[line]
        source = store.get(link.source)
        assert source.type == "Person" and source.properties["name"] == planted["name_of"][person]
        assert store.get(link.target).properties["reference"] == crime


# ================================================================================= 2. Headerless multi-agency set
HEALTH = ["Referral", "Received", "NHS", "Forename", "Surname", "Born", "Email", "Mobile", "Reason", "Referrer"]
PPN = ["PPN", "Submitted", "Officer", "NHS", "Forename", "Surname", "Born", "Concern", "Phone"]
CALLS = ["Call", "Started", "From", "To", "Seconds"]
COUNCIL = ["Case", "Reported", "Type", "Street", "Postcode", "Email", "Phone", "Notes", "Status"]


def agencies_expected() -> tuple[dict[str, Expected], Counter, Counter, dict]:
    expected: dict[str, Expected] = {}
    people: set[str] = set()
    phones: set[str] = set()
    emails: set[str] = set()
    pairs: dict[str, set] = {k: set() for k in ("involvedIn", "usesIdentifier", "usesPhone", "phoneContact")}

    health = table(AGENCIES / "health_referrals.csv", HEALTH)
    day_first = parsed(health["Received"], "%d/%m/%Y")
    month_only = day_first.isna() & parsed(health["Received"], "%m/%d/%Y").notna()
    bad_nhs = ~health["NHS"].map(nhs_well_formed)
    rejected = {i + 1: "is not a day-first date .* set date_order: month_first" for i in health.index[month_only]}
    rejected |= {i + 1: "does not have 10 digits" for i in health.index[bad_nhs]}
    ok = health[~month_only & ~bad_nhs & day_first.notna()]
    warned = {i + 1 for i in ok.index[~ok["NHS"].map(nhs_check_passes)]}
    expected["health_referrals.csv"] = Expected(
        len(health),
        rejected,
        warned=warned,
        ambiguous={
            "date ('Received')": int(ambiguous(ok["Received"], "%d/%m/%Y", "%m/%d/%Y").sum()),
            "dateOfBirth ('Born')": int(ambiguous(ok["Born"], "%d/%m/%Y", "%m/%d/%Y").sum()),
        },
    )
    for _, row in ok.iterrows():
        person = nhs_digits(row["NHS"])
        people.add(person)
        pairs["involvedIn"].add((person, row["Referral"]))
        phones.add(phone_digits(row["Mobile"]))
        pairs["usesPhone"].add((person, phone_digits(row["Mobile"])))
        if row["Email"]:
            emails.add(row["Email"].strip().lower())
            pairs["usesIdentifier"].add((person, row["Email"].strip().lower()))

    ppn = table(AGENCIES / "police_ppn.csv", PPN)
    no_date = ppn["Submitted"] == ""
    ok_ppn = ppn[~no_date]
    expected["police_ppn.csv"] = Expected(
        len(ppn),
        {i + 1: "a Referral needs a date; got ''" for i in ppn.index[no_date]},
        warned={i + 1 for i in ok_ppn.index[~ok_ppn["NHS"].map(nhs_check_passes)]},
    )
    for _, row in ok_ppn.iterrows():
        person = nhs_digits(row["NHS"])
        people.add(person)
        pairs["involvedIn"].add((person, row["PPN"]))
        if row["Phone"]:
            phones.add(phone_digits(row["Phone"]))
            pairs["usesPhone"].add((person, phone_digits(row["Phone"])))

    lookup = table(AGENCIES / "phone_subjects.txt", ["Number", "NHS"], sep="|")
    values = lookup.groupby("Number")["NHS"].nunique()
    two_people = set(values.index[values > 1])
    subject = dict(zip(lookup["Number"], lookup["NHS"], strict=True))
    calls = table(AGENCIES / "police_calls.txt", CALLS, sep="\t")
    fmt, other = "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M"
    month_only = parsed(calls["Started"], fmt).isna() & parsed(calls["Started"], other).notna()
    shared = calls["From"].isin(two_people) | calls["To"].isin(two_people)
    rejected = {i + 1: "has two or more values in lookup 'subject'; which is meant" for i in calls.index[shared]}
    rejected |= {i + 1: "is not a day-first date" for i in calls.index[month_only & ~shared]}
    ok_calls = calls[~shared & ~month_only]
    unmatched, warned, contacts = set(), set(), 0
    for i, row in ok_calls.iterrows():
        ends = [subject.get(row[c]) for c in ("From", "To")]
        if None in ends:
            unmatched.add(i + 1)
        if any(e is not None and not nhs_check_passes(e) for e in ends):
            warned.add(i + 1)
        people.update(e for e in ends if e)
        phones.update(phone_digits(row[c]) for c in ("From", "To"))
        if None not in ends:
            pairs["phoneContact"].add(frozenset(ends))
            contacts += 1
    both_orders = int(ambiguous(ok_calls["Started"], fmt, other).sum())  # read twice: the date and the date-time
    expected["police_calls.txt"] = Expected(
        len(calls),
        rejected,
        unmatched=unmatched,
        warned=warned,
        ambiguous={"date ('Started')": both_orders, "dateTime ('Started')": both_orders},
    )

    council = table(AGENCIES / "council_asb.csv", COUNCIL, encoding="cp1252")
    deleted = council["Status"].str.strip().str.casefold() == "deleted"
    bad_date = parsed(council["Reported"], "%d/%m/%y").isna()
    ok_council = council[~deleted & ~bad_date]
    expected["council_asb.csv"] = Expected(
        len(council),
        {i + 1: "is not a date in the format '%d/%m/%y'" for i in council.index[bad_date & ~deleted]},
        filtered=int(deleted.sum()),
        ambiguous={"date ('Reported')": int(ambiguous(ok_council["Reported"], "%d/%m/%y", "%m/%d/%y").sum())},
    )
    emails.update(e.strip().lower() for e in ok_council["Email"] if e)
    phones.update(phone_digits(p) for p in ok_council["Phone"] if p)
    streets = {
        (" ".join(s.split()).casefold(), p.replace(" ", ""))
        for s, p in zip(ok_council["Street"], ok_council["Postcode"], strict=True)
    }

    entities = Counter(
        {
            "Person": len(people),
            "Phone": len(phones),
            "EmailAddress": len(emails),
            "HealthReferral": ok["Referral"].nunique(),
            "Referral": ok_ppn["PPN"].nunique(),
            "Call": ok_calls["Call"].nunique(),
            "ASBIncident": ok_council["Case"].nunique(),
            "Street": len(streets),
        }
    )
    resolved = {c: ok_calls[c].map(subject).notna() for c in ("From", "To")}
    links = Counter(
        {
            **{k: len(v) for k, v in pairs.items()},
            "callingNumberIn": len(ok_calls),
            "calledNumberIn": len(ok_calls),
            "callerIn": int(resolved["From"].sum()),
            "recipientIn": int(resolved["To"].sum()),
            "occurredAt": len(ok_council),
            "featuredIn": int((ok_council["Email"] != "").sum() + (ok_council["Phone"] != "").sum()),
        }
    )
    both = set(ok["NHS"].map(nhs_digits)) & set(ok_ppn["NHS"].map(nhs_digits))
    written = {
        n: {s for s in [*ok["NHS"], *ok_ppn["NHS"]] if nhs_digits(s) == n} for n in both
    }  # how each shared number was written
    shared_emails = {e.strip().lower() for e in ok["Email"] if e} & {e.strip().lower() for e in ok_council["Email"]}
    return expected, entities, links, {"nhs": written, "emails": shared_emails, "contacts": contacts}


AGENCY_RUNS = [
    ("health.yaml", "health_referrals.csv"),
    ("police_ppn.yaml", "police_ppn.csv"),
    ("police_calls.yaml", "police_calls.txt"),
    ("council_asb.yaml", "council_asb.csv"),
]


def test_a_headerless_multi_agency_set_joins_through_identifiers(store, tmp_path):
    expected, entities, links, planted = agencies_expected()
    outputs = {file: ingest(store, tmp_path, AGENCIES / spec, AGENCIES / file) for spec, file in AGENCY_RUNS}
    said = {file: summaries(text)[file] for file, text in outputs.items()}
    for file, wanted in expected.items():
        check_file(said, tmp_path / "listed", file, wanted)
    counts = store.counts()
    assert Counter(counts["entities"]) == entities
    assert Counter(counts["links"]) == links

    # read as each file is: tab-separated calls, a Windows-1252 council file with its £ and accents
    assert "delimiter '\\t'" in said["police_calls.txt"].text
    assert "cp1252" in said["council_asb.csv"].text
    notes = {e.properties.get("description", "") for e in store.find("ASBIncident", limit=1000)}
    assert any("£100" in n for n in notes)
    assert "Café Parade" in {e.properties["name"] for e in store.find("Street", limit=1000)}

    # one person across health and police, whose NHS number each wrote its own way
    spelled = {n: ways for n, ways in planted["nhs"].items() if len(ways) > 1}
    assert spelled, "the fixture plants NHS numbers written differently by health and police"
    for number in spelled:
        (person,) = [p for p in store.find("Person", number, limit=10) if p.properties.get("nhsNumber") == number]
        assert {a.source for a in person.provenance} >= {"northshire-health-referrals", "northshire-police-ppn"}
    # one email address across health and the council, whatever its case
    assert planted["emails"]
    for email in planted["emails"]:
        (found,) = [e for e in store.find("EmailAddress", email, limit=10) if e.properties["identifier"] == email]
        assert {a.source for a in found.provenance} == {"northshire-health-referrals", "northshire-council-asb"}
    # a call between two known people: one phoneContact per pair, each call one record of it
    contacts = links_of(store, "phoneContact")
    assert sum(len({a.record_id for a in link.provenance}) for link in contacts) == planted["contacts"]


def test_the_multi_agency_calls_load_through_an_api_job_with_their_lookup(embedded_store, model, tmp_path):
    """The API takes the spec, the file and the lookup the spec names; the job says what the CLI says."""
    from api.main import create_app

    expected = agencies_expected()[0]["police_calls.txt"]
    settings = dev_settings(store="unused", work_dir=tmp_path / "work", access_db=tmp_path / "access.db")
    headers = {"X-API-Key": "dev-analyst", "X-Purpose": "partner export tests"}
    with TestClient(create_app(settings, store=embedded_store, model=model)) as client:
        submitted = client.post(
            "/ingest/jobs",
            headers=headers,
            files=[
                ("spec", ("police_calls.yaml", (AGENCIES / "police_calls.yaml").read_bytes(), "application/yaml")),
                ("file", ("police_calls.txt", (AGENCIES / "police_calls.txt").read_bytes(), "text/plain")),
                ("lookup", ("phone_subjects.txt", (AGENCIES / "phone_subjects.txt").read_bytes(), "text/plain")),
            ],
        )
        assert submitted.status_code == 202, submitted.text
        job = finished(client, submitted.json()["id"], headers)
        assert job["status"] == "done", job
        report = job["report"]
        assert report["rows_read"] == expected.read
        assert report["rows_rejected"] == len(expected.rejected)
        assert report["rows_unmatched"] == len(expected.unmatched)
        assert report["rows_loaded"] + report["rows_rejected"] + report["rows_filtered"] == report["rows_read"]
        unmatched = client.get(job["unmatched"], headers=headers)
        assert unmatched.status_code == 200
        listed = list(csv.DictReader(unmatched.text.splitlines()))
        assert {int(row["row"]) for row in listed} == expected.unmatched
        assert all("in lookup 'subject'" in row["reason"] for row in listed)


def finished(client: TestClient, job_id: str, headers: dict[str, str]) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(f"/ingest/jobs/{job_id}", headers=headers).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    pytest.fail(f"ingest job {job_id} did not finish in 120 s")


# ================================================================================= 3. Excel workbook
def excel_expected() -> tuple[Expected, Counter, Counter, pd.DataFrame]:
    spec = yaml.safe_load((EXCEL / "spec.yaml").read_text())
    header_row = spec["read"]["header_row"]
    sheet = pd.read_excel(
        EXCEL / "vehicle_fires.xlsx", sheet_name=spec["read"]["sheet"], header=header_row - 1, dtype=object
    )
    sheet = sheet.dropna(how="all")  # a blank row is no record
    line = {i: i + header_row + 1 for i in sheet.index}  # the spreadsheet's row numbers
    total = sheet["Incident number"].astype(str).str.casefold() == "total"
    is_date = sheet["Date of call"].map(lambda v: isinstance(v, dt.datetime))
    rejected = {line[i]: "'TBC' is not a date" for i in sheet.index[~is_date & ~total]}
    ok = sheet[is_date & ~total]
    registrations = ok["Registration"].dropna().astype(str).str.replace(r"[\s-]", "", regex=True).str.upper()
    registrations = registrations[registrations != ""]
    streets = {(s, p) for s, p in zip(ok["Street"], ok["Postcode"], strict=True)}
    entities = Counter(
        {"DeliberateFire": ok["Incident number"].nunique(), "Vehicle": registrations.nunique(), "Street": len(streets)}
    )
    with_vehicle = ok.loc[registrations.index]
    links = Counter(
        {
            "featuredIn": len(set(zip(registrations, with_vehicle["Incident number"], strict=True))),
            "occurredAt": len(set(zip(ok["Incident number"], ok["Street"], ok["Postcode"], strict=True))),
        }
    )
    repeated = {line[i] for i in ok.index[ok["Incident number"].duplicated()]}  # entered twice: one record, warned
    return Expected(len(sheet), rejected, filtered=int(total.sum()), warned=repeated), entities, links, ok


def test_an_excel_workbook_with_a_title_row_and_a_totals_row_loads(store, tmp_path):
    expected, entities, links, ok = excel_expected()
    said = summaries(ingest(store, tmp_path, EXCEL / "spec.yaml", EXCEL / "vehicle_fires.xlsx"))
    check_file(said, tmp_path / "listed", "vehicle_fires.xlsx", expected)
    assert expected.filtered == 1  # the totals row, left out by the filter: neither loaded nor rejected
    assert "header at row 3" in said["vehicle_fires.xlsx"].text
    counts = store.counts()
    assert Counter(counts["entities"]) == entities
    assert Counter(counts["links"]) == links
    fires = {f.properties["reference"]: f.properties for f in store.find("DeliberateFire", limit=1000)}
    for _, row in ok.iterrows():  # the date and time cells, as Excel holds them
        when = dt.datetime.combine(row["Date of call"].date(), row["Time of call"])
        assert fires[row["Incident number"]]["date"] == when.date().isoformat()
        assert fires[row["Incident number"]]["dateTime"].startswith(when.isoformat())
    vehicles = {v.properties["registration"]: v.properties for v in store.find("Vehicle", limit=1000)}
    for _, row in ok[ok["Registration"].map(lambda r: isinstance(r, str) and r.strip() != "")].iterrows():
        vehicle = vehicles[re.sub(r"[\s-]", "", row["Registration"]).upper()]
        assert (vehicle["vehicleMake"], vehicle["vehicleModel"], vehicle["colour"]) == (
            row["Make"],
            row["Model"],
            row["Colour"],
        )
    # eastings and northings converted to WGS84: each street holds the position of one of its fires
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    positions: dict[str, list[tuple[float, float]]] = {}
    for _, row in ok.iterrows():
        longitude, latitude = to_wgs84.transform(row["Easting"], row["Northing"])
        positions.setdefault(row["Street"], []).append((latitude, longitude))
    for street in store.find("Street", limit=1000):
        at = (street.properties["latitude"], street.properties["longitude"])
        assert any(at == pytest.approx(p, abs=1e-4) for p in positions[street.properties["name"]]), at


# ================================================================================= 4. JSON Lines feed
def feed_expected(model: Model) -> tuple[Expected, Counter, Counter, dict]:
    types = model.code_list("PoliceUkCrimeType")
    records, rejected = {}, {}
    lines = (FEED / "street_crimes.jsonl").read_text(encoding="utf-8").splitlines()
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            rejected[number] = "not valid JSON"
            continue
        if not isinstance(record, dict):
            rejected[number] = "not a JSON object"
        elif types.lookup(record["category"]) is None:
            rejected[number] = "crime type .* is not in the police.uk crime types"
        elif not record["month"]:
            rejected[number] = "needs a date; got ''"
        else:
            records[number] = record
    frame = pd.json_normalize(list(records.values()))
    located = frame[frame["location.street.name"].notna()]
    streets = located["location.street.name"].str.removeprefix("On or near ")
    entities = Counter({"CrimeIncident": frame["id"].nunique(), "Street": streets.nunique()})
    links = Counter({"occurredAt": len(located)})
    outcomes = {str(r["id"]): r["outcome_status"]["category"] for r in records.values() if r.get("outcome_status")}
    late = min(n for n, r in records.items() if "outcome_status" in r)
    read = sum(1 for text in lines if text.strip())
    return Expected(read, rejected), entities, links, {"outcomes": outcomes, "late": late, "located": located}


def test_a_json_lines_feed_loads_line_by_line(store, model, tmp_path):
    expected, entities, links, planted = feed_expected(model)
    said = summaries(ingest(store, tmp_path, FEED / "spec.yaml", FEED / "street_crimes.jsonl"))
    check_file(said, tmp_path / "listed", "street_crimes.jsonl", expected)
    counts = store.counts()
    assert Counter(counts["entities"]) == entities
    assert Counter(counts["links"]) == links
    crimes = {c.properties["reference"]: c.properties for c in store.find("CrimeIncident", limit=1000)}
    # a field that appears only in later lines is read where it is, and nowhere else
    assert planted["late"] > 100
    assert {ref: p["outcome"] for ref, p in crimes.items() if "outcome" in p} == planted["outcomes"]
    assert {p["datePrecision"] for p in crimes.values()} == {"Month"}
    # the nested location: street, latitude and longitude out of its JSON text
    streets = {s.properties["name"]: s.properties for s in store.find("Street", limit=1000)}
    for _, row in planted["located"].iterrows():
        street = streets[row["location.street.name"].removeprefix("On or near ")]
        assert street["latitude"] == pytest.approx(float(row["location.latitude"]))
        assert street["longitude"] == pytest.approx(float(row["location.longitude"]))


# ================================================================================= the fixtures are reproducible
def test_the_fixtures_are_what_make_py_writes(tmp_path):
    """make.py, run again, writes the committed files byte for byte (it is seeded)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_exports", EXPORTS / "make.py")
    assert spec is not None and spec.loader is not None
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    make.write_all(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(
        p.relative_to(EXPORTS)
        for p in EXPORTS.rglob("*")
        if p.suffix not in (".md", ".yaml", ".py") and p.is_file() and "__pycache__" not in p.parts
    )
    assert written == committed
    for path in written:
        assert (tmp_path / path).read_bytes() == (EXPORTS / path).read_bytes(), f"{path} differs"


def test_the_fixtures_plant_what_their_readmes_say(model):
    """The counts above are only worth checking if the files hold the mess: each planted kind is there."""
    graph = neo4j_expected(model)[0]
    for file in (
        "people.csv",
        "crimes.csv",
        "suspect_of.csv",
        "crime_victims.csv",
        "knows.csv",
        "family.csv",
        "uses_phone.csv",
        "officer_in_case.csv",
    ):
        assert graph[file].rejected, file
    reasons = Counter(r for e in graph.values() for r in e.rejected.values())
    assert len(reasons) == 7  # every rule rejects at least one row
    assert graph["crimes.csv"].ambiguous["date ('reported')"] > 0
    agencies = agencies_expected()[0]
    health, calls, council = agencies["health_referrals.csv"], agencies["police_calls.txt"], agencies["council_asb.csv"]
    assert len(set(health.rejected.values())) == 2 and health.warned and all(health.ambiguous.values())
    assert len(set(calls.rejected.values())) == 2 and calls.unmatched and calls.warned
    assert council.filtered and council.rejected and agencies["police_ppn.csv"].rejected
    excel = excel_expected()[0]
    assert excel.rejected and excel.filtered == 1
    feed = feed_expected(model)[0]
    assert set(feed.rejected.values()) == {
        "not valid JSON",
        "not a JSON object",
        "crime type .* is not in the police.uk crime types",
        "needs a date; got ''",
    }
