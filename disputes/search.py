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
    # The order of results found by words (with the pk last, so that ties come out the same
    # way every time).
    order: tuple = ("pk",)
    # On PostgreSQL, whether migration 0001's GIN index holds this kind's document, so that
    # a search reads the index (a detention's fields include its person's, in another table).
    indexed: bool = True

    def document(self):
        """The weighted document a full-text search matches: the title weighted A, the rest
        B. It is the expression of the kind's GIN index, written the same way; a source's is
        the column PostgreSQL keeps it in (migration 0001), which the model cannot declare
        because SQLite has nothing like it."""
        if self.model is Source:
            return RawSQL('"disputes_source"."search_document"', [], SearchVectorField())
        return reduce(
            operator.add,
            (
                SearchVector(part, weight="A" if i == 0 else "B", config=CONFIG)
                for i, part in enumerate(self.fields)
            ),
        )

    def queryset(self):
        return self.model.objects.select_related(*self.related)


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
        ["group_description", "person__name", "person__description", "place"],
        ["person", "holding_country"],
        order=("dispute__title", "start_year", "start_month", "start_day", "pk"),
        indexed=False,
    ),
    Kind("source", "Sources", Source, ["title", "publisher", "text"], order=("title", "pk")),
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


def _full_text(text: str) -> list[tuple[Kind, list]]:
    """Ranked matches of the websearch query (quotes and minus signs mean what readers
    expect), through each kind's GIN index."""
    query = SearchQuery(text, search_type="websearch", config=CONFIG)
    groups = []
    for kind in KINDS:
        document = kind.document()
        hits = (
            kind.queryset()
            .alias(document=document)
            .filter(document=query)
            .annotate(rank=SearchRank(document, query))
            .order_by("-rank", "pk")[:PER_KIND]
        )
        groups.append((kind, list(hits)))
    return groups


def _substring(words: list[str], excluded: list[str]) -> list[tuple[Kind, list]]:
    """Every word in some field, no excluded word in any (icontains, which PostgreSQL answers
    from migration 0001's trigram indexes). A field that is NULL (a detention without a
    known person) matches nothing and so excludes nothing."""
    groups = []
    for kind in KINDS:

        def anywhere(word, kind=kind):
            return reduce(operator.or_, (Q(**{f"{name}__icontains": word}) for name in kind.fields))

        condition = Q()
        for word in words:
            condition &= anywhere(word)
        for word in excluded:
            condition &= ~anywhere(word)
        hits = kind.queryset().filter(condition).order_by(*kind.order)[:PER_KIND]
        groups.append((kind, list(hits)))
    return groups


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
