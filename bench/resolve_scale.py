"""Entity resolution at scale: deduplicating a million generated person records, with time and peak memory.

A seeded population as a partnership's people look: names drawn from a long-tailed list (a few very
common, most rare), dates of birth across eighty years, homes shared by households, phones, emails
and NHS numbers for some. One record in ten has a near-duplicate elsewhere in the file with one
change (a typo, a short form of the forename, the day and month swapped, a move, no forename). The
rows go through nimgraph's canonical person rows and the packaged person settings, trained
unsupervised on the data (dedupe, every record against every other the blocking rules pair).
Issue 18 asks for the time and the peak memory of deduplicating 1M records on this machine; the
planted pairs give recall and precision too.

    .venv/bin/python bench/resolve_scale.py [--people 1000000] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_neo4j import publish, publish_once

from nimgraph.resolution.frames import NICKNAMES, person_row
from nimgraph.resolution.linkage import load_settings, predict, train

CHANGES = ("typo", "nickname", "swapped", "moved", "no_forename")
ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "w", "br", "ch", "cl", "st", "th"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]
CODAS = ["", "n", "r", "s", "t", "ll", "nd", "rs", "ton", "son", "ley", "well", "wood", "field", "ham"]


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables)) + rng.choice(CODAS)


def _long_tail(rng: random.Random, words: list[str], k: int) -> list[str]:
    """``k`` draws from ``words``, the n-th as likely as 1/(n + 10) (Zipf-like): a few names common, most rare."""
    weights = [1 / (n + 10) for n in range(len(words))]  # the commonest about 1%, as Smith is
    return rng.choices(words, weights=weights, k=k)


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word + rng.choice("aeiou")
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if rng.random() < 0.5 else word[:i] + word[i + 1 :]


def population(people: int, seed: int = 18) -> tuple[pd.DataFrame, set[frozenset[str]]]:
    """``people`` canonical person rows, one in ten a changed copy of another; the planted pairs."""
    records, planted = records_of(people, seed)
    return pd.DataFrame([person_row(i, source, values) for i, source, values in records]), planted


def records_of(people: int, seed: int = 18) -> tuple[list[tuple[str, str, dict]], set[frozenset[str]]]:
    """``people`` records as partners give them (id, source, values), one in ten a changed copy of another;
    the planted pairs."""
    rng = random.Random(seed)
    formal = sorted(set(NICKNAMES.values()))
    short = {f: [n for n, g in NICKNAMES.items() if g == f] for f in formal}
    forenames = list(dict.fromkeys(formal + [_word(rng, rng.choice((1, 2))) for _ in range(1500)]))
    surnames = list(dict.fromkeys(_word(rng, rng.choice((2, 3, 3))) for _ in range(200_000)))
    streets = [f"{_word(rng, 2)} {rng.choice(['road', 'street', 'lane', 'close', 'avenue'])}" for _ in range(20_000)]
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    postcodes = [
        f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(1, 40)} {rng.randint(1, 9)}"
        f"{rng.choice(letters)}{rng.choice(letters)}"
        for _ in range(max(people // 15, 100))
    ]
    copies = people // 10
    originals = people - copies
    first = _long_tail(rng, forenames, originals)
    last = _long_tail(rng, surnames, originals)
    homes: list[tuple[str, str]] = []
    rows, planted = [], set()
    born_from = date(1930, 1, 1)
    for n in range(originals):
        if homes and rng.random() < 0.2:  # a household: someone else lives there
            home = rng.choice(homes)
        else:
            home = (f"{rng.randint(1, 250)} {rng.choice(streets)}", rng.choice(postcodes))
            homes.append(home)
        values = {
            "forename": first[n],
            "surname": last[n],
            "dateOfBirth": (born_from + timedelta(days=rng.randrange(80 * 365))).isoformat(),
            "addressLine": home[0],
            "postcode": home[1],
        }
        if rng.random() < 0.5:
            values["phoneNumber"] = f"07{rng.randrange(10**9):09d}"
        if rng.random() < 0.2:
            values["identifier"] = f"{first[n]}.{last[n]}{rng.randint(1, 999)}@example.org"
        if rng.random() < 0.3:
            values["nhsNumber"] = f"{rng.randrange(10**10):010d}"
        rows.append(values)
    made = [(f"r{n}", "a", values) for n, values in enumerate(rows)]
    copied: dict[int, list[str]] = {}
    for c in range(copies):
        n = rng.randrange(originals)
        copy = dict(rows[n])
        change = CHANGES[c % len(CHANGES)]
        if change == "typo":
            copy["surname"] = _typo(rng, copy["surname"])
        elif change == "nickname":
            copy["forename"] = rng.choice(short.get(copy["forename"]) or [_typo(rng, copy["forename"])])
        elif change == "swapped":
            born = date.fromisoformat(copy["dateOfBirth"])
            if born.day <= 12 and born.day != born.month:
                copy["dateOfBirth"] = date(born.year, born.day, born.month).isoformat()
            else:
                copy["surname"] = _typo(rng, copy["surname"])
        elif change == "moved":
            copy["addressLine"] = f"{rng.randint(1, 250)} {rng.choice(streets)}"
            copy["postcode"] = rng.choice(postcodes)
        else:
            copy.pop("forename")
        copy.pop("phoneNumber", None) if rng.random() < 0.5 else None
        made.append((f"c{c}", "b", copy))
        copied.setdefault(n, []).append(f"c{c}")
    for n, ids in copied.items():  # every record of one person is a pair with every other: copies of a copy too
        same = [f"r{n}", *ids]
        planted |= {frozenset((a, b)) for i, a in enumerate(same) for b in same[i + 1 :]}
    return made, planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--write", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()
    settings = load_settings()["person"]
    started = time.perf_counter()
    frame, planted = population(args.people)
    made = time.perf_counter()
    say = lambda step: print(f"... {time.perf_counter() - started:7.1f} s {step}", file=sys.stderr)  # noqa: E731
    trained = train(settings, [frame], link_type="dedupe_only", say=say)
    trained_at = time.perf_counter()
    say("predicting")
    pairs = predict(trained)
    finished = time.perf_counter()
    proposed = {frozenset((p.left, p.right)) for p in pairs}
    hits = len(proposed & planted)
    precision, recall = hits / max(len(proposed), 1), hits / len(planted)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"\n### {stamp}, {platform.node() or 'vm'}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"model {trained.model_id}\n\n"
        f"| records | planted pairs | generating the rows | training | prediction | linkage (training and prediction) "
        f"| peak memory | pairs proposed | precision | recall |\n|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {len(frame):,} | {len(planted):,} | {made - started:.1f} s | {trained_at - made:.1f} s "
        f"| {finished - trained_at:.1f} s | **{finished - made:.1f} s** | **{peak:,.0f} MiB** | {len(proposed):,} "
        f"| {precision:.4f} | {recall:.4f} |\n"
    )
    if args.write:
        publish_once(
            "Entity resolution at scale",
            "Deduplicating generated person records with the packaged person model, trained unsupervised on "
            "them (Splink on DuckDB, in this process: the peak memory is the whole process's, DuckDB's "
            "included). Issue 18 asks for the time and peak memory at 1M records.",
            "resolve_scale.py",
            "deduplicating 1M generated people: time, peak memory, recall and precision",
        )
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
