"""Walking a dispute's chain in the database.

Time order is (date_key, sequence, pk) with undated events last, the order of the event
index, so the previous and next steps are keyset look-ups that read one index entry each,
however long the dispute. "Provoked by" and "provoked" are one indexed query; the chain
further back or further on is a recursive query, so no view loads a dispute into Python.
"""

from __future__ import annotations

from django.db.models import F, Prefetch, Q

from .models import Claim, Event, RetaliationLink

NEIGHBOUR_LIMIT = 50
WALK_DEPTH = 6
WALK_LIMIT = 12


def _after(event: Event) -> Q:
    key, seq, pk = event.date_key, event.sequence, event.pk
    if key is None:
        return Q(date_key__isnull=True) & (Q(sequence__gt=seq) | Q(sequence=seq, pk__gt=pk))
    return (
        Q(date_key__gt=key)
        | Q(date_key=key, sequence__gt=seq)
        | Q(date_key=key, sequence=seq, pk__gt=pk)
        | Q(date_key__isnull=True)
    )


def _before(event: Event) -> Q:
    key, seq, pk = event.date_key, event.sequence, event.pk
    if key is None:
        return (
            Q(date_key__isnull=False)
            | Q(date_key__isnull=True, sequence__lt=seq)
            | Q(date_key__isnull=True, sequence=seq, pk__lt=pk)
        )
    return (
        Q(date_key__lt=key)
        | Q(date_key=key, sequence__lt=seq)
        | Q(date_key=key, sequence=seq, pk__lt=pk)
    )


def previous_step(event: Event) -> Event | None:
    return (
        Event.objects.filter(_before(event), dispute_id=event.dispute_id)
        .order_by(F("date_key").desc(nulls_first=True), "-sequence", "-pk")
        .only("pk", "title", "date_year", "date_month", "date_day", "date_inferred")
        .first()
    )


def next_step(event: Event) -> Event | None:
    return (
        Event.objects.filter(_after(event), dispute_id=event.dispute_id)
        .in_time_order()
        .only("pk", "title", "date_year", "date_month", "date_day", "date_inferred")
        .first()
    )


def neighbour_links(event: Event) -> tuple[list[RetaliationLink], list[RetaliationLink]]:
    """(provoked by, provoked): the links into and out of the event, each with the event at
    its other end and the claims made about it. Two queries, whatever the degree."""
    links = list(
        RetaliationLink.objects.filter(Q(response_id=event.pk) | Q(cause_id=event.pk))
        .select_related("cause__actor", "response__actor")
        .prefetch_related(Prefetch("claims", queryset=Claim.objects.order_by("pk")))
        .order_by("pk")[: 2 * NEIGHBOUR_LIMIT]
    )
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
    return {
        "event": event,
        "previous": previous_step(event),
        "next": next_step(event),
        "provoked_by": provoked_by,
        "provoked": provoked,
        "back": walk(event, "back"),
        "on": walk(event, "on"),
    }
