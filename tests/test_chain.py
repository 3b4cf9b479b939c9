"""Walking the chain in the database: time order, neighbours, and the recursive walk."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.generate import make_dispute, publish
from disputes import chain
from disputes.models import Claim, Event, Person, RetaliationLink, Source


@pytest.fixture
def dispute(db):
    return make_dispute(40, seed=2)


def in_python_order(dispute):
    events = list(Event.objects.filter(dispute=dispute))
    return sorted(events, key=lambda e: (e.date_key is None, e.date_key or 0, e.sequence, e.pk))


def test_previous_and_next_follow_time_order_through_the_whole_dispute(dispute):
    events = in_python_order(dispute)
    for i, event in enumerate(events):
        previous = chain.previous_step(event)
        following = chain.next_step(event)
        assert (previous.pk if previous else None) == (events[i - 1].pk if i else None)
        assert (following.pk if following else None) == (
            events[i + 1].pk if i + 1 < len(events) else None
        )


def test_undated_events_come_last_and_ties_break_by_sequence_then_id(dispute):
    events = in_python_order(dispute)
    last = events[-1]
    undated = publish(
        *(
            Event.objects.create(
                dispute=dispute, kind="other", title=f"Undated {i}", actor=last.actor, sequence=s
            )
            for i, s in enumerate([2, 1, 1])
        )
    )
    expected = [last, undated[1], undated[2], undated[0]]
    walked = [last]
    while (step := chain.next_step(walked[-1])) is not None:
        walked.append(step)
    assert [e.pk for e in walked] == [e.pk for e in expected]
    back = [walked[-1]]
    while (step := chain.previous_step(back[-1])) is not None and len(back) < 4:
        back.append(step)
    assert [e.pk for e in back] == [e.pk for e in reversed(expected)]


def test_previous_and_next_cross_from_the_last_dated_step_to_the_undated_ones(dispute):
    """Dated and undated steps alike, and the step between the last dated one and the first
    undated one, in both directions."""
    last = in_python_order(dispute)[-1]
    for i, s in enumerate([2, 1, 1]):
        publish(
            Event.objects.create(
                dispute=dispute, kind="other", title=f"Undated {i}", actor=last.actor, sequence=s
            )
        )
    events = in_python_order(dispute)
    assert events[-1].date_key is None and events[-4].date_key is not None
    for i, event in enumerate(events):
        expected = (
            events[i - 1].pk if i else None,
            events[i + 1].pk if i + 1 < len(events) else None,
        )
        assert pks(chain.previous_step(event), chain.next_step(event)) == expected


def test_steps_of_another_dispute_are_never_neighbours(dispute, db):
    """Two disputes whose steps share dates and whose undated steps alternate in primary
    key: each step's previous and next are its own dispute's, in its own dispute's order."""
    other = make_dispute(12, seed=9)
    actor = Event.objects.filter(dispute=dispute).first().actor
    for i in range(6):
        for d in (dispute, other):  # alternating, so the undated steps' pks interleave
            publish(
                Event.objects.create(
                    dispute=d, kind="other", title=f"Undated {i}", actor=actor, sequence=i % 2
                )
            )
    for d in (dispute, other):
        events = in_python_order(d)
        for i, event in enumerate(events):
            expected = (
                events[i - 1].pk if i else None,
                events[i + 1].pk if i + 1 < len(events) else None,
            )
            assert pks(chain.previous_step(event), chain.next_step(event)) == expected


def test_previous_and_next_skip_a_draft_step_without_joining_the_dispute(dispute):
    """A draft step between two public ones in time order is never the previous or the next
    step; the two are read without joining the dispute again (its event was read through
    public(), so the dispute is public: Event.objects.public_in_public_dispute)."""
    events = in_python_order(dispute)
    before, after = next(
        (a, b)
        for a, b in zip(events, events[1:], strict=False)
        if a.date_key is not None and (a.date_key, a.sequence) != (b.date_key, b.sequence)
    )
    # Same date and sequence as `before`, a higher pk: between the two in time order.
    draft = Event.objects.create(
        dispute=dispute,
        kind="other",
        title="A draft step",
        actor=before.actor,
        **{f"date_{part}": getattr(before, f"date_{part}") for part in ("year", "month", "day")},
        sequence=before.sequence,
    )
    assert not draft.cited and draft.date_key == before.date_key
    assert pks(chain.next_step(before), chain.previous_step(after)) == (after.pk, before.pk)
    with CaptureQueriesContext(connection) as queries:
        chain.next_step(before), chain.previous_step(after)
    assert queries and all("disputes_dispute" not in q["sql"] for q in queries)


def pks(*steps):
    return tuple(step.pk if step else None for step in steps)


def test_neighbour_links_split_into_provoked_by_and_provoked(dispute):
    for event in Event.objects.filter(dispute=dispute):
        by, provoked = chain.neighbour_links(event)
        assert {link.pk for link in by} == set(
            RetaliationLink.objects.filter(response=event).values_list("pk", flat=True)
        )
        assert {link.pk for link in provoked} == set(
            RetaliationLink.objects.filter(cause=event).values_list("pk", flat=True)
        )


def test_a_step_read_again_shows_what_changed_in_between(dispute):
    """The step panel's QuerySets are built once (chain.STEP, LINKS, QUOTES, PEOPLE...) and
    each read runs a copy: a second read of the same step sees the people, quotes, links and
    neighbours added since the first, and another step never sees the first one's."""
    events = in_python_order(dispute)
    event = events[5]
    other = next(
        earlier
        for earlier in events[:5]
        if not RetaliationLink.objects.filter(cause=earlier, response=event).exists()
    )
    first = chain.step(chain.STEP.get(pk=event.pk))
    person = publish(
        Person.objects.create(name="Added after the first read", description="a witness")
    )[0]
    event.people.add(person)
    source = Source.objects.create(
        title="A later report", publisher="Generated", text="Both sides said more later."
    )
    publish(event, source=source)
    link = publish(RetaliationLink.objects.create(dispute=dispute, cause=other, response=event))[0]
    later = publish(
        Event.objects.create(
            dispute=dispute, kind="other", title="Inserted", actor=event.actor,
            date_year=event.date_year, date_month=event.date_month, date_day=event.date_day,
            sequence=event.sequence, date_inferred=event.date_inferred,
        )
    )[0]  # fmt: skip

    again = chain.step(chain.STEP.get(pk=event.pk))
    assert person not in first["people"] and person in again["people"]
    assert len(again["quotes"]) == len(first["quotes"]) + 1
    assert "A later report" in {quote.source.title for quote in again["quotes"]}
    assert link.pk not in {x.pk for x in first["provoked_by"]}
    assert link.pk in {x.pk for x in again["provoked_by"]}
    assert again["next"].pk == later.pk != first["next"].pk
    assert other.pk in {reached.pk for reached in again["back"]}

    elsewhere = chain.step(chain.STEP.get(pk=other.pk))
    assert person not in elsewhere["people"]
    assert "A later report" not in {quote.source.title for quote in elsewhere["quotes"]}


def test_a_steps_people_quotes_and_claims_are_listed_in_order(dispute):
    """The step panel puts a step's people (by name), its quotes (by their source's title,
    then where they start) and each link's claims (as recorded) in order itself: added in
    the opposite order, they are listed in that order all the same."""
    link = RetaliationLink.objects.filter(dispute=dispute).first()
    event = link.response
    people = [Person.objects.create(name=name, description="a witness") for name in "ZMA"]
    event.people.set(publish(*people))
    for title in ("Zeta report", "Alpha report"):
        source = Source.objects.create(title=title, publisher="Generated", text="Said so.")
        publish(event, source=source)
    for claimant in ("second", "first"):
        publish(Claim.objects.create(link=link, stance="asserts", claimant=claimant))

    step = chain.step(chain.STEP.get(pk=event.pk))

    names = [(person.name, person.description) for person in step["people"]]
    assert names == sorted(names) and names[:3] == [(n, "a witness") for n in "AMZ"]
    quoted = [(quote.source.title, quote.start) for quote in step["quotes"]]
    assert quoted == sorted(quoted) and len(quoted) >= 3
    shown = next(shown for shown in step["provoked_by"] if shown.pk == link.pk)
    recorded = list(Claim.objects.filter(link=link, cited=True).order_by("pk"))
    assert shown.claim_list == recorded and len(recorded) >= 2


def _python_walk(start, edges, depth):
    seen = {start: 0}
    frontier = [start]
    for d in range(1, depth + 1):
        nxt = []
        for node in frontier:
            for other in edges.get(node, ()):
                if other not in seen:
                    seen[other] = d
                    nxt.append(other)
        frontier = nxt
    del seen[start]
    return seen


@pytest.mark.parametrize("direction", ["back", "on"])
def test_recursive_walk_matches_a_breadth_first_search(dispute, direction):
    """The walk follows the links someone asserts: every link but those the ladder draws
    hollow (denied, asserted by nobody), worked out here from ladder.mark_of and the
    links' claims, apart from the query's own rule."""
    from disputes.ladder import HOLLOW, mark_of
    from disputes.models import Claim

    stances = {}
    for link_id, stance in Claim.objects.filter(cited=True).values_list("link_id", "stance"):
        stances.setdefault(link_id, []).append(stance)
    edges = {}
    walked = [
        (link.cause_id, link.response_id)
        for link in RetaliationLink.objects.all()
        if mark_of(link.evidence, stances.get(link.pk, [])) != HOLLOW
    ]
    assert len(walked) < RetaliationLink.objects.count()  # some are only denied
    for cause, response in walked:
        if direction == "back":
            edges.setdefault(response, []).append(cause)
        else:
            edges.setdefault(cause, []).append(response)
    for event in Event.objects.filter(dispute=dispute):
        expected = _python_walk(event.pk, edges, chain.WALK_DEPTH)
        found = chain.walks(event, limit=1000)[direction]
        assert {e.pk: e.distance for e in found} == expected
        assert [e.distance for e in found] == sorted(e.distance for e in found)
        assert all(e.actor_name for e in found)


def test_walk_survives_a_loop_and_respects_its_limit(dispute):
    a, b = in_python_order(dispute)[:2]
    b.date_year, b.date_month, b.date_day = a.date_year, a.date_month, a.date_day
    b.save()
    RetaliationLink.objects.get_or_create(cause=a, response=b, defaults={"evidence": "stated"})
    RetaliationLink.objects.get_or_create(cause=b, response=a, defaults={"evidence": "denied"})
    found = chain.walks(a, limit=5)["on"]
    assert len(found) <= 5
    assert a.pk not in {e.pk for e in found}
    assert b.pk in {e.pk for e in found}


def test_each_way_keeps_its_own_limit(dispute):
    event = next(e for e in in_python_order(dispute) if min(map(len, chain.walks(e).values())) >= 3)
    found = chain.walks(event, limit=2)
    assert len(found["back"]) == 2 and len(found["on"]) == 2
    assert {e.way for e in found["back"]} == {"back"} and {e.way for e in found["on"]} == {"on"}


def test_synthetic_disputes_branch_and_merge(dispute):
    from django.db.models import Count

    links = RetaliationLink.objects.filter(cause__dispute=dispute)
    assert links.values("cause").annotate(n=Count("pk")).filter(n__gt=1).exists()  # branches
    assert links.values("response").annotate(n=Count("pk")).filter(n__gt=1).exists()  # merges
    assert set(links.values_list("evidence", flat=True)) == set(RetaliationLink.Evidence.values)


def database_work(sql: str, params) -> int:
    """How much the database does to answer a statement, in a unit that does not depend on
    the machine's speed: virtual machine steps on SQLite, buffers read on PostgreSQL."""
    import json

    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            steps = []
            raw = connection.connection
            raw.set_progress_handler(lambda: steps.append(1) and 0, 1)
            try:
                cursor.execute(sql, params)
                cursor.fetchall()
            finally:
                raw.set_progress_handler(None, 1)
            return len(steps)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        top = plan[0]["Plan"]
        return top["Shared Hit Blocks"] + top["Shared Read Blocks"]


def test_finding_a_steps_place_in_time_reads_as_much_in_a_long_dispute_as_in_a_short_one(db):
    """The previous and next steps are index look-ups, for dated and undated steps alike:
    their statements do no more work in a dispute of 600 steps than in one of 20."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    short, long = make_dispute(20, seed=7), make_dispute(600, seed=8)
    for dispute in (short, long):
        last = in_python_order(dispute)[-1]
        Event.objects.create(
            dispute=dispute, kind="other", title="Undated", actor=last.actor, sequence=1
        )
    if connection.vendor == "postgresql":  # the statistics autovacuum would have gathered
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    work = {}
    for name, dispute in (("short", short), ("long", long)):
        steps = in_python_order(dispute)
        picks = {"dated": steps[len(steps) // 2], "undated": steps[-1], "last dated": steps[-2]}
        for kind, step in picks.items():
            with CaptureQueriesContext(connection) as queries:
                chain.previous_step(step), chain.next_step(step)
            statements = [(q["sql"], None) for q in queries.captured_queries]
            work[name, kind] = sum(database_work(sql, params) for sql, params in statements)
    for kind in ("dated", "undated", "last dated"):
        assert work["long", kind] <= 1.5 * work["short", kind] + 20, work
