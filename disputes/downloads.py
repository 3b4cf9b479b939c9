"""Bulk downloads: the whole public record as one JSON file, as a zip of CSVs (one per kind
of record, with a README of their columns), and a Frictionless Data package describing them.

Each is built from the same serializers as the pages' JSON twins and the lists' CSVs, and is
a public page: the page cache keeps it under the record's version (disputes/caching.py), so
it is built once per change to the record, whoever asks.
"""

from __future__ import annotations

import io
import zipfile

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from . import ftm, lists, serializers
from .caching import public_page, record_version

SCHEMAS = settings.BASE_DIR / "schemas" / f"v{serializers.SCHEMA_VERSION}"
# The order of the kinds in every download.
ORDER = ["disputes", "events", "links", "people", "cases", "detentions", "countries", "sources"]

README = """\
# The Dispute Explorer record, as CSV

Record version {version}. One file per kind of record; each row is one public record, as
its page's JSON twin gives it (`<permalink>.json`), flattened. Drafts (records no quote
supports) are not included.

How to read the columns:

- `id`: the record's number; `url`: its permalink.
- A column named for another record (`dispute`, `actor`, `case`, `person`, `cause`,
  `response`, ...) holds that record's `id`, found in its own file. A list of records
  (`people`, `defendants`, `citizenships`, `countries`, `sources`) holds their ids, joined
  with ` | `.
- Dates are fuzzy, as news gives them: `<date>.value` is ISO 8601 at the precision the
  source gives (`2011`, `2011-03`, `2011-03-28`), `<date>.precision` says which (year,
  month, day or unknown), `<date>.inferred` is True when a part is not stated by the
  source, and `<date>.reason` says which part and why.
- `quotes`: the verbatim quotes that support the record, joined with ` | `;
  `quote_sentences`: for each quote, in the same order, the address of the sentence of its
  source it stands in.
- Columns holding structured lists (roles, relations, claims, a source's sentences) hold
  them as JSON.
- `last_changed`: when the record or one of its quotes last changed (ISO 8601, UTC); for a
  dispute, also when one of its steps or links did (or was deleted, or a step moved away).

The files and their columns:

{files}
"""


def _absolute(request):
    return request.build_absolute_uri


def _records(plural: str, absolute):
    spec = serializers.KINDS[lists.LISTS[plural].kind]
    for obj in spec.queryset().order_by("pk").iterator(chunk_size=lists.CSV_CHUNK):
        yield spec.serialize(obj, absolute)


def record_data(absolute) -> dict:
    """The whole public record as one object (schemas/v1/record.json)."""
    return serializers.envelope(
        "record",
        {
            "record_version": record_version(),
            **{plural: list(_records(plural, absolute)) for plural in ORDER},
        },
    )


def _csv_text(plural: str, absolute) -> str:
    spec = lists.LISTS[plural]
    queryset, _ = spec.filtered({})
    return "".join(lists.csv_rows(spec, queryset, absolute))


def columns(plural: str, absolute) -> list[str]:
    """The CSV's columns: its first record's, flattened (every row has the same ones)."""
    first = next(_records(plural, absolute), None)
    return list(lists.flatten(first)) if first else ["id"]


@require_safe
@public_page
def record_json(request):
    response = JsonResponse(
        record_data(_absolute(request)), json_dumps_params={"ensure_ascii": False}
    )
    response["Content-Disposition"] = 'attachment; filename="record.json"'
    return response


@require_safe
@public_page
def record_zip(request):
    absolute = _absolute(request)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        described = []
        for plural in ORDER:
            text = _csv_text(plural, absolute)
            archive.writestr(f"{plural}.csv", text)
            header = text.split("\r\n", 1)[0]
            described.append(f"- `{plural}.csv`: {header.replace(',', ', ')}")
        archive.writestr(
            "README.md", README.format(version=record_version(), files="\n".join(described))
        )
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="record-csv.zip"'
    return response


def _field(name: str) -> dict:
    if name == "id":
        return {"name": name, "type": "integer"}
    if name == "url":
        return {"name": name, "type": "string", "format": "uri"}
    return {"name": name, "type": "string"}


@require_safe
@public_page
def record_ftm(request):
    """The record as FollowTheMoney entities, or, when the optional package is not
    installed, a plain answer saying how to add it."""
    if not ftm.available():
        return HttpResponse(ftm.MISSING, status=501, content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        "".join(ftm.lines(_absolute(request))), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="record.ftm.json"'
    return response


@require_safe
@public_page
def schema(request, name):
    """The published JSON Schemas (schemas/v1/<name>.json), as the repository holds them."""
    path = SCHEMAS / f"{name}.json"
    if not path.is_file():
        raise Http404("No such schema.")
    return HttpResponse(path.read_bytes(), content_type="application/schema+json")


@require_safe
@public_page
def datapackage(request):
    """A Frictionless Data package (https://specs.frictionlessdata.io/data-package/): the
    CSV of each kind of record with its columns, and the whole record as JSON."""
    absolute = _absolute(request)
    resources = [
        {
            "name": plural,
            "path": absolute(reverse(f"disputes:{plural}-csv")),
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": {
                "fields": [_field(name) for name in columns(plural, absolute)],
                "primaryKey": "id",
            },
        }
        for plural in ORDER
    ]
    resources.append(
        {
            "name": "record",
            "path": absolute(reverse("disputes:download-record")),
            "format": "json",
            "mediatype": "application/json",
            "encoding": "utf-8",
            "description": "The whole record as one object; its JSON Schema: "
            + absolute(reverse("disputes:schema", args=["record"])),
        }
    )
    package = {
        # A property of our own, as the Data Package spec allows: every payload says it.
        "schema_version": serializers.SCHEMA_VERSION,
        "profile": "data-package",
        "name": "dispute-explorer-record",
        "title": "Dispute Explorer: the public record",
        "description": "Diplomatic disputes as chains of tit-for-tat actions; every fact "
        "with the verbatim quote of the source that supports it.",
        "version": str(record_version()),
        "homepage": absolute("/"),
        "resources": resources,
    }
    return JsonResponse(package, json_dumps_params={"ensure_ascii": False, "indent": 2})
