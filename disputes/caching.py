"""Caching public pages without ever serving a stale record.

The record changes rarely and is read often, so every public page is cached whole. Instead of
tracking which pages an edit affects, the whole record has one version number, kept in the
database (RecordVersion) and raised in the same transaction as any change to the record. A
page's cache key and ETag carry that version: after an edit commits, the next request to any
page misses the cache and is rendered afresh, on every worker and every host, and browsers
that revalidate get the new page instead of a 304.

Each request for a cached page costs one indexed single-row query (the version) plus a local
cache lookup, made in front of Django's request handling (PageCacheApplication, the WSGI
application gunicorn runs) and again in front of the rest of the middleware
(PageCacheMiddleware) for whatever reaches Django another way; a browser that already has
the page gets a 304 without any rendering. A page is stored with its gzip
encoding, made once when it is rendered, so that a cached page is not compressed again on
every request (GZipMiddleware leaves a response that is already encoded alone).
"""

from __future__ import annotations

import hashlib
import secrets
from functools import wraps
from http import HTTPStatus
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import SuspiciousOperation
from django.core.handlers.wsgi import WSGIRequest
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
)
from django.http import HttpResponse, HttpResponseNotModified
from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string

from . import rawsql
from .health import HEALTH_PATH
from .rawsql import Select

CACHE_ALIAS = "pages"
VERSION_SQL = "SELECT version FROM disputes_recordversion WHERE id = 1"
BUMP_SQL = "UPDATE disputes_recordversion SET version = %s WHERE id = 1"
# Request headers the public views vary on (see views.VARY and the step heading level).
VARY_HEADERS = ("HX-Request", "HX-History-Restore-Request", "X-Step-Heading-Level")
# The same, as the WSGI environ names them (request.headers builds a mapping of every header).
VARY_META = tuple("HTTP_" + name.upper().replace("-", "_") for name in VARY_HEADERS)
# The only query parameters the public views read. Others (tracking tags, cache-busters)
# change nothing on the page, so they must not give it a new cache entry either: that would
# let any visitor fill the cache with copies and push out the pages readers want.
QUERY_PARAMS = ("page", "q")
# What PageCacheApplication found, left in the WSGI environ for the rest of the request: the
# cache key with the stored entry (or None), and the record's version once it was read.
LOOKUP_ENVIRON_KEY = "disputes.page_cache.lookup"
VERSION_ENVIRON_KEY = "disputes.page_cache.version"


def current_version() -> int:
    """The record's version: the first query of every public request, which also serves as
    that request's connection health check.

    With CONN_HEALTH_CHECKS, Django would first send a query of its own ("SELECT 1") on a
    persistent connection, one more round trip on every request. Here the version query
    takes its place: outside a transaction, on a persistent connection not yet checked in
    this request, a failure on a connection that no longer answers closes it, and the query
    is tried once more on a fresh one, which is what the health check would have achieved.
    If that fails too, the database is down, and the error goes on to become the 503 page.
    A new connection (none was open) is not checked, as Django does not check it either.
    """
    return _as_health_check(_read_version)


def _as_health_check(read):
    """read(), as this request's connection health check when it is the request's first
    statement on a persistent connection outside a transaction (Django then sends no check
    of its own): on a connection that no longer answers, read() is tried once more on a
    fresh one. read() must only read, so that trying it twice changes nothing."""
    if (
        connection.connection is None
        or connection.in_atomic_block
        or not connection.health_check_enabled
        or connection.health_check_done
    ):
        return read()
    connection.health_check_done = True  # this read is the check
    try:
        return read()
    except (OperationalError, InterfaceError):
        # Only a connection that has gone away is replaced; any other error (a statement
        # timeout, say) on a connection that still answers is the request's to report.
        if connection.is_usable():
            raise
        connection.close()
    return read()


def _read_version() -> int:
    with connection.cursor() as cursor:
        cursor.execute(VERSION_SQL)
        row = cursor.fetchone()
    return row[0] if row else 0


_VERSION = Select([], lambda _columns: VERSION_SQL, extra=1)


def with_version(request, send):
    """Call `send()`, a function that sends a page's first statements (rawsql's
    Select.send) and returns what gives their results, in one pipeline behind the version
    query: on PostgreSQL the record's version and the page's first reads then take one
    round trip instead of one each. The version is this request's from then on
    (request_version); what send() returned is returned.

    The version goes first, in the same batch, so a page is never newer than the version it
    is stored under. As the request's first statement it is also the connection's health
    check (current_version): when the batch fails on a persistent connection that has gone
    away, the connection is closed and the batch sent once more on a fresh one, so send()
    must only read, and may be called twice.
    """
    known = getattr(request, "_record_version", None)
    if isinstance(known, Exception):
        raise known
    if known is not None:
        with rawsql.pipeline():
            return send()
    return _as_health_check(lambda: _send_with_version(request, send))


def _send_with_version(request, send):
    with rawsql.pipeline():
        version = _VERSION.send([])
        later = send()
    rows = version()
    request._record_version = rows[0][0] if rows else 0
    request._version_with_data = True
    return later


def bump_version(**_signal_kwargs) -> None:
    """Give the record a new version; runs inside the editing transaction, so readers see
    the new version exactly when they can see the new data.

    The new version is random rather than the old one plus one: a rolled-back edit can then
    never hand its number to a later, different state of the record.
    """
    from .models import RecordVersion

    new = secrets.randbits(62)
    with connection.cursor() as cursor:
        cursor.execute(BUMP_SQL, [new])
        updated = cursor.rowcount
    if not updated:  # the row went missing (a flushed database): put it back
        RecordVersion.objects.update_or_create(id=1, defaults={"version": new})


def _is_record_change(sender) -> bool:
    from .apps import is_history_model
    from .models import RecordVersion

    meta = getattr(sender, "_meta", None)
    return (
        meta is not None
        and meta.app_label == "disputes"
        and sender is not RecordVersion
        and not is_history_model(sender)  # simple-history's copies follow their model
    )


def _on_change(sender, **kwargs) -> None:
    if _is_record_change(sender):
        bump_version()


def _on_m2m_change(sender, action, **kwargs) -> None:
    if action.startswith("post_") and _is_record_change(kwargs["model"]):
        bump_version()


def connect_signals() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    post_save.connect(_on_change, dispatch_uid="disputes.caching.save")
    post_delete.connect(_on_change, dispatch_uid="disputes.caching.delete")
    m2m_changed.connect(_on_m2m_change, dispatch_uid="disputes.caching.m2m")


def page_digest(request) -> str:
    """The digest of everything a public page can depend on: the absolute URL (canonical
    links carry the scheme and host), the query parameters the views read and each request
    header they vary on. Worked out once per request."""
    digest = getattr(request, "_page_digest", None)
    if digest is None:
        identity = "\n".join(
            [
                request.scheme,
                request.get_host(),
                request.path,
                *(f"{name}={request.GET.get(name, '')}" for name in QUERY_PARAMS),
                *(request.META.get(name, "") for name in VARY_META),
            ]
        )
        digest = hashlib.blake2b(
            identity.encode("utf-8", "surrogateescape"), digest_size=16
        ).hexdigest()
        request._page_digest = digest
    return digest


def request_version(request) -> int:
    """current_version(), read once per request however many layers ask (the page cache
    in front, the page's view behind it); a failure is raised again to each."""
    version = getattr(request, "_record_version", None)
    if version is None:
        try:
            version = current_version()
        except (DatabaseError, InterfaceError) as exc:
            request._record_version = exc
            raise
        request._record_version = version
    if isinstance(version, Exception):
        raise version
    return version


def cached_public_page(view=None, *, reads_version: bool = False):
    """Mark a public GET view's pages for the page cache (PageCacheMiddleware), with an ETag
    and 304s.

    Only for views whose output depends on nothing but the URL, the htmx headers and the
    record: no user, no session, no cookies. The record's version is read before the view
    runs, unless `reads_version`: then the view reads it itself, with its first statements
    (with_version), on every path that reads anything, and a page it renders without having
    done so is neither stored nor given an ETag. A request that could be answered with a 304
    (If-None-Match) still has the version read first, before anything is rendered.
    """
    if view is None:
        return lambda view: cached_public_page(view, reads_version=reads_version)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        if not reads_version or "HTTP_IF_NONE_MATCH" in request.META:
            etag = _etag(request, request_version(request))
            if etag in _etags(request.META.get("HTTP_IF_NONE_MATCH", "")):
                vary = [("Vary", ", ".join([*VARY_HEADERS, "Accept-Encoding"]))]
                return _not_modified(etag, vary)

        # A version read before the view (here, or by the page cache in front) is never
        # newer than the data the view reads after it; one the view reads itself is only
        # known not to be newer when it was read first, with the data (with_version).
        read_before = getattr(request, "_record_version", None) is not None
        response = view(request, *args, **kwargs)
        if not (read_before or getattr(request, "_version_with_data", False)):
            return response  # no version the page is sure to be as new as, to tag it with
        version = request._record_version
        if isinstance(version, Exception):
            return response
        etag = _etag(request, version)
        compressed = None
        if _cacheable(response):
            compressed = _gzip(response.content)
            # For PageCacheMiddleware to store, once the rest of the middleware is done.
            response.page_entry = (version, etag, response.content, compressed)
        _encode(request, response, etag, compressed)
        if compressed is not None:
            patch_vary_headers(response, ["Accept-Encoding"])
        response.setdefault("Cache-Control", "public, max-age=0, must-revalidate")
        patch_vary_headers(response, VARY_HEADERS)
        return response

    return wrapper


# Headers of a stored page that depend on the request it is served to, not on the page.
PER_REQUEST_HEADERS = frozenset({"content-encoding", "content-length", "etag"})
# What a 304 leaves out of the headers a 200 would carry (RFC 9110 15.4.5).
NOT_MODIFIED_DROPS = frozenset({"content-type", "content-language", *PER_REQUEST_HEADERS})


class PageCacheMiddleware:
    """The page cache, in front of every other middleware but the health check.

    A page that a `cached_public_page` view rendered is stored with the headers the whole
    middleware stack gave it (security headers, CSP, Vary), its gzip encoding and the
    record's version it was rendered at, under the digest of what it depends on
    (page_digest). A request for a stored page costs the version query and a lookup: when
    the version still matches, the page is served from here (or a 304, when the browser
    holds it), without running the rest of the middleware or the view; otherwise the
    request goes on as usual, and the fresh page replaces the stored one.

    Nothing that no cached view rendered is ever stored, so for every other request
    (static files, the admin) this costs one cache lookup that misses, and no query.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.skip = _static_prefix()

    def __call__(self, request):
        looked = request.META.get(LOOKUP_ENVIRON_KEY)
        if looked is None:  # not looked up in front of Django (PageCacheApplication)
            looked = _look_up(request, self.skip)
        if looked is None:
            return self.get_response(request)
        key, stored = looked
        version = request.META.get(VERSION_ENVIRON_KEY)
        if version is not None:
            # Read in front of Django, before anything else of the request, on the
            # connection Django has just kept (request_started): that read was its health
            # check, and Django need not send one of its own.
            request._record_version = version
            if connection.connection is not None:
                connection.health_check_done = True
        if stored is not None:
            try:
                version = request_version(request)
            except (DatabaseError, InterfaceError):
                # The view raises it again, and the 503 page says the database is down.
                return self.get_response(request)
            if stored[0] == version:
                return _serve(request, stored)
        response = self.get_response(request)
        entry = getattr(response, "page_entry", None)
        if entry is not None and _same_for_everyone(request, response):
            version, etag, content, compressed = entry
            headers = [
                (name, value)
                for name, value in response.items()
                if name.lower() not in PER_REQUEST_HEADERS
            ]
            caches[CACHE_ALIAS].set(
                key, (version, etag, response.status_code, headers, content, compressed)
            )
        return response


class PageCacheApplication:
    """The page cache in front of Django itself: the WSGI application that gunicorn runs
    (disputes/wsgi.py) wraps Django's in this.

    A request for a stored page whose version is still the record's is answered here, from
    the WSGI environ, without Django's request handling: no request signals, no middleware,
    no response object. That handling was half of what a cached page cost, and the cached
    page is what a widely shared permalink is served from. What it does not skip: the
    cache key is worked out from a WSGIRequest by the same page_key() that stores the page
    (so a host Django would refuse, or too many query fields, finds nothing here and goes
    on to Django's 400), and old or broken database connections are closed before the
    version query and after the answer, as Django does at the start and the end of every
    request.

    Everything else goes on to Django, with what was found left in the environ for
    PageCacheMiddleware, so that nothing is looked up or read twice.
    """

    def __init__(self, application):
        self.application = application
        self.skip = _static_prefix()

    def __call__(self, environ, start_response):
        found = self._cached(environ)
        if found is None:
            return self.application(environ, start_response)
        status, headers, body = found
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    def _cached(self, environ):
        """(status, headers, body) of the stored page for this request, or None."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        try:
            # A copy: WSGIRequest writes its decoded path back into the environ it is
            # given, and Django, behind this, decodes the environ's path again.
            request = WSGIRequest(environ.copy())
        except Exception:  # noqa: BLE001 - Django answers the request as it would without this
            return None
        if request.path == HEALTH_PATH:
            return None
        looked = _look_up(request, self.skip)
        if looked is None:
            return None
        environ[LOOKUP_ENVIRON_KEY] = looked
        stored = looked[1]
        if stored is None:
            return None
        close_old_connections()
        try:
            version = request_version(request)
        except (DatabaseError, InterfaceError):
            return None  # Django tries again, and answers with the 503 page
        environ[VERSION_ENVIRON_KEY] = version
        if stored[0] != version:
            return None
        found = _reply(request, stored)
        close_old_connections()
        return found


def _look_up(request, skip: str | None):
    """(cache key, stored entry or None) for a request the page cache may answer, or None
    for one it never does (not a GET or HEAD, a static file, a host Django refuses)."""
    if request.method not in ("GET", "HEAD") or (
        skip is not None and request.path.startswith(skip)
    ):
        return None
    try:
        key = page_key(request)
    except SuspiciousOperation:  # a bad host, too many query fields: Django's 400
        return None
    return key, caches[CACHE_ALIAS].get(key)


def _static_prefix() -> str | None:
    """The static files' URL path: never a view's, so never looked up in the page cache
    (whitenoise answers them behind it)."""
    static = urlsplit(str(settings.STATIC_URL or "")).path
    return static.rstrip("/") + "/" if static.strip("/") else None


def page_key(request) -> str:
    return f"page:{page_digest(request)}"


def _same_for_everyone(request, response) -> bool:
    """Whether what the rest of the stack made of the page depends on nothing but its
    digest: no cookie set, no session read (Vary: Cookie), no per-request CSP nonce."""
    vary = {part.strip().lower() for part in response.get("Vary", "").split(",")}
    return not (
        response.cookies
        or response.has_header("Set-Cookie")
        or "cookie" in vary
        or "*" in vary
        or getattr(request, "_csp_nonce", None)
    )


def _reply(request, stored) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of a stored page, as sent to this request: a 304 when the
    request holds it already, else the encoding the request takes."""
    _, etag, status, headers, content, compressed = stored
    if status == 200 and etag in _etags(request.META.get("HTTP_IF_NONE_MATCH", "")):
        return 304, _not_modified_headers(etag, headers), b""
    gzipped, extra = _representation(request, status, etag, compressed)
    body = compressed if gzipped else content
    return status, [*headers, *extra, ("Content-Length", str(len(body)))], body


def _serve(request, stored) -> HttpResponse:
    status, headers, body = _reply(request, stored)
    response = HttpResponseNotModified() if status == 304 else HttpResponse(body, status=status)
    for name, value in headers:
        response[name] = value
    return response


def _representation(request, status: int, etag: str, compressed: bytes | None):
    """(whether the gzip encoding is sent, headers) of what is sent: the page's gzip
    encoding when the client takes it, and the ETag of what is sent: a strong ETag for the
    page as rendered, a weak one for its gzip encoding (RFC 9110 8.8.1), as GZipMiddleware
    would make it. Both match If-None-Match."""
    gzipped = compressed is not None and _accepts_gzip(request)
    headers = [("Content-Encoding", "gzip")] if gzipped else []
    if status == 200:
        headers.append(("ETag", f"W/{etag}" if gzipped else etag))
    return gzipped, headers


def _encode(request, response, etag: str, compressed: bytes | None) -> None:
    """_representation() applied to a freshly rendered response."""
    gzipped, headers = _representation(request, response.status_code, etag, compressed)
    if gzipped:
        response.content = compressed
    for name, value in headers:
        response[name] = value


def _not_modified_headers(etag: str, headers) -> list[tuple[str, str]]:
    kept = [(name, value) for name, value in headers if name.lower() not in NOT_MODIFIED_DROPS]
    return [*kept, ("ETag", etag)]


def _not_modified(etag: str, headers) -> HttpResponseNotModified:
    response = HttpResponseNotModified()
    for name, value in _not_modified_headers(etag, headers):
        response[name] = value
    return response


def _accepts_gzip(request) -> bool:
    return bool(re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))


def _gzip(content: bytes) -> bytes | None:
    """The page's gzip encoding, as GZipMiddleware makes it (with its random-length header
    against BREACH), or None when compressing does not pay."""
    if len(content) < 200:
        return None
    compressed = compress_string(content, max_random_bytes=GZipMiddleware.max_random_bytes)
    return compressed if len(compressed) < len(content) else None


def _cacheable(response) -> bool:
    return (
        response.status_code in (200, 301, 404)
        and not response.streaming
        and not response.cookies
        and not response.has_header("Set-Cookie")
    )


def _etag(request, version: int) -> str:
    return f'"r{version}-{page_digest(request)}"'


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
