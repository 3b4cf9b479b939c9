"""Drafts: a record that no citation supports is shown on no public surface, and appears
everywhere once it is cited. One QuerySet (`Model.objects.public()`) decides, and each
surface is asked here: pages (countries' too), htmx fragments, the ladder, the step panel's
walks, search (page, fragments and JSON), short permalinks and the source page's list of
what cites it. The site has no sitemap, feed or public export yet: each must use public()
and be added here when it comes."""

import pytest
from django.contrib.contenttypes.models import ContentType

from disputes.models import (
    Case,
    Citation,
    Claim,
    Country,
    Detention,
    Dispute,
    Event,
    Person,
    RetaliationLink,
    Source,
)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def cite(record, quote="Both pilots were freed later that month."):
    source = Source.objects.get()
    return Citation.objects.create(
        source=source,
        quote=quote,
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
    )


def step(title_start):
    return Event.objects.get(title__startswith=title_start)


@pytest.fixture
def drafts(article):
    """A draft event linked (by a cited link) to a public one, a draft person in it, a draft
    case, and an uncited link between two public events."""
    dispute = Dispute.objects.get()
    freed = step("Both pilots freed")
    draft_event = Event.objects.create(
        dispute=dispute,
        kind=Event.Kind.STATEMENT,
        title="Zanzibarian draft statement",
        summary="Quixotic words nobody has cited yet.",
        actor=freed.actor,
        date_year=2011,
        date_month=12,
    )
    person = Person.objects.create(name="Quentin Draftsman", description="a draft person")
    draft_event.people.add(person)
    freed.people.add(person)
    case = Case.objects.create(
        dispute=dispute, title="Draft case of Quentin", prosecuting_country=freed.actor
    )
    freed.case = case
    freed.save()
    to_draft = RetaliationLink.objects.create(
        cause=freed, response=draft_event, evidence="implied", summary="cited, to a draft"
    )
    cite(to_draft)
    uncited = RetaliationLink.objects.create(
        cause=step("Rustam Khukumov arrested"),
        response=freed,
        evidence="speculated",
        summary="Uncited link",
    )
    claim = Claim.objects.create(link=uncited, stance="asserts", claimant="Xylophone Weekly")
    return {
        "event": draft_event,
        "person": person,
        "case": case,
        "link to draft": to_draft,
        "uncited link": uncited,
        "claim": claim,
    }


SECRETS = ["Zanzibarian", "Quentin Draftsman", "Draft case of Quentin", "Xylophone Weekly"]


def public_pages(client):
    """Every public page, fragment and JSON twin that could show the drafts."""
    dispute = Dispute.objects.get()
    urls = ["/", dispute.get_absolute_url(), Source.objects.get().get_absolute_url()]
    for model in (Event, RetaliationLink, Person, Case, Detention, Country):
        urls += [obj.get_absolute_url() for obj in model.objects.public()]
    pages = {url: client.get(url) for url in urls}
    for url in urls[1:]:  # each record's JSON twin
        pages[url + " (JSON)"] = client.get(url.rstrip("/") + ".json")
    for event in Event.objects.public():
        url = event.get_absolute_url()
        pages[url + " (fragment)"] = client.get(url, **HX)
    return pages


# A search echoes its query: each asks for one word of a draft and looks for another.
SEARCHES = {"Quixotic": "Zanzibarian", "Draftsman": "Quentin", "Quentin": "Draftsman"}


def searches(client, query):
    """Every way search answers: the page, its results fragment, the header's quick list
    and the JSON."""
    return [
        client.get("/search/", {"q": query}),
        client.get("/search/", {"q": query}, **HX),
        client.get("/search/", {"q": query}, **HX, HTTP_HX_TARGET="site-results"),
        client.get("/search.json", {"q": query}),
    ]


def test_drafts_are_on_no_public_page_fragment_ladder_or_search(client, drafts):
    pages = public_pages(client)
    assert all(r.status_code == 200 for r in pages.values()), {
        url: r.status_code for url, r in pages.items() if r.status_code != 200
    }
    for url, response in pages.items():
        for secret in SECRETS:
            assert secret not in response.text, f"{secret!r} shown on {url}"
    for query, secret in SEARCHES.items():
        for response in searches(client, query):
            assert response.status_code == 200 and secret not in response.text, query
            assert "Draft case" not in response.text
    # The uncited link's page and the draft's permalinks, long and short, are not found.
    for record in drafts.values():
        if hasattr(record, "get_absolute_url"):
            assert client.get(record.get_absolute_url()).status_code == 404, record
    assert client.get(f"/events/{drafts['event'].pk}/").status_code == 404
    assert client.get(f"/links/{drafts['uncited link'].pk}/").status_code == 404
    # The ladder counts public steps only.
    assert "8 steps recorded" in client.get(Dispute.objects.get().get_absolute_url()).text


def test_the_step_panel_walks_past_a_draft_in_time_and_through_no_draft_link(client, drafts):
    freed = step("Both pilots freed")
    court = step("A Moscow region court")
    # In time, the draft (December 2011) would lie between the two; the walk skips it.
    html = client.get(freed.get_absolute_url()).text
    assert court.title in html
    html = client.get(court.get_absolute_url()).text
    assert "Zanzibarian" not in html and freed.title in html
    # The uncited link would make the arrest a cause of the release: it is not shown.
    arrest = client.get(step("Rustam Khukumov arrested").get_absolute_url()).text
    assert "No later step is said to have been provoked by this one." in arrest


def test_citing_a_draft_publishes_it_everywhere(client, drafts):
    """The same surfaces show each record as soon as a citation supports it, so the test
    above fails when drafts are not told apart."""
    for key in ("event", "person", "case", "uncited link", "claim"):
        cite(drafts[key])
    pages = public_pages(client)
    shown = "".join(r.text for r in pages.values())
    for secret in SECRETS:
        assert secret in shown, secret
    for query, secret in SEARCHES.items():
        for response in searches(client, query):
            assert secret in response.text, (query, response.request)
    assert client.get(drafts["event"].get_absolute_url()).status_code == 200
    assert client.get(drafts["uncited link"].get_absolute_url()).status_code == 200
    assert "9 steps recorded" in client.get(Dispute.objects.get().get_absolute_url()).text


def test_a_draft_dispute_hides_its_steps_with_it(client, article):
    dispute = Dispute.objects.get()
    event = step("Both pilots freed")
    Citation.objects.filter(
        content_type=ContentType.objects.get_for_model(Dispute), object_id=dispute.pk
    ).delete()
    assert client.get(dispute.get_absolute_url()).status_code == 404
    assert client.get(event.get_absolute_url()).status_code == 404
    assert "Khukumov affair" not in client.get("/").text
    assert not Event.objects.public().exists()


def test_every_record_of_the_article_is_public(article):
    """The article's data is all cited: nothing of it became a draft."""
    for model in (Dispute, Event, RetaliationLink, Claim, Person, Case, Detention):
        assert model.objects.public().count() == model.objects.count(), model


def test_public_follows_content_types_numbered_anew(article):
    """Citations name their record's content type by number, which a database may number
    anew (a flush, a restore): the record must not turn into drafts when it does."""
    from django.contrib.auth.models import Permission

    assert Event.objects.public().count() == Event.objects.count() > 0
    event_type = ContentType.objects.get_for_model(Event)
    renumbered = ContentType.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    ContentType.objects.filter(pk=event_type.pk).update(id=renumbered)
    Citation.objects.filter(content_type_id=event_type.pk).update(content_type_id=renumbered)
    Permission.objects.filter(content_type_id=event_type.pk).update(content_type_id=renumbered)
    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(Event).pk == renumbered
    assert Event.objects.public().count() == Event.objects.count()
    assert RetaliationLink.objects.public().count() == RetaliationLink.objects.count()
