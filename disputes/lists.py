"""Lists as data: every kind of record as a JSON list and a CSV, filtered and faceted.

`/events.json?dispute=1&country=RU&kind=arrest&year_from=2008&year_to=2011` gives a page of
events (each as its JSON twin gives it, disputes/serializers.py), the counts of each facet
value under the other filters, and `next`: the address of the following page, by cursor
(the last id seen: events come in time order, the others in the order they were recorded),
so that paging stays cheap and stable however large the record grows.
`/events.csv` gives every match, streamed from the database a chunk at a time: its memory
does not grow with the record. The columns are the JSON's fields, flattened.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlencode

from django.db.models import Count, F, Q, QuerySet

from . import serializers
from .models import Case, Detention, Event, RetaliationLink

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
CSV_CHUNK = 1000


class BadFilter(ValueError):
    """A filter value that cannot be read: the answer is 400, saying which."""


def _int(name: str, value: str) -> int:
    if not value.isdigit() or len(value) > 9:
        raise BadFilter(f"{name} must be a whole number, not {value!r}.")
    return int(value)


def _code(name: str, value: str) -> str:
    value = value.upper()
    if len(value) != 2 or not value.isalpha():
        raise BadFilter(f"{name} must be a two-letter country code such as RU, not {value!r}.")
    return value


def _choice(choices) -> Callable[[str, str], str]:
    def read(name: str, value: str) -> str:
        if value not in choices.values:
            raise BadFilter(f"{name} must be one of {', '.join(choices.values)}.")
        return value

    return read


@dataclass(frozen=True)
class Filter:
    name: str
    lookup: str  # the ORM lookup the value is compared with
    read: Callable[[str, str], object]
    # A facet: the values of `facet` (a field path) counted, labelled by `label` (a path).
    facet: str | None = None
    label: str | None = None


def _filters(*, dispute=None, country=None, year=None, **more) -> list[Filter]:
    out = []
    if dispute:
        out.append(Filter("dispute", dispute, _int, facet=dispute, label=dispute + "__title"))
    if country:
        out.append(
            Filter(
                "country",
                country + "__code",
                _code,
                facet=country + "__code",
                label=country + "__name",
            )
        )
    if year:
        out.append(Filter("year_from", year + "__gte", _int, facet=year))
        out.append(Filter("year_to", year + "__lte", _int))
    out.extend(Filter(name, lookup, read, facet=lookup) for name, (lookup, read) in more.items())
    return out


@dataclass(frozen=True)
class RecordList:
    plural: str
    kind: str
    filters: list[Filter] = field(default_factory=list)

    @property
    def spec(self) -> serializers.Kind:
        return serializers.KINDS[self.kind]

    def filtered(self, params, queryset: QuerySet | None = None) -> tuple[QuerySet, dict]:
        """The public records the parameters select (read as the serializer reads them, or
        from `queryset`), and the filters as given."""
        queryset = self.spec.queryset() if queryset is None else queryset
        chosen = {}
        for spec in self.filters:
            raw = params.get(spec.name, "").strip()
            if not raw:
                continue
            chosen[spec.name] = raw
            queryset = queryset.filter(**{spec.lookup: spec.read(spec.name, raw)})
        # A filter through a many-to-many (citizenships) can repeat a row.
        if any("citizenships" in spec.lookup for spec in self.filters if spec.name in chosen):
            queryset = queryset.distinct()
        return queryset, chosen

    def after(self, queryset: QuerySet, cursor: int) -> QuerySet:
        """The records after the one numbered `cursor` (0: from the start), in the list's
        order: events in time order (the dispute's), the others in the order they were
        recorded."""
        if self.kind != "event":
            return queryset.filter(pk__gt=cursor).order_by("pk")
        queryset = queryset.in_time_order()
        if not cursor:
            return queryset
        last = Event.objects.filter(pk=cursor).values("date_key", "sequence", "pk").first()
        if last is None:
            raise BadFilter(f"No event {cursor} to continue after: start from the first page.")
        later_same_day = Q(sequence__gt=last["sequence"]) | Q(
            sequence=last["sequence"], pk__gt=last["pk"]
        )
        if last["date_key"] is None:  # undated steps come last
            return queryset.filter(Q(date_key__isnull=True) & later_same_day)
        return queryset.filter(
            Q(date_key__gt=last["date_key"])
            | Q(date_key__isnull=True)
            | (Q(date_key=last["date_key"]) & later_same_day)
        )

    def facets(self, queryset: QuerySet, chosen: dict, url_for: Callable[[dict], str]) -> dict:
        """{facet: [{value, label, count, url, active}]}: each value's count among the rows
        the filters select, most first (years: the 50 most frequent, in time order), and the address that adds it to the filters (or,
        for the value already chosen, takes it away)."""
        out = {}
        for spec in self.filters:
            if not spec.facet:
                continue
            label = F(spec.label) if spec.label else F(spec.facet)
            rows = (
                queryset.order_by()
                .values(facet_value=F(spec.facet), facet_label=label)
                .annotate(count=Count("pk", distinct=True))
                .order_by("-count", "facet_value")[:50]
            )
            key = "year" if spec.name == "year_from" else spec.name
            values = []
            for row in rows:
                if row["facet_value"] is None:
                    continue
                value = row["facet_value"]
                names = ("year_from", "year_to") if key == "year" else (spec.name,)
                active = all(chosen.get(name) == str(value) for name in names)
                link = dict.fromkeys(names, None if active else value)
                values.append(
                    {
                        "value": value,
                        "label": str(row["facet_label"]),
                        "count": row["count"],
                        "url": url_for(link),
                        "active": active,
                    }
                )
            if key == "year":
                values.sort(key=lambda v: v["value"])  # years read in time order
            out[key] = values
        return out


LISTS = {
    spec.plural: spec
    for spec in [
        RecordList(
            "events",
            "event",
            _filters(
                dispute="dispute",
                country="actor",
                year="date_year",
                kind=("kind", _choice(Event.Kind)),
            ),
        ),
        RecordList(
            "links",
            "link",
            _filters(
                dispute="dispute",
                year="response__date_year",
                evidence=("evidence", _choice(RetaliationLink.Evidence)),
            ),
        ),
        RecordList(
            "people",
            "person",
            [
                Filter(
                    "country",
                    "citizenships__code",
                    _code,
                    facet="citizenships__code",
                    label="citizenships__name",
                )
            ],
        ),
        RecordList(
            "cases",
            "case",
            _filters(
                dispute="dispute",
                country="prosecuting_country",
                outcome=("outcome", _choice(Case.Outcome)),
            ),
        ),
        RecordList(
            "detentions",
            "detention",
            _filters(
                dispute="dispute",
                country="holding_country",
                year="start_year",
                ending=("ending", _choice(Detention.Ending)),
            ),
        ),
        RecordList("countries", "country", []),
        RecordList("sources", "source", _filters(year="published_year")),
        RecordList("disputes", "dispute", []),
    ]
}

# Which filters each list reads: the page cache keys on these parameters.
PARAMS = sorted({f.name for spec in LISTS.values() for f in spec.filters} | {"cursor", "size"})


def page(spec: RecordList, params, absolute, path: str) -> dict:
    """One page of a list as data (the `<plural>-list` schema). `path` is the list's own
    address (/events.json, or the HTML list's /events/): its pages and facets link to it."""
    queryset, chosen = spec.filtered(params)
    size = _int("size", params.get("size", "")) if params.get("size") else PAGE_SIZE
    size = max(1, min(size, MAX_PAGE_SIZE))
    after = _int("cursor", params["cursor"]) if params.get("cursor") else 0

    def url_for(changes: dict) -> str:
        merged = {**chosen, **changes}
        merged = {k: str(v) for k, v in merged.items() if v is not None}
        return absolute(path + _query(merged))

    rows = list(spec.after(queryset, after)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    following = None
    if more:
        query = {**chosen, "cursor": str(rows[-1].pk)}
        if size != PAGE_SIZE:
            query["size"] = str(size)
        following = absolute(path + "?" + urlencode(query))
    csv_path = f"/{spec.plural}.csv"
    return serializers.envelope(
        f"{spec.kind}-list",
        {
            "url": absolute(path + _query({**chosen, **({"cursor": str(after)} if after else {})})),
            "filters": chosen,
            "count": queryset.count(),
            "size": size,
            "next": following,
            "csv": absolute(csv_path + _query(chosen)),
            # Counted on the bare rows: none of what the serializer reads with them.
            "facets": spec.facets(
                spec.filtered(params, spec.spec.model.objects.public())[0], chosen, url_for
            ),
            "results": [spec.spec.serialize(obj, absolute) for obj in rows],
        },
    )


def _query(params: dict) -> str:
    return "?" + urlencode(params) if params else ""


# --- CSV -----------------------------------------------------------------------------------


# Nested objects that may be null, and their columns, so that every row has the same ones.
NULLABLE_OBJECTS = {
    "not_before": ("value", "precision", "inferred", "reason"),
    "group": ("description", "words", "size_min", "size_max"),
}


def flatten(data: dict, prefix: str = "") -> dict:
    """A JSON object as one CSV row with the same columns for every record of its kind:
    a pointer to another record as its id, a date or a group as `name.part` columns, a list
    of pointers as their ids joined with " | ", citations as their quotes and their
    sentences' addresses, any other list as compact JSON."""
    row = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key in ("schema_version", "type") and not prefix:
            continue
        if value is None and key in NULLABLE_OBJECTS:
            row.update(dict.fromkeys((f"{name}.{part}" for part in NULLABLE_OBJECTS[key]), ""))
        elif isinstance(value, dict):
            if "url" in value and "id" in value:
                row[name] = value["id"]
            else:
                row.update(flatten(value, name + "."))
        elif isinstance(value, list):
            if key == "citations":
                row["quotes"] = " | ".join(c["quote"] for c in value)
                row["quote_sentences"] = " | ".join(c["sentence_url"] or "" for c in value)
            elif all(isinstance(item, dict) and "id" in item for item in value):
                row[name] = " | ".join(str(item["id"]) for item in value)
            else:
                row[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        elif value is None:
            row[name] = ""
        else:
            row[name] = value
    return row


class Echo:
    """csv.writer writes to this and gets the line back."""

    def write(self, value: str) -> str:
        return value


def csv_rows(spec: RecordList, queryset: QuerySet, absolute) -> Iterator[str]:
    """The header, then a line per record, read CHUNK rows at a time (iterator() keeps
    prefetch_related per chunk): the whole list is never in memory."""
    writer = csv.writer(Echo())
    # The same dispute, state and source are named on row after row.
    absolute = lru_cache(maxsize=4096)(absolute)
    header = None
    for obj in queryset.order_by("pk").iterator(chunk_size=CSV_CHUNK):
        row = flatten(spec.spec.serialize(obj, absolute))
        if header is None:
            header = list(row)
            yield writer.writerow(header)
        yield writer.writerow([row.get(column, "") for column in header])
    if header is None:
        yield writer.writerow(["id"])
