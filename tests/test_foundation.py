"""The base every page builds on: the home page, htmx from our own static files, the
error page, and the article's data loaded once."""

import re
from pathlib import Path

import django_htmx


def test_home_page_renders_through_the_base_template(client, db):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert 'href="#main"' in html  # skip link from the base template
    assert re.search(r'<script src="/static/django_htmx/htmx-2\.min\.[0-9a-f]{12}\.js"', html)


def test_htmx_is_served_from_our_own_static_files_and_is_version_2(client, db):
    bundled = Path(django_htmx.__file__).parent / "static" / "django_htmx" / "htmx-2.min.js"
    assert re.search(r'version:"2\.\d+\.\d+"', bundled.read_text())
    html = client.get("/").content.decode()
    assert "unpkg.com" not in html and "cdn" not in html.lower()


def test_unknown_url_is_a_404_in_the_sites_design(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Not found" in html
    assert "Dispute Explorer" in html


def test_the_repositorys_copy_of_the_article_is_the_captured_seed():
    from tests.conftest import SEED, SHARED_SEED

    assert SEED.read_bytes().count(b"\n") >= 17
    if SHARED_SEED.exists():
        assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_load_article_loads_once_and_keeps_editors_changes(db):
    from django.core.management import call_command

    from disputes.models import Citation, Dispute, Event

    call_command("load_article", "--if-empty", verbosity=0)
    counts = (Dispute.objects.count(), Event.objects.count(), Citation.objects.count())
    assert counts[0] == 1 and counts[1] > 5 and counts[2] > 20
    event = Event.objects.first()
    event.title = "Edited by an editor"
    event.save()
    call_command("load_article", "--if-empty", verbosity=0)
    assert (Dispute.objects.count(), Event.objects.count(), Citation.objects.count()) == counts
    event.refresh_from_db()
    assert event.title == "Edited by an editor"
