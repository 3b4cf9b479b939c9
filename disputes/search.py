"""Search: what a reader means, found in the search entries (disputes/search_index.py).

A query is read into terms: words, "quoted phrases" and -excluded words, each folded as the
entries are (Cyrillic to Latin, no accents, lowercase). A word with an ending matches as a
prefix of its stem, so "pilots" finds "pilot"; the last word (being typed) as a prefix, so
"Khuku" finds "Khukumov"; a phrase matches its words in order. Queries longer than
MAX_LENGTH characters or MAX_TERMS terms are refused (QueryTooLong), not cut.

Each database finds the matching entries through its own index of the same words (FTS5
on SQLite, a stored, GIN-indexed tsvector on PostgreSQL) and ranks them with its own weighted
rank, the same weights on both: bm25(10, 5, 2, 1) and ts_rank {0.1, 0.2, 0.5, 1}, title >
names > quotes > body. That work is bounded: the first WINDOW matches are read (their
facets counted), and the CANDIDATES best of them by the database's rank are ranked again
by `score()`, written once here, so that both databases give the same order for the same
data. When nothing matches, each word is compared with the names vocabulary (pg_trgm on
PostgreSQL, rapidfuzz on SQLite; up to two edits) and the nearest spelling is searched
instead ("did you mean").

On PostgreSQL the search runs under a statement timeout (SEARCH_TIMEOUT_MS): a search that
would hold a worker longer raises SearchUnavailable, which the view answers with a 503.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Paginator
from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from snowballstemmer import stemmer

from .models import SearchEntry
from .search_index import FIELDS, tokens
from .serializers import envelope

MAX_LENGTH = 200
MAX_TERMS = 20
PER_PAGE = 20
WINDOW = 300
CANDIDATES = 100
MAX_EDITS = 2
WEIGHTS = {"title": 10.0, "names": 5.0, "quotes": 2.0, "body": 1.0}
# score()'s idea of a usual field length, in words, fixed so that a score depends on its
# entry alone (not on what else the database holds), the same on both databases.
USUAL_LENGTH = {"title": 6, "names": 6, "quotes": 40, "body": 30}
KIND_ORDER = [kind for kind, _label in SearchEntry.Kind.choices]
SINGULAR = {
    "dispute": "Dispute", "event": "Event", "person": "Person", "case": "Case",
    "detention": "Detention", "link": "Link", "country": "Country", "source": "Source",
    "sentence": "Sentence",
}  # fmt: skip
FACETS = ("type", "dispute", "country", "year")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "she",
        "that",
        "the",
        "their",
        "they",
        "this",
        "to",
        "was",
        "were",
        "which",
        "who",
        "with",
    ]
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TERM = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# Typographic quotes mark a phrase as straight ones do (the search hint itself shows “ ”).
_QUOTES = str.maketrans(dict.fromkeys("“”„«»", '"'))
_STEMMER = stemmer("english")
_PREFIX_MIN = 3


class QueryTooLong(ValueError):
    """A query past the limits: the reader is told which, and nothing is searched."""


class SearchUnavailable(Exception):
    """The database took longer than the search's timeout."""


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    prefix: bool = False  # the last (only) word matches as a prefix
    negated: bool = False
    typed: str = ""  # a prefix term's word as the reader wrote it ("pilots" for "pilot":*)

    @property
    def phrase(self) -> bool:
        return len(self.words) > 1

    def fts5(self) -> str:
        text = '"' + " ".join(self.words) + '"' + ("*" if self.prefix else "")
        return text

    def tsquery(self, prefix: bool = True) -> str:
        """The term for PostgreSQL; with `prefix` False, a prefix term matches its stem or
        the word as written, whole ('pilot' | 'pilots'): a part of what its prefix matches."""
        parts = [f"'{word}'" for word in self.words]
        if self.prefix and not prefix and self.typed not in ("", self.words[-1]):
            return f"({parts[-1]} | '{self.typed}')"
        if self.prefix and prefix:
            parts[-1] += ":*"
        text = " <-> ".join(parts)
        return f"({text})" if self.phrase else text

    def matches(self, word: str) -> float:
        """How well one folded word matches a one-word term: 1 whole, 0.5 as a prefix."""
        if word == self.words[0]:
            return 1.0
        return 0.5 if self.prefix and word.startswith(self.words[0]) else 0.0


@dataclass
class Query:
    text: str = ""
    notes: list[str] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)

    @property
    def positive(self) -> list[Term]:
        return [term for term in self.terms if not term.negated]

    def fts5(self) -> str:
        text = " AND ".join(term.fts5() for term in self.positive)
        return text + "".join(f" NOT {term.fts5()}" for term in self.terms if term.negated)

    def tsquery(self, prefixes: bool = True) -> str:
        """The query for PostgreSQL; with `prefixes` False, its words are matched whole
        (an excluded word still as a prefix): what that matches, the query matches too."""
        return " & ".join(
            ("!" if term.negated else "") + term.tsquery(prefixes or term.negated)
            for term in self.terms
        )


def _prefix(word: str) -> str:
    """What a word of the query matches the start of: its stem when the word begins with
    it ("pilots": "pilot"), else the word itself ("city", whose stem is "citi")."""
    stem = _STEMMER.stemWord(word)
    return stem if len(stem) >= _PREFIX_MIN and word.startswith(stem) else word


def parse(raw: str) -> Query:
    """The query as it will be searched; QueryTooLong past the limits."""
    query = Query()
    text = unicodedata.normalize("NFC", raw or "")
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
        query.notes.append("Invisible control characters were removed from your search.")
    query.text = " ".join(text.split())
    if len(query.text) > MAX_LENGTH:
        raise QueryTooLong(
            f"Your search is {len(query.text)} characters long; searches can be at most "
            f"{MAX_LENGTH}. Shorten it to the words that matter most."
        )
    found = _TERM.findall(query.text.translate(_QUOTES))
    if len(found) > MAX_TERMS:
        raise QueryTooLong(
            f"Your search has {len(found)} words; searches can have at most {MAX_TERMS}. "
            "Keep the words that matter most."
        )
    for i, (minus, phrase, word) in enumerate(found):
        negated = bool(minus) or word.startswith("-")
        words = tuple(tokens(phrase if phrase or minus else word))
        if not words:
            continue
        if phrase or minus or len(words) > 1:
            query.terms.append(Term(words, negated=negated))
            continue
        # The last word may be half typed: it matches as a prefix. Another matches as the
        # prefix of its stem when it has an ending ("pilots", "arrested"), else whole: a
        # prefix costs the index a merge of every word it begins, a whole word does not.
        start = _prefix(words[0]) if words[0].isalpha() else words[0]
        typing = i == len(found) - 1 and not negated
        if len(words[0]) >= _PREFIX_MIN and words[0].isalpha() and (typing or start != words[0]):
            query.terms.append(Term((start,), prefix=True, negated=negated, typed=words[0]))
        else:
            query.terms.append(Term(words, negated=negated))
    # Small words ("the Kremlin denied") would make every result contain them.
    meaningful = [t for t in query.terms if t.phrase or t.words[0] not in STOPWORDS]
    if any(not t.negated for t in meaningful):
        query.terms = meaningful
    return query


def score(entry, terms: list[Term]) -> float:
    """The order of results, the same on both databases: each term's matches in each field,
    weighted title > names > quotes > body, saturating as they repeat and worth less in a
    long field (BM25's shape, with fixed usual lengths), and the share of the title the
    query names ("Rustam Khukumov" is first the person of that name, then the events whose
    titles also name him). Words are counted with str.count on the spaced, folded fields."""
    total = 0.0
    for field_name, weight in WEIGHTS.items():
        text = getattr(entry, field_name)
        if not text:
            continue
        spaced = f" {text} "
        norm = 1.2 * (0.25 + 0.75 * (text.count(" ") + 1) / USUAL_LENGTH[field_name])
        for term in terms:
            tf = _frequency(term, spaced)
            if tf:
                total += weight * tf * 2.2 / (tf + norm)
    if entry.title:
        title = entry.title.split()
        named = sum(1 for word in title if any(_names(term, word) for term in terms))
        total += 2 * WEIGHTS["title"] * (named / len(title)) ** 2
    return total


def _frequency(term: Term, spaced: str) -> float:
    """How often the term occurs in a spaced field: a whole word counts 1, a word it only
    begins 0.5; a phrase counts its occurrences."""
    whole = spaced.count(f" {' '.join(term.words)} ")
    if not term.prefix:
        return float(whole)
    return whole + 0.5 * (spaced.count(f" {term.words[0]}") - whole)


def _names(term: Term, word: str) -> bool:
    return word in term.words if term.phrase else bool(term.matches(word))


@dataclass
class Facet:
    key: str
    label: str
    values: list[dict] = field(default_factory=list)


@dataclass
class Outcome:
    query: Query
    filters: dict
    page: object = None  # a Paginator page of SearchEntry, best first
    total: int = 0
    capped: bool = False  # more than WINDOW matches: total and facet counts are lower bounds
    facets: list[Facet] = field(default_factory=list)
    corrected: str = ""  # the spelling searched instead, when the query's found nothing
    used: Query | None = None  # what was searched: the query, or its corrected spelling
    message: str = ""

    @property
    def text(self) -> str:
        return self.query.text


def search(raw: str, filters: dict | None = None, page=1) -> Outcome:
    """The page `page` of results for the query `raw`, narrowed by `filters` ({facet:
    value} for the facets in FACETS)."""
    query = parse(raw)
    filters = clean_filters(filters or {})
    outcome = Outcome(query=query, filters=filters)
    if not query.text:
        outcome.message = "Type a name, a place or a word, such as “pilots” or “Khukumov”."
        return outcome
    if not query.positive:
        outcome.message = (
            "There is nothing to search for in that: use letters or numbers, "
            "such as a name or a place."
        )
        return outcome
    with _bounded():
        _find(outcome, query, page)
        if not outcome.total and not filters:
            corrected = _did_you_mean(query)
            if corrected is not None:
                _find(outcome, corrected, page)
                if outcome.total:
                    outcome.corrected = corrected.text
    if not outcome.total:
        outcome.message = f"Nothing in the record matches “{query.text}”." + (
            " Try without the filters." if filters else " Try fewer or other words."
        )
    return outcome


_FILTER_VALUES = {
    "type": re.compile("|".join(KIND_ORDER)),
    "dispute": re.compile(r"[1-9][0-9]{0,17}"),
    "country": re.compile(r"[A-Z]{2}"),
    "year": re.compile(r"[1-9][0-9]{0,3}"),
}


def clean_filters(filters: dict) -> dict:
    """The facet filters that can match something; any other value is ignored."""
    return {
        name: value
        for name, value in filters.items()
        if name in _FILTER_VALUES
        and isinstance(value, str)
        and _FILTER_VALUES[name].fullmatch(value)
    }


def _find(outcome: Outcome, query: Query, page) -> None:
    outcome.used = query
    window = _window(query, {})
    outcome.facets = _facets(window)
    if outcome.filters:
        window = _window(query, outcome.filters)
    outcome.total = len(window)
    outcome.capped = len(window) >= WINDOW
    best = sorted(window, key=lambda row: (-row[-1], row[0]))[:CANDIDATES]
    entries = SearchEntry.objects.filter(pk__in=[row[0] for row in best]).defer("document")
    ranked = sorted(
        entries,
        key=lambda e: (-round(score(e, query.positive), 9), KIND_ORDER.index(e.kind), e.pk),
    )
    outcome.page = Paginator(ranked, PER_PAGE).get_page(page)


def _window(query: Query, filters: dict) -> list[tuple]:
    """(id, kind, dispute_id, countries, year, rank) of the first WINDOW matching entries,
    rank higher for better (the database's own weighted rank)."""
    if connection.vendor == "postgresql":
        return _window_postgresql(query, filters)
    table = SearchEntry._meta.db_table
    fts = f"{table}_fts"
    where, params = [f"{fts} MATCH %s"], [query.fts5()]
    for name, column, value in _filter_columns(filters):
        where.append(f"e.{column} LIKE %s" if name == "country" else f"e.{column} = %s")
        params.append(value)
    weights = ", ".join(str(WEIGHTS[name]) for name in FIELDS)
    with connection.cursor() as cursor:
        # FTS5's MATCH and bm25() are not the ORM's to say.
        cursor.execute(
            f"SELECT e.id, e.kind, e.dispute_id, e.countries, e.year, -bm25({fts}, {weights})"
            f" FROM {fts} JOIN {table} e ON e.id = {fts}.rowid"
            f" WHERE {' AND '.join(where)} LIMIT {WINDOW}",
            params,
        )
        return cursor.fetchall()


def _window_postgresql(query: Query, filters: dict) -> list[tuple]:
    """The first WINDOW entries whose stored document (SearchEntry.document, GIN-indexed)
    matches, each ranked from that document: no document computed.

    PostgreSQL cannot tell how many entries a prefix (`'statement':*`) matches and reads the
    index for all of them, 57,587 bitmap entries for "Arcadian statement" among 100,000
    events, before the first WINDOW are read; the same words matched whole it counts from
    its statistics, and reads a common one only until the window is full. So when the query
    has a prefix, its words are first matched whole: every such match is a match of the
    query, and when they fill the window they are the window."""
    tsquery = SearchQuery(query.tsquery(), search_type="raw", config="simple")
    if any(term.prefix for term in query.positive):
        whole = SearchQuery(query.tsquery(prefixes=False), search_type="raw", config="simple")
        rows = _ranked(whole, tsquery, filters)
        if len(rows) >= WINDOW:
            return rows
    return _ranked(tsquery, tsquery, filters)


def _ranked(matching_query: SearchQuery, tsquery: SearchQuery, filters: dict) -> list[tuple]:
    """The first WINDOW entries that match `matching_query` and `filters`, ranked by the
    database against the whole query."""
    matching = SearchEntry.objects.filter(document=matching_query)
    for name, column, value in _filter_columns(filters):
        lookup = f"{column}__contains" if name == "country" else column
        matching = matching.filter(**{lookup: value.strip("%") if name == "country" else value})
    weights = [WEIGHTS[name] / WEIGHTS["title"] for name in reversed(FIELDS)]  # D, C, B, A
    rows = (
        matching.order_by()
        .annotate(rank=SearchRank(F("document"), tsquery, weights=weights))
        .values_list("pk", "kind", "dispute_id", "countries", "year", "rank")[:WINDOW]
    )
    return list(rows)


def _filter_columns(filters: dict):
    for name, value in filters.items():
        if name == "type":
            yield name, "kind", value
        elif name == "dispute":
            yield name, "dispute_id", value
        elif name == "country":
            yield name, "countries", f"% {value} %"
        elif name == "year":
            yield name, "year", value


def _facets(window: list[tuple]) -> list[Facet]:
    from .models import Country, Dispute

    kinds = Counter(row[1] for row in window)
    disputes = Counter(row[2] for row in window if row[2])
    countries = Counter(code for row in window for code in row[3].split())
    years = Counter(row[4] for row in window if row[4])
    labels = dict(SearchEntry.Kind.choices)
    names = dict(Dispute.objects.filter(pk__in=disputes).values_list("pk", "title"))
    country_names = dict(Country.objects.filter(code__in=countries).values_list("code", "name"))
    return [
        Facet(
            "type",
            "Type",
            [
                {"value": kind, "label": labels[kind], "count": kinds[kind]}
                for kind in KIND_ORDER
                if kinds[kind]
            ],
        ),
        Facet(
            "dispute",
            "Dispute",
            [
                {"value": str(pk), "label": names.get(pk, f"Dispute {pk}"), "count": count}
                for pk, count in disputes.most_common(10)
            ],
        ),
        Facet(
            "country",
            "Country",
            [
                {"value": code, "label": country_names.get(code, code), "count": count}
                for code, count in countries.most_common(10)
            ],
        ),
        Facet(
            "year",
            "Year",
            [
                {"value": str(year), "label": str(year), "count": years[year]}
                for year in sorted(years, reverse=True)[:15]
            ],
        ),
    ]


def _did_you_mean(query: Query) -> Query | None:
    """The query with each word the names vocabulary lacks replaced by its nearest word
    there, up to MAX_EDITS edits away; None when no word needs or finds a replacement."""
    from .models import SearchWord

    changed = False
    replaced = []
    for term in query.terms:
        if term.phrase or term.negated or not term.words[0].isalpha():
            replaced.append(term)
            continue
        word = term.words[0]
        nearest = _nearest(SearchWord, word)
        if nearest and nearest != word and not (term.prefix and nearest.startswith(word)):
            replaced.append(Term((nearest,), negated=term.negated))
            changed = True
        else:
            replaced.append(term)
    if not changed:
        return None
    text = " ".join(("-" if t.negated else "") + " ".join(t.words) for t in replaced)
    return Query(text=text, terms=replaced)


def _nearest(model, word: str) -> str | None:
    if connection.vendor == "postgresql" and _has_trigrams(connection.alias):
        from django.contrib.postgres.search import TrigramSimilarity

        choices = list(
            model.objects.annotate(similarity=TrigramSimilarity("word", word))
            .filter(similarity__gt=0.1)
            .order_by("-similarity", "word")
            .values_list("word", flat=True)[:50]
        )
    else:
        choices = list(model.objects.order_by("word").values_list("word", flat=True))
    found = process.extractOne(word, choices, scorer=Levenshtein.distance, score_cutoff=MAX_EDITS)
    return found[0] if found else None


@cache
def _has_trigrams(alias: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


class _bounded:
    """On PostgreSQL, the search's statements under a timeout of their own (SET LOCAL, so
    it ends with the transaction); a cancelled one raises SearchUnavailable."""

    def __enter__(self):
        if connection.vendor != "postgresql":
            return self
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)",
                [str(settings.SEARCH_TIMEOUT_MS)],
            )
        return self

    def __exit__(self, kind, error, traceback):
        if connection.vendor != "postgresql":
            return False
        self.atomic.__exit__(kind, error, traceback)
        if isinstance(error, OperationalError) and _cancelled(error):
            raise SearchUnavailable(str(error)) from error
        return False


def _cancelled(error: Exception) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == "57014"  # query_canceled


# --- what a result shows ------------------------------------------------------------------

_ORIGINAL_WORD = re.compile(r"\w+")


def _marked(word: str, terms: list[Term]) -> bool:
    folded = tokens(word)
    return any(
        (term.matches(w) if not term.phrase else w in term.words) for w in folded for term in terms
    )


def highlight(text: str, terms: list[Term], width: int = 0) -> SafeString:
    """`text` escaped, its words that match a term wrapped in <mark>; with `width`, only a
    stretch of about that many characters around the first match."""
    if not text:
        return mark_safe("")
    words = [m for m in _ORIGINAL_WORD.finditer(text) if _marked(m.group(), terms)]
    start, end = 0, len(text)
    if width and len(text) > width:
        first = words[0].start() if words else 0
        start = max(0, first - width // 3)
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < first else start
        end = min(len(text), start + width)
        if end < len(text):
            space = text.rfind(" ", start, end)
            end = space if space > start else end
    pieces, at = [], start
    for match in words:
        if match.start() < start or match.end() > end:
            continue
        pieces.append(escape(text[at : match.start()]))
        pieces.append(f"<mark>{escape(match.group())}</mark>")
        at = match.end()
    pieces.append(escape(text[at:end]))
    return mark_safe(  # noqa: S308 - every piece of the text was escaped above
        ("…" if start else "") + "".join(pieces) + ("…" if end < len(text) else "")
    )


# --- as data ------------------------------------------------------------------------------


def as_data(outcome: Outcome, request, url_for) -> dict:
    """/search.json: the page of results as the search page shows them, with absolute
    addresses, each facet value's address and the next and previous pages'."""
    absolute = request.build_absolute_uri
    page = outcome.page
    terms = outcome.used.positive if outcome.used else []
    return envelope(
        "search",
        {
            "query": outcome.text,
            "filters": outcome.filters,
            "corrected": outcome.corrected or None,
            "message": outcome.message or None,
            "url": absolute(url_for(request, outcome, page.number if page else None)),
            "total": outcome.total,
            "total_is_lower_bound": outcome.capped,
            "page": page.number if page else 1,
            "pages": page.paginator.num_pages if page else 0,
            "next": absolute(url_for(request, outcome, page.next_page_number()))
            if page and page.has_next()
            else None,
            "previous": absolute(url_for(request, outcome, page.previous_page_number()))
            if page and page.has_previous()
            else None,
            "facets": {
                facet.key: [
                    {
                        "value": value["value"],
                        "label": value["label"],
                        "count": value["count"],
                        "url": absolute(url_for(request, outcome, **{facet.key: value["value"]})),
                    }
                    for value in facet.values
                ]
                for facet in outcome.facets
            },
            "results": [
                {
                    "type": entry.kind,
                    "id": entry.object_id,
                    "sentence": entry.number or None,
                    "title": entry.label,
                    "url": absolute(entry.url),
                    "line": entry.line,
                    "excerpt": entry.text[:300],
                    "excerpt_html": str(highlight(entry.text, terms, width=220)),
                    "dispute": entry.dispute_id,
                    "countries": entry.countries.split(),
                    "year": entry.year,
                }
                for entry in (page or [])
            ],
        },
    )
