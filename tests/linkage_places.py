"""Seeded addresses and vehicles as partners record them, with planted near-duplicates: the same home
written another way (a street word shortened, the flat written differently, a postcode mistyped), the
same vehicle's registration misread (O for 0, I for 1, S for 5, B for 8) or spaced differently; and,
around them, the neighbours that are not the same: the next house on the street, a car of the same
make and colour."""

from __future__ import annotations

import random

import pandas as pd

from nimgraph.resolution.frames import address_row, vehicle_row

STREET_NAMES = ["Mill", "Church", "Park", "Victoria", "Station", "Green", "Albert", "Queens", "Kings", "Orchard"]
KINDS = {"Road": "Rd", "Street": "St", "Lane": "Ln", "Avenue": "Ave", "Close": "Cl", "Drive": "Dr"}
ADDRESS_CHANGES = ("street_word", "flat", "postcode_typo", "spacing")
MISREAD = {"0": "O", "1": "I", "5": "S", "8": "B", "O": "0", "I": "1", "S": "5", "B": "8"}
VEHICLE_CHANGES = ("misread", "spacing", "misread_and_case")
MAKES = ["Ford", "Vauxhall", "Volkswagen", "BMW", "Audi", "Toyota", "Nissan", "Kia"]
COLOURS = ["Black", "White", "Silver", "Blue", "Red", "Grey"]


def _postcode(rng: random.Random) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"NW{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def addresses(seed: int = 11, homes: int = 800, copies: int = 120):
    """Address rows: ``homes`` homes, a few on each street and postcode (neighbours), and a partner's copy
    of ``copies`` of them; the planted pairs, each with its change."""
    rng = random.Random(seed)
    rows, planted = [], {}
    streets = [(f"{rng.choice(STREET_NAMES)} {kind}", _postcode(rng)) for kind in KINDS for _ in range(30)]
    taken: set[tuple[str, str]] = set()
    n = 0
    while n < homes:
        street, postcode = rng.choice(streets)
        number = str(rng.randint(1, 120))
        flat = rng.random() < 0.15
        line = f"Flat {rng.randint(1, 6)}, {number} {street}" if flat else f"{number} {street}"
        if (line, postcode) in taken:
            continue
        taken.add((line, postcode))
        rows.append(address_row(f"police-{n}", "police", {"addressLine": line, "postcode": postcode}))
        if n < copies:
            change = ADDRESS_CHANGES[n % len(ADDRESS_CHANGES)]
            copy_line, copy_postcode = line, postcode
            if change == "street_word":
                kind = street.split()[-1]
                copy_line = line.replace(kind, KINDS[kind] + ".")
            elif change == "flat":
                copy_line = line.replace("Flat ", "Apartment ") if flat else f"{number}, {street}"
            elif change == "postcode_typo":
                copy_postcode = postcode[:-1] + ("A" if postcode[-1] != "A" else "B")
            else:
                copy_line, copy_postcode = line.upper().replace(",", ""), postcode.replace(" ", "").lower()
            rows.append(address_row(f"council-{n}", "council", {"addressLine": copy_line, "postcode": copy_postcode}))
            planted[frozenset((f"police-{n}", f"council-{n}"))] = change
        n += 1
    return pd.DataFrame(rows), planted


def _registration(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNOPRSTUVWXY"
    return (
        f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(10, 75)} "
        f"{rng.choice(letters)}{rng.choice(letters)}{rng.choice(letters)}"
    )


def vehicles(seed: int = 13, count: int = 600, copies: int = 90):
    """Vehicle rows and a partner's copy of ``copies`` of them, with the planted pairs and their changes."""
    rng = random.Random(seed)
    rows, planted, seen = [], {}, set()
    n = 0
    while n < count:
        registration = _registration(rng)
        if registration in seen:
            continue
        seen.add(registration)
        make, colour = rng.choice(MAKES), rng.choice(COLOURS)
        rows.append(
            vehicle_row(f"police-{n}", "police", {"registration": registration, "vehicleMake": make, "colour": colour})
        )
        if n < copies:
            change = VEHICLE_CHANGES[n % len(VEHICLE_CHANGES)]
            copy = registration
            if change.startswith("misread"):
                at = [i for i, c in enumerate(registration) if c in MISREAD]
                if at:
                    i = rng.choice(at)
                    copy = registration[:i] + MISREAD[registration[i]] + registration[i + 1 :]
                else:
                    change = "spacing"
            if change == "spacing" or copy == registration:
                copy = registration.replace(" ", "")
            if change == "misread_and_case":
                copy = copy.lower()
            given = {"registration": copy, "vehicleMake": make if rng.random() < 0.7 else None, "colour": colour}
            rows.append(vehicle_row(f"council-{n}", "council", {k: v for k, v in given.items() if v}))
            planted[frozenset((f"police-{n}", f"council-{n}"))] = change
        n += 1
    return pd.DataFrame(rows), planted
