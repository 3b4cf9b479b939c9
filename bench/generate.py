"""Synthetic disputes of any size, for the tests and the benchmark: thousands of events,
links that branch (one step provoking several) and merge (one step provoked by several),
every kind of evidence, people, cases, detentions, claims and citations of sources whose
sentences every record cites. Rows are bulk-inserted, so that 100,000 events and 200,000
links take about a minute on SQLite or PostgreSQL.

Dates only move forward with the generation order and a link always runs from an earlier to
a later event of the same dispute, so the triggers of migration 0002 ("a response is not
dated before its cause", "both ends in one dispute") hold even where a date is known only to
the month or the year.

    python bench/generate.py --events 1000 [--links-per-event 2] [--seed 1]
(uses DJANGO_SETTINGS_MODULE and DATABASE_URL from the environment, default bench.settings)
"""

from __future__ import annotations

import datetime
import random
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LANES = (("XA", "Arcadia", "Arcadian"), ("XB", "Borduria", "Bordurian"))
KINDS = [
    "arrest",
    "detention",
    "conviction",
    "sentence",
    "release",
    "roundup",
    "statement",
    "acquittal",
]
STANCE = {
    "stated": "asserts",
    "confirmed": "confirms",
    "implied": "implies",
    "speculated": "speculates",
    "denied": "denies",
}
BATCH = 5000
# How far back a response looks for its causes: a small window keeps the graph local, as in
# a real dispute, and makes branches (one cause, several responses) and merges (one
# response, several causes) common.
WINDOW = 12
SOURCE_LINES = 200
FIRST_DAY = datetime.date(1990, 1, 1)
SPAN_DAYS = 30 * 365  # events spread over about 30 years, several a day in a big dispute


def _countries():
    from disputes.models import Country

    return [
        Country.objects.get_or_create(code=code, defaults={"name": name, "demonym": demonym})[0]
        for code, name, demonym in LANES
    ]


def _date(i: int, n: int):
    """(year, month, day, precision) of the i-th of n events: never earlier than event i-1."""
    day = FIRST_DAY + datetime.timedelta(days=i * SPAN_DAYS // max(n, 1))
    if i % 11 == 5:
        return day.year, None, None
    if i % 7 == 4:
        return day.year, day.month, None
    return day.year, day.month, day.day


def make_dispute(
    n_events: int,
    *,
    links_per_event: float = 1.3,
    seed: int = 0,
    title: str | None = None,
    log=None,
):
    """One dispute of n_events events and about links_per_event * n_events links."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from disputes import search_index
    from disputes.models import (
        Case,
        Citation,
        Claim,
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

    say = log or (lambda _msg: None)
    rng = random.Random(seed)
    with transaction.atomic():
        countries = _countries()
        title = title or f"Synthetic dispute of {n_events} events (seed {seed})"
        dispute = Dispute.objects.create(
            title=title,
            summary=f"A generated dispute between Arcadia and Borduria in {n_events} steps.",
        )
        dispute.countries.set(countries)

        n_people = max(2, n_events // 5)
        people = Person.objects.bulk_create(
            (
                Person(
                    name="" if i % 7 == 3 else f"Person {seed}-{i} Example",
                    description=f"a {LANES[i % 2][2]} citizen in story {seed}",
                )
                for i in range(n_people)
            ),
            batch_size=BATCH,
        )
        Person.citizenships.through.objects.bulk_create(
            (
                Person.citizenships.through(person_id=p.pk, country_id=countries[lane].pk)
                for i, p in enumerate(people)
                # one in ten holds both citizenships, as Khukumov does
                for lane in ((0, 1) if i % 10 == 0 else (i % 2,))
            ),
            batch_size=BATCH,
        )
        roles = Role.objects.bulk_create(
            (
                Role(person=p, title=f"official no. {i}", country=countries[i % 2])
                for i, p in enumerate(people[::10])
            ),
            batch_size=BATCH,
        )
        relations = PersonRelation.objects.bulk_create(
            (
                PersonRelation(person=people[i], kind=PersonRelation.Kind.ALLY, other=people[i + 1])
                for i in range(0, n_people - 1, 10)
            ),
            batch_size=BATCH,
        )
        say(f"  {n_people} people")

        # The sources: reports of SOURCE_LINES lines, one line per event, so each line is one
        # sentence to cite. A real dispute is told by many articles, not one book: a single
        # source of 100,000 sentences would be 9 MB of text, past PostgreSQL's 1 MB limit
        # for a tsvector.
        lines = [
            f"In step {i}, {LANES[i % 2][2]} authorities acted against "
            f"{people[i % n_people]} after the previous move"
            for i in range(n_events)
        ]
        chunks = [lines[k : k + SOURCE_LINES] for k in range(0, n_events, SOURCE_LINES)]
        sources = Source.objects.bulk_create(
            (
                Source(
                    title=f"Synthetic report {k + 1} of {len(chunks)}: {title}"[:300],
                    publisher="Generated",
                    text="\n".join(chunk),
                )
                for k, chunk in enumerate(chunks)
            ),
            batch_size=BATCH,
        )
        spans = []  # (source, start, end) of each line, in event order
        sentences = []
        for source in sources:
            for number, (start, end) in enumerate(split_sentences(source.text), start=1):
                spans.append((source, start, end))
                sentences.append(Sentence(source=source, number=number, start=start, end=end))
        Sentence.objects.bulk_create(sentences, batch_size=BATCH)
        dispute.sources.add(*sources)
        say(f"  {len(sources)} sources of {len(spans)} sentences")

        n_cases = max(1, n_events // 20)
        cases = Case.objects.bulk_create(
            (
                Case(
                    dispute=dispute,
                    title=f"Case {i} of {title}"[:200],
                    prosecuting_country=countries[i % 2],
                    court=f"District court {i}",
                    charges="smuggling",
                    sentence="" if i % 3 else "5 years in prison",
                    outcome=Case.Outcome.CONVICTED if i % 2 else Case.Outcome.PENDING,
                )
                for i in range(n_cases)
            ),
            batch_size=BATCH,
        )
        Case.defendants.through.objects.bulk_create(
            (
                Case.defendants.through(case_id=c.pk, person_id=people[i % n_people].pk)
                for i, c in enumerate(cases)
            ),
            batch_size=BATCH,
        )
        detentions = []
        for i in range(n_cases):
            group = i % 3 == 2
            year = _date(i * 20, n_events)[0]
            detentions.append(
                Detention(
                    dispute=dispute,
                    person=None if group else people[(i + 1) % n_people],
                    group_description=f"migrants from {LANES[(i + 1) % 2][1]}" if group else "",
                    group_size="hundreds" if group else "",
                    group_size_min=200 if group else None,
                    holding_country=countries[i % 2],
                    place=f"City {i}",
                    case=cases[i],
                    start_year=year,
                    end_year=year + 1 if i % 2 else None,
                    ending=Detention.Ending.RELEASED if i % 2 else Detention.Ending.UNKNOWN,
                )
            )
        detentions = Detention.objects.bulk_create(detentions, batch_size=BATCH)
        say(f"  {n_cases} cases and detentions")

        events = []
        per_day: dict[tuple, int] = {}
        for i in range(n_events):
            lane = 0 if i == 0 else 1 if i == 1 else int(rng.random() < 0.5)
            year, month, day = _date(i, n_events)
            sequence = per_day.get((year, month, day), 0)
            per_day[(year, month, day)] = sequence + 1
            kind = KINDS[i % len(KINDS)]
            events.append(
                Event(
                    dispute=dispute,
                    kind=kind,
                    title=f"{LANES[lane][2]} {kind} {i}",
                    summary=f"Generated step {i} of {title}: a {kind} by {LANES[lane][1]}.",
                    actor=countries[lane],
                    case=cases[(i // 20) % n_cases] if i % 4 == 0 else None,
                    detention=detentions[(i // 20) % n_cases] if i % 6 == 1 else None,
                    date_year=year,
                    date_month=month,
                    date_day=day,
                    date_inferred="year: generated" if i % 13 == 7 else "",
                    sequence=min(sequence, 32767),
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
        say(f"  {n_events} events")

        # Each response draws its causes from the WINDOW events before it: a cause picked by
        # several responses is a branch, a response with several causes is a merge.
        whole, extra = int(links_per_event), links_per_event - int(links_per_event)
        evidence = list(RetaliationLink.Evidence.values)
        pairs = []
        for i in range(1, n_events):
            want = min(i, whole + (1 if rng.random() < extra else 0))
            causes = rng.sample(range(max(0, i - WINDOW), i), min(want, min(i, WINDOW)))
            pairs.extend((c, i) for c in sorted(causes))
        # The first responses have fewer earlier events to choose from; top up on later ones.
        shortfall = round(links_per_event * n_events) - len(pairs)
        taken = set(pairs)
        i = n_events - 1
        while shortfall > 0 and i > WINDOW:
            c = rng.randrange(i - WINDOW, i)
            if (c, i) not in taken:
                taken.add((c, i))
                pairs.append((c, i))
                shortfall -= 1
            i = i - 1 if i > WINDOW + 1 else n_events - 1
        links = RetaliationLink.objects.bulk_create(
            (
                RetaliationLink(
                    dispute=dispute,
                    cause=events[c],
                    response=events[r],
                    evidence=evidence[(c + r) % len(evidence)],
                    summary=f"Step {c} is said to have provoked step {r}.",
                )
                for c, r in pairs
            ),
            batch_size=BATCH,
        )
        say(f"  {len(links)} links")
        claims = Claim.objects.bulk_create(
            (
                Claim(
                    link=link,
                    stance=STANCE[link.evidence],
                    claimant="observers" if link.evidence == "speculated" else "officials",
                    claimant_country=countries[k % 2],
                )
                for k, link in enumerate(links)
            ),
            batch_size=BATCH,
        )

        types = ContentType.objects.get_for_models(
            Dispute, Event, RetaliationLink, Claim, Person, Role, PersonRelation, Case, Detention
        )

        def cite(obj, index):
            source, s, e = spans[index % len(spans)]
            return Citation(
                source=source,
                quote=source.text[s:e],
                start=s,
                content_type=types[type(obj)],
                object_id=obj.pk,
            )

        index_of = {e.pk: k for k, e in enumerate(events)}
        citations = [cite(e, k) for k, e in enumerate(events)]
        citations += [cite(link, index_of[link.response_id]) for link in links]
        citations += [cite(p, k) for k, p in enumerate(people)]
        citations += [cite(c, k * 20) for k, c in enumerate(cases)]
        citations += [cite(d, k * 20 + 1) for k, d in enumerate(detentions)]
        # Uncited records are drafts, which no public page shows: every one is cited.
        citations.append(cite(dispute, 0))
        citations += [cite(claim, index_of[claim.link.response_id]) for claim in claims]
        citations += [cite(role, k * 10) for k, role in enumerate(roles)]
        citations += [cite(relation, k * 10) for k, relation in enumerate(relations)]
        Citation.objects.bulk_create(citations, batch_size=BATCH)
        say(f"  {len(citations)} citations")
        # Bulk writes send no signals: search's index is written from the record.
        say(f"  {search_index.rebuild()} search entries")
    return dispute


def publish(*records, source=None):
    """Cite each record with the first sentence of `source` (the first source, or a note
    made for the purpose): a record no citation supports is a draft, shown nowhere public.
    Returns the records, so that `event = publish(Event.objects.create(...))[0]` reads."""
    from django.contrib.contenttypes.models import ContentType

    from disputes.models import Citation, Source

    source = source or Source.objects.order_by("pk").first()
    if source is None:
        source = Source.objects.create(
            title="Notes for a test", publisher="Generated", text="Recorded for a test."
        )
    quote = source.text.split("\n", 1)[0][:80] or source.text[:80]
    Citation.objects.bulk_create(
        Citation(
            source=source,
            quote=quote,
            start=source.text.index(quote),
            content_type=ContentType.objects.get_for_model(record),
            object_id=record.pk,
        )
        for record in records
    )
    from disputes import search_index

    search_index.changed(*records)
    return records


def analyze() -> None:
    """Planner statistics and visibility after a bulk load, as production would have them:
    PostgreSQL's autovacuum vacuums and analyzes a table soon after a bulk insert (which
    lets it answer from an index alone), so the benchmark does both at once;
    nothing ever runs ANALYZE on an SQLite file, so the benchmark leaves it without
    statistics too (plans chosen without sqlite_stat1 can differ by orders of magnitude)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")


def main(argv=None) -> int:
    import argparse
    import os
    import time

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--links-per-event", type=float, default=1.3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--title")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    started = time.monotonic()
    dispute = make_dispute(
        args.events,
        links_per_event=args.links_per_event,
        seed=args.seed,
        title=args.title,
        log=print,
    )
    analyze()
    print(f"dispute {dispute.pk} in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
