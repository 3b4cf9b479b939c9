"""Loading the record: into an empty database, twice without change, and a broken fixture
refused with a message naming the problem and the database left exactly as it was.

These tests commit for real (transactional_db), so each starts from an empty record and
none depends on another having run first."""

import json
from collections import Counter
from io import StringIO

import pytest
from conftest import RECORD_FIXTURE, ROOT
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from disputes.models import BOOKKEEPING

FIXTURE = ROOT / "fixtures" / "russia_tajikistan.json"
FIXTURE_OBJECTS = json.loads(FIXTURE.read_text(encoding="utf-8"))

pytestmark = pytest.mark.django_db(transaction=True)


def dump() -> str:
    """Everything in the database but the page cache's version and search's index, which
    are bookkeeping (the index is written anew, under new IDs, by each load)."""
    out = StringIO()
    bookkeeping = ["disputes.recordversion", "disputes.searchentry", "disputes.searchword"]
    call_command("dumpdata", stdout=out, indent=1, exclude=bookkeeping)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label_lower: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
    }


def record_counts() -> Counter:
    return Counter(
        {
            model._meta.label_lower: model._default_manager.count()
            for model in apps.get_app_config("disputes").get_models()
            if not model.__name__.startswith("Historical") and model not in BOOKKEEPING
        }
    )


def fixture_counts() -> Counter:
    return +Counter(obj["model"] for obj in FIXTURE_OBJECTS)


def broken(tmp_path, change) -> str:
    objects = json.loads(FIXTURE.read_text(encoding="utf-8"))
    change(objects)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(objects, indent=2), encoding="utf-8")
    return str(path)


def find(objects, model, pk):
    return next(o for o in objects if o["model"] == f"disputes.{model}" and o["pk"] == pk)


@pytest.mark.parametrize("command", ["loaddata", "load_record"])
def test_the_record_loads_into_an_empty_database(command):
    assert not +record_counts()
    call_command(command, RECORD_FIXTURE, verbosity=0)
    assert +record_counts() == fixture_counts()


@pytest.mark.parametrize("command", ["loaddata", "load_record"])
def test_loading_twice_changes_nothing(command):
    call_command(command, RECORD_FIXTURE, verbosity=0)
    before, counts = dump(), row_counts()
    call_command(command, RECORD_FIXTURE, verbosity=0)
    assert row_counts() == counts
    assert dump() == before


def test_load_record_leaves_no_history_entries():
    """A fixture load is not an editor's change."""
    call_command("load_record", RECORD_FIXTURE, verbosity=0)
    history = {
        model._meta.label_lower: model.objects.count()
        for model in apps.get_app_config("disputes").get_models()
        if model.__name__.startswith("Historical")
    }
    assert set(history.values()) == {0}


BREAKAGES = {
    "dangling foreign key": (
        lambda objects: find(objects, "event", 7)["fields"].update(actor=99),
        ["disputes.event 7: actor: country instance with id 99 is not a valid choice."],
    ),
    "dangling many-to-many reference": (
        lambda objects: find(objects, "person", 1)["fields"].update(citizenships=[1, 99]),
        ["disputes_person_citizenships", "99"],
    ),
    "dangling citation target": (
        lambda objects: find(objects, "citation", 1)["fields"].update(source=42),
        ["disputes.citation 1: source: source instance with id 42 is not a valid choice."],
    ),
    "three-letter country code": (
        lambda objects: find(objects, "country", 3)["fields"].update(code="EST"),
        [
            "disputes.country 3: code: Use the ISO 3166-1 alpha-2 code: two capital letters, such as RU or TJ.",
            "disputes.country 3: code: Ensure this value has at most 2 characters (it has 3).",
        ],
    ),
    "link from an event to itself": (
        lambda objects: find(objects, "retaliationlink", 2)["fields"].update(response=4),
        ["disputes.retaliationlink 2: An event cannot provoke itself: pick a different response."],
    ),
    "response dated before its cause": (
        lambda objects: find(objects, "retaliationlink", 4)["fields"].update(response=1),
        [
            "disputes.retaliationlink 4: response: The response (2008) is dated before its cause "
            "(November 2011 (year inferred)): swap them or correct a date."
        ],
    ),
    "30 February": (
        lambda objects: find(objects, "event", 8)["fields"].update(date_month=2, date_day=30),
        ["disputes.event 8: "],
    ),
    "quote not in the source": (
        lambda objects: find(objects, "citation", 1)["fields"].update(
            quote="conviction in Tajikistan"
        ),
        ["disputes.citation 1: quote: The quote is not in the source's text word for word"],
    ),
    "misspelt choice": (
        lambda objects: find(objects, "retaliationlink", 1)["fields"].update(evidence="rumoured"),
        ["disputes.retaliationlink 1: evidence: Value 'rumoured' is not a valid choice."],
    ),
}


@pytest.mark.parametrize("preloaded", [False, True], ids=["empty", "record-loaded"])
@pytest.mark.parametrize(("change", "messages"), list(BREAKAGES.values()), ids=list(BREAKAGES))
def test_a_broken_fixture_names_the_problem_and_changes_nothing(
    tmp_path, preloaded, change, messages
):
    if preloaded:
        call_command("load_record", RECORD_FIXTURE, verbosity=0)
    before, counts = dump(), row_counts()
    path = broken(tmp_path, change)
    with pytest.raises(CommandError) as caught:
        call_command("load_record", path, verbosity=0)
    report = str(caught.value)
    assert report.startswith("Nothing was loaded.")
    for message in messages:
        assert message in report
    assert row_counts() == counts
    assert dump() == before


@pytest.mark.parametrize(
    "change",
    [BREAKAGES["dangling foreign key"][0], BREAKAGES["link from an event to itself"][0]],
    ids=["dangling foreign key", "link from an event to itself"],
)
def test_plain_loaddata_of_a_broken_fixture_also_keeps_nothing(tmp_path, change):
    """loaddata is atomic too; only its message is the database's rather than the editors'."""
    before, counts = dump(), row_counts()
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError or CommandError, by backend
        call_command("loaddata", broken(tmp_path, change), verbosity=0)
    assert row_counts() == counts
    assert dump() == before


def test_an_unknown_fixture_name_is_reported():
    with pytest.raises(CommandError, match="No fixture named 'no_such_record' found"):
        call_command("load_record", "no_such_record", verbosity=0)


def test_unreadable_json_is_reported_and_changes_nothing(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[{"model": "disputes.country", "pk": 1, "fields": {', encoding="utf-8")
    before = dump()
    with pytest.raises(CommandError, match="Nothing was loaded"):
        call_command("load_record", str(path), verbosity=0)
    assert dump() == before
