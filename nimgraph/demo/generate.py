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
- an intervention against the hotspot problem: ASB at a street beside the hotspot falls by four
  fifths once enforcement and prevention begin (the current year's seventh month), the next two
  streets fall by half (a diffusion of benefit), and three streets across the district stay level
  (the control); the demo records the two activities against the problem;
- a few malformed rows, which must land in the rejects files.

The rows cover 24 months: the 12 ending ``end_month`` (the current year, where every pattern above
lies) and the 12 before (the previous year), so that an assessment can compare this year with last
year. The background is split evenly between the two years, category by category, so a change
between them is one planted. Planted for the assessments, under ``planted["assessment"]``:

- a harm lift: Robbery, rare but of high harm, well below Shoplifting in count;
- a significant rise (Vehicle crime, doubled on last year) and a change that is not significant
  (Bicycle theft, nearly level); their yearly counts are fixed, not drawn, so no seed flips them;
- an emerging hotspot: a street, quiet before, with a burst of ASB reports and deliberate fires in
  the last 28 days of the data, ending on the data's last day;
- a priority: Robbery concentrated in one LSOA and three times last year's there, with named
  victims, two of them repeat victims, while Robbery elsewhere stays flat and low.

The assessment's counts per category and year are counted from the rows written, so a test reads
them rather than hard-coding them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from nimgraph.demo.variants import short_form, short_street, swapped_day_month, typo

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
COUNCIL_PARTY_COLUMNS = [
    "Case Reference",
    "Party Reference",
    "Party Role",
    "Forename",
    "Surname",
    "Date of Birth",
    "Address Line",
    "Postcode",
    "Telephone",
    "Email",
]
FIRE_VISIT_COLUMNS = [
    "Visit Reference",
    "Visit Date",
    "Occupier Date of Birth",
    "Address Line",
    "Postcode",
    "Telephone",
    "Risk Factors",
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

HISTORY_MONTHS = 12  # the previous year, before ``_Generator.months``: the year an assessment compares with
STREETS_PER_AREA = 6
LAST_DAY_OF_MONTH = 28  # ``_day`` picks days 1-28, so the data ends on the 28th of the end month
# Near-duplicates for record linkage: people the council and the fire service record too, one kind of
# change each, and as many again of people only one of them records.
DUPLICATE_KINDS = ("typo", "nickname", "swapped", "moved", "no_name")
NEAR_DUPLICATES = 40
BACKGROUND_PARTIES = 120
BACKGROUND_VISITS = 60
DEFAULT_INCIDENTS = 5000  # the size the assessment's planted counts below are set for
# Police categories the assessments are tested on: (previous year, current year) at the default
# size, scaled with the incidents asked for. The background tops them up to exactly these counts
# instead of drawing them, so that no seed turns a verdict into a coin flip.
ASSESSED_CRIMES = {
    "Vehicle crime": (80, 160),  # doubled on last year: a significant rise (E-test p about 1e-7)
    "Bicycle theft": (34, 37),  # nearly level: not significant (p about 0.7)
    "Robbery": (12, 12),  # outside the priority LSOA, the drugs network's two included: flat and low
}
# (previous, current) in the priority LSOA: three times last year's (p about 4e-4), which lifts
# Robbery across the area significantly too (24 to 48, p about 0.005), yet far below Shoplifting.
PRIORITY_ROBBERIES = (12, 36)
PRIORITY_AREA = 1  # E01099002: away from the hotspot's LSOA and the drugs network's
PRIORITY_REPEAT_VICTIMS = (3, 2)  # robberies of each repeat victim there in the current year
EMERGING_STREET = 10 * STREETS_PER_AREA + 3  # a street of E01099011, across the district from the hotspot
EMERGING_WINDOW_DAYS = 28
EMERGING_ASB, EMERGING_FIRES = 28, 12  # the burst in the window: more than the hotspot has in it
EMERGING_BEFORE_MONTHS = (-7, 2, 7)  # one ASB report in each before it: months apart, no burst of their own
# The intervention against the hotspot problem: enforcement and prevention from the current year's
# seventh month, at a street of the problem's LSOA beside the hotspot. ASB a month in each area, before
# (the current year's first six months) and after (its last six): the target falls by four fifths, its
# buffer (the next two streets) by half, a diffusion of benefit; the control (three streets across the
# district) is level. Last year holds as many reports of each kind in each area, spread evenly, so that
# the intervention plants no year-on-year change; the background gives up as many ASB reports.
INTERVENTION_MONTH = 6
INTERVENTION_STREETS = {"target": (20,), "buffer": (21, 22), "control": (48, 49, 50)}
INTERVENTION_ASB = {"target": (10, 2), "buffer": (10, 5), "control": (8, 8)}
# Environmental ASB (fly-tipping, graffiti, bins set alight in the back alleys), which the hotspot's own
# reports (nuisance and personal) are not: the problem's categories keep the volumes they were planted with.
INTERVENTION_KIND = "Environmental"


def intervention_size() -> int:
    """ASB reports the intervention plants, both years."""
    return 2 * sum(6 * before + 6 * after for before, after in INTERVENTION_ASB.values())


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
    council_parties: list[list[str]] = field(default_factory=list)
    fire_visits: list[list[str]] = field(default_factory=list)
    planted: dict = field(default_factory=dict)


class _Generator:
    def __init__(self, seed: int, incidents: int, end_month: tuple[int, int]) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.incidents = incidents
        # The current year's months; a month index below 0 is one of the previous year's
        # (-1 the month before ``months[0]``), which ``_month`` resolves.
        self.months = _months_ending(*end_month)
        self.previous_months = _months_ending(*end_month, count=HISTORY_MONTHS + 12)[:HISTORY_MONTHS]
        self.last_day = date(*self.months[-1], LAST_DAY_OF_MONTH)
        self.data = Dataset()
        self.streets = self._streets()
        self.people: list[Person] = []
        self.addresses: list[tuple[str, str]] = []
        self.known_offenders: list[Person] = []
        self.background_turns: dict[str, int] = {}
        self.counter = 0

    # ------------------------------------------------------------------ places and people
    def _streets(self) -> list[Street]:
        stems = self.rng.sample(STREET_STEMS, len(STREET_STEMS))
        streets = []
        for area in range(12):
            code, name = f"E0109{9001 + area:04d}", f"Northwick {area // 4 + 1:03d}{'ABCD'[area % 4]}"
            for i in range(STREETS_PER_AREA):
                stem = stems[(area * STREETS_PER_AREA + i) % len(stems)]
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

    def _address(self, shared: bool = True, streets: list[Street] | None = None) -> tuple[str, str]:
        """A home address, on one of ``streets`` if given; background people sometimes share one, planted
        people never by chance."""
        if shared and self.addresses and self.rng.random() < 0.08:
            return self.rng.choice(self.addresses)
        street = self.rng.choice(streets or self.streets)
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

    def _month(self, month: int) -> tuple[int, int]:
        if not -HISTORY_MONTHS <= month < len(self.months):
            raise IndexError(f"month {month} is outside the {HISTORY_MONTHS + len(self.months)} months generated")
        return self.months[month] if month >= 0 else self.previous_months[month]

    def _day(self, month: int) -> date:
        year, mon = self._month(month)
        return date(year, mon, self.rng.randint(1, LAST_DAY_OF_MONTH))

    def crime(self, street: Street, month: int, crime_type: str) -> str:
        crime_id = self._crime_id()
        year, mon = self._month(month)
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
    def _name_people(self, crime_id: str, crime_type: str, victim: Person | None = None) -> None:
        """Name a crime's people in the restricted extract at the background's rates; ``victim`` always."""
        if victim is None and self.rng.random() > 0.45:
            return  # most street-level crimes have no named person in the extract
        if crime_type not in VICTIMLESS:
            self.involve(crime_id, victim or self._person(), "Victim")
        if self.rng.random() < 0.7:
            reuse = self.known_offenders and self.rng.random() < 0.25
            offender = self.rng.choice(self.known_offenders) if reuse else self._person()
            self.known_offenders.append(offender)
            self.involve(crime_id, offender, self.rng.choice(["Suspect", "Offender"]))
        if self.rng.random() < 0.1:
            self.involve(crime_id, self._person(), "Witness")

    def _background_month(self, kind: str) -> int:
        """A month for the next background row of ``kind``: the two years take turns, so that each kind's
        background is level year on year and a change between the years is one the demo planted."""
        turn = self.background_turns[kind] = self.background_turns.get(kind, 0) + 1
        return self.rng.randrange(-HISTORY_MONTHS, 0) if turn % 2 else self.rng.randrange(12)

    def _assessed_crimes(self, targets: dict[str, tuple[int, int]]) -> int:
        """Top each assessed category up to its (previous, current) yearly count; the crimes added.

        Robbery's counts are for outside the priority LSOA, whose robberies are planted apart.
        """
        priority_area = self.streets[PRIORITY_AREA * STREETS_PER_AREA].lsoa_code
        previous_months = {_month_text(m) for m in self.previous_months}
        added = 0
        for crime_type, (previous, current) in targets.items():
            excluded = priority_area if crime_type == "Robbery" else None
            streets = [s for s in self.streets if s is not self.streets[EMERGING_STREET] and s.lsoa_code != excluded]
            planted = [
                row[1] in previous_months for row in self.data.crimes if row[9] == crime_type and row[7] != excluded
            ]
            for in_previous_year, target in ((True, previous), (False, current)):
                for _ in range(max(target - planted.count(in_previous_year), 0)):
                    month = self.rng.randrange(-HISTORY_MONTHS, 0) if in_previous_year else self.rng.randrange(12)
                    crime_id = self.crime(self.rng.choice(streets), month, crime_type)
                    self._name_people(crime_id, crime_type)
                    added += 1
        return added

    def background(
        self, crimes: int, asb: int, fires: int, assessed: dict[str, tuple[int, int]], asb_given_up: int = 0
    ) -> None:
        """Background spread evenly over both years' 24 months, away from the emerging hotspot's street.

        The last ``asb_given_up`` ASB reports are drawn but not written (room for the intervention's): the
        random numbers after them, and so everything else in the background, are as they would be without.
        """
        drawn = {t: w for t, w in CRIME_TYPES.items() if t not in assessed}
        types, weights = list(drawn), list(drawn.values())
        first_background_person = len(self.people)
        streets = [s for s in self.streets if s is not self.streets[EMERGING_STREET]]
        crimes -= self._assessed_crimes(assessed)
        for _ in range(max(crimes, 0)):
            street, crime_type = self.rng.choice(streets), self.rng.choices(types, weights)[0]
            crime_id = self.crime(street, self._background_month(crime_type), crime_type)
            self._name_people(crime_id, crime_type)
        for n in range(asb):
            street, kind = self.rng.choice(streets), self.rng.choice(ASB_TYPES)
            day = self._day(self._background_month(kind))
            if n < asb - asb_given_up:
                self.asb(street, day, kind, "Reported ASB")
        for _ in range(fires):
            self.fire(self.rng.choice(streets), self._day(self._background_month("fire")))
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

    def near_duplicates(self) -> None:
        """The same people in the council's and the fire service's records, written differently.

        The council's ASB case system names the parties to a case: for each planted person, one change
        from the police's record of them (a typo in the surname, the short form of the forename, the day
        and month of birth swapped, or a move to a new address), and for a third of them the street's
        kind written short, so that their homes are near-duplicates too. The fire service's home safety visits
        hold the occupier's date of birth, address and telephone, and no name: every other planted
        person has one, and some have only that. Around them, council parties and visited occupiers
        who are no one else. Drawn last with its own random numbers, so nothing else changes.
        """
        rng = random.Random(self.seed * 31 + 11)
        taken = json.dumps(self.data.planted)
        named = {row[1] for row in self.data.nominals}
        candidates = {p.nominal: p for p in self.people if p.nominal in named and p.nominal not in taken}
        pool = sorted(candidates.values(), key=lambda p: p.nominal)
        rng.shuffle(pool)
        cases = sorted({row[0] for row in self.data.asb if row[0].startswith("ASB")})
        if not cases:  # the council's parties are parties to its cases
            return
        planted = []
        for n in range(_scaled(NEAR_DUPLICATES, self.incidents, least=len(DUPLICATE_KINDS))):
            kind = DUPLICATE_KINDS[n % len(DUPLICATE_KINDS)]
            person = next((p for p in pool if _can_vary(p, kind)), None)
            if person is None:  # a small dataset names too few people for this kind
                continue
            pool.remove(person)
            entry = {"kind": kind, "police": person.nominal, "council": None, "fire": None}
            address = (person.address, person.postcode)
            if kind != "no_name":
                forename, surname, dob = person.forename, person.surname, person.dob
                if kind == "typo":
                    surname = typo(rng, surname)
                elif kind == "nickname":
                    forename = short_form(forename) or forename
                elif kind == "swapped":
                    dob = swapped_day_month(dob) or dob
                else:  # moved: a new address, where the council knows them from
                    address = self._new_address(rng)
                written = address
                if kind != "moved" and n % 3 == 0:  # the council's form has no room for the street's kind
                    written = (short_street(address[0]), address[1])
                    entry["address"] = written[0]
                entry["council"] = self._council_party(rng, rng.choice(cases), forename, surname, dob, written, person)
            if kind == "no_name" or n % 2:
                entry["fire"] = self._fire_visit(rng, person.dob, address, person.mobile)
            planted.append(entry)
        for _ in range(_scaled(BACKGROUND_PARTIES, self.incidents)):
            stranger = self._stranger(rng)
            address = (stranger.address, stranger.postcode)
            self._council_party(
                rng, rng.choice(cases), stranger.forename, stranger.surname, stranger.dob, address, stranger
            )
        for _ in range(_scaled(BACKGROUND_VISITS, self.incidents)):
            stranger = self._stranger(rng)
            self._fire_visit(rng, stranger.dob, (stranger.address, stranger.postcode), stranger.mobile)
        self.data.planted["near_duplicates"] = planted

    def _new_address(self, rng: random.Random) -> tuple[str, str]:
        street = rng.choice(self.streets)
        letters = "ABDEFGHJLNPQRSTUWXY"
        postcode = f"NW{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
        return f"{rng.randint(181, 240)} {street.name}", postcode

    def _stranger(self, rng: random.Random) -> Person:
        """Someone no other partner records."""
        address = self._new_address(rng)
        return Person(
            nominal="",
            forename=rng.choice(FORENAMES),
            surname=rng.choice(SURNAMES),
            dob=date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 58)),
            address=address[0],
            postcode=address[1],
            mobile=f"07700{rng.randint(100000, 999999)}" if rng.random() < 0.6 else "",
        )

    def _council_party(
        self, rng: random.Random, case: str, forename: str, surname: str, dob: date, address: tuple, who: Person
    ) -> str:
        reference = f"CP{len(self.data.council_parties) + 1:05d}"
        email = f"{who.forename}.{who.surname}{rng.randint(1, 99)}@example.org".lower() if rng.random() < 0.3 else ""
        self.data.council_parties.append(
            [
                case,
                reference,
                rng.choice(["Perpetrator", "Complainant", "Victim"]),
                forename,
                surname,
                dob.strftime("%d/%m/%Y"),
                address[0],
                address[1],
                who.mobile if address[0] != who.address or rng.random() < 0.8 else "",
                email,
            ]
        )
        return reference

    def _fire_visit(self, rng: random.Random, dob: date, address: tuple[str, str], phone: str) -> str:
        reference = f"HSV{len(self.data.fire_visits) + 1:05d}"
        day = date(*self.months[rng.randrange(12)], rng.randint(1, LAST_DAY_OF_MONTH))
        self.data.fire_visits.append(
            [
                reference,
                day.isoformat(),
                dob.isoformat(),
                address[0],
                address[1],
                phone,
                rng.choice(["Smoker", "Lives alone", "Hoarding", "Mobility", ""]),
            ]
        )
        return reference

    def intervention(self) -> None:
        """ASB that falls at the target after the activities began, less in its buffer, not in the control.

        Added after everything else, with its own random numbers, so that every other planted pattern
        and the background are drawn exactly as they were before the intervention was planted.
        """
        rng, main = random.Random(self.seed * 31 + 7), self.rng
        self.rng = rng  # _day and asb draw from self.rng
        try:
            for area, (before, after) in INTERVENTION_ASB.items():
                streets = [self.streets[i] for i in INTERVENTION_STREETS[area]]
                reports = [
                    (streets[n % len(streets)], INTERVENTION_KIND)
                    for month in range(12)
                    for n in range(before if month < INTERVENTION_MONTH else after)
                ]
                this_year = [m for m in range(12) for _ in range(before if m < INTERVENTION_MONTH else after)]
                for (street, kind), month in zip(reports, this_year, strict=True):
                    self.asb(street, self._day(month), kind, "Fly-tipping and graffiti in the back alleys")
                for n, (street, kind) in enumerate(reports):  # last year: the same reports, evenly over it
                    self.asb(
                        street, self._day(n * HISTORY_MONTHS // len(reports) - HISTORY_MONTHS), kind, "Reported ASB"
                    )
        finally:
            self.rng = main
        first = date(*self.months[0], 1)
        start = date(*self.months[INTERVENTION_MONTH], 1)
        self.data.planted["intervention"] = {
            "problem": "PRB-0014",
            "streets": {a: [self.streets[i].name for i in idx] for a, idx in INTERVENTION_STREETS.items()},
            "lsoa_codes": {a: self.streets[idx[0]].lsoa_code for a, idx in INTERVENTION_STREETS.items()},
            "before": [first.isoformat(), (start - timedelta(days=1)).isoformat()],
            "after": [start.isoformat(), self.last_day.isoformat()],
            "asb_per_month": {a: list(counts) for a, counts in INTERVENTION_ASB.items()},
        }

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

    def emerging_hotspot(self) -> Street:
        """A street quiet until the last 28 days, then a burst of ASB and deliberate fires, denser towards the end.

        The fires carry the street's coordinates (ASB reports carry none); one is on the data's last day.
        """
        street = self.streets[EMERGING_STREET]
        first_day = self.last_day - timedelta(days=EMERGING_WINDOW_DAYS - 1)
        for month in EMERGING_BEFORE_MONTHS:
            self.asb(street, self._day(month), "Nuisance", "Motorbike ridden on the pavement")
        for n in range(EMERGING_ASB + EMERGING_FIRES):
            # denser towards the end (the square root of a uniform draw), as a growing problem is
            offset = min(int(EMERGING_WINDOW_DAYS * self.rng.random() ** 0.5), EMERGING_WINDOW_DAYS - 1)
            day = self.last_day if n == 0 else first_day + timedelta(days=offset)
            if n < EMERGING_FIRES:
                self.fire(street, day)
            else:
                kind = self.rng.choice(["Nuisance", "Nuisance", "Environmental"])
                self.asb(street, day, kind, "Off-road bikes ridden across the green; bins set alight")
        self.data.planted.setdefault("assessment", {})["emerging_hotspot"] = {
            "street": street.name,
            "lsoa_code": street.lsoa_code,
            "latitude": street.latitude,
            "longitude": street.longitude,
            "from": first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "asb": EMERGING_ASB,
            "fires": EMERGING_FIRES,
        }
        return street

    def robbery_priority(self, previous: int, current: int) -> None:
        """Robbery concentrated in one LSOA, ``previous`` last year and ``current`` this year, every one
        this year with a named victim and two of those victims robbed more than once."""
        area = self.streets[PRIORITY_AREA * STREETS_PER_AREA : (PRIORITY_AREA + 1) * STREETS_PER_AREA]
        for _ in range(previous):
            crime_id = self.crime(self.rng.choice(area), self.rng.randrange(-HISTORY_MONTHS, 0), "Robbery")
            self._name_people(crime_id, "Robbery")
        repeat_victims = [
            self._person(address=self._address(shared=False, streets=area)) for _ in PRIORITY_REPEAT_VICTIMS
        ]
        victims = [v for v, times in zip(repeat_victims, PRIORITY_REPEAT_VICTIMS, strict=True) for _ in range(times)]
        victims += [self._person() for _ in range(current - len(victims))]
        self.rng.shuffle(victims)
        robbed: dict[str, list[str]] = {}
        for victim in victims:
            crime_id = self.crime(self.rng.choice(area), self.rng.randrange(12), "Robbery")
            self._name_people(crime_id, "Robbery", victim=victim)
            robbed.setdefault(victim.nominal, []).append(crime_id)
        self.data.planted.setdefault("assessment", {})["priority"] = {
            "category": "Robbery",
            "lsoa_code": area[0].lsoa_code,
            "lsoa_name": area[0].lsoa_name,
            "victims": sorted(robbed),
            "repeat_victims": {v.nominal: robbed[v.nominal] for v in repeat_victims},
        }

    def record_assessment(self) -> None:
        """What the assessments must find, counted from the rows (before the malformed ones, which are rejected)."""
        previous_months = {_month_text(m) for m in self.previous_months}
        assessment = self.data.planted.setdefault("assessment", {})
        priority, hotspot = assessment["priority"], assessment["emerging_hotspot"]
        counts: dict[str, dict[str, int]] = {}
        robbery = {True: {"current": 0, "previous": 0}, False: {"current": 0, "previous": 0}}
        for row in self.data.crimes:
            year = "previous" if row[1] in previous_months else "current"
            counts.setdefault(row[9], {"current": 0, "previous": 0})[year] += 1
            if row[9] == "Robbery":
                robbery[row[7] == priority["lsoa_code"]][year] += 1
        priority.update(robbery[True])
        priority["elsewhere"] = robbery[False]
        day_dated = [(_asb_day(row), row[4], row[6]) for row in self.data.asb] + [
            (date.fromisoformat(row[1][:10]), row[4], row[5]) for row in self.data.fires
        ]
        if max(day for day, _, _ in day_dated) != self.last_day:
            raise AssertionError(f"the emerging hotspot's burst should end on the data's last day, {self.last_day}")
        there = [day for day, street, lsoa in day_dated if (street, lsoa) == (hotspot["street"], hotspot["lsoa_code"])]
        window = date.fromisoformat(hotspot["from"])
        hotspot["events"] = sum(day >= window for day in there)
        hotspot["before"] = sum(day < window for day in there)
        assessment.update(
            {
                "last_day": self.last_day.isoformat(),
                "current_year": {"from": _month_text(self.months[0]), "to": _month_text(self.months[-1])},
                "previous_year": {
                    "from": _month_text(self.previous_months[0]),
                    "to": _month_text(self.previous_months[-1]),
                },
                "counts": dict(sorted(counts.items())),
                "harm_lift": {"high_harm": "Robbery", "high_volume": "Shoplifting"},
                "significant_rise": "Vehicle crime",
                "not_significant": "Bicycle theft",
            }
        )

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


def _can_vary(person: Person, kind: str) -> bool:
    """Whether ``kind`` of change makes a different record of ``person``."""
    if kind == "nickname":
        return short_form(person.forename) is not None
    if kind == "swapped":
        return swapped_day_month(person.dob) is not None
    if kind == "moved":  # found at the new address by name, date of birth and the telephone they kept
        return bool(person.mobile)
    return True


def _month_text(month: tuple[int, int]) -> str:
    return f"{month[0]}-{month[1]:02d}"


def _asb_day(row: list[str]) -> date:
    day, month, year = row[1].split("/")
    return date(int(year), int(month), int(day))


def _scaled(count: int, incidents: int, least: int = 0) -> int:
    return max(round(count * incidents / DEFAULT_INCIDENTS), least)


def _months_ending(year: int, month: int, count: int = 12) -> list[tuple[int, int]]:
    months = []
    for _ in range(count):
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
    generator.emerging_hotspot()
    # Two robberies last year at the least, so that this year's six give the two repeat victims.
    priority_previous = _scaled(PRIORITY_ROBBERIES[0], incidents, least=2)
    generator.robbery_priority(priority_previous, priority_previous * PRIORITY_ROBBERIES[1] // PRIORITY_ROBBERIES[0])
    assessed = {t: (_scaled(p, incidents), _scaled(c, incidents)) for t, (p, c) in ASSESSED_CRIMES.items()}
    planted = len(generator.data.crimes) + len(generator.data.asb) + len(generator.data.fires)
    remaining = max(incidents - planted, 0)
    background_asb = remaining * 26 // 100
    generator.background(
        crimes=remaining * 66 // 100,
        asb=background_asb,
        fires=remaining * 8 // 100,
        assessed=assessed,
        asb_given_up=min(intervention_size(), background_asb),
    )
    generator.intervention()
    generator.record_assessment()
    generator.malformed_rows()
    generator.near_duplicates()
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
    "council_asb_parties.csv": ("council_parties", COUNCIL_PARTY_COLUMNS),
    "fire_home_safety_visits.csv": ("fire_visits", FIRE_VISIT_COLUMNS),
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
