"""Events for event-data pipelines: a CSV in the column order of GDELT 2.0's event table.

Each row is built from the event's JSON twin (disputes/serializers.py). Only the columns the
record can fill honestly are filled; the others stay empty rather than guessed:

- SQLDATE, MonthYear, Year and FractionDate come from the event's fuzzy date at its own
  precision: a part the source does not give is 00 ("20111100" is November 2011), and
  FractionDate is empty unless the day is known.
- Actor1 is the acting state (name; GDELT's CAMEO actor and FIPS geography codes are not
  kept by the record). Actor2 (the target) is not recorded, so it stays empty.
- EventCode is the event's CAMEO code, EventBaseCode and EventRootCode its first three and
  two digits, QuadClass the CAMEO root's class (1 verbal and 2 material cooperation, 3
  verbal and 4 material conflict).
- NumMentions counts the event's quotes, NumSources and NumArticles its distinct sources.
- DATEADDED is when the event last changed (YYYYMMDDHHMMSS, UTC); SOURCEURL the page of
  its first source.
GoldsteinScale, AvgTone, IsRootEvent and the geography columns are left empty.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterator

from django.db.models import QuerySet

from . import serializers
from .lists import Echo

_ACTOR = [
    "Code",
    "Name",
    "CountryCode",
    "KnownGroupCode",
    "EthnicCode",
    "Religion1Code",
    "Religion2Code",
    "Type1Code",
    "Type2Code",
    "Type3Code",
]
_GEO = ["Type", "FullName", "CountryCode", "ADM1Code", "ADM2Code", "Lat", "Long", "FeatureID"]

GDELT_COLUMNS = [
    "GLOBALEVENTID",
    "SQLDATE",
    "MonthYear",
    "Year",
    "FractionDate",
    *(f"Actor1{name}" for name in _ACTOR),
    *(f"Actor2{name}" for name in _ACTOR),
    "IsRootEvent",
    "EventCode",
    "EventBaseCode",
    "EventRootCode",
    "QuadClass",
    "GoldsteinScale",
    "NumMentions",
    "NumSources",
    "NumArticles",
    "AvgTone",
    *(f"Actor1Geo_{name}" for name in _GEO),
    *(f"Actor2Geo_{name}" for name in _GEO),
    *(f"ActionGeo_{name}" for name in _GEO),
    "DATEADDED",
    "SOURCEURL",
]


def quad_class(code: str) -> str:
    if not code:
        return ""
    root = int(code[:2])
    return str(1 if root <= 4 else 2 if root <= 8 else 3 if root <= 14 else 4)


def gdelt_row(event: dict) -> dict:
    """One event's JSON twin as a GDELT row."""
    value = event["date"]["value"] or ""
    parts = [int(p) for p in value.split("-")] if value else []
    year, month, day = (parts + [0, 0, 0])[:3] if parts else (0, 0, 0)
    fraction = ""
    if day:
        start = datetime.date(year, month, day)
        days = (datetime.date(year + 1, 1, 1) - datetime.date(year, 1, 1)).days
        fraction = f"{year + (start.timetuple().tm_yday - 1) / days:.4f}"
    code = event["cameo_code"] or ""
    sources = {c["source"]["id"] for c in event["citations"]}
    changed = datetime.datetime.fromisoformat(event["last_changed"]).astimezone(datetime.UTC)
    row = dict.fromkeys(GDELT_COLUMNS, "")
    row.update(
        {
            "GLOBALEVENTID": event["id"],
            "SQLDATE": f"{year:04d}{month:02d}{day:02d}" if year else "",
            "MonthYear": f"{year:04d}{month:02d}" if year else "",
            "Year": year or "",
            "FractionDate": fraction,
            "Actor1Name": event["actor"]["title"],
            "EventCode": code,
            "EventBaseCode": code[:3],
            "EventRootCode": code[:2],
            "QuadClass": quad_class(code),
            "NumMentions": len(event["citations"]),
            "NumSources": len(sources),
            "NumArticles": len(sources),
            "DATEADDED": changed.strftime("%Y%m%d%H%M%S"),
            "SOURCEURL": event["citations"][0]["source"]["url"] if event["citations"] else "",
        }
    )
    return row


def gdelt_rows(queryset: QuerySet, absolute, chunk: int = 1000) -> Iterator[str]:
    """The header, then a line per event, streamed as lists.csv_rows streams."""
    writer = csv.writer(Echo())
    yield writer.writerow(GDELT_COLUMNS)
    for obj in queryset.order_by("pk").iterator(chunk_size=chunk):
        row = gdelt_row(serializers.event(obj, absolute))
        yield writer.writerow([row[column] for column in GDELT_COLUMNS])
