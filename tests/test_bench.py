"""The benchmark's own pieces: its baseline URL stays out of production, and its generator
makes the disputes it says it makes (benchmarks print figures; these tests check behaviour)."""

from collections import Counter

import pytest
from django.urls import Resolver404, resolve

from bench.generate import make_dispute
from disputes.models import Citation, Event, Person, RetaliationLink, Sentence, Source
from disputes.sources import split_sentences


def test_hello_world_baseline_is_not_a_production_url(client, db):
    with pytest.raises(Resolver404):
        resolve("/__bench__/hello", urlconf="disputes.urls")
    assert client.get("/__bench__/hello").status_code == 404


def test_hello_world_baseline_exists_under_the_benchmark_urls():
    match = resolve("/__bench__/hello", urlconf="bench.urls")
    assert match.url_name == "bench-hello"
    # and every production URL is still there
    assert resolve("/search/", urlconf="bench.urls").url_name == "search"


@pytest.mark.django_db
def test_generator_makes_the_events_links_and_records_it_says():
    dispute = make_dispute(60, links_per_event=2, seed=3)
    events = Event.objects.filter(dispute=dispute)
    links = RetaliationLink.objects.filter(cause__dispute=dispute)
    assert events.count() == 60
    assert links.count() == 120
    assert dispute.cases.exists() and dispute.detentions.exists()
    assert Person.objects.filter(events__dispute=dispute).exists()
    assert set(links.values_list("evidence", flat=True)) == set(RetaliationLink.Evidence.values)

    causes = Counter(links.values_list("cause_id", flat=True))
    responses = Counter(links.values_list("response_id", flat=True))
    assert max(causes.values()) > 1, "some step provokes several (the chain branches)"
    assert max(responses.values()) > 1, "some step is provoked by several (the chain merges)"


@pytest.mark.django_db
def test_generated_links_respect_time_order_and_stay_in_their_dispute():
    dispute = make_dispute(40, links_per_event=2, seed=4)
    order = {
        pk: i
        for i, pk in enumerate(
            Event.objects.filter(dispute=dispute).in_time_order().values_list("pk", flat=True)
        )
    }
    for link in RetaliationLink.objects.filter(cause__dispute=dispute).select_related(
        "cause", "response"
    ):
        assert link.cause.dispute_id == link.response.dispute_id == dispute.pk
        assert order[link.cause_id] < order[link.response_id]
        assert not link.response.date.certainly_before(link.cause.date)


@pytest.mark.django_db
def test_generated_citations_quote_their_sources_word_for_word():
    dispute = make_dispute(450, seed=5)
    sources = list(Source.objects.filter(disputes=dispute))
    assert len(sources) == 3, "a long dispute is told by several sources, not one huge text"
    for source in sources:
        spans = list(Sentence.objects.filter(source=source).values_list("start", "end"))
        assert spans == split_sentences(source.text)
    citations = Citation.objects.filter(source__in=sources).select_related("source")
    cited = Event.objects.filter(dispute=dispute, citations__isnull=False).distinct()
    assert cited.count() == 450, "every generated step cites its sentence"
    for citation in citations:
        text = citation.source.text
        assert text[citation.start : citation.start + len(citation.quote)] == citation.quote
