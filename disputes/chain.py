"""Walking a dispute's chain: what a step panel shows around one event.

The previous and next steps in time are index look-ups (Event.objects.step_before /
step_after); "provoked by" and "provoked" are the links into and out of the event; the chain
further back and further on is a recursive query (Event.objects.reached_from). No view
loads a whole dispute into Python.
"""

from __future__ import annotations

from .models import Event, RetaliationLink

NEIGHBOUR_LIMIT = 50
WALK_DEPTH = 6
WALK_LIMIT = 12
DIRECTIONS = ("back", "on")


def next_step(event: Event) -> Event | None:
    return Event.objects.step_after(event)


def previous_step(event: Event) -> Event | None:
    return Event.objects.step_before(event)


def neighbour_links(event: Event) -> tuple[list[RetaliationLink], list[RetaliationLink]]:
    """(provoked by, provoked): the links into and out of the event in time order of the
    event at their other end, each with its claims."""
    links = (
        RetaliationLink.objects.touching([event.pk])
        .select_related("cause__actor", "response__actor")
        .prefetch_related("claims")
        .order_by("pk")[: 2 * NEIGHBOUR_LIMIT]
    )
    by = [link for link in links if link.response_id == event.pk]
    provoked = [link for link in links if link.cause_id == event.pk]
    by.sort(key=lambda link: time_key(link.cause))
    provoked.sort(key=lambda link: time_key(link.response))
    return by[:NEIGHBOUR_LIMIT], provoked[:NEIGHBOUR_LIMIT]


def walk(event: Event, direction: str, depth: int = WALK_DEPTH, limit: int = WALK_LIMIT):
    """The events the chain reaches from this one, nearest first (see reached_from)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}: use one of {DIRECTIONS}")
    return list(Event.objects.reached_from(event, direction, depth, limit))


def step(event: Event) -> dict:
    """Everything the step panel shows around one event (read with Event.objects.for_step,
    so that its people and quotes are there already)."""
    provoked_by, provoked = neighbour_links(event)
    return {
        "event": event,
        "people": event.people.all(),
        "quotes": event.citations.all(),
        "previous": previous_step(event),
        "next": next_step(event),
        "provoked_by": provoked_by,
        "provoked": provoked,
        "back": walk(event, "back"),
        "on": walk(event, "on"),
    }


def time_key(event: Event) -> tuple:
    """The order of the event index, in Python: undated steps last."""
    return (event.date_key is None, event.date_key or 0, event.sequence, event.pk)
