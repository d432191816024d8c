"""Locations as data: a CSV object in the data bucket (``name,latitude,longitude``) names the places to
forecast when the template's ``LocationsKey`` is set, so a deployment can hold thousands of them (the
``Locations`` parameter holds about 150 before CloudFormation's 4,096 characters run out).

Every step reads the same object through ``load_settings`` (``LOCATIONS_KEY``). A warm Lambda container
asks S3 only whether it changed (a conditional GET), so a new upload is seen by the next invocation.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from botocore.exceptions import ClientError

from rps_core.config import Location
from rps_core.errors import ConfigurationError

__all__ = ["HEADER", "LocationsFileError", "parse_locations_csv", "read_locations"]

HEADER = ("name", "latitude", "longitude")
MAX_NAME = 64  # names go into S3 keys and metric dimensions
_BAD_NAME_CHARACTERS = set("/=,:\\\"'") | {chr(c) for c in range(32)}
_SHOWN = 20  # bad lines named in one error message

# (bucket, key) -> (ETag, locations) of the object last read by this process
_cache: dict[tuple[str, str], tuple[str, tuple[Location, ...]]] = {}


class LocationsFileError(ConfigurationError):
    """The locations CSV is missing, has no header, or has bad rows (the message lists their lines)."""


def _coordinate(text: str, name: str, limit: float) -> tuple[float | None, str]:
    try:
        value = float(text)
    except ValueError:
        return None, f"{name} {text!r} is not a number"
    if not math.isfinite(value) or not -limit <= value <= limit:
        return None, f"{name} {value} is outside [-{limit:g}, {limit:g}]"
    return value, ""


def _row_problem(row: list[str], seen: dict[str, int], line: int) -> tuple[Location | None, str]:
    if len(row) != len(HEADER):
        return None, f"expected 3 fields (name,latitude,longitude), got {len(row)}"
    name, lat_text, lon_text = (cell.strip() for cell in row)
    if not name:
        return None, "empty name"
    if len(name) > MAX_NAME or _BAD_NAME_CHARACTERS & set(name):
        return None, f"name {name!r} is longer than {MAX_NAME} characters or holds one of / = , : \\ or quotes"
    if name in seen:
        return None, f"duplicate name {name!r} (first on line {seen[name]})"
    latitude, problem = _coordinate(lat_text, "latitude", 90)
    if latitude is None:
        return None, problem
    longitude, problem = _coordinate(lon_text, "longitude", 180)
    if longitude is None:
        return None, problem
    seen[name] = line
    return Location(name, latitude, longitude), ""


def parse_locations_csv(text: str, origin: str = "locations CSV") -> tuple[Location, ...]:
    """The locations of a ``name,latitude,longitude`` CSV (header required, blank lines skipped).

    Raises LocationsFileError naming ``origin`` and every bad line (the first 20 of them, and how many).
    """
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))  # a spreadsheet's byte-order mark is not a name
    header = next(rows, None)
    if header is None or tuple(cell.strip().lower() for cell in header) != HEADER:
        raise LocationsFileError(f"{origin}: the first line must be the header 'name,latitude,longitude'")
    locations: list[Location] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        location, problem = _row_problem(row, seen, rows.line_num)
        if location is None:
            problems.append(f"line {rows.line_num}: {problem}")
        else:
            locations.append(location)
    if problems:
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        raise LocationsFileError(
            f"{origin}: {len(problems)} bad rows: {'; '.join(problems[:_SHOWN])}{more}; nothing was read"
        )
    if not locations:
        raise LocationsFileError(f"{origin}: no location in the file")
    return tuple(locations)


def read_locations(bucket: str, key: str, client: Any = None) -> tuple[Location, ...]:
    """The locations in ``s3://bucket/key``; unchanged objects are not downloaded again (ETag)."""
    from rps_core.storage import s3_client  # local import: storage needs boto3, settings parsing does not

    client = client or s3_client()
    origin = f"s3://{bucket}/{key}"
    cached = _cache.get((bucket, key))
    condition = {"IfNoneMatch": cached[0]} if cached else {}
    try:
        response = client.get_object(Bucket=bucket, Key=key, **condition)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code"))
        if cached and code in ("304", "NotModified"):
            return cached[1]
        if code in ("404", "NoSuchKey", "NotFound"):
            raise LocationsFileError(f"{origin}: no such object (LOCATIONS_KEY / LocationsKey names it)") from exc
        raise
    try:
        text = response["Body"].read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LocationsFileError(f"{origin}: not UTF-8 text ({exc})") from exc
    locations = parse_locations_csv(text, origin)
    _cache[(bucket, key)] = (response.get("ETag", ""), locations)
    return locations
