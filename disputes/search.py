"""Search across events, people, cases, detentions and sources.

On PostgreSQL: full-text search with ranking (websearch syntax, so quotes and minus signs
mean what readers expect and unbalanced quotes are harmless), falling back to substring
matches when whole words find nothing, so that results appear while a name is still being
typed. On SQLite, which has no built-in equivalent: every word must occur in some field.
Queries are cleaned first: control characters go, the length is capped, and a query with
nothing searchable in it gets a message instead of a database error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.db import connection

from .models import Case, Detention, Event, Person, Source
from .rawsql import Part, Select, attach

MAX_LENGTH = 200
MAX_TERMS = 12
PER_KIND = 10
CONFIG = "english"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TERM = re.compile(r'"([^"]*)"?|(\S+)')


@dataclass
class Kind:
    key: str
    label: str
    model: type
    fields: list[str]  # the first is the title; weighted highest
    related: list[str] = field(default_factory=list)
    # The order of results found by words (the model's own ordering, with the pk last so
    # that ties come out the same way every time), in SQL over the statement's aliases.
    order: str = "t.id"
    # Joins that `order` needs beyond the related objects: (alias, foreign key).
    order_joins: list[tuple[str, str]] = field(default_factory=list)
    # On PostgreSQL, the weighted document as its GIN index (migration 0010) defines it, so
    # that a search reads the index; None for a kind whose document is built per search.
    document: str | None = None


def _document(columns: list[str]) -> str:
    """A weighted document over SQL column references: the first weighted A, the rest B.
    Over the table alias t, it is the expression of migration 0010's index on that table."""
    return " || ".join(
        f"setweight(to_tsvector('{CONFIG}'::regconfig, COALESCE({column}, '')),"
        f" '{'A' if i == 0 else 'B'}')"
        for i, column in enumerate(columns)
    )


KINDS = [
    Kind(
        "event",
        "Events",
        Event,
        ["title", "summary"],
        ["actor"],
        order="t.date_key IS NULL, t.date_key, t.sequence, t.id",
        document=_document(["t.title", "t.summary"]),
    ),
    Kind(
        "person",
        "People",
        Person,
        ["name", "description"],
        order="t.name, t.description, t.id",
        document=_document(["t.name", "t.description"]),
    ),
    Kind(
        "case",
        "Cases",
        Case,
        ["title", "charges", "court", "sentence"],
        order="t.title, t.id",
        document=_document(["t.title", "t.charges", "t.court", "t.sentence"]),
    ),
    Kind(
        "detention",
        "Detentions",
        Detention,
        ["group_description", "person__name", "person__description", "place"],
        ["person", "holding_country"],
        order="o0.title, t.start_year, t.start_month, t.start_day, t.id",
        order_joins=[("o0", "dispute")],
    ),
    Kind(
        "source",
        "Sources",
        Source,
        ["title", "publisher", "text"],
        order="t.title, t.id",
        # Stored: a generated column on PostgreSQL (see migration 0010).
        document="t.search_document",
    ),
]


@dataclass
class Outcome:
    query: str = ""
    message: str = ""
    notes: list[str] = field(default_factory=list)
    groups: list[tuple[Kind, list]] = field(default_factory=list)
    method: str = ""

    @property
    def count(self) -> int:
        return sum(len(hits) for _, hits in self.groups)


def clean(raw: str) -> tuple[str, list[str]]:
    """The query as it will be searched, and what was changed about it, in words."""
    notes = []
    text = unicodedata.normalize("NFC", raw or "")
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
        notes.append("Invisible control characters were removed from your search.")
    text = " ".join(text.split())
    if len(text) > MAX_LENGTH:
        cut = text[:MAX_LENGTH]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut
        notes.append(
            f"Your search was longer than {MAX_LENGTH} characters, so only its beginning "
            f"was used: “{text}”."
        )
    return text, notes


def terms(text: str, excluded: bool = False) -> list[str]:
    """Words and "quoted phrases", ignoring unbalanced quotes and bare punctuation; with
    excluded=True, the words the reader excluded ("-word", as in websearch syntax)."""
    found = []
    for phrase, word in _TERM.findall(text):
        term = (phrase or word).strip().strip("\"'")
        negated = bool(word) and term.startswith("-")
        term = term.lstrip("-").strip("\"'") if negated else term
        if negated == excluded and any(ch.isalnum() for ch in term):
            found.append(term)
    return found[:MAX_TERMS]


def search(raw: str) -> Outcome:
    text, notes = clean(raw)
    outcome = Outcome(query=text, notes=notes)
    if not text:
        outcome.message = "Type a name, a place or a word, such as “pilots” or “Khukumov”."
        return outcome
    words = terms(text)
    if not words:
        outcome.message = (
            "There is nothing to search for in that: use letters or numbers, "
            "such as a name or a place."
        )
        return outcome
    if connection.vendor == "postgresql":
        outcome.groups = _full_text(text)
        outcome.method = "full-text"
        if not any(hits for _, hits in outcome.groups):
            outcome.groups = _substring(words, terms(text, excluded=True))
            outcome.method = "partial words"
    else:
        outcome.groups = _substring(words, terms(text, excluded=True))
        outcome.method = "words"
    if not outcome.count:
        outcome.message = f"Nothing in the record matches “{text}”. Try fewer or other words."
    return outcome


# Each kind's search is one hand-written statement (as the step panel's are, see rawsql.py):
# compiling five ORM querysets, each an OR of fields per word, cost more than running them.


def _aliases(kind: Kind) -> dict[str, tuple[str, object]]:
    """{relation name: (alias, foreign key)} for the kind's related objects."""
    return {
        name: (f"r{i}", kind.model._meta.get_field(name)) for i, name in enumerate(kind.related)
    }


def _field(kind: Kind, path: str):
    """(SQL column, model field) for a field path such as "title" or "person__name" (a
    related object's field, read through its alias)."""
    if "__" in path:
        relation, name = path.split("__", 1)
        alias, fk = _aliases(kind)[relation]
        field_ = fk.related_model._meta.get_field(name)
    else:
        alias, field_ = "t", kind.model._meta.get_field(path)
    return f"{alias}.{connection.ops.quote_name(field_.column)}", field_


_SELECTS: dict[tuple, Select] = {}


def _select(kind: Kind, where: str, ranked: bool) -> Select:
    """The kind's statement with `where` in place: its rows, with the related objects
    (LEFT JOINs: a detention's person may be unknown), the first PER_KIND by rank or by
    the kind's order. Written once per shape and database."""
    key = (kind.key, where, ranked, connection.vendor)
    found = _SELECTS.get(key)
    if found is not None:
        return found
    quote = connection.ops.quote_name
    table = quote(kind.model._meta.db_table)
    parts = [Part(kind.model, "t")]
    related = list(_aliases(kind).values())
    parts += [Part(fk.related_model, alias) for alias, fk in related]
    ordering = [(alias, kind.model._meta.get_field(name)) for alias, name in kind.order_joins]
    joins = [
        f" LEFT JOIN {quote(fk.related_model._meta.db_table)} {alias}"
        f" ON {alias}.id = t.{quote(fk.column)}"
        for alias, fk in related + ordering
    ]
    document = kind.document or _document([_field(kind, name)[0] for name in kind.fields])
    tsquery = f"websearch_to_tsquery('{CONFIG}'::regconfig, %s)"
    rank = f", ts_rank({document}, {tsquery}) AS rank" if ranked else ""
    order = "rank DESC, t.id" if ranked else kind.order
    where = where.replace("{document}", document).replace("{tsquery}", tsquery)
    found = _SELECTS[key] = Select(
        parts,
        lambda columns: (
            f"SELECT {columns}{rank} FROM {table} t{''.join(joins)}"
            f" WHERE {where} ORDER BY {order} LIMIT {PER_KIND}"
        ),
        extra=1 if ranked else 0,
    )
    return found


def _hits(kind: Kind, select: Select, params: list) -> list:
    names = list(_aliases(kind))
    hits = []
    for row in select.rows(params):
        hit = row[0]
        for name, related in zip(names, row[1 : 1 + len(names)], strict=True):
            attach(hit, name, related)
        if select.extra:
            hit.rank = row[-1]
        hits.append(hit)
    return hits


def _full_text(text: str) -> list[tuple[Kind, list]]:
    groups = []
    for kind in KINDS:
        select = _select(kind, "({document}) @@ {tsquery}", ranked=True)
        groups.append((kind, _hits(kind, select, [text, text])))
    return groups


def _substring(words: list[str], excluded: list[str]) -> list[tuple[Kind, list]]:
    """Every word in some field, no excluded word in any: what `field__icontains` gives
    through the ORM (the same operator and escaping), with a field that is NULL (a detention
    without a known person) matching nothing and so excluding nothing."""
    lookup = connection.operators["icontains"]
    groups = []
    for kind in KINDS:
        any_field = " OR ".join(
            f"({column} IS NOT NULL AND {_lhs(column, field_)} {lookup})"
            for column, field_ in (_field(kind, name) for name in kind.fields)
        )
        where = " AND ".join(
            [f"({any_field})"] * len(words) + [f"NOT ({any_field})"] * len(excluded)
        )
        params = []
        for word in [*words, *excluded]:
            params += [_like(word)] * len(kind.fields)
        groups.append((kind, _hits(kind, _select(kind, where, ranked=False), params)))
    return groups


def _lhs(column: str, field_) -> str:
    """The column as the icontains lookup reads it on this database (UPPER(...) on
    PostgreSQL, the column itself on SQLite, whose LIKE ignores case)."""
    return connection.ops.lookup_cast("icontains", field_.get_internal_type()) % column


def _like(word: str) -> str:
    return f"%{connection.ops.prep_for_like_query(word)}%"


def excerpt(text: str, query: str, width: int = 90) -> str:
    """A stretch of text around the first word of the query, for a result's preview."""
    if not text:
        return ""
    words = terms(query)
    at = -1
    lowered = text.lower()
    for word in words:
        at = lowered.find(word.lower())
        if at >= 0:
            break
    if at < 0:
        return text[: 2 * width].rstrip() + ("…" if len(text) > 2 * width else "")
    start = max(0, at - width)
    end = min(len(text), at + width)
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
