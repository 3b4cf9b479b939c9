"""The health endpoint, answered before any other middleware.

Load balancers and Docker's HEALTHCHECK call it by IP address, so it must not depend on
ALLOWED_HOSTS, the TLS redirect, sessions or the cache: it answers 200 only when the
database answers a query, and 503 (quickly, not a hang) when it does not.
"""

import logging

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"


def database_status() -> str | None:
    """None when the database answers, otherwise the kind of failure."""
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # every database failure means "not ready"
        logger.warning("health check: database unavailable: %s", exc)
        connection.close_if_unusable_or_obsolete()
        return type(exc).__name__
    return None


def health_response() -> JsonResponse:
    problem = database_status()
    if problem:
        response = JsonResponse({"status": "unavailable", "database": problem}, status=503)
    else:
        response = JsonResponse({"status": "ok", "database": "ok"})
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == HEALTH_PATH and request.method in ("GET", "HEAD"):
            return health_response()
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A database outage answers 503 with a page that says so, instead of a 500.

    Connections are checked before reuse (conn_health_checks) and PostgreSQL connects with a
    short timeout, so once the database is back the next request reconnects by itself.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        if not _database_is_down(exception):
            return None
        logger.error("database unavailable while serving %s: %s", request.path, exception)
        connection.close_if_unusable_or_obsolete()
        body = loader.render_to_string("503.html")
        response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = "5"
        response["Cache-Control"] = "no-store"
        return response


# SQLSTATE classes of a database that cannot serve right now: connection exceptions (08),
# operator intervention such as a shutdown or "starting up" (57P), insufficient resources (53).
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53")


def _database_is_down(exception: DatabaseError) -> bool:
    """Tell an outage from a bad query, without asking the database again (it may have come
    back in between, which would turn an outage into a 500)."""
    if isinstance(exception, InterfaceError):
        return True  # the connection itself is closed or broken
    cause = exception.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
    if cause is not None and type(cause).__module__.startswith("psycopg"):
        return True  # psycopg gives no SQLSTATE when it could not connect at all
    message = str(exception).lower()
    if "database is locked" in message or "unable to open database" in message:
        return True  # SQLite: busy past its timeout, or the file is unreachable
    return database_status() is not None
