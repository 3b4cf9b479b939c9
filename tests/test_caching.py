"""Public pages are cached whole under the record's version: repeat visits cost one query,
browsers revalidate with ETags, and an edit is visible on the very next request."""

import gzip

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from disputes import caching
from disputes.models import Citation, Claim, Dispute, Event, Role
from tests.test_admin import post_form, url

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def event(article):
    return Event.objects.get(title__startswith="Tajikistan detains")


def get_counting(client, path, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    return response, len(queries)


def test_a_repeat_visit_is_served_from_the_cache_with_one_query(client, event):
    first, rendered = get_counting(client, event.get_absolute_url())
    again, cached = get_counting(client, event.get_absolute_url())
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert rendered > 1
    assert cached == 1  # the record's version, nothing else


def test_page_and_fragment_are_cached_apart_and_both_vary_on_htmx(client, event):
    page = client.get(event.get_absolute_url())
    fragment = client.get(event.get_absolute_url(), **HX)
    page_again = client.get(event.get_absolute_url())
    fragment_again = client.get(event.get_absolute_url(), **HX)
    assert b"<html" in page.content and b"<html" not in fragment.content
    assert page_again.content == page.content
    assert fragment_again.content == fragment.content
    for response in (page, fragment, page_again, fragment_again):
        assert "HX-Request" in response["Vary"]
    restore = client.get(
        event.get_absolute_url(), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert b"<html" in restore.content


def test_a_browser_holding_the_page_gets_a_304_without_rendering(client, event):
    first = client.get(event.get_absolute_url())
    etag = first["ETag"]
    assert etag
    response, queries = get_counting(client, event.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert queries == 1
    weak = client.get(event.get_absolute_url(), HTTP_IF_NONE_MATCH=f"W/{etag}")
    assert weak.status_code == 304
    fragment = client.get(event.get_absolute_url(), HTTP_IF_NONE_MATCH=etag, **HX)
    assert fragment.status_code == 200, "the fragment is a different representation"


def test_a_cached_page_is_served_in_the_gzip_encoding_it_was_stored_with(
    client, event, monkeypatch
):
    url = event.get_absolute_url()
    plain = client.get(url)
    compressions = []
    real = caching.compress_string
    monkeypatch.setattr(
        caching, "compress_string", lambda *a, **k: compressions.append(1) or real(*a, **k)
    )
    first = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    again = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert compressions == []  # stored once, when the page was rendered
    for response in (first, again):
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        assert gzip.decompress(response.content) == plain.content
        assert int(response["Content-Length"]) == len(response.content)
    # One page, two encodings: a weak ETag for the compressed one; either revalidates.
    assert first["ETag"] == "W/" + plain["ETag"]
    for etag in (first["ETag"], plain["ETag"]):
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    identity = client.get(url, HTTP_ACCEPT_ENCODING="identity")
    assert identity.content == plain.content and not identity.has_header("Content-Encoding")


def test_a_freshly_rendered_page_is_compressed_once(client, event, monkeypatch):
    compressions = []
    real = caching.compress_string
    monkeypatch.setattr(
        caching, "compress_string", lambda *a, **k: compressions.append(1) or real(*a, **k)
    )
    response = client.get(event.get_absolute_url(), HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(response.content)
    assert compressions == [1]  # by the page cache; GZipMiddleware left it alone


def test_a_cached_page_is_answered_in_front_of_the_rest_of_the_middleware(
    client, event, monkeypatch
):
    """The second request is served by PageCacheMiddleware: no other middleware runs, yet the
    page carries every header the whole stack gave it the first time."""
    from csp.middleware import CSPMiddleware

    first = client.get(event.get_absolute_url())
    ran = []
    real = CSPMiddleware.process_response
    monkeypatch.setattr(CSPMiddleware, "process_response", lambda *a: ran.append(1) or real(*a))
    again, queries = get_counting(client, event.get_absolute_url())
    assert ran == [] and queries == 1
    assert again.content == first.content
    assert dict(again.items()) == dict(first.items())
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert again[header], header


def test_requests_no_cached_view_answers_send_no_version_query(client, event):
    client.get(event.get_absolute_url())  # something is in the cache
    for path in ("/no-such-page/", "/static/css/site.css", "/admin/login/"):
        response, queries = get_counting(client, path)
        assert response.status_code in (200, 404), path
        assert queries == 0 or path.startswith("/admin/"), path
    with CaptureQueriesContext(connection) as queries:
        client.get("/admin/login/")
    assert caching.VERSION_SQL not in [query["sql"] for query in queries.captured_queries]


def test_a_database_outage_on_a_cached_page_is_the_503_page_after_one_try(
    client, event, monkeypatch
):
    from django.db import OperationalError

    client.get(event.get_absolute_url())
    tries = []

    def down():
        tries.append(1)
        raise OperationalError("database is locked")

    monkeypatch.setattr(caching, "_read_version", down)
    response = client.get(event.get_absolute_url())
    assert response.status_code == 503
    assert tries == [1], "the view raised the front's error again instead of asking twice"


def test_an_edit_changes_the_etag_so_browsers_fetch_the_new_page(client, event):
    etag = client.get(event.get_absolute_url())["ETag"]
    event.summary = "A corrected summary."
    event.save()
    response = client.get(event.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert "A corrected summary." in response.text
    assert response["ETag"] != etag


def test_an_admin_edit_is_visible_on_the_next_request_to_every_page_it_affects(
    client, editor, event
):
    dispute = event.dispute
    person = event.people.first()
    source = Citation.objects.filter(object_id=event.pk).first().source
    pages = [
        event.get_absolute_url(),
        dispute.get_absolute_url(),
        person.get_absolute_url(),
        source.get_absolute_url(),
        "/search/?q=detains",
    ]
    in_order = list(Event.objects.filter(dispute=dispute).in_time_order())
    next_event = in_order[in_order.index(event) + 1]  # its page links back to this step
    pages.append(next_event.get_absolute_url())
    for path in pages:  # warm the cache with the old title
        assert "Tajikistan detains" in client.get(path, follow=True).text, path

    client.force_login(editor)
    response = post_form(
        client, url("event_change", event.pk), {"title": "Tajik border guards detain two pilots"}
    )
    assert response.status_code == 302, response
    client.logout()

    event.refresh_from_db()
    old_search = pages.pop(4)
    assert "Tajikistan detains" not in client.get(old_search).text
    for path in [*pages, event.get_absolute_url(), "/search/?q=border+guards"]:
        text = client.get(path, follow=True).text
        assert "Tajik border guards detain two pilots" in text, path
        assert "Tajikistan detains" not in text, path


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.countries.remove(d.countries.first()),
        lambda d: Role.objects.first().delete(),
        lambda d: Claim.objects.first().citations.first().delete(),
        lambda d: Event.objects.filter(dispute=d).first().save(),
    ],
    ids=["many-to-many", "delete", "delete a quote", "save"],
)
def test_every_kind_of_change_gives_a_new_version(article, change):
    dispute = Dispute.objects.get()
    before = caching.current_version()
    change(dispute)
    assert caching.current_version() != before


def test_the_version_row_comes_back_after_a_flushed_database(db):
    from disputes.models import RecordVersion

    RecordVersion.objects.all().delete()
    assert caching.current_version() == 0
    caching.bump_version()
    assert caching.current_version() != 0


def test_unknown_query_parameters_share_the_pages_cache_entry(client, event):
    first, _ = get_counting(client, event.get_absolute_url())
    tagged, queries = get_counting(client, event.get_absolute_url() + "?utm_source=chat&x=1")
    assert queries == 1
    assert tagged.content == first.content


def test_the_views_read_no_query_parameter_the_cache_key_leaves_out():
    import re
    from pathlib import Path

    source = (Path(caching.__file__).parent / "views.py").read_text()
    read = set(re.findall(r"request\.GET\.get\(\s*[\"'](\w+)[\"']", source))
    assert read and read <= set(caching.QUERY_PARAMS)
    assert "request.GET[" not in source and "request.GET.getlist" not in source


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_version_query_replaces_a_connection_the_server_dropped(monkeypatch):
    """The version query is each public request's health check: Django's own check (a
    "SELECT 1", one round trip more) is not sent, and on a persistent connection that the
    server has dropped (restarted, or the backend killed) it reconnects and answers."""
    from django.db import connection

    from disputes.caching import current_version

    version = current_version()
    checks = []
    real_is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or real_is_usable())
    connection.health_check_done = False  # as at the start of a request
    assert current_version() == version
    assert checks == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        old_pid = cursor.fetchone()[0]
    with psycopg_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [old_pid])  # waits for the exit
    connection.health_check_done = False  # as at the start of the next request
    assert current_version() == version
    assert checks == [1], "asked whether the connection answers only once the query failed"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != old_pid


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_version_query_reports_an_error_on_a_connection_that_still_answers():
    """Only a connection that has gone away is replaced: a lock the version query cannot get
    in time is the request's error (the 503 page), not something retried and hidden."""
    from django.db import OperationalError, connection

    from disputes.caching import current_version

    current_version()
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '50ms'")
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with psycopg_connection() as other, other.transaction():
        other.execute("LOCK TABLE disputes_recordversion IN ACCESS EXCLUSIVE MODE")
        connection.health_check_done = False  # as at the start of a request
        with pytest.raises(OperationalError, match="lock timeout"):
            current_version()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] == pid, "the connection was kept"
        cursor.execute("RESET lock_timeout")


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dropped", [True, False], ids=["dropped", "live"])
def test_an_event_pages_first_batch_is_the_connections_health_check(client, monkeypatch, dropped):
    """The event page reads the version together with its data, in one pipeline, and that
    batch is the request's health check: Django's own check is never sent. When the server
    has dropped the connection, the page is read again on a fresh one; on a live connection
    nothing more is asked and the connection is kept."""
    from django.core.cache import caches
    from django.core.management import call_command

    call_command("loaddata", "russia_tajikistan", verbosity=0)
    event = Event.objects.get(title__startswith="Tajikistan detains")
    first = client.get(event.get_absolute_url())
    assert first.status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        old_pid = cursor.fetchone()[0]
    if dropped:
        with psycopg_connection() as other:
            other.execute("SELECT pg_terminate_backend(%s, 5000)", [old_pid])  # waits for the exit
    caches["pages"].clear()
    checks = []
    real_is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or real_is_usable())
    connection.health_check_done = False  # as at the start of the next request
    with CaptureQueriesContext(connection) as queries:
        response = client.get(event.get_absolute_url())
    assert response.status_code == 200
    assert response.content == first.content
    # On a live connection the batch is sent once, and nothing else; on a dropped one it is
    # sent again on the fresh connection (the first attempt fails while it is sent, or as
    # soon as the pipeline opens when the driver has already seen the connection close).
    sent = statements(queries)
    assert 5 <= sent <= 10 if dropped else (sent, len(queries)) == (5, 1)
    # is_usable() is asked only once the batch has failed, to tell a dropped connection
    # from an error of the statements' own.
    assert checks == ([1] if dropped else [])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert (cursor.fetchone()[0] != old_pid) is dropped


def test_a_view_that_says_it_reads_the_version_but_did_not_is_neither_stored_nor_tagged(rf):
    """A page stored under a version read after its data (or not read at all) could be
    older than that version: such a page goes out as rendered, without an ETag, and the
    page cache keeps nothing."""
    from django.http import HttpResponse

    @caching.cached_public_page(reads_version=True)
    def forgetful(request):
        return HttpResponse("page " * 100)

    @caching.cached_public_page(reads_version=True)
    def careful(request):
        caching.with_version(request, lambda: None)
        return HttpResponse("page " * 100)

    @caching.cached_public_page(reads_version=True)
    def late(request):  # its data first, then the version: the page may be older than it
        page = HttpResponse("page " * 100)
        caching.request_version(request)
        return page

    for view in (forgetful, late):
        response = view(rf.get("/"))
        assert response.status_code == 200
        assert not response.has_header("ETag"), view.__name__
        assert getattr(response, "page_entry", None) is None, view.__name__
    response = careful(rf.get("/"))
    assert response["ETag"].startswith('"r')
    assert response.page_entry[0] == caching.current_version()


def statements(queries) -> int:
    """The statements run by the queries captured: a batch (rawsql.pipeline, outside a
    transaction on PostgreSQL) is one message of PREPAREs and EXECUTEs, one per statement."""
    count = 0
    for query in queries.captured_queries:
        parts = [part.strip() for part in query["sql"].split(";")]
        if parts[0].startswith(("PREPARE rawsql_", "EXECUTE rawsql_")):
            count += sum(part.startswith("EXECUTE rawsql_") for part in parts)
        else:
            count += 1
    return count


def psycopg_connection():
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("server_side_binding", None)
    return psycopg.connect(**params, autocommit=True)


def test_a_page_that_read_the_session_or_a_nonce_is_never_stored(rf):
    from django.http import HttpResponse

    request = rf.get("/")
    plain = HttpResponse("page")
    plain["Vary"] = "HX-Request, Accept-Encoding"
    assert caching._same_for_everyone(request, plain)
    for vary in ("Cookie", "HX-Request, cookie", "*"):
        response = HttpResponse("page")
        response["Vary"] = vary
        assert not caching._same_for_everyone(request, response), vary
    with_cookie = HttpResponse("page")
    with_cookie.set_cookie("csrftoken", "x")
    assert not caching._same_for_everyone(request, with_cookie)
    request._csp_nonce = "abc"
    assert not caching._same_for_everyone(request, plain)


def test_too_many_query_fields_is_a_400_not_a_500(client, event):
    client.get(event.get_absolute_url())
    query = "&".join(f"f{i}=1" for i in range(1200))
    response = client.get(f"{event.get_absolute_url()}?{query}")
    assert response.status_code == 400


# --- the page cache in front of Django (PageCacheApplication, what gunicorn runs) ---------


class Front:
    """disputes.wsgi's application, PageCacheApplication around Django's handler, with a
    record of the requests that went on to Django and of the times the front closed old
    connections (which, as under Django's test client, it does not really do here: that
    would close the connection holding the test's transaction)."""

    def __init__(self, monkeypatch):
        from django.core.handlers.wsgi import WSGIHandler

        self.closes = []
        monkeypatch.setattr(caching, "close_old_connections", lambda: self.closes.append(1))
        self.django = WSGIHandler()
        self.passed = []
        self.app = caching.PageCacheApplication(self.inner)

    def inner(self, environ, start_response):
        self.passed.append(environ["PATH_INFO"])
        return self.django(environ, start_response)

    def get(self, rf, path, **headers):
        """(status code, headers, body) of a GET through the front, as a WSGI server sees it."""
        environ = server_environ(rf, path, **headers)
        started = {}

        def start_response(status, response_headers, exc_info=None):
            started.update(status=status, headers=response_headers)

        result = self.app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return int(started["status"].split()[0]), dict(started["headers"]), body


@pytest.fixture
def front(monkeypatch):
    from django.core import signals
    from django.db import close_old_connections

    receivers = (signals.request_started, signals.request_finished)
    for signal in receivers:
        signal.disconnect(close_old_connections)
    yield Front(monkeypatch)
    for signal in receivers:
        signal.connect(close_old_connections)


def server_environ(rf, path, **headers) -> dict:
    """The WSGI environ a server would pass for a GET of this path: the request factory's,
    with the path as a server gives it (its bytes as latin-1 text; WSGIRequest, which the
    factory builds, writes the decoded path back into the environ)."""
    from urllib.parse import unquote_to_bytes, urlsplit

    environ = rf.get(path, **headers).environ
    environ["PATH_INFO"] = unquote_to_bytes(urlsplit(path).path).decode("iso-8859-1")
    return environ


def test_disputes_wsgi_serves_through_the_front():
    from disputes.wsgi import application

    assert isinstance(application, caching.PageCacheApplication)


def test_a_stored_page_is_answered_in_front_of_django_with_one_query(front, rf, event):
    url = event.get_absolute_url()
    status, headers, body = front.get(rf, url)
    assert status == 200 and front.passed == [url]
    with CaptureQueriesContext(connection) as queries:
        again = front.get(rf, url)
    assert front.passed == [url], "the second request did not reach Django"
    assert [q["sql"] for q in queries.captured_queries] == [caching.VERSION_SQL]
    # Old connections are closed before the version query and after the answer, as Django
    # does at a request's start and end.
    assert front.closes == [1, 1]
    assert again == (200, headers, body)
    for header in ("Content-Security-Policy", "X-Frame-Options", "Vary", "ETag"):
        assert again[1][header] == headers[header], header
    assert int(again[1]["Content-Length"]) == len(body)


def test_in_front_of_django_the_page_goes_out_gzipped_or_as_a_304(front, rf, event):
    url = event.get_absolute_url()
    _, plain_headers, plain = front.get(rf, url)
    status, headers, body = front.get(rf, url, HTTP_ACCEPT_ENCODING="gzip, br")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == plain
    assert headers["ETag"] == "W/" + plain_headers["ETag"]
    assert int(headers["Content-Length"]) == len(body)
    for etag in (headers["ETag"], plain_headers["ETag"]):
        status, not_modified, body = front.get(rf, url, HTTP_IF_NONE_MATCH=etag)
        assert (status, body) == (304, b"")
        assert not_modified["ETag"] == plain_headers["ETag"]
        assert "Content-Type" not in not_modified and "Content-Length" not in not_modified
    assert front.passed == [url]


def test_in_front_of_django_an_edit_is_seen_on_the_next_request(front, rf, event):
    url = event.get_absolute_url()
    front.get(rf, url)
    event.summary = "A corrected summary."
    event.save()
    status, _, body = front.get(rf, url)
    assert status == 200 and b"A corrected summary." in body
    assert front.passed == [url, url]


def test_in_front_of_django_pages_and_fragments_and_query_values_are_kept_apart(front, rf, event):
    url = event.get_absolute_url()
    page = front.get(rf, url)[2]
    fragment = front.get(rf, url, HTTP_HX_REQUEST="true")[2]
    assert b"<html" in page and b"<html" not in fragment
    assert front.get(rf, url)[2] == page
    assert front.get(rf, url, HTTP_HX_REQUEST="true")[2] == fragment
    assert front.get(rf, url + "?utm_source=chat")[2] == page  # a parameter no view reads
    assert len(front.passed) == 2
    search = "/search/?q=pilots"
    front.get(rf, search)
    other = front.get(rf, "/search/?q=Khukumov")[2]
    assert b"Khukumov" in other and front.passed[-2:] == ["/search/", "/search/"]


def test_a_host_django_refuses_goes_on_to_django_for_its_400(front, rf, event, monkeypatch):
    from django.core.cache import caches

    url = event.get_absolute_url()
    front.get(rf, url)
    cache = caches[caching.CACHE_ALIAS]
    lookups = []
    real_get = type(cache).get
    monkeypatch.setattr(type(cache), "get", lambda *a, **k: lookups.append(1) or real_get(*a, **k))
    status, _, _ = front.get(rf, url, HTTP_HOST="evil.example")
    assert status == 400
    assert front.passed == [url, url]
    assert lookups == [], "nothing is looked up for a host Django refuses"


def test_what_the_front_looked_up_is_not_looked_up_again_behind_it(front, rf, event, monkeypatch):
    """A request the front cannot answer goes on to Django with what the front found: the
    page cache behind it neither looks the page up again nor reads the version again."""
    url = event.get_absolute_url()
    front.get(rf, url)
    event.save()  # a new version: the stored page is stale
    from django.core.cache import caches

    cache = caches[caching.CACHE_ALIAS]
    lookups = []
    real_get = type(cache).get
    monkeypatch.setattr(type(cache), "get", lambda *a, **k: lookups.append(1) or real_get(*a, **k))
    with CaptureQueriesContext(connection) as queries:
        status, _, _ = front.get(rf, url)
    assert status == 200 and front.passed == [url, url]
    assert lookups == [1]
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum(caching.VERSION_SQL in s for s in sql) == 1, sql


def test_static_files_and_the_health_check_are_never_looked_up_in_front(front, rf, db, monkeypatch):
    from django.core.cache import caches

    cache = caches[caching.CACHE_ALIAS]
    lookups = []
    real_get = type(cache).get
    monkeypatch.setattr(type(cache), "get", lambda *a, **k: lookups.append(1) or real_get(*a, **k))
    assert front.get(rf, "/healthz")[0] == 200
    front.get(rf, "/static/css/site.css")
    assert lookups == []
    assert front.passed == ["/healthz", "/static/css/site.css"]


def test_a_database_outage_in_front_goes_on_to_the_503_page(front, rf, event, monkeypatch):
    from django.db import OperationalError

    url = event.get_absolute_url()
    front.get(rf, url)

    def down():
        raise OperationalError("database is locked")

    monkeypatch.setattr(caching, "_read_version", down)
    status, _, body = front.get(rf, url)
    assert status == 503 and front.passed == [url, url]


def test_a_path_beyond_ascii_reaches_django_as_the_server_sent_it(front, rf, event):
    """The front reads the request from a copy of the environ: WSGIRequest writes its
    decoded path back into the environ it is given, and Django would decode it again (a
    500 for a Cyrillic path, a wrong path for an accented one)."""
    from django.core.handlers.wsgi import WSGIHandler

    for path in ("/события/", "/caf\u00e9/", event.get_absolute_url() + "caf\u00e9/"):
        alone = wsgi_get(WSGIHandler(), rf, path)
        assert front.get(rf, path)[0] == alone == 404, path


def test_a_renamed_steps_redirect_is_answered_in_front(front, rf, event):
    old = event.get_absolute_url().replace(event.slug, "an-old-title")
    status, headers, _ = front.get(rf, old)
    assert status == 301 and headers["Location"] == event.get_absolute_url()
    assert front.get(rf, old)[:2] == (301, headers)
    assert front.passed == [old]


# The front's database connection handling, with Django's own (no test transaction).


@pytest.fixture
def article_outside_a_transaction(transactional_db):
    from django.core.management import call_command

    call_command("loaddata", "russia_tajikistan", verbosity=0)
    caches_pages = __import__("django.core.cache", fromlist=["caches"]).caches["pages"]
    caches_pages.clear()
    return Event.objects.get(title__startswith="Tajikistan detains")


def wsgi_get(app, rf, path):
    started = []
    environ = server_environ(rf, path)
    result = app(environ, lambda status, headers, exc=None: started.append(status))
    try:
        b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return int(started[0].split()[0])


def test_a_stale_page_looked_up_in_front_costs_no_extra_health_check(
    rf, article_outside_a_transaction, monkeypatch
):
    """After an edit, the first request for a stored page reads the version in front of
    Django; Django keeps the connection, and that read was its health check: the page is
    rendered without Django asking whether the connection answers (a "SELECT 1" on
    PostgreSQL), and the version is not read again."""
    from disputes.wsgi import application

    url = article_outside_a_transaction.get_absolute_url()
    assert wsgi_get(application, rf, url) == 200
    article_outside_a_transaction.save()  # a new version: the stored page is stale
    asked = []
    real_is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: asked.append(1) or real_is_usable())
    with CaptureQueriesContext(connection) as queries:
        assert wsgi_get(application, rf, url) == 200
    assert asked == []
    sent = [q["sql"] for q in queries.captured_queries]
    assert sum(caching.VERSION_SQL in sql for sql in sent) == 1, sent


@pytest.mark.postgresql  # the test suite's SQLite database lives in memory, never closed
def test_the_front_closes_a_connection_past_its_age_after_answering(
    rf, article_outside_a_transaction, monkeypatch
):
    """With DATABASE_CONN_MAX_AGE=0 a connection lasts one request, as Django closes it at
    a request's end: a page answered in front of Django leaves none open either."""
    from disputes.wsgi import application

    url = article_outside_a_transaction.get_absolute_url()
    assert wsgi_get(application, rf, url) == 200
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    connection.close()
    with CaptureQueriesContext(connection) as queries:
        assert wsgi_get(application, rf, url) == 200
    assert [q["sql"] for q in queries.captured_queries] == [caching.VERSION_SQL]
    assert connection.connection is None
