"""Walking a dispute's chain in the database.

Time order is (date_key, sequence, pk) with undated events last, the order of the event
index, so the previous and next steps are keyset look-ups (row-value comparisons) that read
one index entry each, however long the dispute. "Provoked by" and "provoked" are one indexed query; the chain
further back or further on is a recursive query, so no view loads a dispute into Python.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from .models import Claim, Event, RetaliationLink

NEIGHBOUR_LIMIT = 50
WALK_DEPTH = 6
WALK_LIMIT = 12


def _beyond(columns: tuple[str, ...], op: str, values: tuple) -> RawSQL:
    """A row-value comparison such as (date_key, sequence, id) > (k, s, pk): the form of a
    keyset condition that both PostgreSQL and SQLite answer with one range scan of the
    event index, however far along the dispute the step is."""
    quote = connection.ops.quote_name
    table = quote(Event._meta.db_table)
    left = ", ".join(f"{table}.{quote(column)}" for column in columns)
    right = ", ".join(["%s"] * len(values))
    return RawSQL(f"({left}) {op} ({right})", values, output_field=BooleanField())


def _steps(event: Event):
    return Event.objects.filter(dispute_id=event.dispute_id)


def next_step(event: Event) -> Event | None:
    """The step after this one in time; undated steps come after every dated one."""
    undated = _steps(event).filter(date_key__isnull=True).order_by("sequence", "pk")
    if event.date_key is None:
        return undated.filter(_beyond(("sequence", "id"), ">", (event.sequence, event.pk))).first()
    key = (event.date_key, event.sequence, event.pk)
    dated = _steps(event).filter(_beyond(("date_key", "sequence", "id"), ">", key))
    return dated.order_by("date_key", "sequence", "pk").first() or undated.first()


def previous_step(event: Event) -> Event | None:
    """The step before this one in time."""
    dated = _steps(event).filter(date_key__isnull=False)
    if event.date_key is None:
        earlier = _steps(event).filter(
            _beyond(("sequence", "id"), "<", (event.sequence, event.pk)), date_key__isnull=True
        )
        return (
            earlier.order_by("-sequence", "-pk").first()
            or dated.order_by("-date_key", "-sequence", "-pk").first()
        )
    key = (event.date_key, event.sequence, event.pk)
    earlier = _steps(event).filter(_beyond(("date_key", "sequence", "id"), "<", key))
    return earlier.order_by("-date_key", "-sequence", "-pk").first()


def previous_and_next(event: Event) -> tuple[Event | None, Event | None]:
    """(previous_step(event), next_step(event)) in one query: the keyset look-ups of both,
    with the fallback between dated and undated steps, as branches of one UNION ALL, each
    branch reading one index entry. Each row says which answer it is and its preference."""
    quote = connection.ops.quote_name
    table = quote(Event._meta.db_table)
    dispute = "e.dispute_id = %s"
    if event.date_key is None:
        own = ("(e.sequence, e.id)", (event.sequence, event.pk))
        branches = [
            (
                "next",
                0,
                f"{dispute} AND e.date_key IS NULL AND {own[0]} > (%s, %s)",
                "e.sequence, e.id",
                own[1],
            ),
            (
                "prev",
                0,
                f"{dispute} AND e.date_key IS NULL AND {own[0]} < (%s, %s)",
                "e.sequence DESC, e.id DESC",
                own[1],
            ),
            (
                "prev",
                1,
                f"{dispute} AND e.date_key IS NOT NULL",
                "e.date_key DESC, e.sequence DESC, e.id DESC",
                (),
            ),
        ]
    else:
        key = (event.date_key, event.sequence, event.pk)
        own = "(e.date_key, e.sequence, e.id)"
        branches = [
            ("next", 0, f"{dispute} AND {own} > (%s, %s, %s)", "e.date_key, e.sequence, e.id", key),
            ("next", 1, f"{dispute} AND e.date_key IS NULL", "e.sequence, e.id", ()),
            (
                "prev",
                0,
                f"{dispute} AND {own} < (%s, %s, %s)",
                "e.date_key DESC, e.sequence DESC, e.id DESC",
                key,
            ),
        ]
    parts, params = [], []
    for i, (which, preference, where, order, values) in enumerate(branches):
        parts.append(
            f"SELECT * FROM (SELECT e.*, '{which}' AS step_which, {preference} AS step_preference"
            f" FROM {table} e WHERE {where} ORDER BY {order} LIMIT 1) AS b{i}"
        )
        params += [event.dispute_id, *values]
    found: dict[str, Event] = {}
    for row in Event.objects.raw(" UNION ALL ".join(parts), params):
        best = found.get(row.step_which)
        if best is None or row.step_preference < best.step_preference:
            found[row.step_which] = row
    return found.get("prev"), found.get("next")


def neighbour_links(event: Event) -> tuple[list[RetaliationLink], list[RetaliationLink]]:
    """(provoked by, provoked): the links into and out of the event, each with the event at
    its other end and the claims made about it. Two queries, whatever the degree."""
    links = list(
        RetaliationLink.objects.filter(Q(response_id=event.pk) | Q(cause_id=event.pk))
        .select_related("cause__actor", "response__actor")
        .order_by("pk")[: 2 * NEIGHBOUR_LIMIT]
    )
    # The claims about each link, as `claim_list`: grouped here rather than by
    # prefetch_related, whose bookkeeping cost more than the query itself.
    claims = defaultdict(list)
    if links:
        for claim in Claim.objects.filter(link_id__in=[link.pk for link in links]).order_by("pk"):
            claims[claim.link_id].append(claim)
    for link in links:
        link.claim_list = claims[link.pk]
    by = [link for link in links if link.response_id == event.pk]
    provoked = [link for link in links if link.cause_id == event.pk]
    by.sort(key=lambda link: _order_key(link.cause))
    provoked.sort(key=lambda link: _order_key(link.response))
    return by[:NEIGHBOUR_LIMIT], provoked[:NEIGHBOUR_LIMIT]


def _order_key(event: Event):
    return (event.date_key is None, event.date_key or 0, event.sequence, event.pk)


def walk(event: Event, direction: str, depth: int = WALK_DEPTH, limit: int = WALK_LIMIT):
    """Events the chain reaches from this one, back through causes ("back") or on through
    responses ("on"), nearest first, each with `distance` (links away) and `actor_name`.
    A recursive query: branches and merges are followed, loops stop at the depth limit."""
    link = RetaliationLink._meta.db_table
    ev = Event._meta.db_table
    country = Event._meta.get_field("actor").related_model._meta.db_table
    if direction == "back":
        step, join = "l.cause_id", "l.response_id"
    elif direction == "on":
        step, join = "l.response_id", "l.cause_id"
    else:
        raise ValueError(direction)
    sql = f"""
        WITH RECURSIVE walk(id, distance) AS (
            SELECT CAST(%s AS BIGINT), 0
            UNION
            SELECT {step}, w.distance + 1
            FROM {link} l JOIN walk w ON {join} = w.id
            WHERE w.distance < %s
        ),
        nearest AS (
            SELECT id, MIN(distance) AS distance FROM walk WHERE id <> %s GROUP BY id
        )
        SELECT e.*, n.distance AS distance, c.name AS actor_name
        FROM nearest n
        JOIN {ev} e ON e.id = n.id
        JOIN {country} c ON c.id = e.actor_id
        ORDER BY n.distance, e.date_key, e.sequence, e.id
        LIMIT %s
    """
    return list(Event.objects.raw(sql, [event.pk, depth, event.pk, limit]))


def step(event: Event) -> dict:
    """Everything the step panel shows around one event: a fixed number of queries."""
    provoked_by, provoked = neighbour_links(event)
    previous, following = previous_and_next(event)
    return {
        "event": event,
        "previous": previous,
        "next": following,
        "provoked_by": provoked_by,
        "provoked": provoked,
        "back": walk(event, "back"),
        "on": walk(event, "on"),
    }
