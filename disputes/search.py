"""Search across events, people, cases, detentions and sources.

On PostgreSQL: full-text search with ranking (websearch syntax, so quotes and minus signs
mean what readers expect and unbalanced quotes are harmless), falling back to substring
matches when whole words find nothing, so that results appear while a name is still being
typed. On SQLite, which has no built-in equivalent: every word must occur in some field.
Queries are cleaned first: control characters go, the length is capped, and a query with
nothing searchable in it gets a message instead of a database error.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass, field
from functools import reduce

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorField,
)
from django.db import connection
from django.db.models import F, Q
from django.db.models.expressions import RawSQL

from .models import Case, Detention, Event, Person, Source

MAX_LENGTH = 200
MAX_TERMS = 12
PER_KIND = 10
CANDIDATES = 200
CONFIG = "english"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TERM = re.compile(r'"([^"]*)"?|(\S+)')


@dataclass
class Kind:
    key: str
    label: str
    model: type
    fields: list[str]  # the record's own text; the first is the title, weighted highest
    related: list[str] = field(default_factory=list)
    # The order of results found by words (with the pk last, so that ties come out the same
    # way every time).
    order: tuple = ("pk",)
    # A relation to a person whose words also find this record (a detention's person).
    via: str = ""
    ranked: bool = True

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def document(self):
        """The weighted document a full-text search matches on PostgreSQL: the title
        weighted A, the rest B. It is the expression of the kind's GIN index (migration
        0001), written the same way; a source's is the column PostgreSQL keeps it in, which
        the model cannot declare because SQLite has nothing like it."""
        if self.model is Source:
            # Unqualified, so that it names the column of whichever query it stands in
            # (Django gives the table another alias inside a subquery).
            return RawSQL('"search_document"', [], SearchVectorField())
        return reduce(
            operator.add,
            (
                SearchVector(part, weight="A" if i == 0 else "B", config=CONFIG)
                for i, part in enumerate(self.fields)
            ),
        )

    def queryset(self):
        return self.model.objects.public().select_related(*self.related)


KINDS = [
    Kind(
        "event",
        "Events",
        Event,
        ["title", "summary"],
        ["actor"],
        order=(F("date_key").asc(nulls_last=True), "sequence", "pk"),
    ),
    Kind("person", "People", Person, ["name", "description"], order=("name", "description", "pk")),
    Kind("case", "Cases", Case, ["title", "charges", "court", "sentence"], order=("title", "pk")),
    Kind(
        "detention",
        "Detentions",
        Detention,
        ["group_description", "place"],
        ["person", "holding_country"],
        order=("dispute__title", "start_year", "start_month", "start_day", "pk"),
        via="person",
        ranked=False,
    ),
    Kind("source", "Sources", Source, ["title", "publisher", "text"], order=("title", "pk")),
]
PEOPLE = KINDS[1]


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


def _full_text(text: str) -> list[tuple[Kind, list]]:
    """Ranked matches of the websearch query (quotes and minus signs mean what readers
    expect), through each kind's GIN index. A common word matches thousands of rows: the
    best are chosen among the first CANDIDATES the index gives, so that ranking costs the
    same however large the record grows."""
    query = SearchQuery(text, search_type="websearch", config=CONFIG)

    def matching(kind):
        """The pks of the kind's rows that match, unordered (so that a LIMIT stops early)."""
        own = kind.model.objects.alias(search_document=kind.document())
        pks = own.filter(search_document=query).order_by().values("pk")
        if kind.via:
            through = kind.model.objects.filter(**{f"{kind.via}__in": matching(PEOPLE)})
            pks = pks.union(through.order_by().values("pk"))  # an OR made PostgreSQL read all
        return pks

    groups = []
    for kind in KINDS:
        if kind.ranked:
            candidates = matching(kind)[:CANDIDATES]
            hits = (
                kind.queryset()
                .filter(pk__in=candidates)
                .annotate(rank=SearchRank(kind.document(), query))
                .order_by("-rank", "pk")
            )
        else:
            hits = kind.queryset().filter(pk__in=matching(kind)).order_by(*kind.order)
        groups.append((kind, list(hits[:PER_KIND])))
    return groups


def _substring(words: list[str], excluded: list[str]) -> list[tuple[Kind, list]]:
    """Every word in some field, no excluded word in any. On PostgreSQL icontains, which
    migration 0001's trigram indexes answer (a source's text, long, is left to full-text
    search); on SQLite, the FTS5 trigram index of each kind (disputes/triggers.py), asked
    once for all the words of three characters or more, which it can answer. A field that
    is NULL (a detention without a known person) matches nothing and so excludes nothing."""
    groups = []
    for kind in KINDS:
        condition = _containing(kind, words, excluded)
        # As in _full_text: the first CANDIDATES matches, in their kind's order.
        matches = kind.model.objects.filter(condition).order_by().values("pk")[:CANDIDATES]
        hits = kind.queryset().filter(pk__in=matches).order_by(*kind.order)[:PER_KIND]
        groups.append((kind, list(hits)))
    return groups


def _containing(kind: Kind, words: list[str], excluded: list[str]) -> Q:
    """The rows of `kind` with every word inside one of its fields (or its person's) and no
    excluded word in any."""
    condition = Q()
    indexed = [w for w in words if len(w) >= 3] if connection.vendor == "sqlite" else []
    if indexed:
        match = " AND ".join(_phrase(word) for word in indexed)
        match += "".join(f" NOT {_phrase(word)}" for word in excluded if len(word) >= 3)
        table = f"{kind.table}_fts"
        own = RawSQL(f'SELECT rowid FROM "{table}" WHERE "{table}" MATCH %s', [match])
        condition = Q(pk__in=own)
        excluded = [word for word in excluded if len(word) < 3]
    for word in words:
        if word not in indexed:
            condition &= _in_a_field(kind, word)
    for word in excluded:
        condition &= ~_in_a_field(kind, word)
    if kind.via:
        people = PEOPLE.model.objects.filter(_containing(PEOPLE, words, excluded)).values("pk")
        condition |= Q(**{f"{kind.via}__in": people})
    return condition


def _in_a_field(kind: Kind, word: str) -> Q:
    fields = [f for f in kind.fields if not (connection.vendor == "postgresql" and f == "text")]
    return reduce(operator.or_, (Q(**{f"{name}__icontains": word}) for name in fields))


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


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
