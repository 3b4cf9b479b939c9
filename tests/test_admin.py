"""The admin as an editor uses it: a user in the "editors" group, posting the admin's own
forms (read back from the page, with their inline management forms) through the test client.
"""

from unittest import mock

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.urls import reverse
from django.utils.html import escape

from bench.generate import publish
from disputes.apps import EDITORS_GROUP, is_history_model
from disputes.models import (
    BOOKKEEPING,
    Case,
    Citation,
    Claim,
    Country,
    Detention,
    Dispute,
    Event,
    Person,
    RetaliationLink,
    Sentence,
    Source,
)
from tests.conftest import SEED  # noqa: E402

ARTICLE = "\n".join(SEED.read_text().splitlines()[:10])
SPECULATION = (
    "observers speculated that the arrest was an attempt by President Rakhmon "
    "to pressure Russia to release Khukumov"
)
CITATIONS = "disputes-citation-content_type-object_id"  # the generic inline's form prefix

# The page cache's counter and search's index: written from the record, not part of it.
TECHNICAL = {model.__name__ for model in BOOKKEEPING}
APP_MODELS = [m for m in apps.get_app_config("disputes").get_models() if not is_history_model(m)]
RECORD_MODELS = [m for m in APP_MODELS if m.__name__ not in TECHNICAL]


def url(name, *args):
    return reverse(f"admin:disputes_{name}", args=args)


def form_data(response) -> dict:
    """What the browser would post back: every field of the page's form and its inline
    formsets (management forms included) with the values the page shows."""
    data = {}

    def add(form):
        for field in form:
            value = field.value()
            if isinstance(value, bool):
                if value:
                    data[field.html_name] = "on"
                continue
            if isinstance(field.field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
                data[field.html_name] = [str(v) for v in value or []]
            elif isinstance(value, list | tuple):
                data[field.html_name] = [str(v) for v in value]
            else:
                data[field.html_name] = "" if value is None else str(value)

    context = response.context
    add(context["adminform"].form)
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def post_form(client, path, changes=None, inlines=None):
    """Open the admin page at path, fill in `changes`, and save.

    `inlines` maps a formset prefix to a list of rows (dicts) to put in its extra forms.
    """
    page = client.get(path)
    assert page.status_code == 200, page
    data = form_data(page)
    data.update(changes or {})
    for prefix, rows in (inlines or {}).items():
        initial = int(data[f"{prefix}-INITIAL_FORMS"])
        for i, row in enumerate(rows, start=initial):
            for key, value in row.items():
                data[f"{prefix}-{i}-{key}"] = value
        total = max(int(data[f"{prefix}-TOTAL_FORMS"]), initial + len(rows))
        data[f"{prefix}-TOTAL_FORMS"] = str(total)
    return client.post(path, data)


def errors_of(response) -> list[str]:
    """Every error message shown on a re-displayed admin form, main form and inlines."""
    context = response.context
    messages = []
    form = context["adminform"].form
    for name, errors in form.errors.items():
        messages += [f"{name}: {error}" for error in errors]
    for inline in context.get("inline_admin_formsets", []):
        messages += inline.formset.non_form_errors()
        for inline_errors in inline.formset.errors:
            for errors in inline_errors.values():
                messages += errors
    return messages


@pytest.fixture
def editor_client(client, editor):
    assert not editor.is_superuser
    assert editor.groups.filter(name=EDITORS_GROUP).exists()
    client.force_login(editor)
    return client


@pytest.fixture
def record(db):
    """A small piece of the Russia-Tajikistan record, built here so these tests do not
    depend on the fixture's details."""
    ru = Country.objects.create(code="RU", name="Russia", demonym="Russian")
    tj = Country.objects.create(code="TJ", name="Tajikistan", demonym="Tajik")
    source = Source.objects.create(
        title="Tajik official's son cleared", publisher="The Moscow Times", text=ARTICLE
    )
    dispute = Dispute.objects.create(title="Russia and Tajikistan, 2008-2011")
    dispute.countries.set([ru, tj])
    dispute.sources.set([source])
    conviction = Event.objects.create(
        dispute=dispute, kind="conviction", title="Khukumov convicted", actor=ru, date_year=2010
    )
    pilots = Event.objects.create(
        dispute=dispute,
        kind="arrest",
        title="Pilots detained",
        actor=tj,
        date_year=2011,
        date_month=3,
    )
    roundups = Event.objects.create(
        dispute=dispute,
        kind="roundup",
        title="Roundups of Tajik migrants",
        actor=ru,
        date_year=2011,
        date_month=11,
    )
    return {
        "ru": ru,
        "tj": tj,
        "source": source,
        "dispute": dispute,
        "conviction": conviction,
        "pilots": pilots,
        "roundups": roundups,
    }


def counts():
    return (RetaliationLink.objects.count(), Claim.objects.count(), Citation.objects.count())


# The editors group -------------------------------------------------------------------


def test_editors_group_keeps_the_record_but_not_users_groups_or_permissions(db):
    group = Group.objects.get(name=EDITORS_GROUP)
    granted = set(group.permissions.values_list("content_type__app_label", "codename"))
    for model in RECORD_MODELS:
        for action in ("add", "change", "delete", "view"):
            assert ("disputes", f"{action}_{model._meta.model_name}") in granted
    assert ("disputes", "view_historicalevent") in granted
    assert ("disputes", "change_historicalevent") not in granted
    assert {app for app, _ in granted} == {"disputes"}
    for model in APP_MODELS:
        if model.__name__ in TECHNICAL:
            assert not {c for _, c in granted if c.endswith(f"_{model._meta.model_name}")}
    assert not Permission.objects.filter(group=group, content_type__app_label="auth").exists()


def test_editors_group_is_put_right_on_the_next_migrate(db):
    from disputes.apps import grant_editors

    group = Group.objects.get(name=EDITORS_GROUP)
    group.permissions.add(Permission.objects.get(codename="change_user"))
    group.permissions.remove(Permission.objects.get(codename="change_event"))
    grant_editors(apps.get_app_config("disputes"))
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert "change_event" in codenames and "change_user" not in codenames


@pytest.mark.parametrize(
    "path",
    [
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/auth/group/",
        "/admin/auth/group/add/",
    ],
)
def test_editor_is_refused_the_user_and_group_admin(editor_client, editor, path):
    assert editor_client.get(path).status_code == 403
    group = Group.objects.get(name=EDITORS_GROUP)
    for change in (
        f"/admin/auth/user/{editor.pk}/change/",
        f"/admin/auth/group/{group.pk}/change/",
    ):
        assert editor_client.get(change).status_code == 403


def test_editor_cannot_grant_themselves_rights(editor_client, editor):
    response = editor_client.post(
        f"/admin/auth/user/{editor.pk}/change/",
        {"username": "editor", "is_superuser": "on", "is_staff": "on", "is_active": "on"},
    )
    assert response.status_code == 403
    editor.refresh_from_db()
    assert not editor.is_superuser


def test_editor_sees_the_record_and_not_auth_on_the_admin_index(editor_client):
    response = editor_client.get("/admin/")
    assert response.status_code == 200
    apps_shown = {app["app_label"] for app in response.context["app_list"]}
    assert apps_shown == {"disputes"}


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/disputes/event/", "/admin/disputes/event/add/"]
)
def test_anonymous_visitor_is_sent_to_the_admin_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/admin/login/?next={path}")


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/disputes/event/", "/admin/disputes/event/add/"]
)
def test_non_staff_user_is_sent_to_the_admin_login(client, django_user_model, path):
    reader = django_user_model.objects.create_user("reader", password="correct horse battery")
    reader.groups.add(Group.objects.get(name=EDITORS_GROUP))  # rights without staff status
    client.force_login(reader)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/admin/login/?next={path}")


def test_non_staff_user_cannot_post_to_the_admin(client, django_user_model, record):
    reader = django_user_model.objects.create_user("reader", password="correct horse battery")
    client.force_login(reader)
    event = record["pilots"]
    response = client.post(url("event_change", event.pk), {"title": "Vandalised"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.title == "Pilots detained"


# Every model, editable -----------------------------------------------------------------


def test_every_model_of_the_record_is_in_the_admin():
    registered = set(admin.site._registry)
    assert set(RECORD_MODELS) <= registered


def test_every_record_that_carries_quotes_shows_them_inline():
    from disputes.admin import CITED_MODELS, CitationInline

    assert {Event, RetaliationLink, Claim, Person, Detention, Case} <= set(CITED_MODELS)
    for model in CITED_MODELS:
        assert CitationInline in admin.site._registry[model].inlines, model.__name__


def test_every_relation_is_picked_by_autocomplete():
    """A foreign key or many-to-many field in a form is an autocomplete (the target admin
    has search fields, which Django's checks demand), never a select of every row."""
    for model in RECORD_MODELS:
        model_admin = admin.site._registry[model]
        for field in model._meta.get_fields():
            if not (field.many_to_many or field.many_to_one) or field.auto_created:
                continue
            if not field.editable or field.related_model.__module__.startswith("django."):
                continue
            assert field.name in model_admin.autocomplete_fields or field.name in (
                model_admin.readonly_fields
            ), f"{model.__name__}.{field.name} is not an autocomplete"
            assert admin.site._registry[field.related_model].search_fields


DERIVED = {Sentence}  # cut from a source's text when it is saved: not added by hand


def test_editor_opens_every_list_and_add_page(editor_client, record):
    for model in RECORD_MODELS:
        name = model._meta.model_name
        assert editor_client.get(url(f"{name}_changelist")).status_code == 200, name
        expected = 403 if model in DERIVED else 200
        assert editor_client.get(url(f"{name}_add")).status_code == expected, name


def test_sentences_come_and_go_with_their_source_only(editor_client, db):
    source = Source.objects.create(title="Short", publisher="A paper", text="One. Two.")
    sentence = source.sentences.first()
    response = editor_client.get(url("sentence_change", sentence.pk))
    assert list(response.context["adminform"].form.fields) == ["context_note"]
    assert (
        editor_client.post(url("sentence_delete", sentence.pk), {"post": "yes"}).status_code == 403
    )
    response = editor_client.post(url("source_delete", source.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Source.objects.exists() and not Sentence.objects.exists()


def test_editor_adds_changes_and_deletes_an_event(editor_client, record):
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
    event = Event.objects.get(title="Pilots freed")

    response = post_form(
        editor_client, url("event_change", event.pk), {"title": "Both pilots freed"}
    )
    assert response.status_code == 302, errors_of(response)
    event.refresh_from_db()
    assert event.title == "Both pilots freed"

    response = editor_client.post(url("event_delete", event.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Event.objects.filter(pk=event.pk).exists()


def test_deleting_a_country_others_depend_on_is_refused_and_says_what(editor_client, record):
    response = editor_client.get(url("country_delete", record["ru"].pk))
    assert response.status_code == 200
    assert b"would require deleting the following protected related objects" in response.content
    assert b"Khukumov convicted" in response.content
    editor_client.post(url("country_delete", record["ru"].pk), {"post": "yes"})
    assert Country.objects.filter(pk=record["ru"].pk).exists()


def test_change_page_links_to_the_public_permalink(editor_client, record):
    event = record["pilots"]
    publish(record["dispute"], event)
    response = editor_client.get(url("event_change", event.pk))
    assert f'href="{event.get_absolute_url()}"'.encode() in response.content
    assert editor_client.get(event.get_absolute_url()).status_code == 200


def test_a_claim_views_on_site_as_its_link(editor_client, record):
    link = RetaliationLink.objects.create(
        cause=record["conviction"], response=record["pilots"], evidence="speculated"
    )
    claim = Claim.objects.create(link=link, stance="speculates", claimant="observers")
    response = editor_client.get(url("claim_change", claim.pk))
    assert f'href="{link.get_absolute_url()}"'.encode() in response.content


def test_event_list_shows_dates_at_their_precision_and_filters(editor_client, record):
    response = editor_client.get(url("event_changelist"))
    html = response.content.decode()
    assert "March 2011" in html and "2010" in html and "November 2011" in html
    response = editor_client.get(url("event_changelist"), {"date_in": "2010"})
    assert [e.title for e in response.context["cl"].result_list] == ["Khukumov convicted"]
    response = editor_client.get(url("event_changelist"), {"actor__id__exact": record["tj"].pk})
    assert [e.title for e in response.context["cl"].result_list] == ["Pilots detained"]
    response = editor_client.get(url("event_changelist"), {"kind__exact": "roundup"})
    assert [e.title for e in response.context["cl"].result_list] == ["Roundups of Tajik migrants"]
    response = editor_client.get(url("event_changelist"), {"q": "pilots"})
    assert [e.title for e in response.context["cl"].result_list] == ["Pilots detained"]
    response = editor_client.get(url("event_changelist"), {"date_in": "not-a-year"})
    assert response.status_code == 200


def test_link_list_filters_by_dispute_and_evidence(editor_client, record):
    RetaliationLink.objects.create(
        cause=record["conviction"], response=record["pilots"], evidence="speculated"
    )
    RetaliationLink.objects.create(
        cause=record["pilots"], response=record["roundups"], evidence="confirmed"
    )
    base = url("retaliationlink_changelist")
    response = editor_client.get(base, {"evidence__exact": "confirmed"})
    assert [str(link) for link in response.context["cl"].result_list] == [
        "Pilots detained → Roundups of Tajik migrants"
    ]
    response = editor_client.get(base, {"cause__dispute__id__exact": record["dispute"].pk})
    assert len(response.context["cl"].result_list) == 2
    assert "TJ → RU" in response.content.decode()
    response = editor_client.get(base, {"cause_date_in": "2010"})
    assert [str(link) for link in response.context["cl"].result_list] == [
        "Khukumov convicted → Pilots detained"
    ]


# Links: the valid one and the invalid ones ---------------------------------------------------


def test_editor_records_a_link_with_its_claim_and_quote(editor_client, record):
    response = post_form(
        editor_client,
        url("retaliationlink_add"),
        {
            "cause": record["conviction"].pk,
            "response": record["pilots"].pk,
            "evidence": "speculated",
        },
        inlines={
            "claims": [{"stance": "speculates", "claimant": "observers"}],
            CITATIONS: [{"source": record["source"].pk, "quote": SPECULATION}],
        },
    )
    assert response.status_code == 302, errors_of(response)
    link = RetaliationLink.objects.get()
    assert (link.cause, link.response) == (record["conviction"], record["pilots"])
    assert link.claims.get().claimant == "observers"
    citation = link.citations.get()
    assert citation.quote == SPECULATION
    assert ARTICLE[citation.start : citation.end] == SPECULATION


def test_editor_quotes_a_claim_on_its_own_page(editor_client, record):
    link = RetaliationLink.objects.create(
        cause=record["pilots"], response=record["roundups"], evidence="confirmed"
    )
    claim = Claim.objects.create(link=link, stance="denies", claimant="the Kremlin")
    quote = "The Kremlin denied the connection between the roundups and the case"
    response = post_form(
        editor_client,
        url("claim_change", claim.pk),
        inlines={CITATIONS: [{"source": record["source"].pk, "quote": quote}]},
    )
    assert response.status_code == 302, errors_of(response)
    assert claim.citations.get().quote == quote


def invalid_link_cases():
    return {
        "to itself": (
            lambda r: {"cause": r["pilots"].pk, "response": r["pilots"].pk},
            None,
            "An event cannot provoke itself",
        ),
        "response before its cause": (
            lambda r: {"cause": r["roundups"].pk, "response": r["pilots"].pk},
            None,
            "is dated before its cause (November 2011): swap them or correct a date",
        ),
        "duplicate": (
            lambda r: {"cause": r["conviction"].pk, "response": r["pilots"].pk},
            "existing",
            "These two events are already linked",
        ),
        "quote not in the source": (
            lambda r: {"cause": r["pilots"].pk, "response": r["roundups"].pk},
            "misquote",
            "The quote is not in the source",
        ),
    }


@pytest.mark.parametrize("case", list(invalid_link_cases()))
def test_an_invalid_link_says_what_to_fix_and_saves_nothing(editor_client, record, case):
    ends, setup, message = invalid_link_cases()[case]
    if setup == "existing":
        RetaliationLink.objects.create(
            cause=record["conviction"], response=record["pilots"], evidence="speculated"
        )
    quote = SPECULATION
    if setup == "misquote":
        quote = SPECULATION.replace("observers speculated", "observers claimed")
    before = counts()

    response = post_form(
        editor_client,
        url("retaliationlink_add"),
        {**ends(record), "evidence": "speculated"},
        inlines={
            "claims": [{"stance": "speculates", "claimant": "observers"}],
            CITATIONS: [{"source": record["source"].pk, "quote": quote}],
        },
    )

    assert response.status_code == 200
    assert any(message in str(error) for error in errors_of(response)), errors_of(response)
    assert escape(message).encode() in response.content
    assert b"Please correct the error" in response.content
    assert counts() == before


def test_a_link_across_two_disputes_is_refused(editor_client, record):
    other = Dispute.objects.create(title="Another dispute")
    other.countries.set([record["ru"], record["tj"]])
    elsewhere = Event.objects.create(
        dispute=other, kind="arrest", title="Elsewhere", actor=record["ru"], date_year=2012
    )
    before = counts()
    response = post_form(
        editor_client,
        url("retaliationlink_add"),
        {"cause": record["pilots"].pk, "response": elsewhere.pk, "evidence": "implied"},
    )
    assert response.status_code == 200
    assert any("same dispute" in str(e) for e in errors_of(response)), errors_of(response)
    assert counts() == before


def test_the_same_passage_quoted_twice_on_one_record_is_refused(editor_client, record):
    before = counts()
    response = post_form(
        editor_client,
        url("event_change", record["pilots"].pk),
        inlines={
            CITATIONS: [
                {"source": record["source"].pk, "quote": "Tajik authorities detained"},
                {
                    "source": record["source"].pk,
                    "quote": "Tajik authorities detained a Russian pilot",
                },
            ]
        },
    )
    assert response.status_code == 200
    assert any("already cites a passage starting here" in str(e) for e in errors_of(response))
    assert counts() == before


def test_moving_an_event_before_its_cause_says_what_to_fix(editor_client, record):
    RetaliationLink.objects.create(
        cause=record["conviction"], response=record["pilots"], evidence="speculated"
    )
    response = post_form(editor_client, url("event_change", record["pilots"].pk), {"date": "2009"})
    assert response.status_code == 200
    assert any("would come before “Khukumov convicted”" in str(e) for e in errors_of(response))
    record["pilots"].refresh_from_db()
    assert record["pilots"].date_year == 2011


def test_a_rule_only_the_database_catches_is_reported_not_a_server_error(editor_client, record):
    """Should a form ever miss a rule, the database's refusal reaches the editor as a
    message and the whole edit, inlines included, is rolled back."""
    before = counts()
    with mock.patch.object(RetaliationLink, "clean", lambda self: None):
        response = post_form(
            editor_client,
            url("retaliationlink_add"),
            {"cause": record["roundups"].pk, "response": record["pilots"].pk, "evidence": "denied"},
            inlines={"claims": [{"stance": "denies", "claimant": "the Kremlin"}]},
        )
    assert response.status_code == 302
    page = editor_client.get(response["Location"])
    assert b"Nothing was saved" in page.content
    assert b"response is dated before its cause" in page.content
    assert counts() == before


# A second dispute, through the admin alone ------------------------------------------------


def test_a_second_dispute_is_recorded_through_the_admin_alone(editor_client, db):
    def add(name, fields, inlines=None):
        response = post_form(editor_client, url(f"{name}_add"), fields, inlines)
        assert response.status_code == 302, errors_of(response)

    add("country", {"code": "GE", "name": "Georgia", "demonym": "Georgian"})
    add("country", {"code": "RU", "name": "Russia", "demonym": "Russian"})
    georgia, russia = Country.objects.get(code="GE"), Country.objects.get(code="RU")
    text = (
        "Georgia arrested four Russian officers on spying charges in September 2006.\n"
        "Russia responded by deporting hundreds of Georgians in October 2006."
    )
    add("source", {"title": "Spy row", "publisher": "A wire service", "text": text})
    source = Source.objects.get(title="Spy row")
    assert source.sentences.count() == 2
    add(
        "dispute",
        {
            "title": "Georgia and Russia, 2006",
            "countries": [str(georgia.pk), str(russia.pk)],
            "sources": [str(source.pk)],
        },
        {CITATIONS: [{"source": source.pk, "quote": text}]},
    )
    dispute = Dispute.objects.get(title="Georgia and Russia, 2006")
    add(
        "event",
        {
            "dispute": dispute.pk,
            "kind": "arrest",
            "title": "Four Russian officers arrested",
            "actor": georgia.pk,
            "date": "September 2006",
        },
        {CITATIONS: [{"source": source.pk, "quote": "Georgia arrested four Russian officers"}]},
    )
    add(
        "event",
        {
            "dispute": dispute.pk,
            "kind": "roundup",
            "title": "Georgians deported",
            "actor": russia.pk,
            "date": "October 2006",
        },
        {CITATIONS: [{"source": source.pk, "quote": "deporting hundreds of Georgians"}]},
    )
    arrest = Event.objects.get(title="Four Russian officers arrested")
    deportation = Event.objects.get(title="Georgians deported")
    add(
        "retaliationlink",
        {"cause": arrest.pk, "response": deportation.pk, "evidence": "stated"},
        {
            "claims": [{"stance": "asserts", "claimant": "the source"}],
            CITATIONS: [{"source": source.pk, "quote": "Russia responded by deporting"}],
        },
    )
    link = RetaliationLink.objects.get()
    assert link.claims.count() == 1 and link.citations.count() == 1
    assert {e.actor for e in dispute.events.all()} == {georgia, russia}

    editor_client.logout()
    response = editor_client.get(dispute.get_absolute_url())
    assert response.status_code == 200
    assert "Georgia and Russia, 2006" in response.content.decode()


# Sources and their sentences -----------------------------------------------------------


def test_editor_marks_a_sentence_as_context_on_its_source(editor_client, record):
    source = record["source"]
    response = editor_client.get(url("source_change", source.pk))
    formset = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is Sentence
    )
    assert [f.fields.keys() for f in formset.forms][0] >= {"context_note"}
    assert "number" not in formset.forms[0].fields  # fixed by the text: shown, not edited
    last = source.sentences.order_by("number").last()
    assert "About 1 million Tajik migrants" in last.text
    index = list(source.sentences.order_by("number")).index(last)
    response = post_form(
        editor_client,
        url("source_change", source.pk),
        {f"sentences-{index}-context_note": "Background on migration, not a step in the dispute."},
    )
    assert response.status_code == 302, errors_of(response)
    last.refresh_from_db()
    assert last.context_note.startswith("Background on migration")


def test_editing_a_source_text_and_a_note_together_keeps_the_note(editor_client, record):
    source = record["source"]
    sentences = list(source.sentences.order_by("number"))
    index = next(i for i, s in enumerate(sentences) if "About 1 million" in s.text)
    response = post_form(
        editor_client,
        url("source_change", source.pk),
        {
            "text": "Capture note.\n" + ARTICLE,
            f"sentences-{index}-context_note": "Background, not a step in the dispute.",
        },
    )
    assert response.status_code == 302, errors_of(response)
    noted = Sentence.objects.filter(source=source).exclude(context_note="")
    assert [s.text.startswith("About 1 million") for s in noted] == [True]


# History: who changed what, and going back -----------------------------------------------


def test_history_shows_the_editor_and_the_change_and_reverts_it(editor_client, editor, record):
    event = record["pilots"]
    response = post_form(
        editor_client, url("event_change", event.pk), {"title": "Two pilots detained"}
    )
    assert response.status_code == 302, errors_of(response)

    latest = event.history.latest()
    assert latest.history_user == editor
    assert latest.title == "Two pilots detained"

    response = editor_client.get(url("event_history", event.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "editor" in html
    assert "Two pilots detained" in html and "Pilots detained" in html  # the change, old and new
    first = event.history.earliest()
    assert url("event_simple_history", event.pk, first.history_id) in html
    assert "/admin/auth/user/" not in html  # editors cannot open users: no dead link
    assert 'style="' not in html and "<script>" not in html  # nothing the CSP would block

    response = post_form(editor_client, url("event_simple_history", event.pk, first.history_id))
    assert response.status_code == 302, errors_of(response)
    event.refresh_from_db()
    assert event.title == "Pilots detained"
    assert event.history.latest().history_user == editor
    assert event.history.count() == 3


def test_changes_to_quotes_are_recorded_with_their_editor(editor_client, editor, record):
    response = post_form(
        editor_client,
        url("event_change", record["pilots"].pk),
        inlines={
            CITATIONS: [{"source": record["source"].pk, "quote": "Tajik authorities detained"}]
        },
    )
    assert response.status_code == 302, errors_of(response)
    citation = Citation.objects.get()
    assert citation.history.get().history_user == editor


def test_a_deleted_record_is_restored_from_its_history(editor_client, editor, record):
    case = Case.objects.create(
        dispute=record["dispute"], title="Pilots' trial", prosecuting_country=record["tj"]
    )
    editor_client.post(url("case_delete", case.pk), {"post": "yes"})
    assert not Case.objects.filter(pk=case.pk).exists()
    deletion = Case.history.filter(id=case.pk).latest()
    assert (deletion.history_type, deletion.history_user) == ("-", editor)

    response = editor_client.get(url("case_history", case.pk))
    assert response.status_code == 200
    earlier = deletion.prev_record
    assert url("case_simple_history", case.pk, earlier.history_id) in response.content.decode()
    response = post_form(editor_client, url("case_simple_history", case.pk, earlier.history_id))
    assert response.status_code == 302, errors_of(response)
    assert Case.objects.get(pk=case.pk).title == "Pilots' trial"


def test_reverting_restores_the_versions_many_to_many_choices(editor_client, record):
    dispute = record["dispute"]
    before = dispute.history.latest()
    georgia = Country.objects.create(code="GE", name="Georgia", demonym="Georgian")
    response = post_form(
        editor_client,
        url("dispute_change", dispute.pk),
        {"title": "Renamed", "countries": [str(record["ru"].pk), str(georgia.pk)]},
    )
    assert response.status_code == 302, errors_of(response)
    assert set(dispute.countries.all()) == {record["ru"], georgia}

    response = post_form(
        editor_client, url("dispute_simple_history", dispute.pk, before.history_id)
    )
    assert response.status_code == 302, errors_of(response)
    dispute.refresh_from_db()
    assert dispute.title == "Russia and Tajikistan, 2008-2011"
    assert set(dispute.countries.all()) == {record["ru"], record["tj"]}


def test_a_record_loaded_from_the_fixtures_can_be_restored_after_its_first_edit(
    editor_client, editor, article
):
    """loaddata leaves no history (or only that of its many-to-many rows); the admin keeps
    the stored state as a version before the first change."""
    person = Person.objects.filter(citizenships__isnull=False).distinct().first()
    name, citizenships = person.name, set(person.citizenships.all())
    response = post_form(
        editor_client,
        url("person_change", person.pk),
        {"name": "Renamed", "citizenships": []},
    )
    assert response.status_code == 302, errors_of(response)
    baseline = person.history.filter(history_user__isnull=True).latest()
    assert baseline.name == name
    assert person.history.latest().history_user == editor

    response = post_form(
        editor_client, url("person_simple_history", person.pk, baseline.history_id)
    )
    assert response.status_code == 302, errors_of(response)
    person.refresh_from_db()
    assert person.name == name
    assert set(person.citizenships.all()) == citizenships


def test_a_fixture_quote_edited_inline_keeps_its_earlier_wording(editor_client, article):
    event = Event.objects.filter(citations__isnull=False).distinct().first()
    citation = event.citations.order_by("pk").first()
    quote = citation.quote
    page = editor_client.get(url("event_change", event.pk))
    data = form_data(page)
    index = next(
        i
        for i in range(int(data[f"{CITATIONS}-TOTAL_FORMS"]))
        if data.get(f"{CITATIONS}-{i}-id") == str(citation.pk)
    )
    data[f"{CITATIONS}-{index}-quote"] = quote[: len(quote) // 2].strip()
    response = editor_client.post(url("event_change", event.pk), data)
    assert response.status_code == 302, errors_of(response)
    assert citation.history.earliest().quote == quote


@pytest.mark.parametrize(
    "path", ["/admin/disputes/event/x/history/", "/admin/disputes/event/1/history/x/"]
)
def test_a_malformed_history_address_is_not_found(editor_client, record, path):
    assert editor_client.get(path).status_code == 404


# The real record ------------------------------------------------------------------------


def test_every_record_of_the_article_opens_in_the_admin_with_its_history(editor_client, article):
    for model in RECORD_MODELS:
        name = model._meta.model_name
        history = hasattr(model._meta, "simple_history_manager_attribute")
        for pk in model._default_manager.values_list("pk", flat=True)[:20]:
            response = editor_client.get(url(f"{name}_change", pk))
            assert response.status_code == 200, (name, pk)
            if history:
                assert editor_client.get(url(f"{name}_history", pk)).status_code == 200
                version = model.history.filter(id=pk).first()
                if version is None:  # loaddata keeps no history
                    continue
                response = editor_client.get(url(f"{name}_simple_history", pk, version.history_id))
                assert response.status_code == 200, (name, pk)
    assert Detention.objects.exists() and Person.objects.exists()


def test_group_detention_is_refused_a_person_too(editor_client, record):
    person = Person.objects.create(name="Rustam Khukumov", description="son of an official")
    response = post_form(
        editor_client,
        url("detention_add"),
        {
            "dispute": record["dispute"].pk,
            "person": person.pk,
            "group_description": "Tajik migrants",
            "holding_country": record["ru"].pk,
        },
    )
    assert response.status_code == 200
    assert any("either one person or a described group" in str(e) for e in errors_of(response))
    assert not Detention.objects.exists()


def test_a_field_added_to_a_model_shows_up_in_its_form(editor_client, db):
    """The forms are built from the models, so a new field needs no admin change."""
    for model in set(RECORD_MODELS) - DERIVED:
        name = model._meta.model_name
        form = editor_client.get(url(f"{name}_add")).context["adminform"].form
        for field in model._meta.get_fields():
            if not isinstance(field, models.Field) or not field.editable or field.auto_created:
                continue
            if isinstance(field, models.GeneratedField):
                continue
            # A fuzzy date's year, month and day are typed as one field, named for the date.
            prefix = field.name.rsplit("_", 1)[0]
            if field.name.endswith(("_year", "_month", "_day")) and prefix in form.fields:
                continue
            assert field.name in form.fields, f"{model.__name__}.{field.name}"


# In a real browser --------------------------------------------------------------------------


def pick(page, field_id, text):
    """Choose `text` in an autocomplete (select2) field, as an editor types and clicks."""
    page.click(f"#{field_id} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", text)
    page.click(f".select2-results__option:has-text('{text}')")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_editor_records_a_link_in_chromium_under_the_sites_security_policy(
    live_server, page, editor, record
):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/disputes/retaliationlink/add/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/disputes/retaliationlink/add/")

    pick(page, "id_cause", "Khukumov convicted")
    pick(page, "id_response", "Pilots detained")
    page.click("#id_evidence input[value=speculated]")
    page.select_option("#id_claims-0-stance", "speculates")
    page.fill("#id_claims-0-claimant", "observers")
    pick(page, f"id_{CITATIONS}-0-source", "Tajik official")
    page.fill(f"#id_{CITATIONS}-0-quote", SPECULATION)
    page.click("input[name=_save]")

    page.wait_for_url("**/admin/disputes/retaliationlink/")
    assert "was added successfully" in page.inner_text(".messagelist")
    link = RetaliationLink.objects.get()
    assert link.claims.get().claimant == "observers"
    assert link.citations.get().quote == SPECULATION
    assert link.history.get().history_user == editor
    assert page.console_errors == []
