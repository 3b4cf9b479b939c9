"""A full export re-imports into an empty database with every record equal; a broken export
changes nothing.

"Equal" is checked model by model and field by field: every concrete field, every
many-to-many set, the record each generic citation points at, the edit history (with its
timestamps to the microsecond and the editor who made each change), the editors' accounts and
groups, and the admin's log. Rows of models with natural keys (users, groups, content types)
are compared by those keys, everything else by primary key, because an empty database numbers
its content types its own way: that is the point of exporting them by natural key.

These tests commit for real (``transactional_db``), so the import's transaction is the one
under test, and they run on SQLite and PostgreSQL alike (DATABASE_URL).
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from disputes.management.commands.export_record import exported_models

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent


def _key_of(obj):
    """A row's identity across databases: its natural key when it has one."""
    if obj is None:
        return None
    if hasattr(obj, "natural_key"):
        return (obj._meta.label, *obj.natural_key())
    return (obj._meta.label, obj.pk)


def snapshot() -> dict:
    """{model label: {row identity: {field: value}}} for everything the export holds."""
    state = {}
    for model in exported_models():
        natural = hasattr(model, "natural_key")
        rows = {}
        for obj in model._default_manager.all():
            row = {}
            for field in model._meta.concrete_fields:
                if field.primary_key and natural:
                    continue
                if field.is_relation:
                    target = field.related_model
                    raw = getattr(obj, field.attname)
                    if raw is not None and hasattr(target, "natural_key"):
                        raw = _key_of(target._default_manager.get(pk=raw))
                    row[field.name] = raw
                else:
                    row[field.name] = getattr(obj, field.attname)
            for field in model._meta.many_to_many:
                row[field.name] = sorted(
                    _key_of(related) for related in getattr(obj, field.name).all()
                )
            if model._meta.label == "disputes.Citation":
                row["record"] = _key_of(obj.record)
                assert obj.record is not None, f"citation {obj.pk} points at nothing"
            rows[_key_of(obj)] = row
        state[model._meta.label] = rows
    return state


def _record_rows() -> int:
    return sum(
        m._default_manager.count() for m in exported_models() if m._meta.app_label == "disputes"
    )


def _empty_the_database():
    """What a newly migrated database holds: no record, and content types numbered anew
    (shifted, so that a citation exported by content type ID would point at the wrong model)."""
    call_command("flush", interactive=False, verbosity=0)
    types = list(ContentType.objects.order_by("-pk").values_list("app_label", "model"))
    ContentType.objects.all().delete()
    ContentType.objects.clear_cache()
    ContentType.objects.bulk_create(
        ContentType(pk=1000 + i, app_label=app_label, model=model)
        for i, (app_label, model) in enumerate(types)
    )
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    assert _record_rows() == 0


@pytest.fixture
def full_record(django_user_model):
    """The article, a synthetic dispute, editors' changes and deletions with their history,
    users in a group, the admin's log, and text that is hard to carry (unicode, quotes,
    markup, newlines)."""
    call_command("loaddata", "russia_tajikistan", verbosity=0)
    try:
        from bench.generate import make_dispute
    except ImportError:
        make_dispute = None
    if make_dispute is not None:
        make_dispute(40, seed=7, title="Synthetic round-trip dispute")

    from disputes.models import Claim, Country, Event, Person

    group = Group.objects.create(name="round-trip editors")
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="disputes", codename__startswith="change_"
        )
    )
    editor = django_user_model.objects.create_user(
        "rt-editor", "rt@example.org", "correct horse battery", is_staff=True
    )
    editor.groups.add(group)
    editor.user_permissions.add(Permission.objects.get(codename="view_logentry"))
    editor.last_login = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC)
    editor.save()

    person = Person.objects.filter(name="").first() or Person.objects.first()
    person._history_user = editor
    person.description = "a «pilot» — «Ļøñğ» 🚀\n\"quoted\" <b>bold</b> & 'single'"
    person.save()
    person.citizenships.add(*Country.objects.all()[:2])
    event = Event.objects.first()
    event._history_user = editor
    event.summary += " Corrected: the date is as the article gives it."
    event.save()
    claim = Claim.objects.first()
    claim._history_user = editor
    claim.delete()
    LogEntry.objects.create(
        user=editor,
        content_type=ContentType.objects.get_for_model(Event),
        object_id=str(event.pk),
        object_repr=str(event)[:200],
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Summary"]}}]',
    )
    return editor


def _export(tmp_path, name="export.json"):
    path = tmp_path / name
    call_command("export_record", output=str(path))
    return path


def test_a_full_export_reimports_into_an_empty_database_with_every_record_equal(
    full_record, tmp_path
):
    before = snapshot()
    assert before["disputes.Citation"] and before["disputes.HistoricalPerson"]
    assert any(row["history_type"] == "-" for row in before["disputes.HistoricalClaim"].values())
    assert any(row["history_user"] for row in before["disputes.HistoricalEvent"].values())
    path = _export(tmp_path)

    _empty_the_database()
    assert ContentType.objects.get_for_model(apps.get_model("disputes.Event")).pk >= 1000
    call_command("import_record", str(path), verbosity=0)

    after = snapshot()
    for label, rows in before.items():
        assert after[label].keys() == rows.keys(), f"{label}: rows differ"
        for key, row in rows.items():
            assert after[label][key] == row, f"{label} {key} differs"
    assert after == before


def test_export_import_export_is_byte_identical_with_the_structured_facts(full_record, tmp_path):
    """export -> an empty database -> import -> export: the same bytes, the structured
    facts (sentence months, group size bounds, CAMEO and PLOVER codes) with the rest."""
    from disputes.models import Case, Detention, Event

    event = Event.objects.filter(cameo_code="").first()
    event.cameo_code, event.plover_code = "0841", "CONCEDE"
    event.save()
    Case.objects.filter(sentence_months__isnull=True).update(sentence_months=7)
    group = Detention.objects.filter(person__isnull=True).first()
    assert group.group_size_max == 999
    first = _export(tmp_path, "first.json")
    _empty_the_database()
    call_command("import_record", str(first), verbosity=0)
    second = _export(tmp_path, "second.json")
    assert second.read_bytes() == first.read_bytes()
    assert '"cameo_code": "0841"' in first.read_text()


def test_an_import_adds_no_history_of_its_own(full_record, tmp_path):
    """Loading must not record the load as editors' changes (loaddata alone would: it sets
    many-to-many fields through .set(), which django-simple-history logs as an edit)."""
    from disputes.models import Dispute

    history_before = Dispute.history.count()
    path = _export(tmp_path)
    _empty_the_database()
    call_command("import_record", str(path), verbosity=0)
    assert Dispute.history.count() == history_before


def test_an_import_leaves_the_database_ready_for_new_records(full_record, tmp_path):
    """On PostgreSQL the import must move the ID sequences past the imported rows."""
    from disputes.models import Country

    path = _export(tmp_path)
    _empty_the_database()
    call_command("import_record", str(path), verbosity=0)
    highest = Country.objects.order_by("-pk").first().pk
    created = Country.objects.create(code="ZZ", name="Zedland", demonym="Zedlander")
    assert created.pk > highest


def test_an_export_is_plain_json_with_content_types_by_natural_key(full_record, tmp_path):
    data = json.loads(_export(tmp_path).read_text())
    citations = [o for o in data if o["model"] == "disputes.citation"]
    assert citations
    assert all(isinstance(o["fields"]["content_type"], list) for o in citations)
    history = [o for o in data if o["model"] == "disputes.historicalevent"]
    assert any(o["fields"]["history_user"] == ["rt-editor"] for o in history)
    assert not any(
        o["model"] in {"sessions.session", "contenttypes.contenttype", "disputes.recordversion"}
        for o in data
    )


def test_an_import_gives_the_record_a_new_cache_version(full_record, tmp_path):
    """Pages cached under the exporting site's version must never answer for the import."""
    RecordVersion = pytest.importorskip("disputes.models").__dict__.get("RecordVersion")
    if RecordVersion is None:
        pytest.skip("no page cache version in this code base")
    exported_version = RecordVersion.objects.get().version
    path = _export(tmp_path)
    _empty_the_database()
    call_command("import_record", str(path), verbosity=0)
    assert RecordVersion.objects.get().version != exported_version


def _broken_exports(good: list) -> dict[str, str]:
    """Exports that go wrong late, after many good rows have been written."""
    citation = next(o for o in good if o["model"] == "disputes.citation")
    link = next(o for o in good if o["model"] == "disputes.retaliationlink")
    dangling = json.loads(json.dumps(citation))
    dangling["pk"] = 10**6
    dangling["fields"]["source"] = 10**6
    backwards = json.loads(json.dumps(link))
    backwards["pk"] = 10**6
    backwards["fields"]["cause"], backwards["fields"]["response"] = (
        link["fields"]["response"],
        link["fields"]["cause"],
    )
    text = json.dumps(good)
    return {
        "truncated": text[: len(text) * 2 // 3],
        "dangling reference": json.dumps([*good, dangling]),
        "link against the record's rules": json.dumps([*good, backwards]),
        "unknown model": json.dumps([*good, {"model": "disputes.nothing", "pk": 1, "fields": {}}]),
    }


@pytest.mark.parametrize(
    "broken",
    ["truncated", "dangling reference", "link against the record's rules", "unknown model"],
)
def test_a_broken_export_imports_nothing(full_record, tmp_path, broken):
    good = json.loads(_export(tmp_path).read_text())
    path = tmp_path / "broken.json"
    path.write_text(_broken_exports(good)[broken])
    _empty_the_database()
    empty = snapshot()

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_record", str(path), verbosity=0)

    assert _record_rows() == 0
    assert snapshot() == empty
    # And the connection is usable afterwards (no transaction left broken).
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def test_an_import_over_an_existing_record_is_refused_and_changes_nothing(full_record, tmp_path):
    path = _export(tmp_path)
    from disputes.models import Country

    country = Country.objects.first()
    country.name = "Renamed after the export"
    country.save()
    before = snapshot()
    with pytest.raises(CommandError, match="already holds a record"):
        call_command("import_record", str(path), verbosity=0)
    assert snapshot() == before


ADMIN_POSTGRES_URL = os.environ.get(
    "ROUNDTRIP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def other_database(tmp_path):
    """A DATABASE_URL for the other engine: PostgreSQL when the tests run on SQLite (skipped
    when no server answers), an SQLite file when they run on PostgreSQL."""
    if connection.vendor != "sqlite":
        yield f"sqlite:///{tmp_path / 'other.sqlite3'}"
        return
    import psycopg

    name = f"roundtrip_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(ADMIN_POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL to import into ({ADMIN_POSTGRES_URL}): {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(ADMIN_POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(database_url: str, *args: str) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")},
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": "round-trip-" + "k" * 50,
        "DJANGO_DEBUG": "0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stderr[-3000:]}"


def _canonical(path) -> list[str]:
    return sorted(json.dumps(obj, sort_keys=True) for obj in json.loads(path.read_text()))


def test_an_export_moves_between_sqlite_and_postgresql_unchanged(
    full_record, tmp_path, other_database
):
    """Export here, import into a freshly migrated database of the other engine, export
    there: the two exports hold the same objects, field for field."""
    here = _export(tmp_path, "here.json")
    there = tmp_path / "there.json"
    _manage(other_database, "migrate", "--noinput", "-v0")
    _manage(other_database, "import_record", str(here), "-v0")
    _manage(other_database, "export_record", "--output", str(there))
    assert _canonical(there) == _canonical(here)


def test_loading_the_article_leaves_the_database_ready_for_new_records():
    from disputes.models import Country, Person

    call_command("flush", interactive=False, verbosity=0)  # sequences start again at 1
    call_command("load_article", verbosity=0)
    Country.objects.create(code="ZZ", name="Zedland", demonym="Zedlander")
    Person.objects.create(description="a person added by an editor")
