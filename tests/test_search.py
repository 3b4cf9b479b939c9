"""Search: results on either database, as a shareable page and as an htmx fragment, and a
clear answer (never an error) for empty, malformed and very long queries."""

import pytest
from django.urls import reverse

from bench.generate import make_dispute
from disputes import search

URL = reverse("disputes:search")
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def record(db):
    return make_dispute(12, seed=4)


def test_empty_query_gets_a_helpful_prompt(client, record):
    for url in (URL, URL + "?q=", URL + "?q=%20%20"):
        response = client.get(url)
        assert response.status_code == 200
        assert "Type a name, a place or a word" in response.text


@pytest.mark.parametrize(
    "query",
    ['"', '"""', '"unbalanced', "!!!", "&&||", "-", "((", "'", ":*", "\\", "<>", "%", "_"],
)
def test_malformed_queries_get_a_clear_answer(client, record, query):
    response = client.get(URL, {"q": query})
    assert response.status_code == 200
    text = response.text
    assert (
        "There is nothing to search for in that" in text
        or "Nothing in the record matches" in text
        or "result" in text
    )


@pytest.mark.parametrize("query", ["step\x00 one", "\x00", "step\x07\x1b[31m", "\u0000\u0001"])
def test_control_characters_and_nul_bytes_are_removed(client, record, query):
    response = client.get(URL, {"q": query})
    assert response.status_code == 200
    if any(ch.isalnum() for ch in query.replace("\x1b[31m", "")):
        assert "control characters were removed" in response.text


def test_very_long_queries_are_cut_with_a_message(client, record):
    response = client.get(URL, {"q": "step " * 500})
    assert response.status_code == 200
    assert "longer than 200 characters" in response.text
    assert search.clean("x" * 5000)[0] == "x" * 200


def test_finds_events_people_cases_detentions_and_sources(client, record):
    response = client.get(URL, {"q": "step"})
    assert response.status_code == 200
    assert "Events" in response.text and "Sources" in response.text
    groups = {kind.key: hits for kind, hits in search.search("Example").groups}
    assert groups["person"] and groups["detention"]
    assert {k.key: h for k, h in search.search("District court").groups}["case"]


def test_unbalanced_quotes_still_search_the_words(record):
    outcome = search.search('"authorities acted')
    assert outcome.count > 0


def test_partial_words_find_something_while_typing(record):
    assert search.search("Bordur").count > 0


def test_search_form_works_without_javascript_and_updates_as_you_type(client, record):
    html = client.get(URL, {"q": "step"}).text
    assert f'action="{URL}" method="get"' in html
    assert 'hx-trigger="input changed delay:300ms, search"' in html
    assert f'hx-get="{URL}"' in html
    assert 'hx-target="#results"' in html and 'hx-push-url="true"' in html


def test_search_page_is_shareable(client, record):
    html = client.get(URL, {"q": "Bordurian step"}).text
    assert '<link rel="canonical" href="http://testserver/search/?q=Bordurian+step">' in html
    assert "<title>Search: Bordurian step · Dispute Explorer</title>" in html


@pytest.mark.postgresql
def test_postgres_ranks_title_matches_first(record):
    from disputes.models import Event

    target = Event.objects.first()
    target.title = "Zanzibar ultimatum issued"
    target.save()
    other = Event.objects.last()
    other.summary = "Mentions a zanzibar ultimatum in passing."
    other.save()
    outcome = search.search("zanzibar ultimatum")
    assert outcome.method == "full-text"
    events = {k.key: h for k, h in outcome.groups}["event"]
    assert [e.pk for e in events[:2]] == [target.pk, other.pk]
    assert events[0].rank > events[1].rank
    # websearch syntax: a phrase and an exclusion
    assert {k.key: h for k, h in search.search('"ultimatum issued"').groups}["event"]
    assert not {k.key: h for k, h in search.search("zanzibar -ultimatum").groups}["event"]


def test_excluded_words_are_honoured_on_every_database(record):
    assert search.search("Bordurian").count > 0
    assert search.terms('a -b "c d" -"e"', excluded=True) == ["b", "e"]
    events = {k.key: h for k, h in search.search("step -Bordurian").groups}["event"]
    assert events and all("Bordurian" not in e.title for e in events)


@pytest.mark.postgresql
@pytest.mark.parametrize(
    ("key", "index"),
    [
        ("event", "disputes_event_search"),
        ("person", "disputes_person_search"),
        ("case", "disputes_case_search"),
        ("source", "disputes_source_search"),
    ],
)
def test_postgres_searches_through_the_gin_index(record, key, index):
    """The document a search matches is the one its index holds (migration 0001): with
    sequential scans ruled out, the plan reads the index. A drift between the two would
    leave PostgreSQL building every row's document on every search."""
    from django.contrib.postgres.search import SearchQuery
    from django.db import connection

    kind = next(k for k in search.KINDS if k.key == key)
    query = SearchQuery("Bordurian", search_type="websearch", config=search.CONFIG)
    matches = kind.model.objects.alias(document=kind.document()).filter(document=query)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    assert index in matches.values("pk").explain()


@pytest.mark.postgresql
def test_postgres_finds_a_word_in_a_stored_source_and_saves_a_very_long_one(record):
    """A source's document is kept by PostgreSQL as the text changes; a text far past what a
    tsvector can hold still saves (its first 250,000 characters are indexed)."""
    from disputes.models import Source

    source = Source.objects.first()
    source.text += " The quartermaster signed."
    source.save()
    hits = {k.key: h for k, h in search.search("quartermaster").groups}["source"]
    assert [s.pk for s in hits] == [source.pk]

    huge = Source.objects.create(
        title="Transcript", publisher="Archive", text=" ".join(f"w{i}x" for i in range(400_000))
    )
    assert len(huge.text) > 2_000_000
    hits = {k.key: h for k, h in search.search("w12x").groups}["source"]
    assert [s.pk for s in hits] == [huge.pk]


@pytest.mark.postgresql
def test_postgres_finds_words_within_words_through_trigram_indexes(record):
    """The fallback (words inside words, when full-text finds nothing) reads migration 0011's
    trigram indexes for every kind whose fields are its own (a detention's include its
    person's): with sequential and plain index scans ruled out, each plan names one. A drift
    between search.py's expressions and the indexes would fail here."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        outcome = search.search("Bordur")
    assert outcome.method == "partial words" and outcome.count
    fallback = [q["sql"] for q in queries.captured_queries if " LIKE " in q["sql"]]
    assert len(fallback) == len(search.KINDS)
    fallback = [sql for sql in fallback if '"disputes_detention"' not in sql]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        for sql in fallback:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "_trgm" in plan, plan


def hits(query, key):
    return {k.key: h for k, h in search.search(query).groups}[key]


def test_words_inside_words_follow_every_kind_of_write(record):
    """SQLite answers from its FTS5 trigram index, which triggers keep in step with every
    write (PostgreSQL reads the tables themselves): a save, QuerySet.update() and a delete
    are each seen by the next search."""
    from disputes.models import Event

    event = Event.objects.first()
    event.title = "Quixotic border incident"
    event.save()
    assert [e.pk for e in hits("uixoti", "event")] == [event.pk]
    Event.objects.filter(pk=event.pk).update(title="Zephyrine standoff")
    assert not hits("uixoti", "event")
    assert [e.pk for e in hits("ephyrin", "event")] == [event.pk]
    Event.objects.filter(pk=event.pk).update(summary="")
    event.refresh_from_db()
    event.citations.all().delete()
    event.provoked_links.all().delete()
    event.provoked_by_links.all().delete()
    event.delete()
    assert not hits("ephyrin", "event")


def test_short_words_and_exclusions_narrow_what_the_index_found(record):
    from disputes.models import Person

    people = Person.objects.exclude(name="")
    first, second = people[0], people[1]
    found = {p.pk for p in hits(f"Example {first.name.split()[1]}", "person")}
    assert first.pk in found and second.pk not in found
    excluded = {p.pk for p in hits(f"Example -{first.name.split()[1]}", "person")}
    assert first.pk not in excluded and excluded


def test_a_detention_is_found_by_its_persons_name(record):
    from disputes.models import Detention

    held = Detention.objects.exclude(person=None).select_related("person").first()
    assert held.pk in {d.pk for d in hits(held.person.name, "detention")}
