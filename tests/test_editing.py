"""Editors from a new article to a sourced, public record (issue 18): the annotate page,
quotes refused with the closest passage, dates typed as one field, drafts marked in the
admin, pickers that tell records apart, no lost updates, and recent changes restorable."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.test import Client
from django.utils.html import strip_tags

from disputes.models import Citation, Claim, Event, Person, RetaliationLink, Source
from tests import test_admin
from tests.test_admin import errors_of, form_data, post_form, url

record = test_admin.record  # the small record the admin's tests build

pytestmark = pytest.mark.django_db
SENTENCE_2 = (
    "Rustam Khukumov's 2008 arrest and subsequent sentencing to 9 1/2 years in prison became "
    "public knowledge only after Tajik authorities detained a Russian pilot"
)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def cite(record_obj, source, quote):
    return Citation.objects.create(
        source=source,
        quote=quote,
        content_type=ContentType.objects.get_for_model(record_obj),
        object_id=record_obj.pk,
    )


# Dates typed as one field ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "parts", "shown"),
    [
        ("2008", (2008, None, None), "2008"),
        ("March 2011", (2011, 3, None), "March 2011"),
        ("in November 2011", (2011, 11, None), "November 2011"),
        ("Dec. 28, 2011", (2011, 12, 28), "28 Dec 2011"),
        ("2011-12-28", (2011, 12, 28), "28 Dec 2011"),
        ("", (None, None, None), ""),
    ],
)
def test_a_date_typed_as_one_field_is_stored_in_its_parts_and_shown_back(
    editor_client, record, typed, parts, shown
):
    event = record["pilots"]
    response = post_form(editor_client, url("event_change", event.pk), {"date": typed})
    assert response.status_code == 302, errors_of(response)
    event.refresh_from_db()
    assert (event.date_year, event.date_month, event.date_day) == parts
    # The form shows the stored date as words that read back to the same parts.
    form = editor_client.get(url("event_change", event.pk)).context["adminform"].form
    assert form["date"].field.prepare_value(form["date"].value()) == shown


def test_a_date_the_form_cannot_read_is_refused_saying_what_to_write(editor_client, record):
    event = record["pilots"]
    for typed, words in [
        ("November", "has no year"),
        ("2011-02-30", "not a calendar date"),
        ("the day after", "write e.g."),
    ]:
        response = post_form(editor_client, url("event_change", event.pk), {"date": typed})
        assert response.status_code == 200
        assert any(words in error for error in errors_of(response)), errors_of(response)
    event.refresh_from_db()
    assert (event.date_year, event.date_month) == (2011, 3)


def test_the_parsed_date_is_shown_before_saving(editor_client):
    answer = editor_client.get("/admin/parse-date/", {"text": "Dec. 28, 2011"})
    assert answer.json() == {"shown": "28 Dec 2011", "precision": "day"}
    answer = editor_client.get("/admin/parse-date/", {"text": "Smarch 2011"})
    assert "is not a month" in answer.json()["error"]


def test_the_parse_date_address_is_for_editors_only(client, db):
    response = client.get("/admin/parse-date/", {"text": "2011"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_rule_of_the_model_is_shown_on_the_dates_one_field(editor_client, record):
    """A not-before date outside the event's own date: the model names not_before_year;
    the editor sees it on the one field."""
    event = record["pilots"]
    response = post_form(
        editor_client,
        url("event_change", event.pk),
        {"not_before": "2012", "not_before_inferred": "after a later step"},
    )
    assert response.status_code == 200
    assert "not_before" in response.context["adminform"].form.errors


# Quotes --------------------------------------------------------------------------------------


def test_a_quote_one_comma_off_is_refused_with_the_closest_passage_and_the_difference(
    editor_client, record
):
    event, source = record["pilots"], record["source"]
    typed = (
        "A Moscow region court ruled on Dec 28, that prosecutors did not present enough evidence"
    )
    response = post_form(
        editor_client,
        url("event_change", event.pk),
        inlines={
            "disputes-citation-content_type-object_id": [{"source": source.pk, "quote": typed}]
        },
    )
    assert response.status_code == 200
    [message] = [e for e in errors_of(response) if "closest passage" in e]
    text = strip_tags(message)
    assert "The closest passage is in sentence 2:" in text
    assert "“A Moscow region court ruled on Dec. 28 that prosecutors" in text
    # The differences, in brackets (readable without colour or a screen), each marked.
    assert "Dec[. | —] 28[— | ,] that" in text
    marks = re.findall(r'<mark class="quote-diff">(.*?)</mark>', response.content.decode())
    assert marks == ["[. | —]", "[— | ,]"]
    assert not event.citations.exists()


def test_the_annotate_page_marks_the_difference_of_a_mistyped_quote(editor_client, record):
    typed = "Both pilots were released later that month."
    response = annotate(editor_client, record["source"], _quote=[typed], make="event")
    marks = re.findall(r'<mark class="quote-diff">(.*?)</mark>', response.content.decode())
    assert marks == ["[freed | released]"]


def test_a_mistyped_quote_in_a_fixture_is_reported_as_plain_text(tmp_path, record):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    rows = json.loads(serializers.serialize("json", [record["source"], record["pilots"]]))
    rows.append(
        {
            "model": "disputes.citation",
            "fields": {
                "source": record["source"].pk,
                "quote": "Both pilots were released later that month.",
                "content_type": ["disputes", "event"],
                "object_id": record["pilots"].pk,
            },
        }
    )
    fixture = tmp_path / "mistyped.json"
    fixture.write_text(json.dumps(rows))
    with pytest.raises(CommandError) as refused:
        call_command("load_record", str(fixture), verbosity=0)
    assert "Both pilots were [freed | released] later that month." in str(refused.value)
    assert "<mark" not in str(refused.value) and "&#x27;" not in str(refused.value)


# Drafts in the admin ----------------------------------------------------------------------


def test_drafts_are_marked_and_filtered_in_the_admin_list(editor_client, record):
    source = record["source"]
    cite(record["pilots"], source, SENTENCE_2)
    cite(record["dispute"], source, SENTENCE_2)
    html = editor_client.get(url("event_changelist")).content.decode()
    assert html.count('<span class="draft-mark">draft</span>') == 2
    drafts = editor_client.get(url("event_changelist"), {"publication": "draft"})
    titles = {e.title for e in drafts.context["cl"].result_list}
    assert titles == {"Khukumov convicted", "Roundups of Tajik migrants"}
    public = editor_client.get(url("event_changelist"), {"publication": "public"})
    assert [e.title for e in public.context["cl"].result_list] == ["Pilots detained"]


def test_a_draft_says_on_its_form_what_keeps_it_from_readers(editor_client, record):
    event = record["pilots"]
    html = editor_client.get(url("event_change", event.pk)).content.decode()
    assert "Draft: readers do not see this event." in html
    assert "it has no quote yet" in html
    assert "its dispute “Russia and Tajikistan, 2008-2011” is a draft too" in html
    cite(event, record["source"], SENTENCE_2)
    cite(record["dispute"], record["source"], SENTENCE_2)
    html = editor_client.get(url("event_change", event.pk)).content.decode()
    assert "Public: readers see this event." in html


def test_saving_a_record_says_whether_it_is_published(editor_client, record):
    cite(record["dispute"], record["source"], SENTENCE_2)
    response = post_form(
        editor_client,
        url("event_add"),
        {
            "dispute": record["dispute"].pk,
            "kind": "release",
            "title": "Pilots freed",
            "actor": record["tj"].pk,
            "date": "November 2011",
        },
    )
    assert response.status_code == 302, errors_of(response)
    shown = [str(m) for m in response.wsgi_request._messages]
    assert any("saved as a draft" in m and "no quote yet" in m for m in shown), shown


# Pickers and links -----------------------------------------------------------------------


def test_pickers_show_date_lane_and_kind(editor_client, record):
    Event.objects.create(
        dispute=record["dispute"],
        kind="detention",
        title="Detention",
        actor=record["ru"],
        date_year=2008,
    )
    Event.objects.create(
        dispute=record["dispute"],
        kind="detention",
        title="Detention",
        actor=record["tj"],
        date_year=2011,
        date_month=3,
    )
    response = editor_client.get(
        "/admin/autocomplete/",
        {
            "term": "Detention",
            "app_label": "disputes",
            "model_name": "retaliationlink",
            "field_name": "cause",
        },
    )
    labels = sorted(r["text"] for r in response.json()["results"])
    assert labels == [  # with no quote yet, both are drafts
        "Detention · 2008 · RU lane · detention · draft",
        "Detention · March 2011 · TJ lane · detention · draft",
    ]


def test_pickers_mark_a_draft(editor_client, record):
    """An event no quote supports yet is marked in the picker, so that an editor linking
    to it knows the link will stay a draft with it."""
    cite(record["pilots"], record["source"], SENTENCE_2)
    cite(record["dispute"], record["source"], SENTENCE_2)
    response = editor_client.get(
        "/admin/autocomplete/",
        {
            "term": "",
            "app_label": "disputes",
            "model_name": "retaliationlink",
            "field_name": "cause",
        },
    )
    labels = {r["text"].split(" · ")[0]: r["text"] for r in response.json()["results"]}
    assert labels["Pilots detained"].endswith("· arrest")
    assert labels["Khukumov convicted"].endswith("· conviction · draft")


def test_pickers_find_events_by_what_they_show_kind_and_lane(editor_client, article):
    """What a picker shows is what an editor types: "detention" or "Tajikistan" finds the
    pilots' detention, whose title says neither word."""

    def found(term):
        response = editor_client.get(
            "/admin/autocomplete/",
            {
                "term": term,
                "app_label": "disputes",
                "model_name": "retaliationlink",
                "field_name": "cause",
            },
        )
        return [r["text"] for r in response.json()["results"]]

    pilots = Event.objects.get(kind="detention", actor__code="TJ")
    assert any(label.startswith(pilots.title) for label in found("detention"))
    assert any(label.startswith(pilots.title) for label in found("Tajikistan detention"))


def test_a_link_within_one_state_asks_for_confirmation(editor_client, record):
    cause, response_event = record["conviction"], record["roundups"]  # both Russia's
    data = {"cause": cause.pk, "response": response_event.pk, "evidence": "implied"}
    response = post_form(editor_client, url("retaliationlink_add"), data)
    assert response.status_code == 200
    assert any("Both events are in the lane of Russia" in e for e in errors_of(response))
    assert not RetaliationLink.objects.exists()
    response = post_form(
        editor_client, url("retaliationlink_add"), {**data, "same_state_confirmed": "on"}
    )
    assert response.status_code == 302, errors_of(response)
    assert RetaliationLink.objects.count() == 1


def test_the_same_state_question_is_asked_only_when_it_arises(editor_client, record):
    """The box is not on the form until a link joins one state's steps, and a confirmed
    link is not asked again each time its summary is edited."""
    page = editor_client.get(url("retaliationlink_add"))
    assert 'type="checkbox" name="same_state_confirmed"' not in page.content.decode()
    data = {"cause": record["conviction"].pk, "response": record["roundups"].pk}
    asked = post_form(editor_client, url("retaliationlink_add"), {**data, "evidence": "implied"})
    assert 'type="checkbox" name="same_state_confirmed"' in asked.content.decode()

    link = RetaliationLink.objects.create(
        evidence="implied", **{f"{k}_id": v for k, v in data.items()}
    )
    edited = post_form(editor_client, url("retaliationlink_change", link.pk), {"summary": "New"})
    assert edited.status_code == 302, errors_of(edited)
    link.refresh_from_db()
    assert link.summary == "New"
    # Moving it to another pair of the same state asks again.
    moved = post_form(
        editor_client,
        url("retaliationlink_change", link.pk),
        {
            "response": Event.objects.create(
                dispute=record["dispute"],
                kind="statement",
                title="Moscow protests",
                actor=record["ru"],
                date_year=2011,
                date_month=12,
            ).pk
        },
    )
    assert moved.status_code == 200
    assert any("Both events are in the lane of Russia" in e for e in errors_of(moved))


# Lost updates ----------------------------------------------------------------------------


def test_the_second_of_two_editors_saving_the_same_event_is_refused_and_shown_the_change(
    record, editor, superuser
):
    event = record["pilots"]
    first, second = Client(), Client()
    first.force_login(superuser)
    second.force_login(editor)
    path = url("event_change", event.pk)
    first_form = form_data(first.get(path))
    second_form = form_data(second.get(path))

    first_form["title"] = "Two pilots detained in Dushanbe"
    assert first.post(path, first_form).status_code == 302

    second_form["summary"] = "Their plane stopped to refuel."
    refused = second.post(path, second_form)
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "chief saved this event after you opened it" in html
    assert "Pilots detained → Two pilots detained in Dushanbe" in html
    event.refresh_from_db()
    assert event.title == "Two pilots detained in Dushanbe" and event.summary == ""
    # Nothing the second editor typed is lost: the form holds it, and saving it again
    # (having seen the other change) keeps it.
    again = form_data(refused)
    assert again["summary"] == "Their plane stopped to refuel."
    # What the second editor left alone now holds the first one's change, so saving again
    # loses neither.
    assert again["title"] == "Two pilots detained in Dushanbe"
    assert second.post(path, again).status_code == 302
    event.refresh_from_db()
    assert event.summary == "Their plane stopped to refuel."
    assert event.title == "Two pilots detained in Dushanbe"


def test_after_a_refused_save_both_editors_changes_are_kept_field_by_field(
    article, editor, superuser
):
    """Dates, people and the lane the second editor did not touch take the first editor's
    values; a field both changed keeps the second editor's, who has just been shown the
    other."""
    event = Event.objects.filter(people__isnull=False).first()
    other_lane = event.dispute.countries.exclude(pk=event.actor_id).get()
    first, second = Client(), Client()
    first.force_login(superuser)
    second.force_login(editor)
    path = url("event_change", event.pk)
    first_form, second_form = form_data(first.get(path)), form_data(second.get(path))

    first_form.update(
        {"date": "2011-12-28", "people": [], "actor": str(other_lane.pk), "title": "First's"}
    )
    assert first.post(path, first_form).status_code == 302
    second_form.update({"title": "Second's", "summary": "Second's summary."})
    refused = second.post(path, second_form)
    assert refused.status_code == 200
    again = form_data(refused)
    assert again["date"] == "28 Dec 2011" and again["people"] == []
    assert again["actor"] == str(other_lane.pk) and again["title"] == "Second's"
    saved = second.post(path, again)
    assert saved.status_code == 302, errors_of(saved)
    event.refresh_from_db()
    assert (event.date_year, event.date_month, event.date_day) == (2011, 12, 28)
    assert not event.people.exists() and event.actor == other_lane
    assert (event.title, event.summary) == ("Second's", "Second's summary.")


def test_a_quote_added_meanwhile_counts_as_a_change(record, editor, superuser):
    event = record["pilots"]
    client = Client()
    client.force_login(editor)
    path = url("event_change", event.pk)
    stale = form_data(client.get(path))
    cite(event, record["source"], SENTENCE_2)
    stale["title"] = "Stale title"
    response = client.post(path, stale)
    assert response.status_code == 200
    assert "quote added" in response.content.decode()
    event.refresh_from_db()
    assert event.title == "Pilots detained"


# The annotate page -----------------------------------------------------------------------


def annotate(editor_client, source, **picks):
    """The annotate page; with picks, the page's form posted with them."""
    if not picks:
        return editor_client.get(url("source_annotate", source.pk))
    return editor_client.post(url("source_annotate", source.pk), picks)


def test_the_annotate_page_numbers_the_sentences_and_marks_the_cut_off_lines(editor_client, record):
    source = record["source"]
    source.cut_off_lines = "2"
    source.save()
    response = annotate(editor_client, source)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('type="checkbox" name="_quote"') == source.sentences.count()
    assert "Sentence 1: " in html and f"Sentence {source.sentences.count()}: " in html
    assert html.count("[cut off in the capture]") == 1


def test_picked_sentences_open_a_new_event_with_its_quotes_filled_in(editor_client, record):
    source = record["source"]
    record["dispute"].sources.set([source])
    first, second = [source.text[s.start : s.end] for s in source.sentences.all()[:2]]
    response = annotate(editor_client, source, _quote=[first, second], make="event")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == url("event_add")
    assert parse_qs(target.query)["dispute"] == [str(record["dispute"].pk)]
    assert "_quote" not in target.query and first[:20] not in response["Location"]
    page = editor_client.get(response["Location"])
    quotes = [
        f.initial.get("quote")
        for inline in page.context["inline_admin_formsets"]
        for f in inline.formset.forms
    ]
    assert quotes == [first, second]
    data = form_data(page)
    data.update(
        {"kind": "arrest", "title": "Son arrested", "actor": record["ru"].pk, "date": "2008"}
    )
    saved = editor_client.post(response["Location"], data)
    assert saved.status_code == 302, errors_of(saved)
    event = Event.objects.get(title="Son arrested")
    assert sorted(event.citations.values_list("quote", flat=True)) == sorted([first, second])
    assert (event.date_year, event.dispute) == (2008, record["dispute"])


def test_picked_quotes_attach_to_an_existing_record(editor_client, record):
    source = record["source"]
    person = Person.objects.create(name="Rustam Khukumov", description="the son")
    response = annotate(
        editor_client, source, _quote=["Rustam Khukumov"], attach="person", record_person=person.pk
    )
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == url("person_change", person.pk)
    page = editor_client.get(response["Location"])
    saved = editor_client.post(response["Location"], form_data(page))
    assert saved.status_code == 302, errors_of(saved)
    assert list(person.citations.values_list("quote", flat=True)) == ["Rustam Khukumov"]


def test_a_picked_quote_not_in_the_text_stays_on_the_page_with_the_closest_passage(
    editor_client, record
):
    source = record["source"]
    typed = "Both pilots were released later that month."
    response = annotate(editor_client, source, _quote=[typed], make="event")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Both pilots were [freed | released] later that month." in strip_tags(html)
    assert typed in html  # kept for the editor to correct


def test_twenty_long_quotes_reach_the_form_through_a_short_address(editor_client, record):
    source = Source.objects.create(
        title="A long source",
        publisher="Test",
        text=" ".join(
            f"Sentence number {n} is a long one, {'and longer ' * 20}." for n in range(20)
        ),
    )
    quotes = [source.text[s.start : s.end] for s in source.sentences.all()]
    assert len(quotes) == 20 and sum(map(len, quotes)) > 4000
    response = annotate(editor_client, source, _quote=quotes, make="person")
    assert response.status_code == 302 and len(response["Location"]) < 100
    page = editor_client.get(response["Location"])
    filled = [
        (f.initial.get("source"), f.initial.get("quote"))
        for inline in page.context["inline_admin_formsets"]
        for f in inline.formset.forms
        if f.initial
    ]
    assert filled == [(source.pk, quote) for quote in quotes]


def test_picks_no_longer_at_hand_are_said_to_be(editor_client, editor, record):
    """An address copied to another browser, or opened after the session ended."""
    response = annotate(editor_client, record["source"], _quote=["Rustam Khukumov"], make="person")
    other = Client()
    other.force_login(editor)  # a session of its own
    page = other.get(response["Location"])
    assert page.status_code == 200
    assert "no longer at hand" in page.content.decode()


def test_quotes_in_an_address_fill_nothing(editor_client, record):
    """The annotate page no longer reads picks from its address, nor a form from its own."""
    source = record["source"]
    response = editor_client.get(
        url("source_annotate", source.pk), {"_quote": "Rustam Khukumov", "make": "event"}
    )
    assert response.status_code == 200 and response.context["quotes"] == []
    page = editor_client.get(url("person_add"), {"_source": source.pk, "_quote": "Rustam"})
    assert not any(
        f.initial for inline in page.context["inline_admin_formsets"] for f in inline.formset.forms
    )


def test_attaching_without_choosing_a_record_says_so(editor_client, record):
    response = annotate(editor_client, record["source"], _quote=["Rustam Khukumov"], attach="event")
    assert response.status_code == 200
    assert "Choose the event to attach the quotes to" in response.content.decode()


def test_a_picked_record_that_is_not_a_key_is_refused_not_a_server_error(editor_client, record):
    """A hand-edited form (or a stale one) may post any text as the record picked."""
    response = annotate(
        editor_client, record["source"], _quote=["Rustam"], attach="event", record_event="abc"
    )
    assert response.status_code == 200
    assert "Choose the event to attach the quotes to" in response.content.decode()
    response = post_form(
        editor_client,
        url("event_change", record["pilots"].pk),
        {"case": "abc", "people": ["x"]},
        inlines={"disputes-citation-content_type-object_id": [{"source": "y", "quote": "Rustam"}]},
    )
    assert response.status_code == 200
    assert len(errors_of(response)) == 3, errors_of(response)


def test_a_malformed_annotate_address_is_not_found(editor_client, record):
    assert editor_client.get("/admin/disputes/source/x/annotate/").status_code == 404
    assert editor_client.get("/admin/disputes/source/999/annotate/").status_code == 404


# Sources ---------------------------------------------------------------------------------


def test_a_source_keeps_its_publication_details(editor_client, record):
    source = record["source"]
    response = post_form(
        editor_client,
        url("source_change", source.pk),
        {
            "author": "Staff writer",
            "published": "Jan. 5, 2012",
            "language": "en",
            "archive_url": "https://web.archive.org/web/2012/https://example.org/a",
            "captured": "2026-11-28",
            "cut_off_lines": "2, 9",
        },
    )
    assert response.status_code == 302, errors_of(response)
    source.refresh_from_db()
    assert str(source.published) == "5 Jan 2012"
    assert source.cut_off_line_numbers == [2, 9]
    page = Client().get(source.get_absolute_url()).content.decode()
    assert "Archived copy" in page and "web.archive.org" in page
    assert page.count("[cut off in the captured text]") == 2
    assert "Staff writer" in page and "5 Jan 2012" in page


def test_cut_off_lines_beyond_the_text_are_refused(editor_client, record):
    source = record["source"]
    response = post_form(editor_client, url("source_change", source.pk), {"cut_off_lines": "2, 40"})
    assert response.status_code == 200
    assert any("there is no line 40" in e for e in errors_of(response))


# Recent changes --------------------------------------------------------------------------


def test_recent_changes_list_every_kind_of_record_newest_first(editor_client, record):
    post_form(
        editor_client, url("person_add"), {"name": "Amonullo Khukumov", "description": "father"}
    )
    post_form(editor_client, url("event_change", record["pilots"].pk), {"title": "Pilots held"})
    response = editor_client.get("/admin/recent-changes/")
    rows = response.context["changes"]
    assert [(r["action"], r["kind"], r["label"]) for r in rows[:2]] == [
        ("changed", "event", "Pilots held"),
        ("added", "person", "Amonullo Khukumov"),
    ]
    only = editor_client.get("/admin/recent-changes/", {"kind": "person"}).context["changes"]
    assert {r["kind"] for r in only} == {"person"}


def test_a_deleted_event_is_restored_from_recent_changes_with_its_quotes(
    editor_client, record, client
):
    event, source = record["pilots"], record["source"]
    cite(event, source, SENTENCE_2)
    cite(record["dispute"], source, SENTENCE_2)
    event.people.add(Person.objects.create(name="A pilot", description="a Russian pilot"))
    assert client.get(event.get_absolute_url()).status_code == 200
    assert editor_client.post(url("event_delete", event.pk), {"post": "yes"}).status_code == 302
    assert not Event.objects.filter(pk=event.pk).exists()
    assert client.get(event.get_absolute_url()).status_code == 404

    page = editor_client.get("/admin/recent-changes/")
    [deleted] = [
        r for r in page.context["changes"] if r["action"] == "deleted" and r["kind"] == "event"
    ]
    assert deleted["restore_url"] in page.content.decode()
    response = editor_client.post(deleted["restore_url"])
    assert response.status_code == 302
    restored = Event.objects.get(pk=event.pk)
    assert restored.title == "Pilots detained"
    assert list(restored.citations.values_list("quote", flat=True)) == [SENTENCE_2]
    assert [p.name for p in restored.people.all()] == ["A pilot"]
    assert client.get(event.get_absolute_url()).status_code == 200  # public again
    # Restoring twice does nothing more.
    editor_client.post(deleted["restore_url"])
    assert Citation.objects.filter(object_id=event.pk, source=source).count() == 1


def test_a_changed_record_is_restored_from_its_version_on_recent_changes(editor_client, record):
    event = record["pilots"]
    post_form(editor_client, url("event_change", event.pk), {"title": "Pilots held"})
    rows = editor_client.get("/admin/recent-changes/").context["changes"]
    before = [r for r in rows if r["kind"] == "event" and r["label"] == "Pilots detained"][0]
    response = post_form(editor_client, before["version_url"])
    assert response.status_code == 302, errors_of(response)
    event.refresh_from_db()
    assert event.title == "Pilots detained"


def test_restore_needs_a_post_and_an_existing_deletion(editor_client, record):
    assert editor_client.get("/admin/recent-changes/restore/event/1/").status_code == 405
    assert editor_client.post("/admin/recent-changes/restore/nothing/1/").status_code == 404
    assert editor_client.post("/admin/recent-changes/restore/event/99999/").status_code == 404


def test_recent_changes_is_for_editors_only(client, db):
    response = client.get("/admin/recent-changes/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_export_keeps_the_new_fields(record):
    """The backup carries the source's details and the records' revisions."""
    source = record["source"]
    source.cut_off_lines = "2"
    source.save()
    from django.core import serializers

    [row] = json.loads(serializers.serialize("json", Source.objects.all()))
    assert row["fields"]["cut_off_lines"] == "2" and row["fields"]["revision"] == 2


def test_the_annotate_page_reads_the_same_queries_for_a_long_source(editor_client, record):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    short = record["source"]
    long = Source.objects.create(
        title="A long source", publisher="Test", text=" ".join(["One sentence here."] * 60)
    )
    cite(record["pilots"], long, "One sentence here.")
    counts = []
    for source in (short, long):
        with CaptureQueriesContext(connection) as queries:
            assert annotate(editor_client, source).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def quotes_of(obj) -> list[str]:
    return sorted(obj.citations.values_list("quote", flat=True))


def restore_deletion(editor_client, kind: str, label: str):
    rows = editor_client.get("/admin/recent-changes/", {"kind": kind}).context["changes"]
    [row] = [r for r in rows if r["action"] == "deleted" and r["label"] == label]
    return editor_client.post(row["restore_url"])


def test_a_deleted_link_is_restored_with_its_claims_and_their_quotes(editor_client, article):
    """A link's claims (who asserts, who denies, each with its quote) are deleted with it;
    restoring the link brings them back, or it returns without its evidence."""
    link = RetaliationLink.objects.filter(claims__citations__isnull=False).distinct().first()
    claims = {claim.pk: quotes_of(claim) for claim in link.claims.all()}
    own = quotes_of(link)
    label, page = str(link), link.get_absolute_url()
    assert (
        editor_client.post(url("retaliationlink_delete", link.pk), {"post": "yes"}).status_code
        == 302
    )
    assert not Claim.objects.filter(pk__in=claims).exists()

    assert restore_deletion(editor_client, "retaliationlink", label).status_code == 302
    link = RetaliationLink.objects.get(pk=link.pk)
    assert quotes_of(link) == own
    assert {claim.pk: quotes_of(claim) for claim in link.claims.all()} == claims
    assert Client().get(page).status_code == 200


def test_a_deleted_person_is_restored_with_their_roles_and_relations(editor_client, article):
    person = Person.objects.filter(roles__isnull=False, relations_from__isnull=False).first()
    roles = {role.pk: quotes_of(role) for role in person.roles.all()}
    relations = {r.pk: quotes_of(r) for r in person.relations_from.all()}
    label = str(person)
    assert editor_client.post(url("person_delete", person.pk), {"post": "yes"}).status_code == 302

    assert restore_deletion(editor_client, "person", label).status_code == 302
    person = Person.objects.get(pk=person.pk)
    assert {role.pk: quotes_of(role) for role in person.roles.all()} == roles
    assert {r.pk: quotes_of(r) for r in person.relations_from.all()} == relations


# Change history readers see ----------------------------------------------------------------


def test_every_public_page_says_when_its_record_last_changed(editor_client, article):
    import datetime

    from disputes.models import Case, Country, Detention, Dispute

    long_ago = datetime.datetime(2020, 5, 17, 12, tzinfo=datetime.UTC)
    models = (Dispute, Event, RetaliationLink, Person, Case, Detention, Country, Source)
    for model in models:
        model.objects.update(last_changed=long_ago)
    reader = Client()
    for model in models:
        obj = model.objects.public().first()
        html = reader.get(obj.get_absolute_url()).content.decode()
        assert 'Last changed <time datetime="2020-05-17T12:00:00+00:00">17 May 2020</time>' in (
            html
        ), model

    event = Event.objects.public().first()
    post_form(editor_client, url("event_change", event.pk), {"summary": "Corrected."})
    event.refresh_from_db()
    assert event.last_changed.date() > long_ago.date()
    html = reader.get(event.get_absolute_url()).content.decode()
    assert f'Last changed <time datetime="{event.last_changed.isoformat()}' in html


def test_a_dispute_changed_when_one_of_its_steps_or_links_did(editor_client, article):
    """A dispute's page shows its chain, so an edit to one of its steps or links is a change
    to it, and so is a step deleted: its "Last changed" (page and swapped step), its JSON
    twin, its row in the list of disputes and its JSON-LD say so, and never go back."""
    import datetime

    from disputes.models import Dispute

    long_ago = datetime.datetime(2020, 5, 17, 12, tzinfo=datetime.UTC)
    for model in (Dispute, Event, RetaliationLink):
        model.objects.update(last_changed=long_ago)
    dispute = Dispute.objects.get()
    event = Event.objects.public().first()
    reader = Client()

    def said() -> set[str]:
        html = reader.get(dispute.get_absolute_url()).content.decode()
        fragment = reader.get(dispute.step_url(event.pk), HTTP_HX_REQUEST="true")
        twin = reader.get(dispute.get_absolute_url().rstrip("/") + ".json").json()
        listed = reader.get("/disputes.json").json()
        ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
        return {
            *re.findall(r'id="last-changed".*?<time datetime="([^"]+)"', html),
            *re.findall(r'id="last-changed".*?<time datetime="([^"]+)"', fragment.content.decode()),
            twin["last_changed"],
            *(row["last_changed"] for row in listed["results"]),
            json.loads(ld.group(1))["dateModified"],
        }

    assert said() == {long_ago.isoformat()}

    later = long_ago + datetime.timedelta(days=3)
    RetaliationLink.objects.filter(pk=RetaliationLink.objects.public().first().pk).update(
        last_changed=later
    )
    assert said() == {later.isoformat()}

    post_form(editor_client, url("event_change", event.pk), {"summary": "Corrected."})
    event.refresh_from_db()
    assert event.last_changed > later
    assert said() == {event.last_changed.isoformat()}

    step = Event.objects.create(
        dispute=dispute, kind="statement", title="A late step", actor=event.actor, date_year=2011
    )
    cite(step, Source.objects.first(), Source.objects.first().text[:40])
    assert Event.objects.public().filter(pk=step.pk).exists()
    for model in (Dispute, Event, RetaliationLink):
        model.objects.update(last_changed=long_ago)
    step.delete()  # no row is left to say when: the dispute says it
    dispute.refresh_from_db()
    assert dispute.last_changed > later
    assert said() == {dispute.last_changed.isoformat()}


def test_a_step_moved_to_another_dispute_dates_the_dispute_it_left(editor_client, article):
    """A step moved to another dispute (in the admin, or by a save in code) changes both
    chains: the dispute it joined has the step's new date, and the one it left, which has
    no row left to say so, dates itself; neither goes back. A save that leaves the step
    where it was dates no other dispute."""
    import datetime

    from disputes.models import Dispute

    long_ago = datetime.datetime(2020, 5, 17, 12, tzinfo=datetime.UTC)
    home = Dispute.objects.get()
    other = Dispute.objects.create(title="Another dispute")
    cite(other, Source.objects.first(), Source.objects.first().text[:40])
    actor = Event.objects.first().actor
    other.countries.add(actor)
    step = Event.objects.create(
        dispute=home, kind="statement", title="A step filed here", actor=actor
    )
    for model in (Dispute, Event, RetaliationLink):
        model.objects.update(last_changed=long_ago)

    def latest(dispute):
        return Dispute.objects.with_chain_changes().get(pk=dispute.pk).latest_change

    step.refresh_from_db()
    step.summary = "Said again."
    step.save()
    assert latest(home) == step.last_changed > long_ago
    assert latest(other) == long_ago  # nothing of its chain changed

    Event.objects.filter(pk=step.pk).update(last_changed=long_ago)
    home.refresh_from_db()
    Dispute.objects.update(last_changed=long_ago)
    response = post_form(editor_client, url("event_change", step.pk), {"dispute": other.pk})
    assert response.status_code == 302, errors_of(response)
    step.refresh_from_db()
    assert step.dispute == other
    assert latest(other) == step.last_changed > long_ago
    assert latest(home) > long_ago  # its chain lost a step

    Dispute.objects.update(last_changed=long_ago)
    step.dispute = home
    step.save(update_fields=["dispute"])
    assert latest(other) > long_ago
    Dispute.objects.update(last_changed=long_ago)
    Event.objects.filter(pk=step.pk).update(last_changed=long_ago)
    step.save(update_fields=["summary"])
    assert latest(other) == long_ago


def test_recent_changes_reads_the_same_queries_however_many_rows_it_lists(
    editor_client, article, django_assert_max_num_queries
):
    """Each row names its record (a link by its two events, a detention by its person and
    state): those names are read for all rows at once, not row by row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from disputes.models import Detention, Role

    def edit_all(times):
        for _ in range(times):
            for model in (RetaliationLink, Detention, Role, Claim):
                for obj in model.objects.all():
                    obj.save()

    counts = []
    for times in (1, 4):
        edit_all(times)
        with CaptureQueriesContext(connection) as queries:
            response = editor_client.get("/admin/recent-changes/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(40):
        editor_client.get("/admin/recent-changes/")


def test_a_change_whose_record_names_a_deleted_record_is_listed_by_kind_and_id(
    editor_client, record
):
    gone = Event.objects.create(
        dispute=record["dispute"],
        kind="statement",
        title="Gone",
        actor=record["ru"],
        date_year=2011,
    )
    link = RetaliationLink.objects.create(cause=record["pilots"], response=gone, evidence="implied")
    pk = link.pk
    link.delete()
    gone.delete()
    rows = editor_client.get("/admin/recent-changes/", {"kind": "retaliationlink"})
    labels = [row["label"] for row in rows.context["changes"]]
    assert labels == [f"retaliation link {pk}"] * 2
