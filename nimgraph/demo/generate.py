"""A synthetic, seeded partnership dataset with patterns planted for the analysis to find.

The files are shaped like what partners send: the police.uk street-level crime CSV, a restricted
police extract naming the people in each crime, council ASB reports, fire-service deliberate
fires, graded intelligence reports and the partnership's problem register. Everything is fictional.

Planted, and recorded in ``planted.json`` so that tests can check the analysis finds them:

- a drugs-supply network of eight people who share addresses, phones and incidents;
- a street (the hotspot) with ASB rising month on month, on Friday and Saturday evenings,
  inside a problem's area;
- a repeat victim with seven crimes in that area;
- a vulnerable person, party to no crime, whom intelligence links to four of the network, and
  their older sibling, who lives with them (a relative of someone with criminal associates);
- a few malformed rows, which must land in the rejects files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

POLICE_UK_COLUMNS = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]
NOMINAL_COLUMNS = [
    "Crime ID",
    "Nominal ID",
    "Forename",
    "Surname",
    "Date of Birth",
    "Role",
    "Home Address",
    "Home Postcode",
    "Mobile",
]
ASB_COLUMNS = [
    "Case Reference",
    "Date Reported",
    "Time Reported",
    "ASB Type",
    "Street",
    "Ward",
    "LSOA Code",
    "Description",
]
FIRE_COLUMNS = [
    "Incident Number",
    "Call DateTime",
    "Incident Type",
    "Property Type",
    "Street",
    "LSOA Code",
    "Latitude",
    "Longitude",
]
INTEL_COLUMNS = [
    "URN",
    "Date",
    "Grading",
    "Subject Nominal",
    "Subject Name",
    "Associate Nominal",
    "Associate Name",
    "Association",
    "Summary",
]
PROBLEM_COLUMNS = ["Problem Ref", "Title", "Owner", "LSOA Code", "Opened", "SARA Stage", "Problem Type"]

FORCE = "Northshire Police"
FORENAMES = [
    "Aaron",
    "Abigail",
    "Adam",
    "Aisha",
    "Alfie",
    "Amelia",
    "Callum",
    "Chloe",
    "Connor",
    "Daisy",
    "Daniel",
    "Demi",
    "Ellie",
    "Ethan",
    "Faith",
    "Finley",
    "Grace",
    "Harvey",
    "Holly",
    "Isaac",
    "Jade",
    "Jake",
    "Jasmine",
    "Jordan",
    "Kai",
    "Keira",
    "Leon",
    "Lily",
    "Logan",
    "Maya",
    "Mason",
    "Megan",
    "Nathan",
    "Niamh",
    "Owen",
    "Paige",
    "Reece",
    "Rhys",
    "Sasha",
    "Tyler",
    "Zara",
    "Zak",
]
SURNAMES = [
    "Ahmed",
    "Bailey",
    "Barker",
    "Bennett",
    "Brooks",
    "Carter",
    "Chapman",
    "Clarke",
    "Collins",
    "Cooper",
    "Davies",
    "Dixon",
    "Edwards",
    "Ellis",
    "Fletcher",
    "Foster",
    "Graham",
    "Hughes",
    "Hussain",
    "Jackson",
    "Kaur",
    "Khan",
    "Lloyd",
    "Marsh",
    "Mason",
    "Morgan",
    "Murphy",
    "Naylor",
    "Owen",
    "Palmer",
    "Parry",
    "Patel",
    "Pearce",
    "Price",
    "Quinn",
    "Reid",
    "Rowe",
    "Shaw",
    "Singh",
    "Walsh",
    "Ward",
    "Webb",
    "Wood",
]
STREET_STEMS = [
    "Acorn",
    "Albion",
    "Ash",
    "Beech",
    "Bridge",
    "Brook",
    "Canal",
    "Castle",
    "Cedar",
    "Chapel",
    "Church",
    "Clifton",
    "Coronation",
    "Dale",
    "Elm",
    "Fern",
    "Forge",
    "Garden",
    "Grange",
    "Hall",
    "Hazel",
    "Heath",
    "Holly",
    "Kings",
    "Larch",
    "Lime",
    "Manor",
    "Mill",
    "Moss",
    "Oak",
    "Orchard",
    "Park",
    "Pine",
    "Priory",
    "Queens",
    "Rose",
    "Rowan",
    "Spring",
    "Station",
    "Tanner",
    "Union",
    "Vale",
    "Victoria",
    "Well",
    "Willow",
    "York",
]
STREET_KINDS = ["Street", "Road", "Lane", "Close", "Avenue", "Grove"]
CRIME_TYPES = {
    "Violence and sexual offences": 30,
    "Criminal damage and arson": 10,
    "Other theft": 9,
    "Shoplifting": 8,
    "Burglary": 7,
    "Vehicle crime": 7,
    "Public order": 9,
    "Drugs": 3,
    "Theft from the person": 2,
    "Bicycle theft": 2,
    "Robbery": 2,
    "Possession of weapons": 1,
    "Other crime": 2,
}
VICTIMLESS = {"Drugs", "Possession of weapons", "Public order", "Shoplifting", "Other crime"}
OUTCOMES = [
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Under investigation",
    "Awaiting court outcome",
    "Local resolution",
    "Offender given a caution",
    "Status update unavailable",
]
ASB_TYPES = ["Nuisance", "Personal", "Environmental"]
FIRE_PROPERTIES = ["Refuse/wheelie bin", "Loose refuse", "Grassland", "Abandoned car", "Derelict building"]
WARDS = ["Northwick Central", "Northwick East", "Eastfield", "Millbrook"]
HOTSPOT_ASB_BY_MONTH = [1, 2, 2, 3, 4, 5, 6, 7, 9, 10, 12, 14]
HOTSPOT_WEEKDAYS = (4, 5)  # Friday, Saturday (date.weekday())
HOTSPOT_HOURS = (19, 20, 21, 22, 23)


@dataclass
class Street:
    name: str
    lsoa_code: str
    lsoa_name: str
    ward: str
    latitude: float
    longitude: float


@dataclass
class Person:
    nominal: str
    forename: str
    surname: str
    dob: date
    address: str
    postcode: str
    mobile: str

    @property
    def name(self) -> str:
        return f"{self.forename} {self.surname}"


@dataclass
class Dataset:
    """Rows per file, and the answer key."""

    crimes: list[list[str]] = field(default_factory=list)
    nominals: list[list[str]] = field(default_factory=list)
    asb: list[list[str]] = field(default_factory=list)
    fires: list[list[str]] = field(default_factory=list)
    intel: list[list[str]] = field(default_factory=list)
    problems: list[list[str]] = field(default_factory=list)
    planted: dict = field(default_factory=dict)


class _Generator:
    def __init__(self, seed: int, incidents: int, end_month: tuple[int, int]) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.incidents = incidents
        self.months = _months_ending(*end_month)
        self.data = Dataset()
        self.streets = self._streets()
        self.people: list[Person] = []
        self.addresses: list[tuple[str, str]] = []
        self.counter = 0

    # ------------------------------------------------------------------ places and people
    def _streets(self) -> list[Street]:
        stems = self.rng.sample(STREET_STEMS, len(STREET_STEMS))
        streets = []
        for area in range(12):
            code, name = f"E0109{9001 + area:04d}", f"Northwick {area // 4 + 1:03d}{'ABCD'[area % 4]}"
            for i in range(6):
                stem = stems[(area * 6 + i) % len(stems)]
                kind = STREET_KINDS[(area + i) % len(STREET_KINDS)]
                streets.append(
                    Street(
                        name=f"{stem} {kind}",
                        lsoa_code=code,
                        lsoa_name=name,
                        ward=WARDS[area // 3],
                        latitude=round(53.470 + (area // 4) * 0.012 + i * 0.0011, 6),
                        longitude=round(-2.260 + (area % 4) * 0.015 + i * 0.0013, 6),
                    )
                )
        # The hotspot: a parade of shops in the first area of the problem's LSOA.
        streets[18].name = "Marlowe Parade"
        return streets

    def _next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:06d}"

    def _address(self, shared: bool = True) -> tuple[str, str]:
        """A home address; background people sometimes share one, planted people never by chance."""
        if shared and self.addresses and self.rng.random() < 0.08:
            return self.rng.choice(self.addresses)
        street = self.rng.choice(self.streets)
        address = (
            f"{self.rng.randint(1, 180)} {street.name}",
            f"NW{self.rng.randint(1, 9)} {self.rng.randint(1, 9)}"
            f"{self.rng.choice('ABDEFGHJLNPQRSTUWXY')}{self.rng.choice('ABDEFGHJLNPQRSTUWXY')}",
        )
        if shared:
            self.addresses.append(address)
        return address

    def _person(self, address: tuple[str, str] | None = None, mobile: str | None = None) -> Person:
        address = address or self._address()
        person = Person(
            nominal=self._next("NP"),
            forename=self.rng.choice(FORENAMES),
            surname=self.rng.choice(SURNAMES),
            dob=date(1950, 1, 1) + timedelta(days=self.rng.randint(0, 365 * 58)),
            address=address[0],
            postcode=address[1],
            mobile=mobile
            if mobile is not None
            else (f"07700{self.rng.randint(100000, 999999)}" if self.rng.random() < 0.6 else ""),
        )
        self.people.append(person)
        return person

    # ------------------------------------------------------------------ records
    def _crime_id(self) -> str:
        self.counter += 1
        return hashlib.sha256(f"{self.seed}-crime-{self.counter}".encode()).hexdigest()

    def _day(self, month: int) -> date:
        year, mon = self.months[month]
        return date(year, mon, self.rng.randint(1, 28))

    def crime(self, street: Street, month: int, crime_type: str) -> str:
        crime_id = self._crime_id()
        year, mon = self.months[month]
        self.data.crimes.append(
            [
                crime_id,
                f"{year}-{mon:02d}",
                FORCE,
                FORCE,
                f"{street.longitude:.6f}",
                f"{street.latitude:.6f}",
                f"On or near {street.name}",
                street.lsoa_code,
                street.lsoa_name,
                crime_type,
                self.rng.choice(OUTCOMES),
                "",
            ]
        )
        return crime_id

    def involve(self, crime_id: str, person: Person, role: str) -> None:
        self.data.nominals.append(
            [
                crime_id,
                person.nominal,
                person.forename,
                person.surname,
                person.dob.strftime("%d/%m/%Y"),
                role,
                person.address,
                person.postcode,
                person.mobile,
            ]
        )

    def asb(self, street: Street, day: date, kind: str, description: str, hour: int | None = None) -> str:
        """An ASB report; without ``hour``, a daytime or evening hour, and now and then no time at all."""
        ref = self._next("ASB")
        if hour is None:
            hour = self.rng.randint(8, 22) if self.rng.random() > 0.03 else -1
        time = f"{hour:02d}:{self.rng.randint(0, 59):02d}" if hour >= 0 else ""
        self.data.asb.append(
            [ref, day.strftime("%d/%m/%Y"), time, kind, street.name, street.ward, street.lsoa_code, description]
        )
        return ref

    def _evening_late_in_week(self, month: int) -> tuple[date, int]:
        """A Friday or Saturday of the month, between 19:00 and 23:59: when the hotspot's ASB happens."""
        while (day := self._day(month)).weekday() not in HOTSPOT_WEEKDAYS:
            continue
        return day, self.rng.choice(HOTSPOT_HOURS)

    def fire(self, street: Street, day: date) -> None:
        when = f"{day.isoformat()}T{self.rng.randint(0, 23):02d}:{self.rng.randint(0, 59):02d}"
        self.data.fires.append(
            [
                self._next("NFR"),
                when,
                "Deliberate secondary fire" if self.rng.random() < 0.8 else "Deliberate primary fire",
                self.rng.choice(FIRE_PROPERTIES),
                street.name,
                street.lsoa_code,
                f"{street.latitude:.6f}",
                f"{street.longitude:.6f}",
            ]
        )

    def intel(self, day: date, grading: str, subject: Person, associate: Person, association: str, summary: str) -> str:
        urn = self._next("IR-")
        self.data.intel.append(
            [
                urn,
                day.isoformat(),
                grading,
                subject.nominal,
                subject.name,
                associate.nominal,
                associate.name,
                association,
                summary,
            ]
        )
        return urn

    # ------------------------------------------------------------------ background
    def background(self, crimes: int, asb: int, fires: int) -> None:
        types, weights = list(CRIME_TYPES), list(CRIME_TYPES.values())
        first_background_person = len(self.people)
        known_offenders: list[Person] = []
        for _ in range(crimes):
            street, month = self.rng.choice(self.streets), self.rng.randrange(12)
            crime_type = self.rng.choices(types, weights)[0]
            crime_id = self.crime(street, month, crime_type)
            if self.rng.random() > 0.45:
                continue  # most street-level crimes have no named person in the extract
            if crime_type not in VICTIMLESS:
                self.involve(crime_id, self._person(), "Victim")
            if self.rng.random() < 0.7:
                reuse = known_offenders and self.rng.random() < 0.25
                offender = self.rng.choice(known_offenders) if reuse else self._person()
                known_offenders.append(offender)
                self.involve(crime_id, offender, self.rng.choice(["Suspect", "Offender"]))
            if self.rng.random() < 0.1:
                self.involve(crime_id, self._person(), "Witness")
        for _ in range(asb):
            street = self.rng.choice(self.streets)
            self.asb(street, self._day(self.rng.randrange(12)), self.rng.choice(ASB_TYPES), "Reported ASB")
        for _ in range(fires):
            self.fire(self.rng.choice(self.streets), self._day(self.rng.randrange(12)))
        for _ in range(220):
            a, b = self.rng.sample(self.people[first_background_person:], 2)
            self.intel(
                self._day(self.rng.randrange(12)),
                self.rng.choice(["1BP", "2BC", "2CP", "3CC", "2DC"]),
                a,
                b,
                self.rng.choice(["Knows", "Knows", "Family"]),
                f"{a.name} is associated with {b.name}.",
            )

    # ------------------------------------------------------------------ planted patterns
    def drugs_network(self) -> list[Person]:
        homes = [self._address(shared=False) for _ in range(3)]
        phones = [f"07700{900100 + i}" for i in range(4)]
        plan = [(0, 0), (0, 1), (0, 3), (1, 0), (1, 1), (2, 0), (2, 2), (2, 2)]  # (home, phone) per member
        members = [self._person(homes[h], phones[p]) for h, p in plan]
        area = [s for s in self.streets if s.lsoa_code in ("E01099006", "E01099007")]
        crews = [(0, 1, 3), (3, 4), (1, 4, 5), (5, 6, 7), (0, 6), (2, 3), (2, 7), (4, 6)]
        for i in range(18):
            crew = crews[i % len(crews)]
            crime_type = "Drugs" if i % 6 else "Possession of weapons"
            crime_id = self.crime(self.rng.choice(area), self.rng.randrange(12), crime_type)
            for n, member in enumerate(crew):
                self.involve(crime_id, members[member], "Offender" if n == 0 else "Suspect")
        for i in range(2):  # street robberies: their victims meet the network once, and only once
            crime_id = self.crime(self.rng.choice(area), self.rng.randrange(12), "Robbery")
            self.involve(crime_id, members[i], "Offender")
            self.involve(crime_id, self._person(address=self._address(shared=False)), "Victim")
        self.data.planted["network"] = [m.nominal for m in members]
        self.data.planted["network_phones"] = phones
        return members

    def hotspot(self) -> Street:
        hotspot = self.streets[18]
        for month, count in enumerate(HOTSPOT_ASB_BY_MONTH):
            for _ in range(count * 2):
                day, hour = self._evening_late_in_week(month)
                self.asb(
                    hotspot,
                    day,
                    self.rng.choice(["Nuisance", "Personal"]),
                    "Youths gathering outside the shops, shouting and intimidating customers",
                    hour=hour,
                )
            for _ in range(count // 3):
                self.crime(hotspot, month, self.rng.choice(["Public order", "Criminal damage and arson"]))
            if month >= 6:
                self.fire(hotspot, self._day(month))
        self.data.planted["hotspot"] = {
            "street": hotspot.name,
            "lsoa_code": hotspot.lsoa_code,
            "asb_by_month": [c * 2 for c in HOTSPOT_ASB_BY_MONTH],
            "asb_weekdays": ["Friday", "Saturday"],
            "asb_hours": list(HOTSPOT_HOURS),
        }
        self.data.problems.append(
            [
                "PRB-0014",
                f"ASB and disorder in {hotspot.lsoa_name}",
                "PS 2291 Khan (Northwick NPT)",
                hotspot.lsoa_code,
                self._day(6).strftime("%d/%m/%Y"),
                "Analysis",
                "ASB",
            ]
        )
        self.data.problems.append(
            [
                "PRB-0009",
                "Deliberate secondary fires in Eastfield",
                "Station Manager Reid (NFRS)",
                "E01099008",
                self._day(2).strftime("%d/%m/%Y"),
                "Response",
                "Deliberate fire",
            ]
        )
        self.data.planted["problem"] = "PRB-0014"
        return hotspot

    def repeat_victim(self, hotspot: Street) -> None:
        victim = self._person(address=self._address(shared=False))
        area = [s for s in self.streets if s.lsoa_code == hotspot.lsoa_code]
        kinds = [
            "Theft from the person",
            "Criminal damage and arson",
            "Other theft",
            "Violence and sexual offences",
            "Criminal damage and arson",
            "Other theft",
            "Violence and sexual offences",
        ]
        crimes = [self.crime(area[i % len(area)], 1 + i, kind) for i, kind in enumerate(kinds)]
        for crime_id in crimes:
            self.involve(crime_id, victim, "Victim")
        self.data.planted["repeat_victim"] = victim.nominal
        self.data.planted["repeat_victim_crimes"] = crimes

    def vulnerable_person(self, network: list[Person]) -> None:
        person = self._person(address=self._address(shared=False), mobile="")
        relative = self._person(address=(person.address, person.postcode))
        reports = {}
        gradings = ["2BC", "1BC", "2CC", "2BC"]
        for i, member in enumerate(network[i] for i in (0, 1, 3, 6)):
            reports[member.nominal] = self.intel(
                self._day(4 + i),
                gradings[i],
                person,
                member,
                "Knows",
                f"{person.name} (16) seen getting into cars with {member.name}; concern for exploitation.",
            )
        self.intel(
            self._day(3),
            "1AC",
            relative,
            person,
            "Family",
            f"{relative.name} is the older sibling of {person.name}.",
        )
        self.intel(self._day(3), "1AC", person, relative, "Lives with", f"{person.name} lives with {relative.name}.")
        self.data.planted["vulnerable"] = person.nominal
        self.data.planted["vulnerable_relative"] = relative.nominal
        self.data.planted["vulnerable_associates"] = reports

    def malformed_rows(self) -> None:
        street = self.streets[5]
        self.data.asb.append(
            [
                "ASB900001",
                "31/02/2026",
                "",
                "Nuisance",
                street.name,
                street.ward,
                street.lsoa_code,
                "Date keyed wrongly",
            ]
        )
        self.data.asb.append(
            ["ASB900002", "", "", "Nuisance", street.name, street.ward, street.lsoa_code, "Date missing"]
        )
        self.data.asb.append(
            ["", "03/03/2026", "", "Nuisance", street.name, street.ward, street.lsoa_code, "No case reference"]
        )
        crime_id = self._crime_id()
        self.data.crimes.append(
            [
                crime_id,
                "2026-03",
                FORCE,
                FORCE,
                "W2.2",
                "53.47",
                "On or near Elm Street",
                "E01099001",
                "Northwick 001A",
                "Burglary",
                "Under investigation",
                "",
            ]
        )
        self.data.planted["malformed"] = [
            {"file": "council_asb.csv", "reference": "ASB900001", "reason": "not a date"},
            {"file": "council_asb.csv", "reference": "ASB900002", "reason": "needs a date"},
            {"file": "council_asb.csv", "reference": "", "reason": "Case Reference"},
            {"file": "police_street_crime.csv", "reference": crime_id, "reason": "not a number"},
        ]


def _months_ending(year: int, month: int) -> list[tuple[int, int]]:
    months = []
    for _ in range(12):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def generate(seed: int = 2026, incidents: int = 5000, end_month: tuple[int, int] = (2026, 10)) -> Dataset:
    """Build the dataset in memory; the same seed gives the same rows."""
    generator = _Generator(seed, incidents, end_month)
    hotspot = generator.hotspot()
    network = generator.drugs_network()
    generator.repeat_victim(hotspot)
    generator.vulnerable_person(network)
    planted = len(generator.data.crimes) + len(generator.data.asb) + len(generator.data.fires)
    remaining = max(incidents - planted, 0)
    generator.background(crimes=remaining * 66 // 100, asb=remaining * 26 // 100, fires=remaining * 8 // 100)
    generator.malformed_rows()
    for rows in (generator.data.crimes, generator.data.asb, generator.data.fires, generator.data.nominals):
        generator.rng.shuffle(rows)
    generator.data.planted["incidents"] = (
        len(generator.data.crimes) + len(generator.data.asb) + len(generator.data.fires)
    )
    return generator.data


FILES = {
    "police_street_crime.csv": ("crimes", POLICE_UK_COLUMNS),
    "police_nominals_restricted.csv": ("nominals", NOMINAL_COLUMNS),
    "council_asb.csv": ("asb", ASB_COLUMNS),
    "fire_deliberate.csv": ("fires", FIRE_COLUMNS),
    "intel_reports.csv": ("intel", INTEL_COLUMNS),
    "csp_problems.csv": ("problems", PROBLEM_COLUMNS),
}


def write_dataset(directory: Path | str, seed: int = 2026, incidents: int = 5000) -> dict:
    """Write the partner files and ``planted.json`` into ``directory``; returns the answer key."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = generate(seed=seed, incidents=incidents)
    for name, (attribute, columns) in FILES.items():
        with (directory / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows(getattr(data, attribute))
    (directory / "planted.json").write_text(json.dumps(data.planted, indent=2), encoding="utf-8")
    return data.planted
