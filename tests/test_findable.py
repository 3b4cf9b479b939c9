"""Findable by machines: a sitemap of every public permalink with when it last changed,
robots.txt pointing to it, Atom feeds of events (site-wide and per dispute) advertised in
the pages, and JSON-LD describing each permalink's record. Drafts are in none of them."""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from disputes.models import (
    Case,
    Country,
    Detention,
    Dispute,
    Event,
    Person,
    RetaliationLink,
    Source,
)

pytestmark = pytest.mark.django_db
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"
MODELS = [Dispute, Event, RetaliationLink, Person, Case, Detention, Country, Source]
LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


@pytest.fixture
def draft(article):
    dispute = Dispute.objects.get()
    return Event.objects.create(
        dispute=dispute,
        kind="statement",
        title="Zanzibarian draft",
        actor=dispute.countries.first(),
        date_year=2011,
    )


def _sitemap_entries(client) -> dict[str, str]:
    """{permalink: lastmod} from the sitemap index and every section it lists."""
    index = client.get("/sitemap.xml")
    assert index.status_code == 200
    entries = {}
    for loc in ET.fromstring(index.content).iter(f"{SITEMAP}loc"):
        section = client.get(loc.text.removeprefix("http://testserver"))
        assert section.status_code == 200, loc.text
        for url in ET.fromstring(section.content).iter(f"{SITEMAP}url"):
            entries[url.find(f"{SITEMAP}loc").text] = url.find(f"{SITEMAP}lastmod").text
    return entries


def test_the_sitemap_lists_every_public_permalink_with_its_last_change(client, draft):
    entries = _sitemap_entries(client)
    expected = {
        "http://testserver" + obj.get_absolute_url(): obj.latest_change
        for model in MODELS
        for obj in (
            Dispute.objects.with_chain_changes() if model is Dispute else model.objects
        ).public()
    }
    assert set(entries) == set(expected)
    for url, changed in expected.items():
        # Django's sitemap writes the day (W3C Datetime allows it).
        assert entries[url] == changed.date().isoformat(), url
    assert not any(f"/events/{draft.pk}/" in url for url in entries)


def test_a_disputes_last_change_in_the_sitemap_counts_its_steps_and_links(client, article):
    import datetime

    dispute = Dispute.objects.get()
    long_ago = datetime.datetime(2020, 5, 17, 12, tzinfo=datetime.UTC)
    for model in (Dispute, Event, RetaliationLink):
        model.objects.update(last_changed=long_ago)
    link, step = RetaliationLink.objects.public().first(), Event.objects.public().last()

    def lastmod(obj):
        return _sitemap_entries(client)["http://testserver" + obj.get_absolute_url()]

    RetaliationLink.objects.filter(pk=link.pk).update(
        last_changed=long_ago + datetime.timedelta(days=2)
    )
    assert (lastmod(dispute), lastmod(link), lastmod(step)) == (
        *("2020-05-19", "2020-05-19"),
        "2020-05-17",
    )
    Event.objects.filter(pk=step.pk).update(last_changed=long_ago + datetime.timedelta(days=5))
    assert (lastmod(dispute), lastmod(step)) == ("2020-05-22", "2020-05-22")


def test_favicon_ico_leads_to_the_sites_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_the_admin(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in response.text
    assert "Disallow: /admin/" in response.text


def _feed_entries(response) -> list[str]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    return [entry.find(f"{ATOM}link").get("href") for entry in feed.iter(f"{ATOM}entry")]


def test_the_atom_feeds_announce_public_events_site_wide_and_per_dispute(client, draft):
    dispute = Dispute.objects.get()
    public = {"http://testserver" + e.get_absolute_url() for e in Event.objects.public()}
    assert set(_feed_entries(client.get("/feed.atom"))) == public
    feed_url = dispute.get_absolute_url() + "feed.atom"
    assert set(_feed_entries(client.get(feed_url))) == public
    page = client.get(dispute.get_absolute_url()).text
    assert f'<link rel="alternate" type="application/atom+xml" href="{feed_url}"' in page
    home = client.get("/").text
    assert '<link rel="alternate" type="application/atom+xml" href="/feed.atom"' in home
    assert "Zanzibarian" not in client.get("/feed.atom").text


def test_a_draft_dispute_has_no_feed(client, article):
    dispute = Dispute.objects.create(title="Draft dispute")
    assert client.get(dispute.get_absolute_url() + "feed.atom").status_code == 404


EXPECTED_TYPES = {
    Dispute: "Event",
    Event: "Event",
    RetaliationLink: "ClaimReview",
    Person: "Person",
    Case: "Event",
    Detention: "Event",
    Country: "Country",
    Source: "NewsArticle",
}


def test_every_permalink_page_describes_its_record_in_json_ld(client, article):
    for model, schema_type in EXPECTED_TYPES.items():
        for obj in model.objects.public():
            html = client.get(obj.get_absolute_url()).text
            blocks = LD.findall(html)
            assert len(blocks) == 1, obj.get_absolute_url()
            data = json.loads(blocks[0])
            assert data["@context"] == "https://schema.org"
            assert data["@type"] == schema_type
            assert data["url"] == "http://testserver" + obj.get_absolute_url()


def test_json_ld_cannot_close_its_script_element(client, article):
    person = Person.objects.public().first()
    person.description = 'a pilot</script><script>alert("x")</script> & co'
    person.save()
    html = client.get(person.get_absolute_url()).text
    assert "<script>alert" not in html
    data = json.loads(LD.findall(html)[0])
    assert data["description"] == person.description


def test_json_ld_names_no_draft(client, article):
    from disputes.models import Role

    person = Person.objects.public().first()
    Role.objects.create(person=person, title="Zanzibarian draft title")
    blocks = LD.findall(client.get(person.get_absolute_url()).text)
    assert "Zanzibarian" not in blocks[0]
    assert json.loads(blocks[0])["@type"] == "Person"
