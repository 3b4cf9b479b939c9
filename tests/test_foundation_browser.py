"""The home page in real Chromium: htmx loads from our static files, no console errors."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_loads_htmx_without_console_errors(live_server, page):
    response = page.goto(live_server.url + "/")
    assert response.status == 200
    assert page.evaluate("() => typeof window.htmx") == "object"
    assert page.evaluate("() => htmx.version").startswith("2.")
    assert page.console_errors == []
