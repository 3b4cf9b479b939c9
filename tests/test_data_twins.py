"""Every permalink page has a JSON twin: `<permalink>.json`, or the permalink itself asked
for `Accept: application/json`. Each payload validates against its published schema
(schemas/v1), carries its canonical URL, its citations with the sentence they stand in,
fuzzy dates with their precision, and never shows a draft."""

import pytest
from django.contrib.contenttypes.models import ContentType

from disputes import serializers
from disputes.models import (
    Case,
    Citation,
    Country,
    Detention,
    Dispute,
    Event,
    Person,
    RetaliationLink,
    Source,
)

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
MODELS = {
    "dispute": Dispute,
    "event": Event,
    "link": RetaliationLink,
    "person": Person,
    "case": Case,
    "detention": Detention,
    "country": Country,
    "source": Source,
}


def twin_url(obj) -> str:
    return obj.get_absolute_url().rstrip("/") + ".json"


def test_every_public_record_has_a_json_twin_valid_by_its_schema(client, article, validate_payload):
    for kind, model in MODELS.items():
        records = list(model.objects.public())
        assert records, kind
        for obj in records:
            response = client.get(twin_url(obj))
            assert response.status_code == 200, twin_url(obj)
            assert response["Content-Type"] == "application/json"
            payload = response.json()
            validate_payload(payload, kind)
            assert payload["schema_version"] == serializers.SCHEMA_VERSION
            assert payload["type"] == kind and payload["id"] == obj.pk
            assert payload["url"] == "http://testserver" + obj.get_absolute_url()
            assert payload["last_changed"] == obj.last_changed.isoformat()


def test_the_permalink_asked_for_json_gives_the_twin_and_says_vary_accept(client, article):
    event = Event.objects.public().first()
    url = event.get_absolute_url()
    twin = client.get(twin_url(event)).json()
    as_json = client.get(url, **JSON)
    assert as_json["Content-Type"] == "application/json"
    assert as_json.json() == twin
    page = client.get(url, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert page["Content-Type"].startswith("text/html")
    assert "Accept" in as_json["Vary"] and "Accept" in page["Vary"]
    assert client.get(url, HTTP_ACCEPT="*/*")["Content-Type"].startswith("text/html")


def test_the_page_cache_never_hands_json_for_html_or_html_for_json(client, article):
    url = Dispute.objects.get().get_absolute_url()
    for _ in range(2):  # the second round is answered from the page cache
        assert client.get(url)["Content-Type"].startswith("text/html")
        assert client.get(url, **JSON)["Content-Type"] == "application/json"
        assert client.get(url, **JSON).json()["type"] == "dispute"
        assert b"<!doctype html>" in client.get(url).content


def test_a_stale_slug_redirects_to_the_current_twin(client, article):
    event = Event.objects.public().first()
    response = client.get(f"/events/{event.pk}/old-title.json")
    assert response.status_code == 301
    assert response["Location"] == twin_url(event)
    response = client.get(f"/events/{event.pk}/old-title/", **JSON)
    assert response.status_code == 301 and response["Location"] == event.get_absolute_url()


def test_citations_carry_the_verbatim_quote_and_the_address_of_its_sentence(client, article):
    source = Source.objects.get()
    for event in Event.objects.public():
        for citation in client.get(twin_url(event)).json()["citations"]:
            assert citation["quote"] in source.text
            assert source.text.index(citation["quote"]) == citation["start"]
            sentence = source.sentences.get(number=citation["sentence"])
            assert sentence.start <= citation["start"] < sentence.end
            assert citation["sentence_url"] == (
                f"http://testserver{source.get_absolute_url()}#s{sentence.number}"
            )


def test_fuzzy_dates_say_their_precision_and_what_was_inferred(client, article):
    events = Event.objects.public()
    inferred = events.exclude(date_inferred="").first()
    by_month = events.filter(date_month__isnull=False, date_day__isnull=True).first()
    date = client.get(twin_url(inferred)).json()["date"]
    assert date["inferred"] is True and date["reason"] == inferred.date_inferred
    date = client.get(twin_url(by_month)).json()["date"]
    assert date["precision"] == "month"
    assert date["value"] == f"{by_month.date_year:04d}-{by_month.date_month:02d}"


def test_the_dispute_twin_gives_its_chain_in_time_order_with_its_links(
    client, article, django_assert_max_num_queries
):
    dispute = Dispute.objects.get()
    with django_assert_max_num_queries(12):
        payload = client.get(twin_url(dispute)).json()
    order = list(Event.objects.public().in_time_order().values_list("pk", flat=True))
    assert [step["id"] for step in payload["chain"]] == order
    assert {link["id"] for link in payload["links"]} == set(
        RetaliationLink.objects.public().values_list("pk", flat=True)
    )


def _cite(record):
    source = Source.objects.get()
    quote = source.text.split(".")[0]
    Citation.objects.create(
        source=source,
        quote=quote,
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
    )


def test_drafts_have_no_twin_and_are_in_no_twin(client, article):
    dispute = Dispute.objects.get()
    public = Event.objects.public().first()
    draft = Event.objects.create(
        dispute=dispute, kind="statement", title="Zanzibarian draft", actor=public.actor
    )
    person = Person.objects.create(name="Quentin Draftsman", description="a draft person")
    public.people.add(person)
    link = RetaliationLink.objects.create(cause=public, response=draft, evidence="implied")
    _cite(link)  # cited, but it leads to a draft: still a draft
    for obj in (draft, person, link):
        assert client.get(twin_url(obj)).status_code == 404
        assert client.get(obj.get_absolute_url(), **JSON).status_code == 404
    # as data, the same answer a record that never existed gets
    assert client.get(twin_url(draft)).json()["error"] == f"No event with ID {draft.pk}."
    assert client.get("/events/99999/x.json").json()["error"] == "No event with ID 99999."
    texts = [client.get(twin_url(dispute)).text, client.get(twin_url(public)).text]
    for text in texts:
        assert "Zanzibarian" not in text and "Quentin" not in text
    _cite(draft)
    assert client.get(twin_url(draft)).status_code == 200


def test_an_address_of_data_that_leads_nowhere_is_a_json_404(client, article, validate_payload):
    """A program that asked for JSON gets JSON back, errors included; a browser the page."""
    for response in (
        client.get("/events/99999/nothing.json"),
        client.get("/events/99999/nothing/", **JSON),
        client.get("/no-such-list.json"),
    ):
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        validate_payload(response.json(), "error")
    page = client.get("/events/99999/nothing/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_search_json_and_its_refusals_validate_against_their_schemas(
    client, article, validate_payload
):
    payload = client.get("/search.json", {"q": "Khukumov"}).json()
    validate_payload(payload, "search")
    assert payload["type"] == "search" and payload["results"]
    refused = client.get("/search.json", {"q": "word " * 50})
    assert refused.status_code == 400
    validate_payload(refused.json(), "error")


def test_each_permalink_page_points_to_its_twin(client, article):
    for model in MODELS.values():
        obj = model.objects.public().first()
        html = client.get(obj.get_absolute_url()).text
        assert (
            f'<link id="json-twin" rel="alternate" type="application/json" href="http://testserver{twin_url(obj)}"'
            in html
        )


@pytest.mark.parametrize(
    "accept", [";;;,,/", "application/json;q=abc", "*/*;q=0, application/json;q=0", "é/é" * 300]
)
def test_a_strange_accept_header_gets_a_page_not_an_error(client, article, accept):
    event = Event.objects.public().first()
    response = client.get(event.get_absolute_url(), HTTP_ACCEPT=accept)
    assert response.status_code == 200


def test_a_persons_twin_lists_every_relation_its_page_shows_from_either_side(
    client, article, validate_payload
):
    """A relation is stored once, from one person to the other ("A is lawyer of B"); both
    people's pages list it, and so do both twins: B's under related_by."""
    from disputes.models import PersonRelation

    relation = PersonRelation.objects.public().select_related("person", "other").first()
    page = client.get(relation.other.get_absolute_url()).text
    assert f"{relation.person}</a> is {relation.get_kind_display()} this person" in page

    twin = client.get(twin_url(relation.other)).json()
    validate_payload(twin, "person")
    listed = [
        item
        for item in twin["related_by"]
        if item["person"]["id"] == relation.person.pk and item["kind"] == relation.kind
    ]
    assert len(listed) == 1
    assert listed[0]["label"] == relation.get_kind_display()
    assert listed[0]["detail"] == relation.detail
    from_side = client.get(twin_url(relation.person)).json()
    assert relation.other.pk in [item["other"]["id"] for item in from_side["relations"]]
