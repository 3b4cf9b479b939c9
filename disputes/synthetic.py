"""Synthetic disputes of any size, for query-count tests and benchmarks.

A generated dispute looks like a real one to every view: two states taking turns, links that
branch (one step provoking several) and merge (one step provoked by several), every kind of
evidence, people, cases, detentions, claims, and a source whose sentences every record cites.
Rows are bulk-inserted, so 100,000 events take seconds, not hours. Dates only move forward
along the generation order, which keeps every link's response on or after its cause, as the
database's triggers demand, even when a date is known only to the month or the year.
"""

from __future__ import annotations

import datetime
import random

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from .models import (
    Case,
    Citation,
    Claim,
    Country,
    Detention,
    Dispute,
    Event,
    Person,
    RetaliationLink,
    Source,
)

LANES = (("XA", "Arcadia", "Arcadian"), ("XB", "Borduria", "Bordurian"))
KINDS = [
    Event.Kind.ARREST,
    Event.Kind.DETENTION,
    Event.Kind.CONVICTION,
    Event.Kind.SENTENCE,
    Event.Kind.RELEASE,
    Event.Kind.ROUNDUP,
    Event.Kind.STATEMENT,
    Event.Kind.ACQUITTAL,
]
EVIDENCE = list(RetaliationLink.Evidence.values)
STANCE = {
    "stated": Claim.Stance.ASSERTS,
    "confirmed": Claim.Stance.CONFIRMS,
    "implied": Claim.Stance.ASSERTS,
    "speculated": Claim.Stance.SPECULATES,
    "denied": Claim.Stance.DENIES,
}
BATCH = 2000


def _countries():
    return [
        Country.objects.get_or_create(code=code, defaults={"name": name, "demonym": demonym})[0]
        for code, name, demonym in LANES
    ]


@transaction.atomic
def make_dispute(n_events: int, *, seed: int = 0, title: str | None = None) -> Dispute:
    """A dispute of n_events events, with about 1.3 links per event."""
    rng = random.Random(seed)
    countries = _countries()
    title = title or f"Synthetic dispute of {n_events} events (seed {seed})"
    dispute = Dispute.objects.create(
        title=title, summary=f"A generated dispute between Arcadia and Borduria, {n_events} steps."
    )
    dispute.countries.set(countries)

    n_people = max(2, n_events // 5)
    people = Person.objects.bulk_create(
        Person(
            name="" if i % 7 == 3 else f"Person {i} Example",
            description=f"a {LANES[i % 2][2]} citizen in story {seed}",
        )
        for i in range(n_people)
    )
    Person.citizenships.through.objects.bulk_create(
        Person.citizenships.through(person_id=p.pk, country_id=countries[i % 2].pk)
        for i, p in enumerate(people)
    )

    lines = []
    for i in range(n_events):
        demonym = LANES[i % 2][2]
        lines.append(
            f"In step {i}, {demonym} authorities acted against {people[i % n_people]} "
            f"after the previous move."
        )
    text = ""
    spans = []
    for i, line in enumerate(lines):
        if i:
            text += "\n" if i % 5 == 0 else " "
        spans.append((len(text), len(text) + len(line)))
        text += line
    # Saving the source cuts its text into sentences (disputes/sources.py): one per line here.
    source = Source.objects.create(
        title=f"Synthetic report for {title}"[:300], publisher="Generated", text=text
    )
    dispute.sources.add(source)

    n_cases = max(1, n_events // 20)
    cases = Case.objects.bulk_create(
        Case(
            dispute=dispute,
            title=f"Case {i} of dispute {dispute.pk}",
            prosecuting_country=countries[i % 2],
            court=f"District court {i}",
            charges="smuggling",
            sentence="" if i % 3 else "5 years in prison",
            outcome=Case.Outcome.CONVICTED if i % 2 else Case.Outcome.PENDING,
        )
        for i in range(n_cases)
    )
    Case.defendants.through.objects.bulk_create(
        Case.defendants.through(case_id=c.pk, person_id=people[i % n_people].pk)
        for i, c in enumerate(cases)
    )
    detentions = Detention.objects.bulk_create(
        Detention(
            dispute=dispute,
            person=None if i % 3 == 2 else people[(i + 1) % n_people],
            group_description=f"migrants from {LANES[(i + 1) % 2][1]}" if i % 3 == 2 else "",
            group_size="hundreds" if i % 3 == 2 else "",
            holding_country=countries[i % 2],
            place=f"City {i}",
            case=cases[i % n_cases],
            start_year=2000 + i // 10,
            ending=Detention.Ending.UNKNOWN,
        )
        for i in range(n_cases)
    )

    start = datetime.date(2000, 1, 1)
    events = []
    for i in range(n_events):
        day = start + datetime.timedelta(days=3 * i)
        lane = rng.random() < 0.5 if i > 1 else i == 1
        precision = "year" if i % 11 == 5 else "month" if i % 7 == 4 else "day"
        events.append(
            Event(
                dispute=dispute,
                kind=KINDS[i % len(KINDS)],
                title=f"{LANES[int(lane)][2]} step {i}: {KINDS[i % len(KINDS)].label}",
                summary=f"Generated step {i}.",
                actor=countries[int(lane)],
                case=cases[i % n_cases] if i % 4 == 0 else None,
                detention=detentions[i % n_cases] if i % 6 == 1 else None,
                date_year=day.year,
                date_month=None if precision == "year" else day.month,
                date_day=day.day if precision == "day" else None,
                date_inferred="year: generated" if i % 13 == 7 else "",
                sequence=0,
            )
        )
    events = Event.objects.bulk_create(events, batch_size=BATCH)
    Event.people.through.objects.bulk_create(
        (
            Event.people.through(event_id=e.pk, person_id=people[(i + k) % n_people].pk)
            for i, e in enumerate(events)
            for k in range(1 + i % 2)
        ),
        batch_size=BATCH,
        ignore_conflicts=True,
    )

    links = []
    seen = set()
    for i in range(1, n_events):
        causes = {rng.randrange(max(0, i - 6), i)}
        if rng.random() < 0.3:
            causes.add(rng.randrange(max(0, i - 12), i))  # a merge
        for c in causes:
            if (c, i) not in seen:
                seen.add((c, i))
                links.append(
                    RetaliationLink(
                        cause=events[c],
                        response=events[i],
                        evidence=EVIDENCE[(c + i) % len(EVIDENCE)],
                        summary=f"Step {c} is said to have provoked step {i}.",
                    )
                )
    links = RetaliationLink.objects.bulk_create(links, batch_size=BATCH)
    Claim.objects.bulk_create(
        (
            Claim(
                link=link,
                stance=STANCE[link.evidence],
                claimant="observers" if link.evidence == "speculated" else "officials",
                claimant_country=countries[i % 2],
            )
            for i, link in enumerate(links)
        ),
        batch_size=BATCH,
    )

    def cite(obj, index):
        s, e = spans[index % n_events]
        return Citation(
            source=source,
            quote=text[s:e],
            start=s,
            content_type=types[type(obj)],
            object_id=obj.pk,
        )

    types = ContentType.objects.get_for_models(Event, RetaliationLink, Person, Case, Detention)
    citations = [cite(e, i) for i, e in enumerate(events)]
    index_of = {e.pk: i for i, e in enumerate(events)}
    citations += [cite(link, index_of[link.response_id]) for link in links]
    citations += [cite(p, i) for i, p in enumerate(people)]
    citations += [cite(c, i * 20) for i, c in enumerate(cases)]
    citations += [cite(d, i * 20 + 1) for i, d in enumerate(detentions)]
    Citation.objects.bulk_create(citations, batch_size=BATCH)
    return dispute
