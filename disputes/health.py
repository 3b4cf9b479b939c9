"""The health endpoint, answered before any other middleware.

Load balancers and Docker's HEALTHCHECK call it by IP address, so it must not depend on
ALLOWED_HOSTS, the TLS redirect, sessions or the cache: it answers 200 only when the
database answers a query, and 503 (quickly, not a hang) when it does not.
"""

import logging

from django.db import connection
from django.http import JsonResponse

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
