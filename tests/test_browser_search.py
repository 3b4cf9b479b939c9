"""A reader searching in real Chromium: the box in every page's header shows results while
the reader types, the search page updates in place with its filters and pages, a sentence
hit opens the source at that sentence, and everything works as plain links without
JavaScript. Screenshots at 1280 and 390 px go to test-artifacts/."""

import pytest
from django.core.management import call_command

from disputes.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def base(transactional_db, live_server):
    call_command("load_record", "russia_tajikistan", verbosity=0)
    return live_server.url


def test_typing_in_the_header_box_shows_live_results(base, page):
    event = Event.objects.order_by("pk").first()
    page.goto(base + event.get_absolute_url())
    page.locator("#site-q").press_sequentially("Хукумов", delay=40)
    first = page.locator("#site-results .quick li").first
    first.wait_for()
    assert "Khukumov" in first.inner_text()
    assert page.url == base + event.get_absolute_url(), "the reader stays on the page"
    # Enter opens the full results, as the plain form does.
    page.locator("#site-q").press("Enter")
    page.wait_for_url("**/search/?q=*")
    assert page.locator(".result-list li").count() > 3
    assert page.locator(".result-list mark").count() > 0
    assert page.console_errors == []


def test_the_header_results_close_when_the_reader_moves_on(base, page):
    """Left open, the list covers the page the reader tabs or clicks on to; Escape closes it
    and keeps what was typed."""
    event = Event.objects.order_by("pk").first()
    page.goto(base + event.get_absolute_url())
    box, first = page.locator("#site-q"), page.locator("#site-results .quick li").first
    box.press_sequentially("pilot", delay=30)
    first.wait_for()
    box.press("Escape")
    assert page.locator("#site-results").inner_html() == ""
    assert box.input_value() == "pilot"
    box.press_sequentially("s", delay=30)
    first.wait_for()
    for _ in range(40):  # through the results and on past the form
        page.keyboard.press("Tab")
        if not page.evaluate("() => document.activeElement.closest('.site-search')"):
            break
    assert page.locator("#site-results").inner_html() == ""
    box.press_sequentially("x", delay=30)
    box.press("Backspace")
    first.wait_for()
    page.locator("#step-title").click()
    assert page.locator("#site-results").inner_html() == ""
    assert page.console_errors == []


def test_the_keyboard_can_skip_the_filters_to_the_results(base, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(base + "/search/?q=pilot")
    page.locator("#q").focus()
    for _ in range(3):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('skip-inline')"):
            break
    skip = page.locator(".skip-inline")
    assert skip.is_visible() and skip.inner_text() == "Skip the filters to the results"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'result-groups'")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('.result-list') !== null")
    context.close()


def test_back_and_forward_show_the_query_of_the_page_in_the_box(base, page):
    page.goto(base + "/search/")
    box = page.locator("#q")
    box.press_sequentially("pilot", delay=30)
    page.wait_for_url("**/search/?q=pilot")
    box.fill("")
    box.press_sequentially("migrants", delay=30)
    page.wait_for_url("**/search/?q=migrants")
    # the page names the search it shows as its address, for a share menu
    page.wait_for_function(
        "() => document.getElementById('canonical').href.endsWith('/search/?q=migrants')"
    )
    page.go_back()
    page.wait_for_url("**/search/?q=pilot")
    page.wait_for_function("() => document.getElementById('q').value === 'pilot'")
    # and its addresses are the search shown again (htmx's copy of the page has no head)
    page.wait_for_function(
        """() => document.getElementById('canonical').href.endsWith('/search/?q=pilot')
                 && document.getElementById('json-twin').href.endsWith('/search.json?q=pilot')"""
    )
    page.go_forward()
    page.wait_for_url("**/search/?q=migrants")
    page.wait_for_function("() => document.getElementById('q').value === 'migrants'")
    assert page.console_errors == []


def test_the_search_page_updates_filters_and_pages_in_place(base, page):
    page.goto(base + "/search/")
    page.locator("#q").press_sequentially("Khukumow", delay=30)
    page.wait_for_selector("text=Showing results for")
    assert page.locator(".result-list mark").first.inner_text() == "Khukumov"
    page.locator(".facet a", has_text="People").click()
    page.wait_for_url("**type=person**")
    assert page.locator(".result-group h2").all_inner_texts() == ["People"]
    assert page.console_errors == []


def test_a_sentence_hit_opens_the_source_at_that_sentence(base, page):
    page.goto(base + "/search/?q=remittances")
    link = page.locator("#group-sentence + .result-list a").first
    href = link.get_attribute("href")
    assert "#s" in href
    link.click()
    page.wait_for_url("**" + href.split("#")[0] + "*")
    anchor = href.split("#")[1]
    assert page.evaluate("() => location.hash") == f"#{anchor}"
    outline = page.locator(f"#{anchor}").evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid", "the sentence is highlighted as the :target"


def test_search_works_without_javascript(base, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base + "/")
    page.locator("#site-q").fill("pilots")
    page.locator(".site-search button").click()
    page.wait_for_url("**/search/?q=pilots")
    assert page.locator(".result-list li").count() > 0
    page.locator(".facet a", has_text="Events").click()
    page.wait_for_url("**type=event**")
    assert page.locator(".result-group h2").all_inner_texts() == ["Events"]
    response = page.goto(base + "/search/?q=" + "x" * 201)
    assert response.status == 400
    assert "at most 200" in page.locator(".problem").inner_text()
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_search(base, browser, artifacts_dir, width):
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    page.goto(base + "/search/?q=Khukumov")
    page.screenshot(path=str(artifacts_dir / f"search-{width}.png"), full_page=width > 600)
    event = Event.objects.order_by("pk").first()
    page.goto(base + event.get_absolute_url())
    page.locator("#site-q").press_sequentially("pilot", delay=30)
    page.locator("#site-results .quick li").first.wait_for()
    page.screenshot(path=str(artifacts_dir / f"search-box-{width}.png"))
    context.close()
