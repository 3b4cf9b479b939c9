"""A reader in real Chromium: walking the Russia-Tajikistan chain by mouse and keyboard,
back and forward, reload, a shared link without JavaScript, accessibility, and screenshots.

The article's record is loaded inside each test, after the live server is up, so the
server's thread sees it (the database is flushed between tests).
"""

from pathlib import Path

import pytest
from django.core.management import call_command

from disputes.models import Dispute, Event, RetaliationLink, Source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
RECORD = "russia_tajikistan"


@pytest.fixture
def record(transactional_db, live_server):
    call_command("loaddata", RECORD, verbosity=0)
    call_command("rebuild_search_index", verbosity=0)  # loaddata's saves send no signals
    dispute = Dispute.objects.get()
    events = list(Event.objects.filter(dispute=dispute).in_time_order())
    return live_server.url, dispute, events


def step_title(page) -> str:
    return page.locator("#step-title").inner_text().strip()


def expect_step(page, url, event):
    """The step panel shows the event, its address is in the address bar, the tab's title
    names it, focus is on its heading and the live region has announced it."""
    page.wait_for_function(
        "title => document.querySelector('#step-title')?.textContent.trim() === title",
        arg=event.title,
    )
    assert page.url == url
    assert page.title().startswith(event.title)
    page.wait_for_function("() => document.activeElement?.id === 'step-title'")
    page.wait_for_function(
        "title => document.getElementById('live').textContent.includes(title)", arg=event.title
    )


def expect_in_dispute(page, base, dispute, event):
    """The dispute at that step: its address, the ladder around the panel, the step's rung
    marked, one h1 (the dispute's)."""
    expect_step(page, base + dispute.step_url(event.pk), event)
    assert page.locator("#ladder").count() == 1, "the dispute page stays around the step"
    assert page.locator(f"#rung-item-{event.pk}.is-current").count() == 1
    assert page.locator(".rung.is-current").count() == 1
    assert page.locator(f"#ladder-step-{event.pk}.is-current").count() == 1
    assert page.locator(".ladder-step.is-current").count() == 1
    assert page.locator("h1").count() == 1
    assert page.locator("h1").inner_text().strip() == dispute.title


def test_walk_the_whole_chain_by_clicking_next_and_previous(record, page):
    base, dispute, events = record
    assert len(events) >= 5
    page.goto(base + dispute.get_absolute_url())
    assert step_title(page) == events[0].title
    for event in events[1:]:
        page.locator("#step a[rel=next]").click()
        expect_in_dispute(page, base, dispute, event)
    assert page.locator("#step a[rel=next]").count() == 0
    for event in reversed(events[:-1]):
        page.locator("#step a[rel=prev]").click()
        expect_in_dispute(page, base, dispute, event)
    assert page.locator("#step a[rel=prev]").count() == 0
    assert page.console_errors == []


def test_provoked_by_provoked_and_rungs_walk_in_place(record, page):
    base, dispute, events = record
    link = RetaliationLink.objects.order_by("pk").first()
    page.goto(base + dispute.get_absolute_url())
    page.locator(f"#ladder-step-{link.cause_id} a.step-card").click()
    expect_in_dispute(page, base, dispute, link.cause)
    page.locator("#step .chain-target", has_text=link.response.title).first.click()
    expect_in_dispute(page, base, dispute, link.response)
    page.locator("#step .chain-target", has_text=link.cause.title).first.click()
    expect_in_dispute(page, base, dispute, link.cause)
    assert page.console_errors == []


def tab_to(page, selector: str, limit: int = 80):
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement?.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_walk_the_whole_chain_by_keyboard_alone(record, page):
    base, dispute, events = record
    page.goto(base + events[0].get_absolute_url())
    for event in events[1:]:
        tab_to(page, "#step a[rel=next]")
        page.keyboard.press("Enter")
        expect_step(page, base + event.get_absolute_url(), event)
    for event in reversed(events[:-1]):
        tab_to(page, "#step a[rel=prev]")
        page.keyboard.press("Enter")
        expect_step(page, base + event.get_absolute_url(), event)
    assert page.console_errors == []


def test_walk_the_dispute_with_the_documented_keys(record, page):
    base, dispute, events = record
    page.goto(base + dispute.get_absolute_url())
    assert "previous step" in page.locator(".keys").inner_text()
    page.keyboard.press("j")  # a letter does nothing until the step or the ladder has focus
    page.wait_for_timeout(300)
    assert step_title(page) == events[0].title
    page.keyboard.press("ArrowRight")
    expect_in_dispute(page, base, dispute, events[1])
    page.keyboard.press("j")
    expect_in_dispute(page, base, dispute, events[2])
    page.keyboard.press("k")
    expect_in_dispute(page, base, dispute, events[1])
    page.keyboard.press("ArrowLeft")
    expect_in_dispute(page, base, dispute, events[0])
    # typing in the search box is typing, not walking; nor does a key walk from a control
    # outside the step and the ladder (WCAG 2.1.4: active only where they apply)
    page.locator("#site-q").focus()
    page.keyboard.press("j")
    page.locator(".brand").focus()
    page.keyboard.press("j")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    assert step_title(page) == events[0].title
    assert page.url == base + dispute.step_url(events[0].pk)
    assert page.console_errors == []


def test_the_focused_card_of_the_current_step_shows_focus(record, page):
    base, dispute, events = record
    page.goto(base + dispute.step_url(events[1].pk))
    card = f"#ladder-step-{events[1].pk} .card-box"
    rest = page.locator(card).evaluate("el => getComputedStyle(el).stroke")
    tab_to(page, f"#ladder-step-{events[1].pk} a.step-card")
    focused = page.locator(card).evaluate("el => getComputedStyle(el).stroke")
    assert focused != rest
    assert focused == "rgb(179, 89, 0)", "the site's focus colour (--focus)"


def in_view(page, selector) -> bool:
    return page.evaluate(
        """s => { const b = document.querySelector(s).getBoundingClientRect();
                  return b.top >= 0 && b.bottom <= window.innerHeight; }""",
        selector,
    )


def test_after_a_walk_the_page_names_the_new_steps_addresses(record, page):
    """A browser's share menu and a reader's tools take the canonical and JSON addresses from
    the page: after a swap they are the step walked to, not the first one."""
    base, dispute, events = record

    def addresses():
        return page.evaluate(
            """() => [...document.querySelectorAll('link[rel=canonical], #json-twin')]
                     .map(l => l.getAttribute('href'))"""
        )

    page.goto(base + events[0].get_absolute_url())
    page.evaluate(
        """() => { window.said = [];
                   new MutationObserver(() => { const t = document.getElementById('live')
                     .textContent; if (t) window.said.push(t); })
                   .observe(document.getElementById('live'),
                            {childList: true, characterData: true, subtree: true}); }"""
    )
    page.keyboard.press("ArrowRight")
    expect_step(page, base + events[1].get_absolute_url(), events[1])
    page.wait_for_timeout(300)
    assert len(page.evaluate("() => window.said")) == 1, "the step is announced once"
    own = base + events[1].get_absolute_url()
    assert addresses() == [own, own.rstrip("/") + ".json"]
    changed = events[1].last_changed.strftime("%Y-%m-%d")
    assert page.locator("#last-changed time").get_attribute("datetime").startswith(changed)
    assert page.locator("#last-changed").count() == 1
    carried = page.locator("#page-addresses")
    assert carried.count() == 1
    assert [carried.get_attribute(a) for a in ("data-canonical", "data-json")] == addresses()
    page.keyboard.press("j")
    expect_step(page, base + events[2].get_absolute_url(), events[2])
    page.go_back()  # from htmx's copy of the page, whose head it does not keep
    page.wait_for_url(own)
    page.wait_for_function("u => document.getElementById('canonical').href === u", arg=own)
    assert addresses() == [own, own.rstrip("/") + ".json"]
    # in the dispute, the step's permalink stays its canonical address
    page.goto(base + dispute.get_absolute_url())
    page.keyboard.press("ArrowRight")
    expect_in_dispute(page, base, dispute, events[1])
    assert addresses()[0] == own
    assert page.console_errors == []


def test_the_ladders_sticky_lane_heads_never_hide_what_has_focus(record, browser):
    base, dispute, events = record
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + dispute.get_absolute_url())
    page.locator(".words-list a").first.focus()
    hidden = []
    for _ in range(14):  # back up through the ladder's lines and cards
        page.keyboard.press("Shift+Tab")
        hidden += page.evaluate(
            """() => {
                const f = document.activeElement, heads = document.querySelector('.lane-heads');
                if (!f.closest('.ladder-figure')) return [];
                const b = f.getBoundingClientRect(), h = heads.getBoundingClientRect();
                return b.top < h.bottom - 1 ? [f.getAttribute('aria-label') || f.textContent] : [];
            }"""
        )
    assert hidden == []
    context.close()


def test_walking_scrolls_only_to_bring_the_step_into_view(record, browser):
    """On a wide screen the panel's heading is in view beside the ladder: walking must not
    move the page. On a phone, Back lands focus on a heading the reader can see."""
    base, dispute, events = record
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + dispute.get_absolute_url())
    assert in_view(page, "#step-title")
    for event in events[1:4]:
        page.keyboard.press("ArrowRight")
        expect_in_dispute(page, base, dispute, event)
    assert page.evaluate("() => window.scrollY") == 0
    context.close()

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(base + dispute.get_absolute_url())
    for event in events[1:3]:
        page.locator("#step a[rel=next]").click()
        expect_in_dispute(page, base, dispute, event)
    page.locator("#step .chain-target").first.click()
    page.wait_for_function(
        "t => document.querySelector('#step-title')?.textContent.trim() !== t", arg=events[2].title
    )
    page.go_back()
    page.wait_for_url(base + dispute.step_url(events[2].pk))
    page.wait_for_function("() => document.activeElement?.id === 'step-title'")
    page.wait_for_timeout(200)  # htmx puts the scroll back on its next tick
    assert in_view(page, "#step-title")
    context.close()


def test_back_and_forward_restore_the_right_step_and_reload_gives_the_same_view(record, page):
    base, dispute, events = record
    page.goto(base + dispute.get_absolute_url())
    for event in events[1:4]:
        page.locator("#step a[rel=next]").click()
        expect_in_dispute(page, base, dispute, event)
    page.go_back()
    page.wait_for_url(base + dispute.step_url(events[2].pk))
    page.wait_for_function(
        "t => document.querySelector('#step-title')?.textContent.trim() === t",
        arg=events[2].title,
    )
    page.go_back()
    page.wait_for_url(base + dispute.step_url(events[1].pk))
    assert step_title(page) == events[1].title
    page.go_back()
    page.wait_for_url(base + dispute.get_absolute_url())
    assert step_title(page) == events[0].title
    assert page.locator("#ladder").count() == 1
    page.go_forward()
    page.wait_for_url(base + dispute.step_url(events[1].pk))
    page.wait_for_function(
        "t => document.querySelector('#step-title')?.textContent.trim() === t",
        arg=events[1].title,
    )
    # Reload: the same view, the dispute with that step selected, rendered by the server.
    page.reload()
    assert step_title(page) == events[1].title
    assert page.locator("#ladder").count() == 1
    assert page.locator(f"#rung-item-{events[1].pk}.is-current").count() == 1
    assert page.locator("h1").count() == 1
    assert page.locator(".site-header").count() == 1
    assert page.title().startswith(events[1].title)
    assert page.console_errors == []


def test_a_pushed_url_in_a_fresh_tab_is_the_same_view(record, browser, page):
    base, dispute, events = record
    page.goto(base + dispute.get_absolute_url())
    page.locator("#step a[rel=next]").click()
    expect_in_dispute(page, base, dispute, events[1])
    fresh = browser.new_context().new_page()
    fresh.goto(page.url)
    assert fresh.locator("h2#step-title").inner_text().strip() == events[1].title
    assert fresh.locator("#ladder").count() == 1
    assert fresh.locator(f"#rung-item-{events[1].pk}.is-current").count() == 1
    assert fresh.locator(".site-header").count() == 1
    fresh.context.close()


def test_a_shared_permalink_works_with_javascript_off(record, browser):
    base, dispute, events = record
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    response = page.goto(base + events[2].get_absolute_url())
    assert response.status == 200
    assert page.locator("h1#step-title").inner_text().strip() == events[2].title
    page.locator("#step a[rel=next]").click()
    page.wait_for_url(base + events[3].get_absolute_url())
    assert page.locator("h1#step-title").inner_text().strip() == events[3].title
    page.locator("#step a[rel=prev]").click()
    page.wait_for_url(base + events[2].get_absolute_url())
    # the permalink offers the step in its dispute, and walking there stays in the dispute
    page.locator("a.in-dispute").click()
    page.wait_for_url(base + dispute.step_url(events[2].pk))
    assert page.locator("h2#step-title").inner_text().strip() == events[2].title
    assert page.locator("#ladder").count() == 1
    page.locator("#step a[rel=next]").click()
    page.wait_for_url(base + dispute.step_url(events[3].pk))
    assert page.locator("h2#step-title").inner_text().strip() == events[3].title
    assert page.locator(f"#rung-item-{events[3].pk}.is-current").count() == 1
    # the dispute page, a ladder card, and search all work as plain pages
    page.goto(base + dispute.get_absolute_url())
    page.locator(f"#ladder-step-{events[4].pk} a.step-card").click()
    page.wait_for_url(base + dispute.step_url(events[4].pk))
    assert page.locator("h2#step-title").inner_text().strip() == events[4].title
    page.goto(base + "/search/")
    page.locator("#q").fill("pilots")
    page.locator(".search-form button").click()
    page.wait_for_url("**/search/?q=pilots")
    assert page.locator(".result-list li").count() > 0
    # an old slug still leads to the step
    old = base + events[2].get_absolute_url().replace(events[2].slug, "an-old-title")
    page.goto(old)
    assert page.url == base + events[2].get_absolute_url()
    context.close()


def test_search_updates_as_the_reader_types_and_the_url_can_be_shared(record, page):
    base, _dispute, _events = record
    page.goto(base + "/search/")
    page.locator("#q").press_sequentially("Khukumov", delay=30)
    page.wait_for_url("**/search/?q=Khukumov")
    page.wait_for_selector(".result-list li")
    assert page.locator("#q").evaluate("el => el === document.activeElement")
    page.wait_for_function("() => /result/.test(document.getElementById('live').textContent)")
    assert page.title().startswith("Search: Khukumov")
    page.reload()
    assert page.locator(".result-list li").count() > 0
    page.locator("#q").fill('"')
    page.locator("#q").press("End")
    page.keyboard.type("!")
    page.wait_for_selector("text=nothing to search for")
    assert page.console_errors == []


def axe_violations(browser, url, width=1280):
    # The site's Content-Security-Policy forbids injected scripts; the test bypasses it
    # only to add axe-core, never for the site's own behaviour.
    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document)")
    context.close()
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
    ]


@pytest.mark.parametrize("width", [1280, 390])
def test_no_accessibility_violations_at_either_width(record, browser, width):
    base, dispute, events = record
    source = Source.objects.get()
    link = RetaliationLink.objects.order_by("pk").first()
    for path in (
        dispute.get_absolute_url(),
        dispute.step_url(events[3].pk),
        events[-1].get_absolute_url(),
        link.get_absolute_url(),
        source.get_absolute_url(),
        "/search/?q=pilot",
        "/search/",
        "/",
    ):
        assert axe_violations(browser, base + path, width) == [], path


def box(page, selector):
    return page.locator(selector).first.bounding_box()


def test_at_1280_px_the_picture_and_the_panel_stand_side_by_side(record, browser):
    base, dispute, events = record
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + dispute.step_url(events[2].pk))
    assert page.locator(".ladder-svg").is_visible()
    assert not page.locator(".timeline").first.is_visible()
    # the words above the ladder describe the picture shown, not the phone's cards
    assert page.locator(".for-picture").is_visible()
    assert not page.locator(".for-timeline").is_visible()
    assert page.locator(".legend-time").first.is_visible()
    figure, panel = box(page, ".ladder-figure"), box(page, ".walk-panel")
    assert panel["x"] >= figure["x"] + figure["width"]
    # every link is drawn, and focusing one by keyboard marks both of its steps
    links = RetaliationLink.objects.order_by("pk")
    assert page.locator(".ladder-link").count() == links.count()
    link = links[2]
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.id") == f"ladder-link-{link.pk}":
            break
    else:
        raise AssertionError("Tab never reached the link's line")
    for end in (link.cause_id, link.response_id):
        assert page.locator(f"#ladder-step-{end}.is-linked").count() == 1
    assert page.locator(".ladder-step.is-linked").count() == 2
    page.keyboard.press("Enter")
    page.wait_for_url(base + link.get_absolute_url())
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    context.close()


def test_at_390_px_a_timeline_with_the_panel_under_the_selected_step(record, browser):
    base, dispute, events = record
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(base + dispute.get_absolute_url())
    assert not page.locator(".ladder-figure").is_visible()
    assert page.locator(".timeline").first.is_visible()
    # the links stay visible, as marks between the steps, with their evidence in words
    marks = page.locator(".rung-link .mark-sample")
    assert marks.count() == RetaliationLink.objects.count()
    assert all(marks.nth(i).is_visible() for i in range(marks.count()))
    # every wait longer than a month is said (March 2011 came two months after 2010)
    gaps = page.locator(".timeline .gap")
    assert gaps.all_inner_texts() == [
        "1 year with nothing recorded",
        "2 months with nothing recorded",
    ]
    assert gaps.first.is_visible()
    # and the words above describe the cards, not the picture, which is not shown
    assert page.locator(".for-timeline").is_visible()
    assert not page.locator(".for-picture").is_visible()
    assert not page.locator(".legend-time").first.is_visible()
    for event in events[:4]:
        if event != events[0]:
            page.locator("#step a[rel=next]").click()
            expect_in_dispute(page, base, dispute, event)
        rung, panel = box(page, f"#rung-item-{event.pk}"), box(page, ".walk-panel")
        assert 0 <= panel["y"] - (rung["y"] + rung["height"]) < 60, "the panel is right under it"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_the_dispute_and_an_event(record, browser, artifacts_dir, width):
    base, dispute, events = record
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(base + dispute.get_absolute_url())
    page.screenshot(path=str(artifacts_dir / f"dispute-{width}.png"), full_page=True)
    # nothing spills sideways on a phone
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    page.goto(base + events[-1].get_absolute_url())
    page.screenshot(path=str(artifacts_dir / f"event-{width}.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    page.goto(base + Source.objects.get().get_absolute_url())
    page.screenshot(path=str(artifacts_dir / f"source-{width}.png"), full_page=True)
    context.close()


def test_the_ladder_pages_in_place_and_back_returns_to_the_first_page(live_server, page):
    from bench.generate import make_dispute

    dispute = make_dispute(120, seed=8)
    base = live_server.url
    page.goto(base + dispute.get_absolute_url())
    assert page.locator(".rung").count() == 50
    # walk a step first: the address bar now holds the step's permalink, and paging the
    # ladder must still fetch the dispute's next page
    page.locator("#step a[rel=next]").click()
    page.wait_for_function("() => document.activeElement?.id === 'step-title'")
    page.locator("#ladder nav.pager a[rel=next]").first.click()
    page.wait_for_url(base + dispute.get_absolute_url() + "?page=2")
    page.wait_for_function("() => document.activeElement?.id === 'ladder-title'")
    assert "steps 51–100" in page.locator("#ladder-title").inner_text()
    assert "steps 51–100" in page.title()
    events = list(Event.objects.filter(dispute=dispute).in_time_order())
    assert step_title(page) == events[50].title, "the panel shows the page's first step"
    page.go_back()
    page.wait_for_url("**/events/*/")
    page.go_back()
    page.wait_for_url(base + dispute.get_absolute_url())
    page.wait_for_function(
        "() => !document.querySelector('#ladder-title').textContent.includes('51')"
    )
    page.reload()
    assert page.locator(".rung").count() == 50
    assert page.console_errors == []


def test_the_dispute_prints_on_a4_with_the_ladder_whole(record, browser, artifacts_dir):
    base, dispute, events = record
    context = browser.new_context()
    page = context.new_page()
    page.goto(base + dispute.get_absolute_url())
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 718, "height": 1000})  # A4 less 12 mm margins, at 96 dpi
    assert page.locator(".ladder-svg").is_visible()
    assert not page.locator(".timeline").first.is_visible()
    assert not page.locator(".site-header").is_visible()
    picture = page.locator(".ladder-svg").bounding_box()
    a4_height_px = (297 - 24) / 25.4 * 96
    assert picture["height"] <= a4_height_px, "the ladder fits on one page"
    assert picture["x"] >= 0 and picture["x"] + picture["width"] <= 718
    assert page.locator(".ladder-link").count() == RetaliationLink.objects.count()
    pdf = page.pdf(format="A4", path=str(artifacts_dir / "dispute-a4.pdf"))
    assert pdf.startswith(b"%PDF")
    context.close()


# For each ladder line, the points along it (every 4 units of the drawing) where a click would
# open another line's evidence instead: points closer than `near` units (the drawing's own,
# whatever its scale on screen) to another line are left out: there the lines meet or cross.
HIT_CHECK = """(near) => {
  const svg = document.querySelector('.ladder-svg');
  const lines = [...svg.querySelectorAll('a.ladder-link')].map((link) => {
    const path = link.querySelector('path.line.outer'), points = [];
    for (let at = 0; at <= path.getTotalLength(); at += 2) points.push(path.getPointAtLength(at));
    return {id: link.id, points, m: path.getScreenCTM()};
  });
  const wrong = [];
  for (const line of lines) {
    line.points.forEach((p, i) => {
      if (i % 2) return;
      const crowded = lines.some((other) => other !== line && other.points.some(
        (q) => Math.hypot(q.x - p.x, q.y - p.y) < near));
      if (crowded) return;
      const x = line.m.a * p.x + line.m.c * p.y + line.m.e;
      const y = line.m.b * p.x + line.m.d * p.y + line.m.f;
      const hit = document.elementFromPoint(x, y)?.closest('a.ladder-link');
      if (hit && hit.id !== line.id) wrong.push([line.id, hit.id, Math.round(p.x), Math.round(p.y)]);
    });
  }
  return wrong;
}"""


def test_a_click_on_a_ladder_line_opens_that_lines_evidence(record, browser):
    """Lines that run side by side (two links leaving one step 7 px apart) each open their
    own evidence wherever they are clicked: a hit area wider than the gap between them let
    the line drawn later take clicks meant for its neighbour."""
    base, dispute, events = record
    context = browser.new_context(viewport={"width": 1280, "height": 2000})
    page = context.new_page()
    page.goto(base + dispute.get_absolute_url())
    assert page.locator("a.ladder-link").count() == RetaliationLink.objects.count()
    assert page.evaluate(HIT_CHECK, 5) == []
    context.close()
