"""The rules of the record hold twice: full_clean() tells an editor what to fix, and the
database refuses the same row when it arrives by another road (a raw save, bulk_create,
a fixture), on SQLite and on PostgreSQL alike."""

from types import SimpleNamespace

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction

from disputes import dates
from disputes.models import (
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
from disputes.sources import split_sentences, sync_sentences

TEXT = "Russia arrested him in 2008. Tajikistan detained two pilots on Dec. 28.\nA new line."


@pytest.fixture
def w(db):
    ru = Country.objects.create(code="RU", name="Russia", demonym="Russian")
    tj = Country.objects.create(code="TJ", name="Tajikistan", demonym="Tajik")
    dispute = Dispute.objects.create(title="A dispute")
    dispute.countries.set([ru, tj])
    other_dispute = Dispute.objects.create(title="Another dispute")
    other_dispute.countries.set([ru, tj])
    e2010 = Event.objects.create(
        dispute=dispute, kind="conviction", title="Conviction", actor=ru, date_year=2010
    )
    e2011 = Event.objects.create(
        dispute=dispute, kind="detention", title="Detention", actor=tj, date_year=2011, date_month=3
    )
    e_undated = Event.objects.create(dispute=dispute, kind="statement", title="Undated", actor=ru)
    elsewhere = Event.objects.create(
        dispute=other_dispute, kind="arrest", title="Elsewhere", actor=ru, date_year=2011
    )
    link = RetaliationLink.objects.create(cause=e2010, response=e2011, evidence="speculated")
    father = Person.objects.create(name="A. Father", description="the father")
    son = Person.objects.create(name="", description="a son")
    PersonRelation.objects.create(person=father, kind="parent", other=son)
    source = Source.objects.create(title="An article", publisher="A paper", text=TEXT)
    return SimpleNamespace(**locals())


def _detention(w, **fields):
    return Detention(**{"dispute": w.dispute, "person": w.son, "holding_country": w.ru, **fields})


REASON = "after the pilots' detention in March 2011 (line 4)"


def _event(w, **fields):
    return Event(
        **{"dispute": w.dispute, "kind": "sentence", "title": "x", "actor": w.tj, **fields}
    )


def _citation(w, **fields):
    return Citation(
        **{
            "source": w.source,
            "quote": "Russia arrested him",
            "start": 0,
            "content_type": ContentType.objects.get_for_model(Person),
            "object_id": w.son.pk,
            **fields,
        }
    )


# (name, the invalid row, the field full_clean reports it on, words of the message)
BROKEN = [
    (
        "link from an event to itself",
        lambda w: RetaliationLink(cause=w.e2010, response=w.e2010, evidence="stated"),
        "__all__",
        "An event cannot provoke itself: pick a different response.",
    ),
    (
        "duplicate link",
        lambda w: RetaliationLink(cause=w.e2010, response=w.e2011, evidence="stated"),
        "__all__",
        "These two events are already linked.",
    ),
    (
        "response certainly before its cause",
        lambda w: RetaliationLink(cause=w.e2011, response=w.e2010, evidence="stated"),
        "response",
        "The response (2010) is dated before its cause (March 2011): swap them or correct a date.",
    ),
    (
        "link across disputes",
        lambda w: RetaliationLink(cause=w.e2010, response=w.elsewhere, evidence="stated"),
        "__all__",
        "Both events must belong to the same dispute.",
    ),
    (
        "detention ending before it starts",
        lambda w: _detention(w, start_year=2011, start_month=3, end_year=2011, end_month=2),
        "__all__",
        "The detention ends before it starts: correct the start or the end date.",
    ),
    (
        "detention of a person and a group at once",
        lambda w: _detention(w, group_description="Tajik migrants"),
        "__all__",
        "A detention holds either one person or a described group",
    ),
    (
        "detention of nobody",
        lambda w: _detention(w, person=None),
        "__all__",
        "A detention holds either one person or a described group",
    ),
    (
        "detention starting on a day its month lacks",
        lambda w: _detention(w, start_year=2011, start_month=2, start_day=29),
        "start_day",
        "2011-02-29 is not a calendar date: correct the day or the month.",
    ),
    (
        "detention ending on a day its month lacks",
        lambda w: _detention(w, start_year=2011, end_year=2011, end_month=4, end_day=31),
        "end_day",
        "2011-04-31 is not a calendar date: correct the day or the month.",
    ),
    (
        "event on a day its month lacks",
        lambda w: Event(
            dispute=w.dispute,
            kind="arrest",
            title="x",
            actor=w.ru,
            date_year=2011,
            date_month=2,
            date_day=30,
        ),
        "date_day",
        "2011-02-30 is not a calendar date: correct the day or the month.",
    ),
    (
        "event with a day but no month",
        lambda w: Event(
            dispute=w.dispute, kind="arrest", title="x", actor=w.ru, date_year=2011, date_day=5
        ),
        "__all__",
        "The date has a day but no month: give the month too.",
    ),
    (
        "event with a month but no year",
        lambda w: Event(dispute=w.dispute, kind="arrest", title="x", actor=w.ru, date_month=11),
        "__all__",
        "The date has a month but no year",
    ),
    (
        "event with a thirteenth month",
        lambda w: Event(
            dispute=w.dispute, kind="arrest", title="x", actor=w.ru, date_year=2011, date_month=13
        ),
        "__all__",
        "The date's month must be between 1 and 12.",
    ),
    (
        "not-before date without the event's own date",
        lambda w: _event(w, not_before_year=2011, not_before_month=3, not_before_inferred=REASON),
        "not_before_year",
        "A not-before date needs the event's own date: give the date's year",
    ),
    (
        "not-before date earlier than the event's date can be",
        lambda w: _event(
            w, date_year=2011, not_before_year=2010, not_before_month=3, not_before_inferred=REASON
        ),
        "not_before_year",
        "The not-before date (March 2010) is earlier than the event's date (2011) can be: "
        "it must lie within that date.",
    ),
    (
        "not-before date later than the event's date allows",
        lambda w: _event(
            w,
            date_year=2011,
            date_month=3,
            not_before_year=2011,
            not_before_month=4,
            not_before_inferred=REASON,
        ),
        "not_before_year",
        "The not-before date (April 2011) is later than the event's date (March 2011) allows: "
        "it must lie within that date. Correct it, or widen the date.",
    ),
    (
        "not-before date without a reason",
        lambda w: _event(w, date_year=2011, not_before_year=2011, not_before_month=3),
        "not_before_inferred",
        "Say why the event is not before that date: which step of the source it follows",
    ),
    (
        "not-before date with a month but no year",
        lambda w: _event(w, date_year=2011, not_before_month=3, not_before_inferred=REASON),
        "__all__",
        "The not-before date has a month but no year",
    ),
    (
        "not-before date on a day its month lacks",
        lambda w: _event(
            w,
            date_year=2011,
            not_before_year=2011,
            not_before_month=4,
            not_before_day=31,
            not_before_inferred=REASON,
        ),
        "not_before_day",
        "2011-04-31 is not a calendar date: correct the day or the month.",
    ),
    (
        "lower-case country code",
        lambda w: Country(code="ee", name="Estonia", demonym="Estonian"),
        "code",
        "Use the ISO 3166-1 alpha-2 code: two capital letters, such as RU or TJ.",
    ),
    (
        "country code with a digit",
        lambda w: Country(code="E1", name="Estonia", demonym="Estonian"),
        "code",
        "Use the ISO 3166-1 alpha-2 code",
    ),
    (
        "duplicate country code",
        lambda w: Country(code="RU", name="Russian Federation", demonym="Russian"),
        "code",
        "Country with this ISO code already exists.",
    ),
    (
        "person related to themselves",
        lambda w: PersonRelation(person=w.son, kind="ally", other=w.son),
        "__all__",
        "A person cannot be related to themselves: pick another person.",
    ),
    (
        "duplicate relation",
        lambda w: PersonRelation(person=w.father, kind="parent", other=w.son),
        "__all__",
        "This relation is already recorded.",
    ),
    (
        "claim without a claimant",
        lambda w: Claim(link=w.link, stance="denies", claimant=""),
        "claimant",
        "This field cannot be blank.",
    ),
    (
        "person without a description",
        lambda w: Person(name="Someone", description=""),
        "description",
        "This field cannot be blank.",
    ),
    (
        "citation without a quote",
        lambda w: _citation(w, quote=""),
        "quote",
        "This field cannot be blank.",
    ),
    (
        "source address that is not a web address",
        lambda w: Source(title="t", publisher="p", text="x", url="javascript:alert(1)"),
        "url",
        "Enter a valid URL.",
    ),
    (
        "sentence ending where it starts",
        lambda w: Sentence(source=w.source, number=1, start=5, end=5),
        "__all__",
        "A sentence must end after it starts: check its offsets.",
    ),
]


@pytest.mark.parametrize(
    ("build", "field", "message"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN]
)
def test_full_clean_says_what_to_fix(w, build, field, message):
    with pytest.raises(ValidationError) as caught:
        build(w).full_clean()
    assert any(message in text for text in caught.value.message_dict.get(field, [])), (
        caught.value.message_dict
    )


@pytest.mark.parametrize("build", [case[1] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_the_database_refuses_what_full_clean_refuses(w, build):
    obj = build(w)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(obj).objects.bulk_create([obj])


@pytest.mark.parametrize("build", [case[1] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_a_raw_save_is_refused_too(w, build):
    obj = build(w)
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save_base(raw=True)


def test_a_three_letter_country_code_is_refused_by_both(w):
    country = Country(code="EST", name="Estonia", demonym="Estonian")
    with pytest.raises(ValidationError) as caught:
        country.full_clean()
    assert (
        "Use the ISO 3166-1 alpha-2 code: two capital letters, such as RU or TJ."
        in (caught.value.message_dict["code"])
    )
    # SQLite refuses it by the check constraint, PostgreSQL already by the column's length.
    with pytest.raises(DatabaseError), transaction.atomic():
        Country.objects.bulk_create([country])


def test_a_country_code_with_a_trailing_newline_is_refused(w):
    with pytest.raises(DatabaseError), transaction.atomic():
        Country.objects.bulk_create([Country(code="EE\n", name="Estonia", demonym="Estonian")])


def test_valid_rows_pass_both(w):
    rows = [
        Country(code="EE", name="Estonia", demonym="Estonian"),
        RetaliationLink(cause=w.e2011, response=w.e_undated, evidence="implied"),
        _detention(w, start_year=2012, start_month=2, start_day=29, end_year=2012),
        _detention(
            w,
            person=None,
            group_description="migrants",
            group_size="hundreds",
            start_year=2011,
            start_month=11,
        ),
        Event(
            dispute=w.dispute, kind="release", title="y", actor=w.tj, date_year=2011, date_month=11
        ),
        # A not-before date anywhere within the event's date, its first and last day included.
        _event(w, date_year=2011, not_before_year=2011, not_before_inferred=REASON),
        _event(
            w, date_year=2011, not_before_year=2011, not_before_month=3, not_before_inferred=REASON
        ),
        _event(
            w,
            date_year=2011,
            not_before_year=2011,
            not_before_month=12,
            not_before_day=31,
            not_before_inferred=REASON,
        ),
        _event(
            w,
            date_year=2011,
            date_month=3,
            not_before_year=2011,
            not_before_month=3,
            not_before_day=20,
            not_before_inferred=REASON,
        ),
    ]
    for row in rows:
        row.full_clean()
        row.save()


def test_a_response_in_the_same_period_as_its_cause_is_allowed(w):
    """'2011' against 'March 2011': the precision does not allow saying which came first."""
    year_only = Event.objects.create(
        dispute=w.dispute, kind="sentence", title="Sentence", actor=w.tj, date_year=2011
    )
    link = RetaliationLink(cause=w.e2011, response=year_only, evidence="stated")
    link.full_clean()
    link.save()


def test_redating_an_event_before_its_cause_is_refused(w):
    w.e2011.date_year = 2009
    w.e2011.date_month = None
    with pytest.raises(ValidationError) as caught:
        w.e2011.full_clean()
    assert "which is recorded as its cause" in caught.value.message_dict["date_year"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=w.e2011.pk).update(date_year=2009, date_month=None)


def test_moving_a_linked_event_to_another_dispute_is_refused(w):
    w.e2011.dispute = w.other_dispute
    with pytest.raises(ValidationError) as caught:
        w.e2011.full_clean()
    assert "remove that link first" in caught.value.message_dict["dispute"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=w.e2011.pk).update(dispute=w.other_dispute)


def test_relinking_an_existing_link_backwards_is_refused(w):
    with pytest.raises(IntegrityError), transaction.atomic():
        RetaliationLink.objects.filter(pk=w.link.pk).update(cause=w.e2011, response=w.e2010)


def test_an_event_acted_by_a_state_outside_the_dispute_is_reported(w):
    ee = Country.objects.create(code="EE", name="Estonia", demonym="Estonian")
    event = Event(dispute=w.dispute, kind="arrest", title="x", actor=ee, date_year=2011)
    with pytest.raises(ValidationError) as caught:
        event.full_clean()
    assert caught.value.message_dict["actor"] == [
        "The acting state must be one of the dispute's countries: add it there first."
    ]


def test_date_key_sorts_less_precise_first_and_unknown_last(w):
    Event.objects.create(
        dispute=w.dispute,
        kind="acquittal",
        title="Ruling",
        actor=w.ru,
        date_year=2011,
        date_month=12,
        date_day=28,
    )
    Event.objects.create(
        dispute=w.dispute, kind="sentence", title="Year only", actor=w.tj, date_year=2011
    )
    titles = list(
        Event.objects.filter(dispute=w.dispute).in_time_order().values_list("title", flat=True)
    )
    assert titles == ["Conviction", "Year only", "Detention", "Ruling", "Undated"]
    assert Event.objects.get(title="Ruling").date_key == 20111228


def test_a_group_detention_keeps_its_described_size(w):
    group = _detention(
        w,
        person=None,
        group_description="Tajik migrants",
        group_size="hundreds",
        group_size_min=200,
    )
    group.full_clean()
    group.save()
    assert group.is_group
    assert str(group) == "Tajik migrants, held by Russia"


def test_a_person_may_hold_several_citizenships(w):
    w.son.citizenships.set([w.ru, w.tj])
    assert set(w.son.citizenships.values_list("code", flat=True)) == {"RU", "TJ"}


def test_an_unnamed_person_reads_as_not_named(w):
    assert str(w.son) == "a son (not named in the source)"
    assert not w.son.named


def test_a_quote_not_in_the_source_is_reported(w):
    citation = _citation(w, quote="Russia arrested her")
    with pytest.raises(ValidationError) as caught:
        citation.full_clean()
    assert "not in the source's text word for word" in caught.value.message_dict["quote"][0]


def test_clean_and_save_find_where_the_quote_starts(w):
    cleaned = _citation(w, quote="two pilots", start=None)
    cleaned.full_clean()
    assert cleaned.start == TEXT.index("two pilots")
    saved = _citation(w, quote="on Dec. 28", start=None)
    saved.save()
    saved.refresh_from_db()
    assert saved.start == TEXT.index("on Dec. 28")
    assert TEXT[saved.start : saved.end] == "on Dec. 28"


def test_a_wrong_start_is_corrected_by_clean(w):
    citation = _citation(w, quote="Tajikistan detained", start=3)
    citation.full_clean()
    assert citation.start == TEXT.index("Tajikistan detained")


def test_a_duplicate_role_is_reported(w):
    Role.objects.create(person=w.father, title="head of the railroad")
    with pytest.raises(ValidationError) as caught:
        Role(person=w.father, title="head of the railroad").full_clean()
    assert caught.value.message_dict["__all__"] == ["This person already has that role."]


def test_saving_a_source_splits_its_text_into_sentences(w):
    texts = [s.text for s in w.source.sentences.all()]
    assert texts == [
        "Russia arrested him in 2008.",
        "Tajikistan detained two pilots on Dec. 28.",
        "A new line.",
    ]
    assert [s.number for s in w.source.sentences.all()] == [1, 2, 3]


def test_editing_a_source_keeps_context_notes_with_their_sentences(w):
    w.source.sentences.filter(number=3).update(context_note="background")
    source = Source.objects.get(pk=w.source.pk)
    source.text = "A first sentence. " + TEXT
    source.save()
    sentences = list(source.sentences.all())
    assert [s.text for s in sentences][0] == "A first sentence."
    assert {s.text: s.context_note for s in sentences}["A new line."] == "background"
    assert [s.number for s in sentences] == [1, 2, 3, 4]


def test_a_source_edit_that_drops_a_quoted_passage_is_reported(w):
    _citation(w).save()
    source = Source.objects.get(pk=w.source.pk)
    source.text = "Something else entirely."
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    assert "drops passages that records quote" in caught.value.message_dict["text"][0]


def test_sync_sentences_is_idempotent(w):
    before = list(w.source.sentences.values_list("number", "start", "end", "context_note"))
    sync_sentences(w.source)
    after = list(w.source.sentences.values_list("number", "start", "end", "context_note"))
    assert before == after


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two.", ["One.", "Two."]),
        ("On Dec. 28 it ended. Then more.", ["On Dec. 28 it ended.", "Then more."]),
        ('He said "no." Then left.', ['He said "no."', "Then left."]),
        ("A line without an end\nNext line.", ["A line without an end", "Next line."]),
        ("It cost 8 1/2 years. Really?", ["It cost 8 1/2 years.", "Really?"]),
        ("", []),
    ],
)
def test_split_sentences(text, sentences):
    assert [text[a:b] for a, b in split_sentences(text)] == sentences


@pytest.mark.django_db(transaction=True)
def test_the_link_triggers_survive_migrating_back_and_forth():
    """The triggers are dropped before every migrate (SQLite rebuilds a table to change it,
    which trips over triggers that name it) and made again after it, on every table."""
    from django.core.management import call_command

    call_command("migrate", "disputes", "zero", verbosity=0)
    call_command("migrate", "disputes", verbosity=0)
    ru = Country.objects.create(code="RU", name="Russia", demonym="Russian")
    dispute = Dispute.objects.create(title="A dispute")
    dispute.countries.set([ru])
    early = Event.objects.create(
        dispute=dispute, kind="arrest", title="a", actor=ru, date_year=2008
    )
    late = Event.objects.create(dispute=dispute, kind="arrest", title="b", actor=ru, date_year=2011)
    with pytest.raises(IntegrityError), transaction.atomic():
        RetaliationLink.objects.bulk_create(
            [RetaliationLink(cause=late, response=early, dispute=dispute, evidence="stated")]
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Country.objects.bulk_create([Country(code="e1", name="Estonia", demonym="Estonian")])


def test_editing_a_source_moves_citations_to_where_their_quotes_now_are(w):
    citation = _citation(w, quote="two pilots", start=None)
    citation.save()
    source = Source.objects.get(pk=w.source.pk)
    source.text = "An inserted sentence. " + TEXT
    source.save()
    citation.refresh_from_db()
    assert source.text[citation.start : citation.end] == "two pilots"


def test_a_not_before_date_sorts_an_event_after_the_step_it_follows(w):
    """A sentence dated only "2011" but told after the March 2011 detention: without the
    bound it sorts before the detention (20110000 < 20110300); with it, after."""
    sentence = Event.objects.create(
        dispute=w.dispute, kind="sentence", title="Sentence", actor=w.tj, date_year=2011
    )
    sentence.refresh_from_db()
    assert sentence.date_key == 20110000
    in_time = Event.objects.filter(dispute=w.dispute)
    assert list(in_time.in_time_order().values_list("title", flat=True)) == [
        "Conviction",
        "Sentence",
        "Detention",
        "Undated",
    ]

    sentence.not_before_year, sentence.not_before_month = 2011, 3
    sentence.not_before_inferred = REASON
    sentence.sequence = 1
    sentence.full_clean()
    sentence.save()
    sentence.refresh_from_db()
    assert sentence.date_key == 20110300
    expected = ["Conviction", "Detention", "Sentence", "Undated"]
    assert list(in_time.in_time_order().values_list("title", flat=True)) == expected
    assert list(in_time.values_list("title", flat=True)) == expected  # the default ordering

    # Clearing the bound puts it back where its date alone sorts.
    Event.objects.filter(pk=sentence.pk).update(
        not_before_year=None, not_before_month=None, not_before_inferred=""
    )
    assert list(in_time.values_list("title", flat=True))[1] == "Sentence"


def test_an_event_reads_its_date_with_its_bound(w):
    event = _event(
        w,
        date_year=2011,
        date_inferred="year: not stated; after the March 2011 detention (line 4)",
        not_before_year=2011,
        not_before_month=3,
        not_before_inferred=REASON,
    )
    assert str(event.date) == "2011 (year inferred)"
    assert event.not_before == dates.FuzzyDate(2011, 3, None, REASON)
    assert event.when == "2011, not before March 2011 (year inferred)"
    assert _event(w, date_year=2011, date_month=3).when == "March 2011"
    assert _event(w).when == "date unknown"


def test_removing_the_date_under_a_not_before_date_is_refused(w):
    event = _event(w, date_year=2011, not_before_year=2011, not_before_month=3)
    event.not_before_inferred = REASON
    event.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(date_year=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(date_year=2012)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(not_before_inferred="")


def test_a_not_before_date_leaves_the_link_rules_to_the_dates(w):
    """The link triggers compare the date parts, not date_key: a bound on the response that
    sorts it later changes nothing they allow or refuse."""
    year_only = Event.objects.create(
        dispute=w.dispute, kind="sentence", title="Sentence", actor=w.tj, date_year=2011
    )
    RetaliationLink.objects.create(cause=w.e2011, response=year_only, evidence="stated")
    Event.objects.filter(pk=year_only.pk).update(
        not_before_year=2011, not_before_month=3, not_before_inferred=REASON
    )
    Event.objects.filter(pk=year_only.pk).update(not_before_month=12)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=w.e2011.pk).update(date_year=2012)


def test_choice_labels_read_as_djangos_own_get_display_reads_them():
    """models.py replaces get_FOO_display with a dictionary look-up: same answers."""
    from django.apps import apps

    checked = 0
    for model in apps.get_app_config("disputes").get_models():
        for field in model._meta.concrete_fields:
            if not field.choices:
                continue
            display = getattr(model, f"get_{field.name}_display")
            for value in [*(v for v, _ in field.flatchoices), "not-a-choice", "", None]:
                obj = model(**{field.attname: value})
                assert display(obj) == obj._get_FIELD_display(field), (model, field, value)
                checked += 1
    assert checked > 20
