"""FollowTheMoney: the public record as entities that followthemoney itself validates, every
reference between them resolved, no draft among them; and, without the optional package,
a plain answer saying how to add it. The package is an optional extra (PyICU needs ICU's
headers): these tests skip without it on a developer's machine, never in CI."""

import io
import json
import os

import pytest
from django.core.management import CommandError, call_command

from disputes import ftm
from disputes.models import Detention, Dispute, Event, Person, RetaliationLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def followthemoney():
    try:
        import followthemoney
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("followthemoney is required in CI (pip install -e '.[ftm]')")
        pytest.skip("followthemoney is not installed (pip install -e '.[ftm]')")
    return followthemoney


def _entities(client) -> list[dict]:
    response = client.get("/downloads/record.ftm.json")
    assert response.status_code == 200
    return [json.loads(line) for line in response.content.decode().splitlines()]


def test_every_entity_validates_and_every_reference_resolves(client, article, followthemoney):
    from followthemoney import model

    entities = _entities(client)
    ids = {e["id"] for e in entities}
    assert len(ids) == len(entities)
    for data in entities:
        proxy = model.get_proxy(data)
        assert proxy.schema.validate(data) is None
        for prop, value in proxy.itervalues():
            if prop.type.name == "entity":
                assert value in ids, f"{data['id']}.{prop.name} -> {value}"
    by_schema = {}
    for data in entities:
        by_schema.setdefault(data["schema"], []).append(data)
    assert len(by_schema["Person"]) == Person.objects.public().count()
    assert len(by_schema["Event"]) == (
        Event.objects.public().count() + Detention.objects.public().count()
    )
    assert len(by_schema["UnknownLink"]) == RetaliationLink.objects.public().count()
    assert by_schema["CourtCase"] and by_schema["CourtCaseParty"]
    dual = next(p for p in by_schema["Person"] if p["properties"]["name"] == ["Rustam Khukumov"])
    assert set(dual["properties"]["nationality"]) == {"ru", "tj"}


def test_no_draft_becomes_an_entity(client, article, followthemoney):
    dispute = Dispute.objects.get()
    Event.objects.create(
        dispute=dispute, kind="statement", title="Zanzibarian", actor=dispute.countries.first()
    )
    Person.objects.create(name="Quentin Draftsman", description="a draft")
    text = json.dumps(_entities(client))
    assert "Zanzibarian" not in text and "Quentin" not in text


def test_the_command_writes_the_same_entities(client, article, followthemoney):
    out = io.StringIO()
    call_command("export_ftm", base_url="http://testserver", stdout=out)
    assert out.getvalue() == client.get("/downloads/record.ftm.json").content.decode()


def test_without_the_package_the_export_says_how_to_add_it(client, article, monkeypatch):
    def missing():
        raise ftm.Unavailable(ftm.MISSING)

    monkeypatch.setattr(ftm, "_model", missing)
    response = client.get("/downloads/record.ftm.json")
    assert response.status_code == 501
    assert "pip install -e '.[ftm]'" in response.content.decode()
    with pytest.raises(CommandError, match=r"\.\[ftm\]"):
        call_command("export_ftm", stdout=io.StringIO())
