"""Bulk downloads linked from the home page: the whole public record as one JSON file and as
a zip of CSVs with a README of their columns, a Frictionless data package describing them,
each kept by the page cache under the record's version. No draft is in any of them."""

import csv
import io
import json
import zipfile

import pytest

from disputes import downloads
from disputes.models import Dispute, Event, Person

pytestmark = pytest.mark.django_db


def test_the_home_page_links_to_every_download(client, article):
    html = client.get("/").text
    for url in [
        "/downloads/record.json",
        "/downloads/record-csv.zip",
        "/downloads/datapackage.json",
        "/events/",
        "/feed.atom",
    ]:
        assert f'href="{url}"' in html


def test_the_record_json_holds_every_public_record_and_validates(client, article, validate_payload):
    response = client.get("/downloads/record.json")
    assert response.status_code == 200
    data = response.json()
    validate_payload(data, "record")
    assert {e["id"] for e in data["events"]} == set(
        Event.objects.public().values_list("pk", flat=True)
    )
    assert [d["id"] for d in data["disputes"]] == [Dispute.objects.get().pk]


def test_the_zip_has_a_csv_per_kind_and_a_readme_of_its_columns(client, article):
    response = client.get("/downloads/record-csv.zip")
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert names == {f"{plural}.csv" for plural in downloads.ORDER} | {"README.md"}
    readme = archive.read("README.md").decode()
    events = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode())))
    assert {int(row["id"]) for row in events} == set(
        Event.objects.public().values_list("pk", flat=True)
    )
    for column in events[0]:
        assert column in readme


def test_the_data_package_describes_each_csv_with_its_columns(client, article):
    package = client.get("/downloads/datapackage.json").json()
    assert package["profile"] == "data-package"
    by_name = {r["name"]: r for r in package["resources"]}
    events = by_name["events"]
    assert events["path"] == "http://testserver/events.csv"
    header = client.get("/events.csv").getvalue().decode().split("\r\n", 1)[0].split(",")
    assert [f["name"] for f in events["schema"]["fields"]] == header
    assert by_name["record"]["path"] == "http://testserver/downloads/record.json"
    schema = client.get("/schemas/v1/record.json")
    assert schema.status_code == 200 and json.loads(schema.content)["title"]
    assert client.get("/schemas/v1/nothing.json").status_code == 404


def test_downloads_are_built_once_per_record_version(
    client, article, django_assert_max_num_queries
):
    first = client.get("/downloads/record-csv.zip").content
    with django_assert_max_num_queries(1):  # the record's version, then the cache
        assert client.get("/downloads/record-csv.zip").content == first
    person = Person.objects.public().first()
    person.description = "a pilot, corrected"
    person.save()
    assert client.get("/downloads/record-csv.zip").content != first


def test_no_draft_is_in_any_download(client, article):
    dispute = Dispute.objects.get()
    Event.objects.create(
        dispute=dispute, kind="statement", title="Zanzibarian", actor=dispute.countries.first()
    )
    assert "Zanzibarian" not in client.get("/downloads/record.json").content.decode()
    archive = zipfile.ZipFile(io.BytesIO(client.get("/downloads/record-csv.zip").content))
    for name in archive.namelist():
        assert "Zanzibarian" not in archive.read(name).decode()
