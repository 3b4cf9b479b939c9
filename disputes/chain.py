"""Walking a dispute's chain in the database.

Time order is (date_key, sequence, pk) with undated events last, the order of the event
index, so the previous and next steps are keyset look-ups (row-value comparisons) that read
one index entry each, however long the dispute. "Provoked by" and "provoked" are one indexed query; the chain
further back or further on is a recursive query, so no view loads a dispute into Python.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from . import reads
from .models import Country, Event, RetaliationLink
from .rawsql import Part, Select

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


# The event's own place in time, read in the statement itself (so that the statement can be
# sent before the event is read, in the same round trip): each value a scalar subquery,
# which both PostgreSQL and SQLite evaluate once and use as a constant bound of an index
# range scan, as they would a parameter.
_ME = {
    column: f"(SELECT {column} FROM me)" for column in ("dispute_id", "date_key", "sequence", "id")
}
_DATED = f"{_ME['date_key']} IS NOT NULL"
_UNDATED = f"{_ME['date_key']} IS NULL"


def _time_branches() -> list[tuple[str, int, str, str, str | None]]:
    """The keyset look-ups of the previous and next steps, with the fallback between dated
    and undated steps: (which, preference, condition, order, gate) per branch, each branch
    reading one index entry. A dated event's bounds compare NULL for an undated one, and the
    rest only run for the event whose own kind their gate names (dated or undated).

    A gate is the branch's LIMIT (1 when it holds, else 0), not a condition beside the
    others: SQLite tests a condition on the event's own date against every row it reads,
    and the fallback to the last dated step of an undated event read every dated step of
    the dispute before finding none qualified (10 ms at 100,000 steps). A LIMIT of 0 reads
    nothing, on both databases."""
    dispute = f"e.dispute_id = {_ME['dispute_id']}"
    key = f"({_ME['date_key']}, {_ME['sequence']}, {_ME['id']})"
    undated_key = f"({_ME['sequence']}, {_ME['id']})"
    own = "(e.date_key, e.sequence, e.id)"
    undated_own = "(e.sequence, e.id)"
    ascending = "e.date_key, e.sequence, e.id"
    descending = "e.date_key DESC, e.sequence DESC, e.id DESC"
    return [
        # A dated event: the next dated step, or else the first undated; the previous dated.
        ("next", 0, f"{dispute} AND {own} > {key}", ascending, None),
        ("next", 1, f"{dispute} AND e.date_key IS NULL", "e.sequence, e.id", _DATED),
        ("prev", 0, f"{dispute} AND {own} < {key}", descending, None),
        # An undated event: the next and previous undated steps, or else the last dated.
        (
            "next",
            0,
            f"{dispute} AND e.date_key IS NULL AND {undated_own} > {undated_key}",
            "e.sequence, e.id",
            _UNDATED,
        ),
        (
            "prev",
            0,
            f"{dispute} AND e.date_key IS NULL AND {undated_own} < {undated_key}",
            "e.sequence DESC, e.id DESC",
            _UNDATED,
        ),
        ("prev", 1, f"{dispute} AND e.date_key IS NOT NULL", descending, _UNDATED),
    ]


_WALK_STEP = {"back": ("l.cause_id", "l.response_id"), "on": ("l.response_id", "l.cause_id")}
_AROUND: dict[tuple, Select] = {}


def _around_select(time: bool, walks: tuple[str, ...]) -> Select:
    """The one statement behind around(): written once per shape (whether it finds the
    previous and next steps, which walks) and per database, then only its parameters
    change."""
    key = (time, walks, connection.vendor)
    found = _AROUND.get(key)
    if found is not None:
        return found
    quote = connection.ops.quote_name
    ev = quote(Event._meta.db_table)
    link = quote(RetaliationLink._meta.db_table)
    country = quote(Country._meta.db_table)

    # Each event a walk reached is read by its primary key. PostgreSQL, guessing more rows
    # than a walk finds, would rather scan the whole event table into a hash join; a
    # lateral subquery it may not flatten (OFFSET 0) keeps it to one index probe per event.
    if connection.vendor == "postgresql":
        reached = f"CROSS JOIN LATERAL (SELECT * FROM {ev} x WHERE x.id = n.id OFFSET 0) e"
    else:
        reached = f"JOIN {ev} e ON e.id = n.id"

    def sql(columns: str) -> str:
        ctes, branches = [], []
        for direction in walks:
            step, join = _WALK_STEP[direction]
            ctes.append(
                f"{direction}_walk(id, distance) AS ("
                " SELECT CAST(%s AS BIGINT), 0"
                f" UNION SELECT {step}, w.distance + 1"
                f" FROM {link} l JOIN {direction}_walk w ON {join} = w.id"
                " WHERE w.distance < %s)"
            )
            ctes.append(
                f"{direction}_near AS (SELECT id, MIN(distance) AS distance"
                f" FROM {direction}_walk WHERE id <> %s GROUP BY id)"
            )
            branches.append(
                f"SELECT {columns}, '{direction}' AS step_which, n.distance AS step_rank,"
                f" c.name AS actor_name FROM {direction}_near n"
                f" {reached} JOIN {country} c ON c.id = e.actor_id"
                " ORDER BY n.distance, e.date_key IS NULL, e.date_key, e.sequence, e.id"
                " LIMIT %s"
            )
        if time:
            ctes.insert(
                0,
                f"me AS (SELECT dispute_id, date_key, sequence, id FROM {ev} WHERE id = %s)",
            )
            for which, preference, where, order, gate in _time_branches():
                limit = f"(CASE WHEN {gate} THEN 1 ELSE 0 END)" if gate else "1"
                branches.append(
                    f"SELECT {columns}, '{which}' AS step_which, {preference} AS step_rank,"
                    f" NULL AS actor_name FROM {ev} e WHERE {where} ORDER BY {order}"
                    f" LIMIT {limit}"
                )
        head = f"WITH RECURSIVE {', '.join(ctes)} " if ctes else ""
        return head + " UNION ALL ".join(
            f"SELECT * FROM ({branch}) AS b{i}" for i, branch in enumerate(branches)
        )

    found = _AROUND[key] = Select([Part(Event, "e")], sql, extra=3)
    return found


def around(pk: int, **options) -> dict:
    """In one query (options as around_later takes them), for the event with this pk: the
    previous and next steps in time ("previous", "next": an Event or None) when `time`, and
    for each of `walks` ("back" through causes, "on" through responses) the events the chain
    reaches, nearest first, each with `distance` (links away) and `actor_name`. The walks
    are recursive queries: branches and merges are followed, loops stop at the depth limit.
    The event itself is read inside the statement, so it need not be read first."""
    return around_later(pk, **options)()


def around_later(
    pk: int,
    *,
    time: bool = True,
    walks: tuple[str, ...] = ("back", "on"),
    depth: int = WALK_DEPTH,
    limit: int = WALK_LIMIT,
):
    """around(...), its statement sent now (see rawsql.pipeline), its answer worked out when
    the returned function is called."""
    for direction in walks:
        if direction not in _WALK_STEP:
            raise ValueError(direction)
    params = [pk] if time else []
    for _direction in walks:
        params += [pk, depth, pk]
    params += [limit] * len(walks)
    rows = _around_select(time, walks).send(params)

    def answer() -> dict:
        found = {"previous": None, "next": None, **{direction: [] for direction in walks}}
        best = {}
        for other, which, rank, actor_name in rows():
            if which in _WALK_STEP:
                other.distance = rank
                other.actor_name = actor_name
                found[which].append(other)
            elif which not in best or rank < best[which]:
                best[which] = rank
                found["previous" if which == "prev" else "next"] = other
        for direction in walks:
            found[direction].sort(key=_walk_order)
        return found

    return answer


def _walk_order(event: Event):
    return (event.distance, *_order_key(event))


def previous_and_next(event: Event) -> tuple[Event | None, Event | None]:
    """(previous_step(event), next_step(event)) in one query."""
    found = around(event.pk, walks=())
    return found["previous"], found["next"]


def neighbour_links(event: Event) -> tuple[list[RetaliationLink], list[RetaliationLink]]:
    """(provoked by, provoked): the links into and out of the event, each with the event at
    its other end and the claims made about it (`claim_list`). One query, whatever the
    degree."""
    return _neighbours(event, reads.links_of(event.pk, 2 * NEIGHBOUR_LIMIT))


def _neighbours(event: Event, links) -> tuple[list[RetaliationLink], list[RetaliationLink]]:
    by = [link for link in links if link.response_id == event.pk]
    provoked = [link for link in links if link.cause_id == event.pk]
    by.sort(key=lambda link: _order_key(link.cause))
    provoked.sort(key=lambda link: _order_key(link.response))
    return by[:NEIGHBOUR_LIMIT], provoked[:NEIGHBOUR_LIMIT]


def _order_key(event: Event):
    return (event.date_key is None, event.date_key or 0, event.sequence, event.pk)


def walk(event: Event, direction: str, depth: int = WALK_DEPTH, limit: int = WALK_LIMIT):
    """Events the chain reaches from this one, back through causes ("back") or on through
    responses ("on"), nearest first, each with `distance` (links away) and `actor_name`."""
    return around(event.pk, time=False, walks=(direction,), depth=depth, limit=limit)[direction]


def step(event: Event) -> dict:
    """Everything the step panel shows around one event: two queries (the links with
    their claims, and the rest in one)."""
    return step_later(event.pk)(event)


def step_later(pk: int):
    """step(), for the event with this pk, its two statements sent now (see
    rawsql.pipeline), before the event itself need be read: the returned function takes
    the event and works out the panel's context."""
    links = reads.links_of_later(pk, 2 * NEIGHBOUR_LIMIT)
    near = around_later(pk)

    def context(event: Event) -> dict:
        provoked_by, provoked = _neighbours(event, links())
        return {"event": event, "provoked_by": provoked_by, "provoked": provoked, **near()}

    return context
