"""Admin change lists cost the same number of queries for 3 rows as for 30: whatever a row
shows (its __str__, related names, counts, the quoted record) is fetched for the whole page."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disputes.models import (
    Case,
    Citation,
    Claim,
    Country,
    Detention,
    Dispute,
    Event,
    Person,
    PersonRelation,
    RetaliationLink,
    Role,
    Sentence,
    Source,
)

TEXT = " ".join(f"Sentence number {i} of the source." for i in range(40))


@pytest.fixture
def base(db):
    ru = Country.objects.create(code="RU", name="Russia", demonym="Russian")
    tj = Country.objects.create(code="TJ", name="Tajikistan", demonym="Tajik")
    source = Source.objects.create(title="The article", publisher="A paper", text=TEXT)
    dispute = Dispute.objects.create(title="Russia and Tajikistan")
    dispute.countries.set([ru, tj])
    dispute.sources.set([source])
    return {"ru": ru, "tj": tj, "source": source, "dispute": dispute}


def person(base, i, name=None):
    someone = Person.objects.create(name=name or f"Person {i}", description=f"person {i}")
    someone.citizenships.set([base["ru"], base["tj"]])
    return someone


def event(base, i, suffix=""):
    return Event.objects.create(
        dispute=base["dispute"],
        kind="arrest",
        title=f"Event {i}{suffix}",
        actor=base["ru"] if i % 2 else base["tj"],
        date_year=2000 + i,
        date_month=(i % 12) + 1,
    )


def link(base, i):
    found = RetaliationLink.objects.create(
        cause=event(base, i, " (cause)"),
        response=event(base, i + 1, " (response)"),
        evidence="implied",
    )
    Claim.objects.create(link=found, stance="asserts", claimant=f"claimant {i}")
    return found


def cite(base, record, i):
    quote = f"Sentence number {i} of"
    Citation.objects.create(source=base["source"], quote=quote, record=record)


def build_country(base, i):
    Country.objects.create(
        code=chr(65 + i // 26) + chr(65 + i % 26), name=f"Country {i}", demonym=f"Demonym {i}"
    )


def build_source(base, i):
    Source.objects.create(title=f"Source {i}", publisher="A paper", text=f"One. Two {i}.")


def build_sentence(base, i):
    source = Source.objects.create(title=f"Source {i}", publisher="A paper", text=f"Words {i}.")
    assert source.sentences.count() == 1
    if i % 2:
        Citation.objects.create(source=source, quote=f"Words {i}", record=base["dispute"])


def build_dispute(base, i):
    dispute = Dispute.objects.create(title=f"Dispute {i}")
    dispute.countries.set([base["ru"], base["tj"]])
    event(base | {"dispute": dispute}, i)


def build_person(base, i):
    person(base, i, name="" if i % 2 else None)


def build_role(base, i):
    Role.objects.create(person=person(base, i), title=f"title {i}", country=base["tj"])


def build_relation(base, i):
    PersonRelation.objects.create(
        person=person(base, i), kind="ally", other=person(base, i, name=f"Other {i}")
    )


def build_case(base, i):
    case = Case.objects.create(
        dispute=base["dispute"], title=f"Case {i}", prosecuting_country=base["ru"]
    )
    case.defendants.set([person(base, i)])
    Event.objects.create(
        dispute=base["dispute"],
        kind="conviction",
        title=f"Verdict {i}",
        actor=base["ru"],
        case=case,
    )


def build_event(base, i):
    found = event(base, i)
    found.people.set([person(base, i)])
    if i % 3 == 0:
        RetaliationLink.objects.create(cause=found, response=event(base, i + 1), evidence="stated")


def build_detention(base, i):
    if i % 2:
        Detention.objects.create(
            dispute=base["dispute"],
            group_description=f"group {i}",
            group_size="hundreds",
            holding_country=base["ru"],
            start_year=2011,
        )
    else:
        Detention.objects.create(
            dispute=base["dispute"], person=person(base, i), holding_country=base["tj"]
        )


def build_link(base, i):
    link(base, i)


def build_claim(base, i):
    link(base, i)


def build_citation(base, i):
    """Quotes on records of three kinds whose names come from other tables."""
    kind = i % 3
    if kind == 0:
        record = Detention.objects.create(
            dispute=base["dispute"], person=person(base, i), holding_country=base["tj"]
        )
    elif kind == 1:
        record = link(base, i)
    else:
        record = Role.objects.create(person=person(base, i), title=f"title {i}")
    cite(base, record, i)


BUILDERS = {
    Country: build_country,
    Source: build_source,
    Sentence: build_sentence,
    Dispute: build_dispute,
    Person: build_person,
    Role: build_role,
    PersonRelation: build_relation,
    Case: build_case,
    Event: build_event,
    Detention: build_detention,
    RetaliationLink: build_link,
    Claim: build_claim,
    Citation: build_citation,
}


def test_every_admin_model_has_a_query_test():
    assert set(BUILDERS) == {m for m in admin.site._registry if m._meta.app_label == "disputes"}


def changelist_queries(client, path, expected_rows):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    assert response.context["cl"].result_count >= expected_rows
    assert len(response.context["cl"].result_list) >= expected_rows
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("model", list(BUILDERS), ids=lambda model: model.__name__)
def test_changelist_queries_do_not_grow_with_rows(client, superuser, base, model):
    client.force_login(superuser)
    path = reverse(f"admin:disputes_{model._meta.model_name}_changelist")
    build = BUILDERS[model]
    for i in range(3):
        build(base, i)
    client.get(path)  # caches (content types, the session) warm up once

    three = changelist_queries(client, path, 3)
    for i in range(3, 30):
        build(base, i)
    thirty = changelist_queries(client, path, 30)

    assert len(thirty) == len(three), "\n".join(thirty)


@pytest.mark.parametrize(
    ("model", "query"),
    [
        (Event, "?q=Event&kind__exact=arrest&date_in=2000s&o=2"),
        (RetaliationLink, "?q=cause&evidence__exact=implied&o=4"),
        (Detention, "?ending__exact=unknown&start_in=unknown"),
        (Person, "?q=person"),
        (Sentence, "?coverage=neither"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_filtered_and_searched_lists_do_not_grow_either(client, superuser, base, model, query):
    client.force_login(superuser)
    path = reverse(f"admin:disputes_{model._meta.model_name}_changelist") + query
    build = BUILDERS[model]
    for i in range(3):
        build(base, i)
    client.get(path)
    three = changelist_queries(client, path, 1)
    for i in range(3, 30):
        build(base, i)
    thirty = changelist_queries(client, path, 2)
    assert len(thirty) == len(three), "\n".join(thirty)


def test_editor_runs_the_same_queries_as_the_superuser_plus_permissions(client, editor, base):
    """Editors' permission checks are fetched once per request, not per row."""
    client.force_login(editor)
    path = reverse("admin:disputes_citation_changelist")
    for i in range(3):
        build_citation(base, i)
    client.get(path)
    three = changelist_queries(client, path, 3)
    for i in range(3, 30):
        build_citation(base, i)
    assert len(changelist_queries(client, path, 30)) == len(three)
