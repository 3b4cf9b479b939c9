"""Lists as data: /<records>.json (a page, filtered, with counts per facet, by cursor) and
/<records>.csv (every match, streamed in constant memory), and the HTML list of events with
its facets as links. Drafts are in none of them."""

import csv
import io
import tracemalloc

import pytest
from django.contrib.contenttypes.models import ContentType

from disputes import lists
from disputes.models import Citation, Country, Dispute, Event, RetaliationLink, Source

pytestmark = pytest.mark.django_db
PLURALS = list(lists.LISTS)


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_every_list_validates_and_holds_every_public_record(client, article, validate_payload):
    for plural in PLURALS:
        spec = lists.LISTS[plural]
        data = client.get(f"/{plural}.json").json()
        validate_payload(data, f"{plural}-list")
        expected = set(spec.spec.model.objects.public().values_list("pk", flat=True))
        assert {row["id"] for row in data["results"]} == expected, plural
        assert data["count"] == len(expected)
        rows = _csv(client.get(f"/{plural}.csv"))
        assert {int(row["id"]) for row in rows} == expected, plural


def test_events_filter_by_dispute_lane_kind_and_years(client, article):
    russia = Country.objects.get(code="RU")
    dispute = Dispute.objects.get()
    public = Event.objects.public()
    data = client.get(
        "/events.json", {"dispute": dispute.pk, "country": "ru", "year_from": "2009"}
    ).json()
    expected = public.filter(actor=russia, date_year__gte=2009)
    assert {r["id"] for r in data["results"]} == set(expected.values_list("pk", flat=True))
    assert all(r["actor"]["code"] == "RU" for r in data["results"])
    kind = public.first().kind
    data = client.get("/events.json", {"kind": kind, "year_to": "2011"}).json()
    assert {r["kind"] for r in data["results"]} == {kind}
    assert data["filters"] == {"kind": kind, "year_to": "2011"}


def test_links_filter_by_the_state_of_the_evidence(client, article):
    evidence = RetaliationLink.objects.public().first().evidence
    data = client.get("/links.json", {"evidence": evidence}).json()
    assert data["results"] and {r["evidence"] for r in data["results"]} == {evidence}
    rows = _csv(client.get("/links.csv", {"evidence": evidence}))
    assert {row["evidence"] for row in rows} == {evidence}


def test_facets_count_each_value_and_link_to_it(client, article):
    data = client.get("/events.json").json()
    public = Event.objects.public()
    lanes = {v["value"]: v["count"] for v in data["facets"]["country"]}
    assert lanes == {
        code: public.filter(actor__code=code).count()
        for code in public.values_list("actor__code", flat=True).distinct()
    }
    russia = next(v for v in data["facets"]["country"] if v["value"] == "RU")
    narrowed = client.get(russia["url"].removeprefix("http://testserver")).json()
    assert narrowed["count"] == russia["count"] and narrowed["filters"] == {"country": "RU"}
    assert next(v for v in narrowed["facets"]["country"] if v["value"] == "RU")["active"]


def test_the_year_facet_reads_in_time_order(client, article):
    """Years are a timeline, not a ranking: the article's 2011 steps outnumber its 2008
    ones, and 2008 still comes first."""
    years = [v["value"] for v in client.get("/events.json").json()["facets"]["year"]]
    assert len(years) > 1
    assert years == sorted(years)


def test_cursor_paging_walks_every_record_once(client, article):
    seen, url = [], "/events.json?size=3"
    while url:
        data = client.get(url).json()
        assert len(data["results"]) <= 3
        seen += [r["id"] for r in data["results"]]
        url = data["next"] and data["next"].removeprefix("http://testserver")
    # Events come in time order, the dispute's own.
    assert seen == list(Event.objects.public().in_time_order().values_list("pk", flat=True))


def test_cursor_paging_of_other_records_follows_their_ids(client, article):
    first = client.get("/people.json?size=2").json()
    second = client.get(first["next"].removeprefix("http://testserver")).json()
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert ids == sorted(ids) and len(set(ids)) == 4


@pytest.mark.parametrize(
    "query",
    [
        {"dispute": "x"},
        {"country": "Russia"},
        {"kind": "invasion"},
        {"year_from": "-1"},
        {"cursor": "1; drop"},
        {"cursor": "99999"},
        {"size": "lots"},
    ],
)
def test_a_filter_that_cannot_be_read_is_answered_400(client, article, query):
    response = client.get("/events.json", query)
    assert response.status_code == 400 and response.json()["type"] == "error"
    assert client.get("/events.csv", query).status_code in (200, 400)
    assert client.get("/events/", query).status_code == 400


def test_the_html_list_shows_facets_as_links_with_counts(
    client, article, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        html = client.get("/events/").text
    russia = Event.objects.public().filter(actor__code="RU").count()
    assert f'<a href="/events/?country=RU">Russia <span class="count">{russia}</span>' in html
    narrowed = client.get("/events/", {"country": "RU"}).text
    assert 'aria-current="true" class="active">Russia' in narrowed
    assert 'href="/events.csv?country=RU"' in narrowed


def test_drafts_are_in_no_list(client, article):
    dispute = Dispute.objects.get()
    Event.objects.create(
        dispute=dispute, kind="statement", title="Zanzibarian", actor=dispute.countries.first()
    )
    for url in ["/events.json", "/events.csv", "/events/", "/disputes.json", "/links.csv"]:
        assert "Zanzibarian" not in client.get(url).getvalue().decode(), url


def _synthetic_events(n: int):
    """n public events in one dispute, written with bulk_create (and a citation each)."""
    ru = Country.objects.create(code="RU", name="Russia", demonym="Russian")
    tj = Country.objects.create(code="TJ", name="Tajikistan", demonym="Tajik")
    dispute = Dispute.objects.create(title="Synthetic")
    dispute.countries.set([ru, tj])
    source = Source.objects.create(title="Notes", publisher="Generated", text="A sentence.")
    Citation.objects.create(
        source=source,
        quote="A sentence.",
        content_type=ContentType.objects.get_for_model(Dispute),
        object_id=dispute.pk,
    )
    Event.objects.bulk_create(
        (
            Event(
                dispute=dispute,
                kind="arrest",
                title=f"Step {i}",
                actor=ru if i % 2 else tj,
                date_year=2000 + i % 20,
                date_month=1 + i % 12,
            )
            for i in range(n)
        ),
        batch_size=5000,
    )
    event_type = ContentType.objects.get_for_model(Event)
    Citation.objects.bulk_create(
        (
            Citation(
                source=source, quote="A sentence.", start=0, content_type=event_type, object_id=pk
            )
            for pk in Event.objects.values_list("pk", flat=True).iterator()
        ),
        batch_size=5000,
    )


@pytest.mark.slow
def test_the_csv_of_100000_events_streams_in_under_100_mb(client):
    """Written with bulk_create in seconds; streaming it, traced by tracemalloc, is what
    takes the time (about a millisecond an event)."""
    n = 100_000
    _synthetic_events(n)
    response = client.get("/events.csv")
    assert response.streaming
    tracemalloc.start()
    try:
        lines = 0
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == n + 1
    assert peak < 100 * 1024 * 1024, f"peak {peak / 2**20:.1f} MB"


def test_cursor_paging_keeps_time_order_through_shared_dates_and_undated_steps(client, article):
    from bench.generate import publish

    dispute = Dispute.objects.get()
    actor = dispute.countries.first()
    for i in range(12):
        dates = [{"date_year": 2011, "date_month": 11}, {}, {"date_year": 2008}][i % 3]
        publish(
            Event.objects.create(
                dispute=dispute,
                kind="other",
                title=f"Same {i}",
                actor=actor,
                sequence=i % 2,
                **dates,
            )
        )
    seen, url = [], "/events.json?size=5"
    while url:
        data = client.get(url).json()
        seen += [r["id"] for r in data["results"]]
        url = data["next"] and data["next"].removeprefix("http://testserver")
    assert seen == list(Event.objects.public().in_time_order().values_list("pk", flat=True))


def test_a_csv_asked_with_a_bad_filter_gets_the_400_page_saying_why(client, article):
    response = client.get("/events.csv", {"country": "Russia"})
    assert response.status_code == 400
    assert "two-letter country code" in response.text and "<!doctype html>" in response.text
