"""`cited`: whether some citation supports a record, which public() reads. The database keeps
it (disputes/triggers.py), so every write path is asked here: a citation added, removed,
moved or bulk-created; a record saved from a copy read before its citations came, updated
in bulk, written before its citations (as a fixture may order them) or loaded with a
`cited` of its own. The admin's and the history's paths are in test_admin.py and
test_editing.py (a restored record is public again); the import's in test_roundtrip.py."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from disputes.models import Citation, Dispute, Event, Person, Source

pytestmark = pytest.mark.django_db(transaction=False)
QUOTE = "Both pilots were freed later that month."


def citation(record, quote=QUOTE, save=True):
    source = Source.objects.get()
    made = Citation(
        source=source,
        quote=quote,
        start=source.text.index(quote),  # as save() finds it: bulk_create does not call save()
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
    )
    if save:
        made.save()
    return made


def cited(record) -> bool:
    return type(record).objects.filter(pk=record.pk).values_list("cited", flat=True).get()


@pytest.fixture
def person(article):
    return Person.objects.create(name="Quentin Draftsman", description="a draft person")


def test_a_citation_publishes_its_record_and_the_last_one_removed_withdraws_it(person):
    assert not cited(person)
    assert not Person.objects.public().filter(pk=person.pk).exists()
    first, second = citation(person), citation(person, "pilots were freed")
    assert cited(person)
    assert Person.objects.public().filter(pk=person.pk).exists()
    first.delete()
    assert cited(person)  # one citation still supports it
    second.delete()
    assert not cited(person)
    assert not Person.objects.public().filter(pk=person.pk).exists()


def test_a_citation_moved_to_another_record_moves_the_support(person):
    other = Person.objects.create(name="Ursula Draft", description="another draft")
    moved = citation(person)
    Citation.objects.filter(pk=moved.pk).update(object_id=other.pk)
    assert (cited(person), cited(other)) == (False, True)


def test_a_citation_moved_to_another_kind_of_record_moves_the_support(person):
    """The same number names another record under another content type."""
    dispute = Dispute.objects.get()
    twin = Person.objects.create(pk=dispute.pk + 1000, name="Twin", description="a draft")
    moved = citation(twin)
    Citation.objects.filter(pk=moved.pk).update(
        content_type=ContentType.objects.get_for_model(Dispute), object_id=dispute.pk
    )
    assert not cited(twin)
    assert cited(dispute)


def test_bulk_created_citations_publish_their_records(person):
    other = Person.objects.create(name="Ursula Draft", description="another draft")
    Citation.objects.bulk_create([citation(person, save=False), citation(other, save=False)])
    assert cited(person) and cited(other)


def test_a_save_from_a_copy_read_before_the_citation_keeps_the_record_cited(person):
    stale = Person.objects.get(pk=person.pk)  # read while it was a draft: cited False
    citation(person)
    stale.description = "a person, now cited"
    stale.save()
    assert cited(person)
    assert Person.objects.public().filter(pk=person.pk).exists()


def test_cited_written_by_hand_is_put_right(article, person):
    Event.objects.update(cited=False)
    Person.objects.filter(pk=person.pk).update(cited=True)
    assert Event.objects.public().count() == Event.objects.count() > 0
    assert not cited(person)


def test_a_record_written_after_its_citation_is_cited(article):
    """A fixture or an import may give the citation first: the record is cited when it
    comes."""
    future_pk = Person.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    Citation.objects.create(
        source=Source.objects.get(),
        quote=QUOTE,
        content_type=ContentType.objects.get_for_model(Person),
        object_id=future_pk,
    )
    person = Person.objects.create(pk=future_pk, name="Late", description="written second")
    assert cited(person)


def test_a_fixture_cannot_publish_an_uncited_record(article, tmp_path):
    fixture = tmp_path / "draft.json"
    fields = {"name": "Claimed", "description": "says it is cited", "cited": True}
    fixture.write_text(json.dumps([{"model": "disputes.person", "pk": 9001, "fields": fields}]))
    call_command("loaddata", str(fixture), verbosity=0)
    assert not cited(Person.objects.get(pk=9001))
    assert not Person.objects.public().filter(pk=9001).exists()
