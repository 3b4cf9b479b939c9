"""The step panel's reads, as hand-written SQL (see rawsql.py for why).

Each function returns what the ORM query it replaces returned: model instances, with the
related objects the panel shows already attached, in the same order.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection

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
    Sentence,
    Source,
)
from .rawsql import Part, Select, attach

# Both databases' BIGINT: SQLite's driver refuses a larger Python int outright.
PK_LIMIT = 2**63


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


_EVENT = Select(
    [
        Part(Event, "e"),
        Part(Dispute, "d"),
        Part(Country, "a"),
        Part(Case, "c"),
        Part(Detention, "t"),
        Part(Person, "p"),
        Part(Country, "h"),
        Part(Person, "pe"),
    ],
    # One row per person of the event (or one row, without a person), by name.
    lambda columns: (
        f"SELECT {columns} FROM {_table(Event)} e"
        f" JOIN {_table(Dispute)} d ON d.id = e.dispute_id"
        f" JOIN {_table(Country)} a ON a.id = e.actor_id"
        f" LEFT JOIN {_table(Case)} c ON c.id = e.case_id"
        f" LEFT JOIN {_table(Detention)} t ON t.id = e.detention_id"
        f" LEFT JOIN {_table(Person)} p ON p.id = t.person_id"
        f" LEFT JOIN {_table(Country)} h ON h.id = t.holding_country_id"
        f" LEFT JOIN {_table(Event.people.through)} ep ON ep.event_id = e.id"
        f" LEFT JOIN {_table(Person)} pe ON pe.id = ep.person_id"
        " WHERE e.id = %s ORDER BY pe.name, pe.description, pe.id"
    ),
)


def in_range(pk: int) -> bool:
    """Whether the pk fits the 64-bit ID columns: one past it matches nothing (as through
    the ORM), and SQLite's driver refuses to send it at all."""
    return -PK_LIMIT <= pk < PK_LIMIT


def event(pk: int) -> Event | None:
    """The event with its dispute, actor, case and detention (with the detention's person
    and holding country), what `select_related` of those gave, and its people by name as
    `people_list`: one query. A pk past the 64-bit range of the ID column matches nothing."""
    if not in_range(pk):
        return None
    return event_later(pk)()


def event_later(pk: int):
    """event(pk) for a pk in_range(), its statement sent now (see rawsql.pipeline), the
    event (or None) built when the returned function is called."""
    rows = _EVENT.send([pk])
    return lambda: _event_of(rows())


def _event_of(rows) -> Event | None:
    if not rows:
        return None
    found, dispute, actor, case, detention, person, holding, _ = rows[0]
    found.people_list = [row[-1] for row in rows if row[-1] is not None]
    attach(found, "dispute", dispute)
    attach(found, "actor", actor)
    attach(found, "case", case)
    attach(found, "detention", detention)
    attach(detention, "person", person)
    attach(detention, "holding_country", holding)
    return found


_LINKS = Select(
    [
        Part(RetaliationLink, "l"),
        Part(Event, "ce"),
        Part(Country, "ca"),
        Part(Event, "re"),
        Part(Country, "ra"),
        Part(Claim, "k"),
    ],
    # The first links by ID (two index look-ups: into the event, out of it), then one row
    # per claim about each (or one row, without a claim).
    lambda columns: (
        f"SELECT {columns} FROM ("
        f"SELECT id FROM {_table(RetaliationLink)} WHERE id IN ("
        f"SELECT id FROM {_table(RetaliationLink)} WHERE response_id = %s"
        f" UNION ALL SELECT id FROM {_table(RetaliationLink)} WHERE cause_id = %s)"
        " ORDER BY id LIMIT %s) chosen"
        f" JOIN {_table(RetaliationLink)} l ON l.id = chosen.id"
        f" JOIN {_table(Event)} ce ON ce.id = l.cause_id"
        f" JOIN {_table(Country)} ca ON ca.id = ce.actor_id"
        f" JOIN {_table(Event)} re ON re.id = l.response_id"
        f" JOIN {_table(Country)} ra ON ra.id = re.actor_id"
        f" LEFT JOIN {_table(Claim)} k ON k.link_id = l.id"
        " ORDER BY l.id, k.id"
    ),
)


def links_of(pk: int, limit: int) -> list[RetaliationLink]:
    """The first `limit` links into or out of the event (by pk), each with both its events
    and their actors attached, and the claims about it as `claim_list`: one query, whatever
    the degree."""
    return links_of_later(pk, limit)()


def links_of_later(pk: int, limit: int):
    """links_of(pk, limit), its statement sent now (see rawsql.pipeline), its links built
    when the returned function is called."""
    rows = _LINKS.send([pk, pk, limit])

    def links() -> list[RetaliationLink]:
        found = []
        for link, cause, cause_actor, response, response_actor, claim in rows():
            if not found or found[-1].pk != link.pk:
                attach(cause, "actor", cause_actor)
                attach(response, "actor", response_actor)
                attach(link, "cause", cause)
                attach(link, "response", response)
                link.claim_list = []
                found.append(link)
            if claim is not None:
                found[-1].claim_list.append(claim)
        return found

    return links


# A quote shows its source's title, never its text, which can be long: leave it unread.
_QUOTES = Select(
    [Part(Citation, "c"), Part(Source, "s", only=("title",))],
    lambda columns: (
        f"SELECT {columns}, ("
        # The number of the sentence the quote starts in: the last sentence of the source
        # starting at or before the quote (one probe of the index on (source, start)).
        f"SELECT n.number FROM {_table(Sentence)} n"
        " WHERE n.source_id = c.source_id AND n.start <= c.start"
        " ORDER BY n.start DESC LIMIT 1)"
        f" FROM {_table(Citation)} c JOIN {_table(Source)} s ON s.id = c.source_id"
        " WHERE c.content_type_id = %s AND c.object_id = %s"
        " ORDER BY s.title, c.start, c.id"
    ),
    extra=1,
)


def quotes(model, pk: int) -> list[Citation]:
    """The citations of one record (a `model` instance with this pk), in the order of
    Citation's Meta (source title, then place in the source), each with its source (title
    only) and `sentence_number`."""
    return quotes_later(model, pk)()


def quotes_later(model, pk: int):
    """quotes(model, pk), its statement sent now (see rawsql.pipeline), its citations built
    when the returned function is called."""
    content_type = ContentType.objects.get_for_model(model)
    rows = _QUOTES.send([content_type.pk, pk])

    def citations() -> list[Citation]:
        out = []
        for citation, source, number in rows():
            attach(citation, "source", source)
            citation.sentence_number = number
            out.append(citation)
        return out

    return citations
