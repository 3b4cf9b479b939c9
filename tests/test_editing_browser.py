"""An editor in real Chromium, from a source to a public record: log in, open the source,
annotate it, make an event with a date and two quotes, and see it public; save a link with
no quote and see it nowhere public. Every click, key press and typed field on the way is
counted, and the admin's forms are measured at 1,280 px for sideways scrolling.
"""

import pytest
from django.core.management import call_command

from disputes.models import Dispute, Event, RetaliationLink, Source
from tests.test_admin import pick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOST_ACTIONS = 12  # issue 18: one event with a date and two quotes in a dozen actions
WIDTH = 1280


class Editor:
    """The page, with each thing an editor does counted as one action."""

    def __init__(self, page):
        self.page = page
        self.actions = []

    def click(self, selector, what):
        self.page.click(selector)
        self.actions.append(f"click {what}")

    def type(self, selector, text, what):
        self.page.fill(selector, text)
        self.actions.append(f"type {what}")


@pytest.fixture
def site(transactional_db, live_server, editor):
    call_command("loaddata", "russia_tajikistan", verbosity=0)
    return live_server.url


def log_in(page, base, username="editor", password="correct horse battery"):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_an_editor_turns_two_sentences_into_a_dated_public_event_in_a_dozen_actions(
    site, browser, artifacts_dir
):
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, site)
    source = Source.objects.get()
    [first, second] = [source.text[s.start : s.end] for s in source.sentences.all()[:2]]

    editor = Editor(page)
    editor.click("#content-main a[href$='/disputes/source/']", "Sources")
    editor.click("a:text-is('Annotate')", "Annotate on the source's row")
    page.wait_for_url("**/annotate/")
    editor.click(".pick[data-start='0'] .pick-text", "sentence 1")
    editor.click(f".pick[data-start='{source.text.index(second)}'] .pick-text", "sentence 2")
    assert page.locator("#picked textarea").count() == 2
    assert no_sideways_scroll(page), "the annotate page scrolls sideways at 1,280 px"
    page.screenshot(path=str(artifacts_dir / "admin-annotate-1280.png"), full_page=True)

    editor.click("button[name=make][value=event]", "New event")
    page.wait_for_url("**/admin/disputes/event/add/**")
    editor.click("#id_kind input[value=acquittal]", "kind: acquittal")
    editor.type("#id_title", "Khukumov cleared by a Moscow region court", "the title")
    editor.click("#id_actor input[type=radio] >> nth=0", "lane: Russia")
    editor.type("#id_date", "Dec. 28, 2011", "the date")
    page.wait_for_function(
        "() => document.querySelector('output.date-reading')?.textContent"
        ".includes('Read as: 28 Dec 2011 (day precision)')"
    )
    assert no_sideways_scroll(page), "the event form scrolls sideways at 1,280 px"
    # a title or a reason is read whole, not through a 20-character slot
    for field in ("#id_title", "#id_date_inferred"):
        assert page.locator(field).bounding_box()["width"] > 500, field
    page.screenshot(path=str(artifacts_dir / "admin-event-form-1280.png"), full_page=True)
    editor.click("input[name=_save]", "Save")
    page.wait_for_url("**/admin/disputes/event/")

    assert len(editor.actions) <= MOST_ACTIONS, editor.actions
    event = Event.objects.get(title="Khukumov cleared by a Moscow region court")
    assert (event.date_year, event.date_month, event.date_day) == (2011, 12, 28)
    assert event.actor.code == "RU" and event.dispute == Dispute.objects.get()
    assert sorted(event.citations.values_list("quote", flat=True)) == sorted([first, second])
    assert "is public: readers see it" in page.inner_text(".messagelist")

    # Public at once: its page, the dispute's ladder, search.
    page.goto(site + event.get_absolute_url())
    assert page.locator("h1, #step-title").first.inner_text().strip() == event.title
    assert "28 Dec 2011" in page.inner_text("main")
    page.goto(site + Dispute.objects.get().get_absolute_url())
    assert event.title in page.inner_text("main")
    assert errors == []
    context.close()


def test_a_link_saved_without_a_quote_is_nowhere_public(site, page):
    log_in(page, site)
    page.goto(f"{site}/admin/disputes/retaliationlink/add/")
    pick(page, "id_cause", "Both pilots freed")
    pick(page, "id_response", "Tajik migrants")
    page.click("#id_evidence input[value=speculated]")
    page.fill("#id_summary", "Zeppelin hypothesis nobody has sourced")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/disputes/retaliationlink/")
    assert "saved as a draft" in page.inner_text(".messagelist")
    link = RetaliationLink.objects.get(summary__startswith="Zeppelin")
    # Marked as a draft in the admin's list.
    page.goto(f"{site}/admin/disputes/retaliationlink/?publication=draft")
    assert page.locator("#result_list tbody tr").count() == 1

    page.context.clear_cookies()  # a reader now
    assert page.goto(site + link.get_absolute_url()).status == 404
    assert page.goto(f"{site}/links/{link.pk}/").status == 404
    # A search echoes its query: each asks for one word of the summary and looks for another.
    for path, secret in (
        (Dispute.objects.get().get_absolute_url(), "Zeppelin"),
        (link.cause.get_absolute_url(), "Zeppelin"),
        (link.response.get_absolute_url(), "Zeppelin"),
        ("/search/?q=Zeppelin", "nobody has sourced"),
        ("/search/?q=hypothesis", "Zeppelin"),
    ):
        page.goto(site + path)
        assert secret not in page.content(), path
        assert link.get_absolute_url() not in page.content(), path


@pytest.mark.parametrize("width", [WIDTH, 390])
def test_screenshots_of_the_admin_forms(site, browser, artifacts_dir, width):
    """For a person to look at: the event form, the link form, the annotate page and
    recent changes, at a desktop's and a phone's width."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    log_in(page, site)
    event = Event.objects.filter(provoked_links__isnull=False).first()
    source = Source.objects.get()
    link = RetaliationLink.objects.first()
    pages = {
        "event-change": f"/admin/disputes/event/{event.pk}/change/",
        "link-change": f"/admin/disputes/retaliationlink/{link.pk}/change/",
        "annotate-unpicked": f"/admin/disputes/source/{source.pk}/annotate/",
        "source-change": f"/admin/disputes/source/{source.pk}/change/",
        "recent-changes": "/admin/recent-changes/",
    }
    for name, path in pages.items():
        page.goto(site + path)
        page.screenshot(path=str(artifacts_dir / f"admin-{name}-{width}.png"), full_page=True)
        if width == WIDTH or name in ("annotate-unpicked", "recent-changes"):
            assert no_sideways_scroll(page), (name, width)
        if width == WIDTH and name in ("event-change", "link-change"):
            # A chosen record shows its date and lane, not a title cut short.
            assert page.evaluate(CUT_SHORT_PICKERS) == [], name
            assert page.evaluate(OVERLAPPING_TITLE) is False, name
    context.close()


# The pickers of a form's main fields whose chosen label does not fit its box.
CUT_SHORT_PICKERS = """() => Array.from(document.querySelectorAll(
    'fieldset.aligned .select2-selection__rendered')).filter(
    (el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent)"""
# Whether the record's title runs under the History / View on site buttons.
OVERLAPPING_TITLE = """() => {
  const title = document.querySelector('#content > h2');
  const tools = document.querySelector('.object-tools');
  if (!title || !tools) return false;
  const range = document.createRange();
  range.selectNodeContents(title);
  const a = tools.getBoundingClientRect();
  return Array.from(range.getClientRects()).some((b) =>
    b.left < a.right && a.left < b.right && b.top < a.bottom && a.top < b.bottom);
}"""


def test_a_link_within_one_state_is_saved_once_the_editor_confirms_it(site, page):
    cause, response = Event.objects.filter(actor__code="RU").order_by("date_key")[:2]
    log_in(page, site)
    page.goto(f"{site}/admin/disputes/retaliationlink/add/")
    assert not page.locator("#id_same_state_confirmed").is_visible()
    pick(page, "id_cause", cause.title)
    pick(page, "id_response", response.title)
    page.click("#id_evidence input[value=speculated]")
    page.click("input[name=_save]")
    page.wait_for_load_state()
    assert "Both events are in the lane of Russia" in page.inner_text("#content-main")
    assert not RetaliationLink.objects.filter(cause=cause, response=response).exists()
    page.check("#id_same_state_confirmed")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/disputes/retaliationlink/")
    assert RetaliationLink.objects.filter(cause=cause, response=response).exists()


def test_two_editors_in_two_browsers_keep_both_changes_and_a_deletion_is_restored(
    site, browser, superuser
):
    """The second save is refused with the first editor's change shown; saving again keeps
    both. Then the first editor deletes a link and brings it back from recent changes."""
    contexts = [browser.new_context(viewport={"width": WIDTH, "height": 900}) for _ in "ab"]
    first, second = (context.new_page() for context in contexts)
    log_in(first, site)
    log_in(second, site, superuser.username, "correct horse battery staple")
    event = Event.objects.filter(provoked_links__isnull=False).first()
    path = f"{site}/admin/disputes/event/{event.pk}/change/"
    first.goto(path)
    second.goto(path)
    first.fill("#id_title", "Title by the first editor")
    first.click("input[name=_save]")
    first.wait_for_url("**/admin/disputes/event/")
    second.fill("#id_summary", "Summary by the second editor.")
    second.click("input[name=_continue]")
    second.wait_for_load_state()
    assert "saved this event after you opened it" in second.inner_text("#content-main")
    assert second.input_value("#id_title") == "Title by the first editor"
    second.click("input[name=_continue]")
    second.wait_for_load_state()
    event.refresh_from_db()
    assert (event.title, event.summary) == (
        "Title by the first editor",
        "Summary by the second editor.",
    )

    link = event.provoked_links.first()
    claims = link.claims.count()
    first.goto(f"{site}/admin/disputes/retaliationlink/{link.pk}/delete/")
    first.click("input[type=submit]")
    first.wait_for_url("**/admin/disputes/retaliationlink/")
    first.goto(f"{site}/admin/recent-changes/?kind=retaliationlink")
    first.click("#recent-changes tr.change-deleted button.restore-button >> nth=0")
    first.wait_for_load_state()
    assert "Restored retaliation link" in first.inner_text(".messagelist")
    restored = RetaliationLink.objects.get(pk=link.pk)
    assert restored.claims.count() == claims and restored.citations.exists()
    assert first.goto(site + restored.get_absolute_url()).status == 200
    for context in contexts:
        context.close()
