"""The article's record: built from lines 1-10 of the seed and only from them, every record
traced to a verbatim quote, every sentence accounted for, nothing filled in from memory."""

import json
import re

import pytest
from conftest import ROOT, SEED
from django.contrib.contenttypes.fields import GenericRelation

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
from disputes.sources import split_sentences

FIXTURE = ROOT / "fixtures" / "russia_tajikistan.json"
SEED_LINES = SEED.read_text(encoding="utf-8").split("\n")
BODY = "\n".join(SEED_LINES[:10])
APPEAL = [line for line in SEED_LINES[10:18] if line.strip()]
APPEAL_PHRASES = [
    "undesirable",
    "donation",
    "donate",
    "support us",
    "Remind me later",
    "Dear readers",
    "foreign agent",
    "Prosecutor General",
    "unprecedented challenges",
    "refuse to be silenced",
    "$2",
    "contribution",
    "A Message from",
    "independent journalism",
]
CITED_MODELS = [
    Country,
    Dispute,
    Person,
    Role,
    PersonRelation,
    Case,
    Detention,
    Event,
    RetaliationLink,
    Claim,
]
CONTEXT_SENTENCES = {
    "Specific nationalities have also been targeted during political crises in the past.",
    "About 1 million Tajik migrants work abroad, mostly as low-skilled laborers in Russia, "
    "where they earn remittances to send home to their families.",
}


def sentences_of(text):
    """The body's sentences, found without disputes.sources so the two can disagree."""
    spans = []
    offset = 0
    for line in text.split("\n"):
        protected = line.replace("Dec. ", "Dec\0 ")
        pieces = re.split(r'(?<=[.?!]) (?=["A-Z])|(?<=[.?!]") (?=[A-Z])', protected)
        cursor = 0
        for piece in pieces:
            piece = piece.replace("\0", ".")
            start = line.index(piece, cursor)
            spans.append((offset + start, offset + start + len(piece)))
            cursor = start + len(piece)
        offset += len(line) + 1
    return spans


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.fixture
def source(article):
    return Source.objects.get()


def test_the_seed_has_the_shape_the_fixture_assumes():
    assert len(SEED_LINES) == 18
    assert SEED_LINES[10] == "A Message from The Moscow Times:"


def test_the_stored_text_is_lines_1_to_10_of_the_seed_exactly(source):
    assert source.text == BODY
    assert source.publisher == "The Moscow Times"
    assert source.url == ""
    assert not source.published.known


def test_the_capture_note_says_lines_2_and_9_are_cut_off(source):
    assert source.cut_off_line_numbers == [2, 9]
    assert "line 2 ends mid-sentence" in source.capture_note
    assert "line 9 ends mid-sentence" in source.capture_note
    assert source.text.split("\n")[1].endswith("the BBC Russian Service")
    assert source.text.split("\n")[8].endswith("he")


def test_every_quote_is_verbatim_and_its_start_points_at_it(source):
    citations = list(Citation.objects.all())
    assert citations
    for citation in citations:
        assert citation.source_id == source.pk
        assert citation.quote in source.text, citation.quote
        assert source.text[citation.start : citation.end] == citation.quote, citation.quote


def test_cut_off_lines_are_quoted_as_they_stand_never_completed(source):
    quotes = list(Citation.objects.values_list("quote", flat=True))
    assert any(quote.endswith("the BBC Russian Service") for quote in quotes)
    assert any(quote.endswith('But that was never the case," he') for quote in quotes)


def test_every_sentence_of_the_body_is_cited_or_marked_as_context(source):
    citations = [(c.start, c.end) for c in Citation.objects.all()]
    context = [(s.start, s.end) for s in Sentence.objects.exclude(context_note="")]
    spans = sentences_of(BODY)
    assert len(spans) == 14
    for start, end in spans:
        cited = any(a < end and b > start for a, b in citations)
        marked = any(a < end and b > start for a, b in context)
        assert cited or marked, BODY[start:end]


def test_only_background_sentences_are_marked_as_context(source):
    marked = {s.text: s.context_note for s in Sentence.objects.exclude(context_note="")}
    assert set(marked) == CONTEXT_SENTENCES
    assert all(len(note) > 20 for note in marked.values())


def test_the_stored_sentences_are_the_split_of_the_stored_text(source):
    stored = list(source.sentences.values_list("number", "start", "end"))
    expected = [(n, a, b) for n, (a, b) in enumerate(split_sentences(source.text), start=1)]
    assert stored == expected
    assert [(a, b) for _, a, b in stored] == sentences_of(BODY)


@pytest.mark.parametrize("line", APPEAL)
def test_no_line_of_the_appeal_became_data(line):
    data = FIXTURE.read_text(encoding="utf-8")
    assert line not in data
    assert json.dumps(line)[1:-1] not in data


@pytest.mark.parametrize("phrase", APPEAL_PHRASES)
def test_no_phrase_of_the_appeal_became_data(phrase):
    values = list(_strings(json.loads(FIXTURE.read_text(encoding="utf-8"))))
    assert not [value for value in values if phrase.lower() in value.lower()]


def test_no_appeal_text_is_in_the_database_either(article):
    for model in [Source, Sentence, Citation, *CITED_MODELS]:
        for row in model.objects.values():
            for value in row.values():
                if isinstance(value, str):
                    lowered = value.lower()
                    assert not any(phrase.lower() in lowered for phrase in APPEAL_PHRASES)
                    assert not any(line in value for line in APPEAL)


def test_every_model_with_citations_is_checked():
    cited = {
        model
        for model in Citation._meta.apps.get_app_config("disputes").get_models()
        if any(isinstance(field, GenericRelation) for field in model._meta.private_fields)
    }
    assert cited == set(CITED_MODELS)


@pytest.mark.parametrize("model", CITED_MODELS, ids=lambda model: model.__name__)
def test_every_record_cites_at_least_one_quote(article, model):
    rows = list(model.objects.all())
    assert rows, f"the article's record has no {model.__name__}"
    uncited = [str(row) for row in rows if not row.citations.exists()]
    assert not uncited


def test_unnamed_people_stay_unnamed(article):
    pilots = Person.objects.filter(description__contains="pilot") | Person.objects.filter(
        description__contains="counterpart"
    )
    assert pilots.count() == 2
    assert set(pilots.values_list("name", flat=True)) == {""}
    assert {p.description for p in pilots} >= {"a Russian pilot"}


def test_every_name_is_in_the_text(source):
    for name in Person.objects.exclude(name="").values_list("name", flat=True):
        assert name in source.text


def test_countries_are_the_articles_with_their_demonyms(article):
    assert sorted(Country.objects.values_list("code", "name", "demonym")) == [
        ("EE", "Estonia", "Estonian"),
        ("RU", "Russia", "Russian"),
        ("TJ", "Tajikistan", "Tajik"),
    ]


def test_khukumov_is_a_dual_russian_tajik_citizen(article):
    rustam = Person.objects.get(name="Rustam Khukumov")
    assert set(rustam.citizenships.values_list("code", flat=True)) == {"RU", "TJ"}


def test_relations_and_roles(article):
    relations = {
        (r.person.name, r.kind, r.other.name) for r in PersonRelation.objects.select_related()
    }
    assert relations == {
        ("Amonullo Khukumov", "parent", "Rustam Khukumov"),
        ("Amonullo Khukumov", "ally", "Emomali Rakhmon"),
        ("Konstantin Rybalov", "counsel", "Rustam Khukumov"),
    }
    rakhmon = Role.objects.get(person__name="Emomali Rakhmon")
    assert (rakhmon.title, rakhmon.country.code) == ("President", "TJ")
    assert "without naming the country" in rakhmon.note
    assert Role.objects.filter(
        person__name="Amonullo Khukumov", title="head of the national railroad", country__code="TJ"
    ).exists()


@pytest.mark.parametrize(
    ("title", "actor", "shown", "inferred"),
    [
        ("Rustam Khukumov arrested in Russia", "RU", "2008", False),
        ("Rustam Khukumov convicted of drug smuggling", "RU", "2010", False),
        (
            "Tajikistan detains a Russian pilot and his Estonian counterpart",
            "TJ",
            "March 2011",
            False,
        ),
        ("The pilots sentenced to 8 1/2 years", "TJ", "2011 (year inferred)", True),
        ("Police round up hundreds of Tajik migrants", "RU", "November 2011 (year inferred)", True),
        ("Both pilots freed", "TJ", "November 2011 (year inferred)", True),
        ("A Moscow region court clears Rustam Khukumov", "RU", "28 Dec 2011 (year inferred)", True),
    ],
)
def test_events_are_dated_at_the_precision_the_text_gives(article, title, actor, shown, inferred):
    event = Event.objects.get(title=title)
    assert event.actor.code == actor
    assert str(event.date) == shown
    if inferred:
        assert event.date_inferred.startswith("year: not stated")
    else:
        assert event.date_inferred == ""


def test_inferred_parts_always_say_why(article):
    for event in Event.objects.all():
        assert not event.date_inferred or len(event.date_inferred) > 40
    for detention in Detention.objects.all():
        for date in (detention.start, detention.end):
            assert not date.inferred or len(date.inferred) > 40


def test_the_timeline_runs_from_the_arrest_to_the_ruling(article):
    events = list(Event.objects.in_time_order())
    assert events[0].title == "Rustam Khukumov arrested in Russia"
    assert events[-1].title == "A Moscow region court clears Rustam Khukumov"
    freed = Event.objects.get(title="Both pilots freed")
    roundups = Event.objects.get(title="Police round up hundreds of Tajik migrants")
    assert events.index(roundups) < events.index(freed)


def test_cases_as_the_article_states_them(article):
    khukumov = Case.objects.get(title="Russia v. Rustam Khukumov")
    assert khukumov.prosecuting_country.code == "RU"
    assert khukumov.sentence == "9 1/2 years in prison"
    assert khukumov.sentence_months == 114
    assert khukumov.outcome == Case.Outcome.ACQUITTED
    assert "running a criminal gang" in khukumov.charges
    pilots = Case.objects.get(prosecuting_country__code="TJ")
    assert pilots.charges == "smuggling and illegal border-crossing"
    # The source's own words ("an 8 1/2-year prison sentence"), not a paraphrase.
    assert pilots.sentence == "8 1/2-year prison sentence"
    assert pilots.sentence_months == 102
    assert pilots.court == ""
    assert pilots.defendants.count() == 2


def test_detentions_of_people_and_of_a_group(article):
    group = Detention.objects.get(person__isnull=True)
    assert (group.group_description, group.group_size, group.holding_country.code) == (
        "Tajik migrants",
        "hundreds",
        "RU",
    )
    assert str(group.start) == "November 2011 (year inferred)"
    pilots = Detention.objects.filter(holding_country__code="TJ")
    assert pilots.count() == 2
    for detention in pilots:
        assert str(detention.start) == "March 2011"
        assert detention.end.display() == "November 2011"
        assert detention.ending == Detention.Ending.RELEASED
    rustam = Detention.objects.get(person__name="Rustam Khukumov")
    assert str(rustam.start) == "2008"
    assert not rustam.end.known


def _link(cause, response):
    return RetaliationLink.objects.get(cause__title=cause, response__title=response)


def test_links_carry_their_evidence_and_their_claims_owners(article):
    speculated = _link(
        "Rustam Khukumov convicted of drug smuggling",
        "Tajikistan detains a Russian pilot and his Estonian counterpart",
    )
    assert speculated.evidence == "speculated"
    observers = speculated.claims.get(claimant="observers")
    assert observers.stance == "speculates"
    assert set(observers.citations.values_list("quote", flat=True)) >= {
        "or to possibly boost his nationalist credentials at home"
    }

    stated = _link(
        "The pilots sentenced to 8 1/2 years",
        'Russia calls the pilots\' sentence "harsh" and "politically motivated"',
    )
    assert stated.evidence == "stated"

    roundups = _link(
        "The pilots sentenced to 8 1/2 years", "Police round up hundreds of Tajik migrants"
    )
    assert roundups.evidence == "confirmed"
    stances = {(c.claimant, c.stance) for c in roundups.claims.all()}
    assert stances == {("the Kremlin", "denies"), ("insiders (not named)", "confirms")}

    freed = _link("Police round up hundreds of Tajik migrants", "Both pilots freed")
    assert freed.evidence == "implied"

    ruling = RetaliationLink.objects.get(
        response__title="A Moscow region court clears Rustam Khukumov"
    )
    lawyer = ruling.claims.get()
    assert (lawyer.stance, lawyer.claimant_person.name) == ("denies", "Konstantin Rybalov")


def test_every_claims_quote_is_its_own(article):
    """A claim's quote names or includes what its owner said, not someone else's words."""
    for claim in Claim.objects.all():
        quotes = " ".join(claim.citations.values_list("quote", flat=True))
        owner = {
            "denies": "denied",
            "confirms": "confirmed",
            "speculates": ("speculated", "believed"),
        }
        expected = owner.get(claim.stance)
        if expected is not None:
            words = expected if isinstance(expected, tuple) else (expected,)
            assert any(word in quotes for word in words) or "said" in quotes, claim


def test_the_record_passes_every_rule_editors_see(article):
    for model in [Source, Sentence, Citation, *CITED_MODELS]:
        for row in model.objects.all():
            row.full_clean()


ARTICLE_TIME_ORDER = [
    ("Rustam Khukumov arrested in Russia", "2008"),
    ("Rustam Khukumov convicted of drug smuggling", "2010"),
    ("Tajikistan detains a Russian pilot and his Estonian counterpart", "March 2011"),
    ("The pilots sentenced to 8 1/2 years", "2011, not before March 2011 (year inferred)"),
    (
        'Russia calls the pilots\' sentence "harsh" and "politically motivated"',
        "2011, not before March 2011 (year inferred)",
    ),
    ("Police round up hundreds of Tajik migrants", "November 2011 (year inferred)"),
    ("Both pilots freed", "November 2011 (year inferred)"),
    ("A Moscow region court clears Rustam Khukumov", "28 Dec 2011 (year inferred)"),
]


def test_the_articles_events_run_in_the_order_they_happened(article):
    """The sentence and the outcry are dated only "2011", which alone would sort them before
    the March 2011 detention they followed; their not-before date puts them after it."""
    in_time = [(e.title, e.when) for e in Event.objects.in_time_order()]
    assert in_time == ARTICLE_TIME_ORDER
    assert [(e.title, e.when) for e in Event.objects.all()] == ARTICLE_TIME_ORDER


@pytest.mark.parametrize(
    "title",
    [
        "The pilots sentenced to 8 1/2 years",
        'Russia calls the pilots\' sentence "harsh" and "politically motivated"',
    ],
)
def test_the_sentence_and_the_outcry_are_not_before_the_detention(article, title):
    event = Event.objects.get(title=title)
    detention = Event.objects.get(kind="detention")
    freed = Event.objects.get(title="Both pilots freed")
    assert str(event.date) == "2011 (year inferred)"
    assert event.not_before.display() == "March 2011"
    assert event.not_before.low_key == detention.date.low_key == event.date_key
    assert event.sequence > detention.sequence
    assert not event.date.certainly_before(detention.date)
    assert event.date_key < freed.date_key
    assert event.date_inferred.startswith(
        "year: not stated; after the March 2011 detention (line 4) and before the pilots "
        "were freed in November"
    )
    # The bound's reason points at the lines already cited, so it needs no new quote.
    assert "(line 4)" in event.not_before.inferred
    assert "line 5" in event.not_before.inferred


def test_only_the_undated_steps_carry_a_not_before_date(article):
    bounded = set(
        Event.objects.filter(not_before_year__isnull=False).values_list("kind", flat=True)
    )
    assert bounded == {"sentence", "statement"}
