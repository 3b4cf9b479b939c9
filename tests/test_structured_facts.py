"""Structured facts: a sentence's length in months beside its words, a group's size as
bounds beside the source's words, CAMEO and PLOVER codes on events (edited in the admin,
shown on the event page) and the events in GDELT's column order."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from disputes import interchange
from disputes.models import Case, Detention, Dispute, Event

pytestmark = pytest.mark.django_db


def twin(client, obj):
    return client.get(obj.get_absolute_url().rstrip("/") + ".json").json()


def test_sentences_are_months_beside_the_words_their_quote_gives(client, article):
    months = {}
    for case in Case.objects.public():
        data = twin(client, case)
        months[case.sentence] = data["sentence_months"]
        assert any(case.sentence in c["quote"] for c in data["citations"]), case
        page = client.get(case.get_absolute_url()).text
        assert f'{case.sentence} <span class="meta">({data["sentence_months"]} months)' in page
    assert months == {"9 1/2 years in prison": 114, "8 1/2-year prison sentence": 102}


def test_a_group_detention_has_size_bounds_and_the_words_of_its_source(client, article):
    group = Detention.objects.get(person__isnull=True)
    data = twin(client, group)["group"]
    assert data == {
        "description": "Tajik migrants",
        "words": "hundreds",
        "size_min": 200,
        "size_max": 999,
    }
    assert any("hundreds" in c.quote for c in group.citations.all())
    assert "(“hundreds”: 200–999 people)" in client.get(group.get_absolute_url()).text
    group.group_size_max = 100
    with pytest.raises(IntegrityError), transaction.atomic():
        group.save()


def test_events_carry_cameo_and_plover_codes_shown_on_their_page(client, article):
    arrest = Event.objects.get(title="Rustam Khukumov arrested in Russia")
    data = twin(client, arrest)
    assert (data["cameo_code"], data["plover_code"]) == ("173", "COERCE")
    html = client.get(arrest.get_absolute_url()).text
    assert "CAMEO</abbr> 173" in html and "PLOVER</abbr> COERCE" in html
    arrest.cameo_code = "999"
    with pytest.raises(ValidationError) as problem:
        arrest.full_clean()
    assert "cameo_code" in problem.value.message_dict


def test_editors_set_the_codes_in_the_admin(client, article, superuser):
    client.force_login(superuser)
    event = Event.objects.get(title="Rustam Khukumov arrested in Russia")
    html = client.get(f"/admin/disputes/event/{event.pk}/change/").text
    assert 'name="cameo_code"' in html and 'name="plover_code"' in html


def test_the_gdelt_export_has_gdelt_columns_in_order_and_every_public_event(client, article):
    dispute = Dispute.objects.get()
    Event.objects.create(
        dispute=dispute, kind="statement", title="Zanzibarian", actor=dispute.countries.first()
    )
    response = client.get("/events-gdelt.csv")
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert header == interchange.GDELT_COLUMNS and len(header) == 61
    rows = {int(r[0]): dict(zip(header, r, strict=True)) for r in reader}
    assert set(rows) == set(Event.objects.public().values_list("pk", flat=True))
    cleared = Event.objects.get(title__startswith="A Moscow region court")
    arrest = Event.objects.get(title="Rustam Khukumov arrested in Russia")
    assert rows[cleared.pk]["SQLDATE"] == "20111228"
    assert rows[arrest.pk]["SQLDATE"] == "20080000" and rows[arrest.pk]["Year"] == "2008"
    assert rows[arrest.pk]["EventRootCode"] == "17" and rows[arrest.pk]["QuadClass"] == "4"
    assert rows[arrest.pk]["Actor1Name"] == "Russia"
    assert "Zanzibarian" not in text
