"""Security headers on every response, and django-axes locking out repeated failed logins."""

import logging

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_pages_forbid_framing_and_sniffing_and_limit_referrers(client):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_repeated_failed_logins_lock_the_attacker_out_and_are_logged(client, superuser, caplog):
    login = reverse("admin:login")
    caplog.set_level(logging.WARNING, logger="axes")
    for _ in range(5):
        response = client.post(login, {"username": "chief", "password": "wrong"})
        assert response.status_code in (200, 429)
    locked = client.post(login, {"username": "chief", "password": "correct horse battery staple"})
    assert locked.status_code == 429
    assert "Sign-in temporarily locked" in locked.content.decode()
    assert any("AXES" in record.getMessage() for record in caplog.records)
    # The lock is per username and address: the right password from elsewhere still works.
    other = client.post(
        login,
        {"username": "chief", "password": "correct horse battery staple"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert other.status_code == 302


def test_a_successful_login_before_the_limit_is_not_locked(client, superuser):
    login = reverse("admin:login")
    for _ in range(3):
        client.post(login, {"username": "chief", "password": "wrong"})
    response = client.post(login, {"username": "chief", "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def _public_urls():
    from disputes.models import Case, Country, Detention, Dispute, Event, Person, RetaliationLink
    from disputes.models import Source as SourceModel

    urls = ["/", "/search/?q=pilot"]
    for model in (Dispute, Event, RetaliationLink, Person, Case, Detention, Country, SourceModel):
        urls.append(model.objects.first().get_absolute_url())
    return urls


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_public_site_is_read_only(client, article, method):
    from django.core.management import call_command

    def snapshot():
        from io import StringIO

        out = StringIO()
        call_command("dumpdata", "disputes", exclude=["disputes.recordversion"], stdout=out)
        return out.getvalue()

    before = snapshot()
    for url in _public_urls():
        response = getattr(client, method)(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 405, (method, url)
        assert response["Allow"] == "GET, HEAD"
    assert snapshot() == before


def test_admin_posts_without_a_csrf_token_are_refused_htmx_or_not(editor, article):
    from django.test import Client

    from disputes.models import Country

    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    country = Country.objects.get(code="EE")
    change = reverse("admin:disputes_country_change", args=[country.pk])
    data = {"code": "EE", "name": "Estland", "demonym": "Estonian"}
    assert client.post(change, data).status_code == 403
    assert client.post(change, data, HTTP_HX_REQUEST="true").status_code == 403
    assert client.post(change, data, HTTP_X_CSRFTOKEN="forged").status_code == 403
    country.refresh_from_db()
    assert country.name == "Estonia"

    # The token the admin page hands out passes the check (the form is then judged on its
    # content: without its inline formsets it is re-shown, not refused).
    page = client.get(change)
    token = page.context["csrf_token"]
    response = client.post(change, {**data, "csrfmiddlewaretoken": str(token)})
    assert response.status_code != 403
