"""Public pages are kept whole in Django's cache under the record's version: a repeat visit
costs one query, browsers revalidate with ETags, every write to the record (whatever path it
takes) is visible on the very next request, CDNs are told what they may keep, and a cache
that fails costs pages their speed, never their answer.

CI runs this module twice: on each worker's memory (the default) and on a real Redis
(REDIS_URL set).
"""

import gzip
import json
import os

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disputes.caching import record_version
from disputes.models import Claim, Country, Dispute, Event, Role
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


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


def test_the_cache_is_the_one_the_environment_names():
    """CI's Redis pass really runs on Redis (REDIS_URL), the default on each worker's memory."""
    backend = type(caches["default"]).__name__
    assert backend == ("RedisCache" if os.environ.get("REDIS_URL") else "LocMemCache")


# --- serving from the cache ----------------------------------------------------------------


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


def test_a_cached_page_carries_every_header_the_whole_stack_gave_it(client, event, monkeypatch):
    """The second request is answered by the page cache near the top of the middleware: the
    rest (CSP here) does not run again, yet the page keeps each header it gave."""
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


def test_a_page_is_stored_compressed_and_plain_apart(client, event):
    url = event.get_absolute_url()
    plain = client.get(url)
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    zipped_again, queries = get_counting(client, url, HTTP_ACCEPT_ENCODING="gzip")
    assert queries == 1
    for response in (zipped, zipped_again):
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        assert gzip.decompress(response.content) == plain.content
    assert zipped_again.content == zipped.content
    assert zipped["ETag"] != plain["ETag"], "two representations, two tags"
    assert not client.get(url, HTTP_ACCEPT_ENCODING="identity").has_header("Content-Encoding")


def test_a_browser_holding_the_page_gets_a_304_for_one_query(client, event):
    first = client.get(event.get_absolute_url())
    etag = first["ETag"]
    assert etag.startswith('W/"')
    response, queries = get_counting(client, event.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert queries == 1
    assert response["ETag"] == etag and "public" in directives(response)
    fragment = client.get(event.get_absolute_url(), HTTP_IF_NONE_MATCH=etag, **HX)
    assert fragment.status_code == 200, "the fragment is a different representation"


def test_an_edit_changes_the_etag_so_browsers_fetch_the_new_page(client, event):
    etag = client.get(event.get_absolute_url())["ETag"]
    event.summary = "A corrected summary."
    event.save()
    response = client.get(event.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert "A corrected summary." in response.text
    assert response["ETag"] != etag


def test_unknown_query_parameters_share_the_pages_cache_entry(client, event):
    first, _ = get_counting(client, event.get_absolute_url())
    tagged, queries = get_counting(client, event.get_absolute_url() + "?utm_source=chat&x=1")
    assert queries == 1
    assert tagged.content == first.content


def test_the_query_parameters_the_views_read_make_pages_of_their_own(client, article):
    dispute = Dispute.objects.get()
    search = reverse("disputes:search")
    assert "pilots" in client.get(search, {"q": "pilots"}).text
    assert "migrants" in client.get(search, {"q": "migrants"}).text
    assert client.get(search, {"q": "pilots"}).text != client.get(search, {"q": "migrants"}).text
    assert client.get(dispute.get_absolute_url(), {"page": "1"}).status_code == 200


def test_too_many_query_fields_is_a_400_not_a_500(client, event):
    client.get(event.get_absolute_url())
    query = "&".join(f"f{i}=1" for i in range(1200))
    response = client.get(f"{event.get_absolute_url()}?{query}")
    assert response.status_code == 400


def test_static_files_admin_and_health_never_ask_for_the_version(client, event):
    client.get(event.get_absolute_url())
    for path in ("/static/css/site.css", "/healthz", "/admin/login/"):
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        assert not [q for q in queries.captured_queries if "recordversion" in q["sql"]], path


def test_a_database_outage_is_the_503_page(client, event, monkeypatch):
    from django.db import OperationalError

    client.get(event.get_absolute_url())

    def down(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", down)
    response = client.get(event.get_absolute_url())
    assert response.status_code == 503
    assert "no-store" in directives(response)


# --- what a CDN or a shared proxy may keep --------------------------------------------------


def test_public_pages_may_be_kept_by_a_cdn_for_the_configured_time(client, event, settings):
    settings.PUBLIC_CACHE_SECONDS = 120
    settings.PUBLIC_CACHE_STALE_SECONDS = 900
    for path in (
        event.get_absolute_url(),
        event.dispute.get_absolute_url(),
        reverse("disputes:search") + "?q=pilots",
        reverse("disputes:home"),
    ):
        response = client.get(path)
        assert directives(response) == {
            "public",
            "max-age=120",
            "stale-while-revalidate=900",
        }, path
        assert not response.cookies, path
        assert "cookie" not in response.get("Vary", "").lower(), path


def test_admin_login_and_pages_with_a_session_or_token_are_private(client, editor, event):
    login = client.get("/admin/login/")
    assert {"private", "no-store"} <= directives(login)
    assert login.cookies.get("csrftoken"), "the login form's CSRF token"
    client.force_login(editor)
    for path in ("/admin/", url("event_change", event.pk)):
        assert {"private", "no-store"} <= directives(client.get(path)), path
    assert {"private", "no-store"} <= directives(client.get("/no-such-page/"))


def test_a_signed_in_editors_browser_keeps_no_page_and_readers_still_share_it(
    client, editor, event
):
    """After an edit, "View on site" must show it: a public page the editor's browser kept
    for max-age would not. The copy stored for readers stays public."""
    path, dispute = event.get_absolute_url(), event.dispute.get_absolute_url()
    for page in (path, dispute):  # stored for readers
        assert "public" in directives(client.get(page)), page
    client.force_login(editor)
    for response in (client.get(path), client.get(path), client.get(dispute)):
        assert response.status_code == 200
        assert directives(response) == {"private", "no-store"}
    client.logout()
    for page in (path, dispute):
        response, queries = get_counting(client, page)
        assert "public" in directives(response), page
        assert queries == 1, "served from the page cache"


def test_a_public_view_that_sets_a_cookie_is_neither_private_to_a_cdn_nor_stored(rf, db):
    from django.http import HttpResponse

    from disputes.caching import PageCacheMiddleware, public_page

    calls = []

    @public_page
    def view(request):
        calls.append(1)
        response = HttpResponse("page")
        response.set_cookie("tracking", "1")
        return response

    middleware = PageCacheMiddleware(view)
    first = middleware(rf.get("/somewhere/"))
    second = middleware(rf.get("/somewhere/"))
    assert calls == [1, 1], "not stored"
    assert directives(first) == directives(second) == {"private", "no-store"}


# --- every way the record changes gives it a new version ------------------------------------


def admin_save(client, editor):
    client.force_login(editor)
    event = Event.objects.first()
    response = post_form(client, url("event_change", event.pk), {"title": "Renamed"})
    assert response.status_code == 302


def admin_delete(client, editor):
    client.force_login(editor)
    role = Role.objects.first()
    response = client.post(url("role_delete", role.pk), {"post": "yes"})
    assert response.status_code == 302 and not Role.objects.filter(pk=role.pk).exists()


def history_revert(client, editor):
    client.force_login(editor)
    event = Event.objects.first()
    assert post_form(client, url("event_change", event.pk), {"title": "Renamed"}).status_code == 302
    first = event.history.earliest()
    before = record_version()
    response = post_form(client, url("event_simple_history", event.pk, first.history_id))
    assert response.status_code == 302
    assert record_version() != before


def loaddata(client, editor, tmp_path):
    fixture = tmp_path / "extra.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "disputes.country",
                    "fields": {"code": "GE", "name": "Georgia", "demonym": "Georgian"},
                }
            ]
        )
    )
    call_command("loaddata", str(fixture), verbosity=0)


def raw_sql(client, editor):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE disputes_event SET summary = 'changed by hand'")


WRITES = {
    "admin save": admin_save,
    "admin delete": admin_delete,
    "history revert": history_revert,
    "QuerySet.update": lambda c, e: Event.objects.update(summary="Changed in bulk."),
    "QuerySet.delete": lambda c, e: Claim.objects.all().delete(),
    "bulk_create": lambda c, e: Country.objects.bulk_create(
        [Country(code="GE", name="Georgia", demonym="Georgian")]
    ),
    "many-to-many": lambda c, e: Dispute.objects.get().countries.clear(),
    "save": lambda c, e: Event.objects.first().save(),
    "raw SQL": raw_sql,
}


@pytest.mark.parametrize("write", WRITES)
def test_every_write_path_gives_the_record_a_new_version(client, editor, article, write):
    before = record_version()
    assert before
    WRITES[write](client, editor)
    assert record_version() != before


def test_loaddata_gives_the_record_a_new_version(client, editor, article, tmp_path):
    before = record_version()
    loaddata(client, editor, tmp_path)
    assert record_version() != before


def test_importing_a_record_gives_it_a_new_version(article, tmp_path):
    export = tmp_path / "record.json"
    call_command("export_record", output=str(export), verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    emptied = record_version()
    call_command("import_record", str(export), verbosity=0)
    assert record_version() != emptied


def test_a_rolled_back_write_leaves_the_version_as_it_was(article):
    from django.db import transaction

    before = record_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        Event.objects.update(summary="never committed")
        raise RuntimeError
    assert record_version() == before


def unmarked(html: str) -> str:
    """The page's text with search's <mark> highlights taken out."""
    return html.replace("<mark>", "").replace("</mark>", "")


def test_an_admin_edit_is_visible_on_the_next_request_to_every_page_it_affects(
    client, editor, event
):
    dispute = event.dispute
    person = event.people.first()
    source = event.citations.first().source
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
        assert "Tajikistan detains" in unmarked(client.get(path, follow=True).text), path

    client.force_login(editor)
    response = post_form(
        client, url("event_change", event.pk), {"title": "Tajik border guards detain two pilots"}
    )
    assert response.status_code == 302, response
    client.logout()

    event.refresh_from_db()
    old_search = pages.pop(4)
    assert "Tajikistan detains" not in unmarked(client.get(old_search).text)
    for path in [*pages, event.get_absolute_url(), "/search/?q=border+guards"]:
        text = unmarked(client.get(path, follow=True).text)
        assert "Tajik border guards detain two pilots" in text, path
        assert "Tajikistan detains" not in text, path


def test_a_flushed_database_starts_again_from_version_zero(db):
    from disputes.models import RecordVersion

    RecordVersion.objects.all().delete()
    assert record_version() == 0
    Country.objects.create(code="GE", name="Georgia", demonym="Georgian")
    assert record_version() != 0


# --- a cache that fails ------------------------------------------------------------------


def test_a_cache_that_fails_leaves_every_page_to_the_database(client, event, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ConnectionError("the cache is down")

    cache = caches["default"]
    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    for _ in range(2):
        response = client.get(event.get_absolute_url())
        assert response.status_code == 200
        assert event.title in response.text
    assert "page cache: get failed" in caplog.text
