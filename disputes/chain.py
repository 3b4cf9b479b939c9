"""Walking a dispute's chain: what a step panel shows around one event.

The previous and next steps in time are index look-ups (Event.objects.step_before /
step_after); "provoked by" and "provoked" are the links into and out of the event; the chain
further back and further on is a recursive query (Event.objects.reached_from). No view
loads a whole dispute into Python.
"""

from __future__ import annotations

from collections import defaultdict
from operator import attrgetter

from django.contrib.contenttypes.models import ContentType

from .ladder import mark_of
from .models import NEIGHBOUR_FIELDS, Citation, Claim, Event, Person, RetaliationLink
from .sources import date_notes

NEIGHBOUR_LIMIT = 50
WALK_DEPTH = 6
WALK_LIMIT = 12
DIRECTIONS = ("back", "on")
# What the step panel and the ladder show of a link (with NEIGHBOUR_FIELDS of its ends).
LINK_FIELDS = ("cause", "response", "dispute", "evidence", "summary")

# The QuerySets a step panel reads, built once (as a class-based view's `queryset` is): each
# read runs a copy with its own filter (filter, get, first copy), so none ever holds rows;
# building them for every page was a tenth of rendering one. Copies share some state with
# their base (known related objects, table_map): no Prefetch of a base, no `|` with these.
STEP = Event.objects.public().for_step()
NEIGHBOURS = Event.objects.public_in_public_dispute().as_neighbours()
LINKS = (
    RetaliationLink.objects.public()
    .select_related("cause__actor", "response__actor")
    .only(
        *LINK_FIELDS,
        *(f"{end}__{name}" for end in ("cause", "response") for name in NEIGHBOUR_FIELDS),
        *("cause__actor__name", "response__actor__name"),
    )
    .order_by()
)
# A step's quotes, people and claims are a handful of rows, put in order here rather than by
# the database: an ORDER BY makes Django compare every selected column with the ordering as
# it compiles the query, which cost more than the read itself (a quarter of each of these).
QUOTES = Citation.objects.with_sentence().order_by()
PEOPLE = Person.objects.public().order_by()


def next_step(event: Event) -> Event | None:
    return NEIGHBOURS.step_after(event)


def previous_step(event: Event) -> Event | None:
    return NEIGHBOURS.step_before(event)


def links_of(events) -> list[RetaliationLink]:
    """The public links into and out of a list of `events` (instances or pks) in pk order,
    each with both its events and their states, read with it (public() joins both events
    already): one statement."""
    events = list(events)
    if not events:
        return []
    # SQLite would rather read every link than OR two lists of look-ups: the links at each
    # end, as one statement.
    links = LINKS.filter(cause__in=events).union(LINKS.filter(response__in=events))
    return list(links.order_by("pk"))


def neighbour_links(event: Event) -> tuple[list[RetaliationLink], list[RetaliationLink]]:
    """(provoked by, provoked): the links into and out of the event in time order of the
    event at their other end (the first NEIGHBOUR_LIMIT each way), each with its claims
    (`claim_list`). One step's links are a handful: all are read, in no order (two index
    look-ups, which both databases OR), and put in order here."""
    links = list(LINKS.touching([event]))
    claims = defaultdict(list)
    for claim in sorted(Claim.objects.public_of(links), key=attrgetter("pk")):
        claims[claim.link_id].append(claim)
    for link in links:
        link.claim_list = claims[link.pk]
        link.mark = mark_of(link.evidence, [claim.stance for claim in link.claim_list])
    by = [link for link in links if link.response_id == event.pk]
    provoked = [link for link in links if link.cause_id == event.pk]
    by.sort(key=lambda link: time_key(link.cause))
    provoked.sort(key=lambda link: time_key(link.response))
    return by[:NEIGHBOUR_LIMIT], provoked[:NEIGHBOUR_LIMIT]


def walks(event: Event, depth: int = WALK_DEPTH, limit: int = WALK_LIMIT, linked=True) -> dict:
    """{"back": [...], "on": [...]}: the events the chain reaches from this one, nearest
    first (see Event.objects.reached_from); no query for a step that no public link
    touches (`linked` False: its provoked-by and provoked lists are empty)."""
    found = {way: [] for way in DIRECTIONS}
    for reached in Event.objects.reached_from(event, depth, limit) if linked else ():
        found[reached.way].append(reached)
    return found


def step(event: Event) -> dict:
    """Everything the step panel shows around one event (read with Event.objects.for_step)."""
    provoked_by, provoked = neighbour_links(event)
    # event.citations and event.people, from the event's database, as their managers read
    db = event._state.db
    citing = ContentType.objects.db_manager(db).get_for_model(Event)  # kept in memory
    quotes = QUOTES.using(db).filter(content_type=citing, object_id=event.pk)
    # in the models' orders: Citation's (its source's title, then where it starts), Person's
    quotes = sorted(quotes, key=lambda quote: (quote.source.title, quote.start, quote.pk))
    people = PEOPLE.using(db).filter(events=event)
    return {
        "event": event,
        "people": sorted(people, key=lambda person: (person.name, person.description, person.pk)),
        "quotes": quotes,
        "date_notes": date_notes(event, quotes),
        "previous": previous_step(event),
        "next": next_step(event),
        "provoked_by": provoked_by,
        "provoked": provoked,
        **walks(event, linked=bool(provoked_by or provoked)),
    }


def time_key(event: Event) -> tuple:
    """The order of the event index, in Python: undated steps last."""
    return (event.date_key is None, event.date_key or 0, event.sequence, event.pk)
