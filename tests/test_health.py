"""The health endpoint tells the truth about the database, for any Host header."""

import json

from tests.test_settings import run_django


def test_health_reports_the_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_health_answers_for_hosts_outside_allowed_hosts(client, db):
    """Docker's HEALTHCHECK and load balancers call it by IP address."""
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert client.get("/", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_health_is_503_when_the_database_is_unreachable():
    result = run_django(
        "from django.test import Client; r = Client().get('/healthz');"
        "print(r.status_code); print(r.content.decode())",
        DJANGO_SECRET_KEY="k" * 50,
        # Nothing listens on port 1: the connection is refused at once.
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nothing",
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.splitlines()[:2]
    assert status == "503"
    assert json.loads(body) == {"status": "unavailable", "database": "OperationalError"}


def test_a_page_is_a_503_not_a_500_when_the_database_is_unreachable():
    result = run_django(
        "import time; from django.test import Client; t = time.monotonic();"
        "r = Client(raise_request_exception=False).get('/', HTTP_HOST='localhost');"
        "print(r.status_code, r['Retry-After'], round(time.monotonic() - t, 1));"
        "print('Temporarily unavailable' in r.content.decode())",
        DJANGO_SECRET_KEY="k" * 50,
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nothing",
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()[:2]
    status, retry_after, seconds = first.split()
    assert (status, retry_after) == ("503", "5")
    assert float(seconds) < 3
    assert second == "True"


def test_a_database_starting_up_is_a_503_even_if_it_answers_by_the_time_we_look(rf, db):
    """The outage is judged from the error itself: re-checking could find the database back
    and turn the outage into a 500."""
    import psycopg
    from django.db import OperationalError

    from disputes.health import DatabaseUnavailableMiddleware

    try:
        raise OperationalError("FATAL: the database system is starting up") from (
            psycopg.errors.CannotConnectNow("the database system is starting up")
        )
    except OperationalError as error:
        response = DatabaseUnavailableMiddleware(lambda r: None).process_exception(
            rf.get("/"), error
        )
    assert response.status_code == 503


def test_a_bad_query_is_not_mistaken_for_an_outage(rf, db):
    from django.db import OperationalError, connection

    from disputes.health import DatabaseUnavailableMiddleware

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM disputes_event")
    except Exception as error:  # the engine's own error, wrapped by Django
        assert isinstance(error, OperationalError | Exception)
        response = DatabaseUnavailableMiddleware(lambda r: None).process_exception(
            rf.get("/"), error
        )
    assert response is None
