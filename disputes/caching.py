"""Whole public pages in Django's cache, under the record's version.

The record changes rarely and is read often. Instead of tracking which pages an edit
affects, the record has one version number (RecordVersion), which the database itself
changes, in the same transaction, on every write to any of the record's tables (the
triggers of disputes/triggers.py: admin saves, QuerySet.update(), bulk_create(), loaddata,
raw SQL alike). The version is part of every page's cache key and ETag, so after an edit
commits, the next request to any page misses and is rendered afresh, on every worker and
every app server, and a browser that revalidates gets the new page, not a 304.

PageCacheMiddleware stands near the top of the middleware: a stored page is answered with
the headers the whole stack gave it when it was rendered (security headers, CSP, gzip,
Vary), for the cost of one indexed query and one cache look-up. The cache is Django's
configured default cache (local memory, or Redis shared by several app servers; see
settings.py); when it fails, pages are rendered from the database as if it were empty.

Views mark their pages public with @public_page: the same for every visitor, so a CDN or a
shared proxy may keep them (Cache-Control: public, max-age, stale-while-revalidate). Any
other response, and any response that set a cookie or read the session (Vary: Cookie, as
a CSRF token or a login does), is `private, no-store`, unless it says otherwise itself
(static files, the health check).
"""

from __future__ import annotations

import hashlib
import logging
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError
from django.http import HttpResponse
from django.middleware.gzip import re_accepts_gzip
from django.utils.cache import cc_delim_re, patch_cache_control

from .health import HEALTH_PATH
from .models import RecordVersion
from .serializers import wants_json

logger = logging.getLogger(__name__)

# Request headers the public views vary on, and the only query parameters they read:
# anything else (a tracking tag, a cache-buster) changes nothing on the page, so it must not
# make a new cache entry either, or any visitor could push out the pages readers want.
VARY_HEADERS = ("HX-Request", "HX-History-Restore-Request", "X-Step-Heading-Level", "HX-Target")
# The search's; the sitemap's page ("p", as django.contrib.sitemaps names it); oEmbed's.
QUERY_PARAMS = (
    *("page", "step", "q", "type", "dispute", "country", "year"),
    "p",
    *("url", "format", "maxwidth", "maxheight"),
    # The lists (disputes/lists.py) read their filters and their cursor.
    *("kind", "year_from", "year_to", "evidence", "outcome", "ending", "cursor", "size"),
)
PRIVATE = "private, no-store"
STORED_STATUSES = (200, 301)


def public_page(view):
    """Mark a GET view's responses as the same for every visitor: stored by the page
    cache, and cacheable by a CDN for PUBLIC_CACHE_SECONDS."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code >= 500:
            return response  # a page that could not be made now is nobody's to keep
        patch_cache_control(
            response,
            public=True,
            max_age=settings.PUBLIC_CACHE_SECONDS,
            stale_while_revalidate=settings.PUBLIC_CACHE_STALE_SECONDS,
        )
        return response

    return wrapper


# Built once: every request reads the version, and building the query's filter and ordering
# anew each time was a quarter of answering a stored page. VERSION.all() is a copy to run
# (chain.py says what not to do with such a QuerySet).
VERSION = RecordVersion.objects.filter(pk=1).values_list("version", flat=True)


def record_version() -> int:
    """The record's version: 0 before its first write."""
    for version in VERSION.all():
        return version
    return 0


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.skipped = tuple(
            prefix for prefix in (settings.STATIC_URL, "/admin/", HEALTH_PATH) if prefix
        )

    def __call__(self, request):
        key = self.key(request)
        if key is None:
            return self.finish(request, self.get_response(request))
        stored = self.cache_call("get", key)
        if stored is not None:
            status, headers, content = stored
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            return self.finish(request, response)
        response = self.finish(request, self.get_response(request))
        # A streamed response (a CSV of the whole record) is sent as it is made, never kept.
        if (
            response.status_code in STORED_STATUSES
            and is_public(response)
            and not response.streaming
        ):
            response["ETag"] = f'W/"{key.removeprefix("page:")}"'
            self.cache_call(
                "set", key, (response.status_code, list(response.items()), response.content)
            )
        return response

    def key(self, request) -> str | None:
        """The cache key of a page that may be stored, or None: everything a public page
        can depend on (the URL as the canonical link writes it, the query parameters the
        views read, the headers they vary on, gzip or not) under the record's version."""
        if request.method not in ("GET", "HEAD") or request.path.startswith(self.skipped):
            return None
        # A host Django refuses, or too many query fields, raise here: Django's 400.
        parts = [
            request.build_absolute_uri(request.path),
            *(request.GET.get(name, "") for name in QUERY_PARAMS),
            *(request.headers.get(name, "") for name in VARY_HEADERS),
            # HTML or its JSON twin (Accept), never the one for the other.
            "json" if wants_json(request) else "html",
            "gzip" if re_accepts_gzip.search(request.headers.get("Accept-Encoding", "")) else "",
        ]
        try:
            # kept on the request too, for a page that names a versioned address (og:image)
            request.record_version = record_version()
            parts.append(str(request.record_version))
        except DatabaseError:
            return None  # the view finds the database down too, and answers with the 503 page
        return "page:" + hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()

    def finish(self, request, response):
        """`private, no-store` for everything that is not public, or not the same for every
        visitor after all, and for a signed-in editor, who must see an edit at once."""
        shared = not (response.cookies or {"cookie", "*"} & vary(response))
        if is_public(response) and shared and settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return response
        if "public" in cache_control(response) or not response.has_header("Cache-Control"):
            response["Cache-Control"] = PRIVATE
        return response

    @staticmethod
    def cache_call(method: str, *args):
        """A page cache that fails (Redis down, say) is a page cache that is empty."""
        try:
            return getattr(caches["default"], method)(*args)
        except Exception:  # noqa: BLE001 - any failure of the cache must leave the page to Django
            logger.warning("page cache: %s failed", method, exc_info=True)
            return None


def cache_control(response) -> set[str]:
    return {
        part.split("=")[0].strip().lower()
        for part in cc_delim_re.split(response.get("Cache-Control", ""))
    }


def is_public(response) -> bool:
    return "public" in cache_control(response)


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",")}
