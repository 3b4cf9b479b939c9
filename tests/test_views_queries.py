"""The number of queries a page makes does not grow with the size of its dispute.

Each page is rendered for the same kind of record in a small and a large generated
dispute; both must make exactly the same number of queries, and stay under a ceiling.
"""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disputes.models import Case, Country, Detention, Event, Person, RetaliationLink, Source
from disputes.synthetic import make_dispute
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
        busiest(Person.objects.filter(events__dispute=d).distinct()).get_absolute_url(),
        {},
    ),
    "case": lambda d: (busiest(Case.objects.filter(dispute=d)).get_absolute_url(), {}),
    "detention": lambda d: (
        busiest(Detention.objects.filter(dispute=d)).get_absolute_url(),
        {},
    ),
    "source": lambda d: (Source.objects.get(disputes=d).get_absolute_url(), {}),
    "country": lambda d: (Country.objects.order_by("code").first().get_absolute_url(), {}),
    "search": lambda d: (reverse("disputes:search") + "?q=step", {}),
    "search fragment": lambda d: (reverse("disputes:search") + "?q=authorities", HX),
    "home": lambda d: (reverse("disputes:home"), {}),
}


def count_queries(client, url, headers):
    # Count what rendering costs, not what the page cache saves (tests/test_caching.py).
    caches["pages"].clear()
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
    caches["pages"].clear()
    with django_assert_num_queries(expected):
        response = client.get(url, **headers)
    assert response.status_code == 200


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "fragment"])
def test_an_event_is_read_in_five_queries(client, disputes, headers):
    """The record's version, the event with its people, its links with their claims, the
    chain around it (previous, next, further back and on) and its quotes."""
    url = middle_event(disputes[1]).get_absolute_url()
    assert count_queries(client, url, headers) == 5


def round_trips(client, url, headers, monkeypatch) -> dict:
    """How a rendered request talked to PostgreSQL: for each statement, whether it was sent
    in pipeline mode; how many pipelines were entered; and how many times results were
    waited for before a pipeline was left (each a round trip of its own, where leaving the
    pipeline sends everything and waits once). Read off psycopg's pipeline internals."""
    from contextlib import contextmanager

    import psycopg
    from psycopg import pq
    from psycopg._pipeline_base import BasePipeline

    found = {"in_pipeline": [], "pipelines": 0, "waits_inside": 0}
    inside = []
    real_pipeline, real_fetch = psycopg.Connection.pipeline, BasePipeline._fetch_gen
    real_sync = BasePipeline._sync_gen

    @contextmanager
    def pipeline(self):
        with real_pipeline(self) as p:
            found["pipelines"] += 1
            inside.append(True)
            try:
                yield p
            finally:
                inside.pop()  # before the pipeline's own exit, which sends and waits

    def fetch(self, *, flush):
        if inside and flush and self.result_queue:
            found["waits_inside"] += 1
        return real_fetch(self, flush=flush)

    def sync(self):  # an explicit sync, a commit or a change of autocommit inside
        if inside:
            found["waits_inside"] += 1
        return real_sync(self)

    def record(execute, sql, params, many, context):
        found["in_pipeline"].append(
            connection.connection.info.pipeline_status == pq.PipelineStatus.ON
        )
        return execute(sql, params, many, context)

    client.get(url, **headers)  # what any first request reads once (content types)
    caches["pages"].clear()
    monkeypatch.setattr(psycopg.Connection, "pipeline", pipeline)
    monkeypatch.setattr(BasePipeline, "_fetch_gen", fetch)
    monkeypatch.setattr(BasePipeline, "_sync_gen", sync)
    with connection.execute_wrapper(record):
        response = client.get(url, **headers)
    assert response.status_code == 200
    return found


@pytest.mark.postgresql
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "fragment"])
def test_on_postgresql_an_event_page_is_one_round_trip(client, disputes, headers, monkeypatch):
    """None of the event page's reads waits for another's answer (the chain around the
    event finds the event's place in time itself): the version, the event, its links, the
    chain and its quotes go to the server in one pipeline, and are waited for once."""
    url = middle_event(disputes[1]).get_absolute_url()
    found = round_trips(client, url, headers, monkeypatch)
    assert found == {"in_pipeline": [True] * 5, "pipelines": 1, "waits_inside": 0}


@pytest.mark.postgresql
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "fragment"])
def test_on_postgresql_a_dispute_pages_step_panel_is_one_round_trip(
    client, disputes, headers, monkeypatch
):
    """On the dispute page, the step panel's links, chain and quotes share one pipeline."""
    found = round_trips(client, disputes[1].get_absolute_url(), headers, monkeypatch)
    on = found["in_pipeline"]
    assert on.count(True) == 3 and on[-3:] == [True] * 3
    assert found["pipelines"] == 1 and found["waits_inside"] == 0


@pytest.mark.postgresql
def test_an_error_in_a_pipeline_is_djangos_database_error(db):
    from django.db import ProgrammingError

    from disputes import rawsql
    from disputes.models import Event
    from disputes.rawsql import Part, Select

    broken = Select([Part(Event, "e")], lambda columns: f"SELECT {columns} FROM no_such_table e")
    with pytest.raises(ProgrammingError, match="no_such_table"):
        with connection.cursor() as cursor:  # in a savepoint, so the test can go on
            cursor.execute("SAVEPOINT broken")
        with rawsql.pipeline():
            rows = broken.send([])
        rows()
    with connection.cursor() as cursor:
        cursor.execute("ROLLBACK TO SAVEPOINT broken")
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("prepared", [True, False], ids=["batch", "pipeline mode"])
def test_a_pipeline_entered_before_the_health_check_runs_the_check_outside_it(
    monkeypatch, prepared
):
    """Django's health check, when still due, is asked before the statements are sent: in
    pipeline mode, its query would be queued with the rest and could not tell a dead
    connection; in a batch, it would fail with the batch."""
    from psycopg import pq

    from disputes import rawsql
    from disputes.models import Event
    from disputes.rawsql import Part, Select

    connection.ensure_connection()
    if not prepared:
        monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    asked = []
    real_is_usable = connection.is_usable

    def is_usable():
        asked.append(connection.connection.info.pipeline_status)
        return real_is_usable()

    monkeypatch.setattr(connection, "is_usable", is_usable)
    connection.health_check_done = False  # as at the start of a request
    select = Select([Part(Event, "e")], lambda columns: f"SELECT {columns} FROM disputes_event e")
    with rawsql.pipeline():
        rows = select.send([])
    assert rows() == []
    assert asked == [pq.PipelineStatus.OFF]


def test_a_search_is_one_query_per_kind(client, disputes):
    """The record's version, then one statement for each kind of record (on PostgreSQL,
    full-text first and, when that finds nothing, words within words)."""
    found = reverse("disputes:search") + "?q=Bordurian"
    assert count_queries(client, found, {}) == 1 + 5


# --- outside a transaction: one message of prepared statements (rawsql._Batch) -------------


def sent_messages(queries) -> list[list[str]]:
    """Each captured query as the statements it holds (a batch holds several)."""
    return [[part.strip() for part in q["sql"].split(";")] for q in queries.captured_queries]


@pytest.fixture
def article_outside_a_transaction(transactional_db):
    from django.core.management import call_command

    call_command("loaddata", "russia_tajikistan", verbosity=0)
    caches["pages"].clear()
    return Event.objects.in_time_order()[3]


def render(client, url):
    caches["pages"].clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content, sent_messages(queries)


@pytest.mark.postgresql
def test_outside_a_transaction_an_event_page_is_one_message_of_prepared_statements(
    client, article_outside_a_transaction, monkeypatch
):
    """A public page runs in autocommit: its five reads go to PostgreSQL as one message,
    each statement prepared once per connection and executed by name after that. The page
    is the same as when the reads go through psycopg's pipeline mode."""
    url = article_outside_a_transaction.get_absolute_url()
    connection.close()  # a new connection holds no prepared statement
    page, (first,) = render(client, url)
    assert [part.split()[0] for part in first] == ["PREPARE"] * 5 + ["EXECUTE"] * 5
    again, (second,) = render(client, url)
    assert again == page
    assert [part.split()[0] for part in second] == ["EXECUTE"] * 5
    other = Event.objects.in_time_order()[5].get_absolute_url()
    _, (third,) = render(client, other)
    assert [part.split()[0] for part in third] == ["EXECUTE"] * 5 and third != second
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    piped, messages = render(client, url)
    assert piped == page and len(messages) == 5


@pytest.mark.postgresql
@pytest.mark.parametrize(
    "lost",
    ["DEALLOCATE ALL", "DISCARD ALL", "forgotten"],
    ids=["deallocated", "discarded", "already prepared"],
)
def test_a_batch_recovers_when_the_session_does_not_hold_what_it_thought(
    client, article_outside_a_transaction, lost
):
    """Something else may deallocate the prepared statements (psycopg after a rollback, a
    pooler between clients), or the batch may not know what the session holds: it fails,
    reads what the session holds, and is sent once more."""
    url = article_outside_a_transaction.get_absolute_url()
    page, _ = render(client, url)
    if lost == "forgotten":
        connection.connection._rawsql_prepared = set()
    else:
        connection.connection.execute(lost)
    again, messages = render(client, url)
    assert again == page
    assert len(messages) == 3, "the failed batch, the statements held, the batch again"
    assert "pg_prepared_statements" in messages[1][0]
    _, (after,) = render(client, url)
    assert [part.split()[0] for part in after] == ["EXECUTE"] * 5


@pytest.mark.postgresql
def test_a_failing_statement_in_a_batch_is_djangos_error_and_the_next_batch_works(
    client, article_outside_a_transaction
):
    from django.db import ProgrammingError

    from disputes import rawsql
    from disputes.rawsql import Part, Select

    url = article_outside_a_transaction.get_absolute_url()
    page, _ = render(client, url)
    good = Select([Part(Event, "e")], lambda columns: f"SELECT {columns} FROM disputes_event e")
    broken = Select([Part(Event, "e")], lambda columns: f"SELECT {columns} FROM no_such_table e")
    with pytest.raises(ProgrammingError, match="no_such_table"), rawsql.pipeline():
        fine = good.send([])
        broken.send([])
    with pytest.raises(ProgrammingError, match="no_such_table"):
        fine()  # its batch failed: asked for later, it says so again
    assert render(client, url)[0] == page
    with rawsql.pipeline():
        fine = good.send([])
    assert len(fine()) == Event.objects.count()


@pytest.mark.postgresql
def test_behind_a_pooler_that_changes_the_session_a_connection_falls_back_to_pipeline_mode(
    client, article_outside_a_transaction, monkeypatch
):
    """A pooler in transaction mode may hand each message to another server connection, so
    the statements a batch prepared are gone (or another client's are there) at the next
    one, however often it reads what the session holds: after a second failure the reads
    run one by one, and the connection uses psycopg's pipeline mode from then on."""
    from disputes import rawsql

    url = article_outside_a_transaction.get_absolute_url()
    page, _ = render(client, url)
    # As if every message went to a session that lost them: believed held, never there.
    held = set(connection.connection._rawsql_prepared)
    monkeypatch.setattr(rawsql._Batch, "_held", lambda self: set(held))
    connection.connection.execute("DEALLOCATE ALL")
    again, messages = render(client, url)
    assert again == page
    assert len(messages) == 2 + 5, "two failed batches, then the five statements one by one"
    assert connection.connection._rawsql_unbatched
    modes = []

    def record(execute, sql, params, many, context):
        modes.append(connection.connection.info.pipeline_status.name)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert render(client, url)[0] == page
    assert modes == ["ON"] * 5


@pytest.mark.postgresql
def test_a_statement_that_cannot_join_a_batch_runs_after_what_was_sent_before_it(
    article_outside_a_transaction,
):
    """Only integer parameters are written into a batch; a statement with others runs on
    its own, but after the statements sent before it, as in pipeline mode (the version is
    read first, so that a page is never newer than the version it is stored under)."""
    from disputes import rawsql
    from disputes.rawsql import Part, Select

    by_pk = Select(
        [Part(Event, "e")], lambda c: f"SELECT {c} FROM disputes_event e WHERE e.id = %s"
    )
    by_title = Select(
        [Part(Event, "e")], lambda c: f"SELECT {c} FROM disputes_event e WHERE e.title = %s"
    )
    event = article_outside_a_transaction
    with CaptureQueriesContext(connection) as queries, rawsql.pipeline():
        first = by_pk.send([event.pk])
        second = by_title.send([event.title])
    assert first()[0][0].pk == second()[0][0].pk == event.pk
    first_words = [message[0].split()[0] for message in sent_messages(queries)]
    assert first_words in (["PREPARE", "SELECT"], ["EXECUTE", "SELECT"]), first_words


def page_work(client, url, only=lambda sql: True) -> list[int]:
    """How much the database does for each plain statement of a rendered page (each asked
    again, under EXPLAIN on PostgreSQL), or for those whose SQL `only` accepts."""
    statements = []

    def record(execute, sql, params, many, context):
        if sql.lstrip()[:6].upper() == "SELECT" and only(sql):
            statements.append((sql, params))
        return execute(sql, params, many, context)

    caches["pages"].clear()
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
