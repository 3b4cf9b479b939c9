"""Embeddable: one step as a small card that any site may frame, found through oEmbed.
The card is the only page that may be framed; every other keeps X-Frame-Options: DENY and
frame-ancestors 'none'. A draft has no card."""

import http.server
import json
import threading
from pathlib import Path

import pytest
from django.core.management import call_command

from disputes.models import Dispute, Event

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def _newspaper(html: str) -> str:
    """A page on another origin (127.0.0.1, a port of its own), served by a real server:
    Chromium will not let a page it made up (route.fulfill) frame a local address."""
    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/story"


def embed_url(event) -> str:
    return event.get_absolute_url() + "embed/"


@pytest.mark.django_db
def test_the_card_may_be_framed_by_any_site(client, article):
    event = Event.objects.public().first()
    response = client.get(embed_url(event))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert event.title in response.text
    assert f'<link rel="canonical" href="http://testserver{event.get_absolute_url()}">' in (
        response.text
    )
    # From the page cache, the same headers.
    again = client.get(embed_url(event))
    assert "X-Frame-Options" not in again
    assert again["Content-Security-Policy"] == response["Content-Security-Policy"]


@pytest.mark.django_db
def test_every_other_page_refuses_to_be_framed(client, article):
    event = Event.objects.public().first()
    for url in ["/", event.get_absolute_url(), Dispute.objects.get().get_absolute_url()]:
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], url


@pytest.mark.django_db
def test_oembed_describes_the_card_and_the_event_page_advertises_it(client, article):
    event = Event.objects.public().first()
    permalink = "http://testserver" + event.get_absolute_url()
    page = client.get(event.get_absolute_url()).text
    assert 'type="application/json+oembed"' in page
    data = client.get("/oembed", {"url": permalink, "format": "json"}).json()
    assert data["version"] == "1.0" and data["type"] == "rich"
    assert f'src="http://testserver{embed_url(event)}"' in data["html"]
    assert data["width"] == 480
    small = client.get("/oembed", {"url": permalink, "maxwidth": "300"}).json()
    assert small["width"] == 300 and 'width="300"' in small["html"]


@pytest.mark.django_db
def test_oembed_refuses_what_it_cannot_embed(client, article):
    dispute = Dispute.objects.get()
    assert client.get("/oembed", {"url": "http://testserver/nowhere/"}).status_code == 404
    assert client.get("/oembed", {"url": dispute.get_absolute_url()}).status_code == 404
    assert client.get("/oembed").status_code == 404
    event = Event.objects.public().first()
    xml = client.get("/oembed", {"url": event.get_absolute_url(), "format": "xml"})
    assert xml.status_code == 501


@pytest.mark.django_db
def test_a_draft_has_no_card_and_no_oembed(client, article):
    dispute = Dispute.objects.get()
    draft = Event.objects.create(
        dispute=dispute, kind="statement", title="Zanzibarian", actor=dispute.countries.first()
    )
    assert client.get(embed_url(draft)).status_code == 404
    assert client.get("/oembed", {"url": draft.get_absolute_url()}).status_code == 404


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_newspaper_page_shows_the_card_but_not_the_event_page(
    live_server, browser, artifacts_dir
):
    """A page on another origin frames the card (shown) and the event page (refused). The
    newspaper is on a private address too, as Chromium keeps public pages from framing
    private ones (Private Network Access)."""
    call_command("loaddata", "russia_tajikistan", verbosity=0)
    event = Event.objects.public().in_time_order().first()
    card, full = live_server.url + embed_url(event), live_server.url + event.get_absolute_url()
    article = (
        f'<!doctype html><html lang="en"><title>News</title><h1>News</h1>'
        f'<iframe id="card" title="card" src="{card}" width="480" height="360"></iframe>'
        f'<iframe id="full" title="full" src="{full}" width="480" height="360"></iframe>'
    )
    newspaper = _newspaper(article)
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(newspaper)
        card_frame = page.frame_locator("#card")
        assert card_frame.locator("h1").inner_text() == event.title
        page.wait_for_timeout(300)
        full_frame = page.frame(url=full)
        assert full_frame is None or full_frame.locator("#step-title").count() == 0
        page.screenshot(path=str(artifacts_dir / f"embed-in-a-page-{width}.png"), full_page=True)
        context.close()
        # The CSP is bypassed only to add axe-core, never for the card's own behaviour.
        context = browser.new_context(
            viewport={"width": min(width, 480), "height": 400}, bypass_csp=True
        )
        page = context.new_page()
        page.goto(card)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document)")
        assert result["violations"] == [], json.dumps(result["violations"], indent=1)[:2000]
        context.close()
