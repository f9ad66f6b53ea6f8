"""Coordinates as partners write them: British National Grid, and degrees, minutes and seconds.

Grid references (EPSG:27700 eastings and northings, as police and council systems often hold
them) become WGS84 latitude and longitude through PROJ (pyproj). Without the OSTN15 grid file
installed, PROJ uses a seven-parameter Helmert transform: accurate to about 5 m, well inside the
police.uk anonymisation (snap points) that most data here already has.
"""

from __future__ import annotations

import re
from functools import cache

_DMS = re.compile(
    r"""^\s*(?P<hemi1>[NSEW])?\s*(?P<deg>\d+(?:\.\d+)?)\s*(?:°|º|d|\s)\s*
        (?:(?P<min>\d+(?:\.\d+)?)\s*(?:'|\u2032|m|\s)\s*)?
        (?:(?P<sec>\d+(?:\.\d+)?)\s*(?:"|\u2033|''|s)?\s*)?(?P<hemi2>[NSEW])?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)


class CoordinateError(ValueError):
    """A value that is not a grid reference or degrees; values.py makes it the row's ConversionError."""


@cache
def _transformer():  # building it reads PROJ's database: once per process
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def grid_to_wgs84(easting: str, northing: str) -> tuple[float, float]:
    """(latitude, longitude) for a British National Grid easting and northing in metres.

    >>> lat, lon = grid_to_wgs84("530034", "180381")  # Trafalgar Square
    >>> round(lat, 3), round(lon, 3)
    (51.507, -0.128)
    """
    try:
        east, north = float(easting.replace(",", "")), float(northing.replace(",", ""))
    except ValueError:
        raise CoordinateError(f"grid reference {easting!r}, {northing!r} is not two numbers of metres") from None
    if not (0 <= east <= 700_000 and 0 <= north <= 1_300_000):
        raise CoordinateError(f"grid reference {easting}, {northing} is outside Great Britain's national grid")
    longitude, latitude = _transformer().transform(east, north)
    return latitude, longitude


def dms_to_decimal(text: str) -> float:
    """Degrees, minutes and seconds (with a hemisphere letter) as signed decimal degrees.

    >>> dms_to_decimal("53°28'50.4\\"N"), dms_to_decimal("2 14 30 W"), dms_to_decimal("W 2° 14.5'")
    (53.480667, -2.241667, -2.241667)
    """
    match = _DMS.match(text)
    if not match or (match.group("hemi1") and match.group("hemi2")):
        raise CoordinateError(f"{text!r} is not degrees, minutes and seconds, e.g. 53°28'50\"N")
    degrees = float(match.group("deg")) + float(match.group("min") or 0) / 60 + float(match.group("sec") or 0) / 3600
    hemisphere = (match.group("hemi1") or match.group("hemi2") or "").upper()
    return round(-degrees if hemisphere in ("S", "W") else degrees, 6)
