"""The number of queries a page makes does not grow with the size of its dispute.

Each page is rendered for the same kind of record in a small and a large generated
dispute; both must make exactly the same number of queries, and stay under a ceiling.
"""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from bench.generate import make_dispute
from disputes.models import Case, Country, Detention, Event, Person, RetaliationLink, Source
from tests.test_chain import database_work

HX = {"HTTP_HX_REQUEST": "true"}
# The small dispute is still longer than one page of the ladder, so that its pages, like the
# large one's, have links to steps on other pages (read in a query a one-page dispute skips).
SMALL, LARGE = 60, 300
CEILING = 20


@pytest.fixture
def disputes(db):
    return make_dispute(SMALL, seed=5), make_dispute(LARGE, seed=6)


def middle_event(dispute):
    events = Event.objects.filter(dispute=dispute).in_time_order()
    return events[events.count() // 2]


def busiest(queryset):
    return queryset.order_by("pk")[queryset.count() // 2]


PAGES = {
    "dispute": lambda d: (d.get_absolute_url(), {}),
    "dispute, later page": lambda d: (d.get_absolute_url() + "?page=9", {}),
    "dispute ladder fragment": lambda d: (d.get_absolute_url() + "?page=2", HX),
    "event": lambda d: (middle_event(d).get_absolute_url(), {}),
    "event fragment": lambda d: (middle_event(d).get_absolute_url(), HX),
    "link": lambda d: (
        busiest(RetaliationLink.objects.filter(cause__dispute=d)).get_absolute_url(),
        {},
    ),
    "person": lambda d: (
        busiest(
            Person.objects.filter(
                events__dispute=d, roles__isnull=False, relations_from__isnull=False
            ).distinct()
        ).get_absolute_url(),
        {},
    ),
    "case": lambda d: (busiest(Case.objects.filter(dispute=d)).get_absolute_url(), {}),
    "detention": lambda d: (
        busiest(Detention.objects.filter(dispute=d)).get_absolute_url(),
        {},
    ),
    "source": lambda d: (Source.objects.filter(disputes=d).first().get_absolute_url(), {}),
    "country": lambda d: (Country.objects.order_by("code").first().get_absolute_url(), {}),
    "search": lambda d: (reverse("disputes:search") + "?q=step", {}),
    "search fragment": lambda d: (reverse("disputes:search") + "?q=authorities", HX),
    "home": lambda d: (reverse("disputes:home"), {}),
}


def count_queries(client, url, headers):
    # Count what rendering costs, not what the page cache saves (tests/test_caching.py).
    caches["default"].clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("page", PAGES)
def test_queries_do_not_grow_with_the_dispute(client, disputes, page, django_assert_num_queries):
    small, large = disputes
    url, headers = PAGES[page](small)
    expected = count_queries(client, url, headers)
    assert expected <= CEILING, f"{page}: {expected} queries"
    url, headers = PAGES[page](large)
    caches["default"].clear()
    with django_assert_num_queries(expected):
        response = client.get(url, **headers)
    assert response.status_code == 200


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "fragment"])
def test_an_event_is_read_in_nine_queries(client, disputes, headers):
    """The record's version, the event (with its dispute, state, case and detention), its
    people, its quotes, its links in and out (each with the events at both ends), their
    claims, the previous and the next step, and the chain further back and further
    on (one recursive query)."""
    url = middle_event(disputes[1]).get_absolute_url()
    assert count_queries(client, url, headers) == 9


@pytest.mark.parametrize(
    "named",
    [{"case__isnull": False}, {"detention__person__isnull": False}, {"detention__person": None}],
    ids=["case", "person's detention", "group's detention"],
)
def test_a_step_naming_a_case_or_detention_reads_them_with_it(client, disputes, named):
    """The step's own read names its case and detention (person or group, holding state)
    from the columns it selects: nine queries still, each of them named on the page."""
    steps = Event.objects.filter(dispute=disputes[1], **named)
    if "detention__person" in named:
        steps = steps.filter(detention__isnull=False)
    event = steps.filter(case__cited=True).first() or steps.first()
    url = event.get_absolute_url()
    assert count_queries(client, url, {}) == 9
    page = client.get(url).content.decode()
    for record in (event.case, event.detention):
        if record is not None and record.cited:
            assert escape(str(record)) in page


def test_a_step_no_link_touches_skips_the_walk(client, disputes):
    """A step with no public link in or out has no claims to read and no chain to walk:
    seven queries, and the page says where the chain stands."""
    event = middle_event(disputes[1])
    RetaliationLink.objects.touching([event]).delete()
    assert count_queries(client, event.get_absolute_url(), {}) == 7
    page = client.get(event.get_absolute_url()).content.decode()
    assert "No earlier step is said to have provoked this one." in page
    assert "No later step is said to have been provoked by this one." in page
    assert "The chain through this step" not in page


def test_a_search_is_a_few_statements_whatever_it_finds(client, disputes):
    """The record's version, then search's own: the matching entries with their facets, the
    facets' dispute and country names, and the best entries themselves (on PostgreSQL, its
    statement timeout first), however many records of however many kinds match."""
    caches["default"].clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("disputes:search") + "?q=Bordurian").status_code == 200
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 1 + 4 + (connection.vendor == "postgresql"), selects


def page_work(client, url, only=lambda sql: True) -> list[int]:
    """How much the database does for each plain statement of a rendered page (each asked
    again, under EXPLAIN on PostgreSQL), or for those whose SQL `only` accepts."""
    statements = []

    def record(execute, sql, params, many, context):
        if sql.lstrip()[:6].upper() == "SELECT" and only(sql):
            statements.append((sql, params))
        return execute(sql, params, many, context)

    caches["default"].clear()
    with connection.execute_wrapper(record):
        response = client.get(url)
    assert response.status_code == 200
    assert statements
    return [rows_touched(sql, params) for sql, params in statements]


def rows_touched(sql: str, params) -> int:
    """How much of the events table the database looks at to answer a statement: on
    PostgreSQL, the rows each scan of it returned or threw away, from EXPLAIN ANALYZE
    (buffers would count a look-up in a deeper index as more work, and the small tables
    beside it are rightly read whole); on SQLite, virtual machine steps."""
    import json

    if connection.vendor == "sqlite":
        return database_work(sql, params)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def touched(node) -> float:
        own = 0.0
        if "Scan" in node["Node Type"] and node.get("Relation Name") == "disputes_event":
            seen = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            own = seen * node["Actual Loops"]
        return own + sum(touched(child) for child in node.get("Plans", []))

    return round(touched(plan[0]["Plan"]))


def analyze():
    if connection.vendor == "postgresql":  # the statistics autovacuum would have gathered
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def test_a_ladder_page_does_no_more_work_beside_a_long_dispute(client, db):
    """Each statement of a short dispute's page reads no more of the events table when the
    database also holds a long dispute than beside a mid-sized one: the steps at the far
    end of the ladder's links were read with the OR of two subqueries, which PostgreSQL
    answered by reading every event in the database (14 ms with 100,000)."""
    short = make_dispute(60, seed=5)
    make_dispute(600, seed=6)
    analyze()
    before = page_work(client, short.get_absolute_url())
    make_dispute(4000, seed=7)
    analyze()
    after = page_work(client, short.get_absolute_url())
    assert len(after) == len(before)
    grown = [(b, a) for b, a in zip(before, after, strict=True) if a > 1.25 * b + 4]
    assert not grown, f"{before} {after}"
