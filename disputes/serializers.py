"""Every public record as data: one function per model, written once.

The JSON twins of the permalink pages (`<permalink>.json`, or the permalink itself asked for
`Accept: application/json`), the lists (`/events.json`), search and the exports all build
their objects here, so a record reads the same wherever it is taken from. Each kind has a
`queryset()` that reads what its function needs (public rows only, with their citations
and the public flags of what they point at) and a function that turns one row into a dict.

Every payload says `schema_version`; the schemas are in schemas/v<version>/ (JSON Schema,
validated by the tests). A change that removes or renames a field raises the version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

from django.db.models import Prefetch, QuerySet
from django.urls import get_script_prefix, reverse
from django.utils.text import slugify

from .dates import FuzzyDate
from .models import (
    Case,
    Citation,
    Claim,
    Country,
    Detention,
    Dispute,
    Event,
    Person,
    PersonRelation,
    RetaliationLink,
    Role,
    Source,
)

SCHEMA_VERSION = 1

Absolute = Callable[[str], str]


REPRESENTATIONS = ["text/html", "application/json"]


def wants_json(request) -> bool:
    """True when the request prefers JSON to HTML (`Accept: application/json`); a browser's
    `*/*`, or no Accept at all, gets the page."""
    return request.get_preferred_type(REPRESENTATIONS) == "application/json"


def envelope(kind: str, payload: dict) -> dict:
    """The outermost object of every JSON response: its schema version and its type first."""
    return {"schema_version": SCHEMA_VERSION, "type": kind, **payload}


# --- parts ---------------------------------------------------------------------------------


@cache
def _permalink_pattern(url_name: str, prefix: str) -> tuple[str, str]:
    """The permalink of `url_name` around its pk and slug, reversed once per script prefix:
    a CSV of 100,000 events would otherwise reverse some 500,000 URLs."""
    url = reverse(url_name, kwargs={"pk": 12345, "slug": "the-slug"})
    head, tail = url.split("12345/the-slug", 1)
    return head, tail


def permalink(obj) -> str:
    """obj.get_absolute_url(), quickly: the records a list names again and again (its
    dispute, its states, its source) are slugified once."""
    return _permalink(obj.url_name, get_script_prefix(), obj.pk, str(obj))


@lru_cache(maxsize=4096)
def _permalink(url_name: str, prefix: str, pk: int, name: str) -> str:
    head, tail = _permalink_pattern(url_name, prefix)
    return f"{head}{pk}/{slugify(name)[:80].strip('-') or 'item'}{tail}"


def fuzzy(date: FuzzyDate) -> dict:
    """A date at the precision its source gives: "2011-03", precision "month"; a part not
    stated by the source is `inferred`, with the editor's `reason`."""
    return {
        "value": date.iso() or None,
        "precision": date.precision.value,
        "inferred": bool(date.inferred) and date.known,
        "reason": date.inferred or None,
    }


def ref(obj, absolute: Absolute, kind: str) -> dict:
    """Another record, as a pointer: enough to name it and to follow it."""
    return {"type": kind, "id": obj.pk, "title": str(obj), "url": absolute(permalink(obj))}


def citations(obj, absolute: Absolute) -> list[dict]:
    """The quotes that support a record, each with the sentence of its source it starts in
    (read with Citation.objects.with_sentence, prefetched as `citations`)."""
    out = []
    for citation in obj.citation_list:
        source_url = permalink(citation.source)
        number = getattr(citation, "sentence_number", None)
        out.append(
            {
                "quote": citation.quote,
                "source": {
                    "type": "source",
                    "id": citation.source_id,
                    "title": citation.source.title,
                    "url": absolute(source_url),
                },
                "sentence": number,
                "sentence_url": absolute(f"{source_url}#s{number}") if number else None,
                "start": citation.start,
            }
        )
    return out


def _record(obj, kind: str, absolute: Absolute) -> dict:
    """What every record says first: its type, id, title, canonical URL, when it changed."""
    return {
        "type": kind,
        "id": obj.pk,
        "title": str(obj),
        "url": absolute(permalink(obj)),
        "last_changed": obj.latest_change.isoformat(),
    }


def _cited():
    # A list (to_attr), not a manager per row: for a generic relation, Django filters a
    # queryset for each row to hold its prefetched objects, which dominates a long CSV.
    return Prefetch("citations", queryset=Citation.objects.with_sentence(), to_attr="citation_list")


def _maybe(obj, relation: str, absolute: Absolute, kind: str) -> dict | None:
    """A pointer to `obj`'s related record when it is public, as `obj` was read with it
    (`<relation>_is_public`, QuerySet.with_public_flags): a draft is left out, as on the page."""
    related = getattr(obj, relation)
    if related is None or not getattr(obj, f"{relation}_is_public"):
        return None
    return ref(related, absolute, kind)


# --- one function per model ----------------------------------------------------------------


def _event_queryset() -> QuerySet:
    return (
        Event.objects.public()
        .select_related(
            "dispute", "actor", "case", "detention__holding_country", "detention__person"
        )
        .with_public_flags("case", "detention")
        .prefetch_related(
            _cited(),
            Prefetch("people", queryset=Person.objects.public(), to_attr="public_people"),
            Prefetch(
                "provoked_links",
                queryset=RetaliationLink.objects.public().select_related("cause", "response"),
                to_attr="public_provoked",
            ),
            Prefetch(
                "provoked_by_links",
                queryset=RetaliationLink.objects.public().select_related("cause", "response"),
                to_attr="public_provoked_by",
            ),
        )
    )


def _link_summary(link, absolute: Absolute) -> dict:
    return {
        "type": "link",
        "id": link.pk,
        "url": absolute(permalink(link)),
        "cause": link.cause_id,
        "response": link.response_id,
        "evidence": link.evidence,
    }


def event(obj: Event, absolute: Absolute) -> dict:
    return {
        **_record(obj, "event", absolute),
        "kind": obj.kind,
        "summary": obj.summary,
        "dispute": ref(obj.dispute, absolute, "dispute"),
        "actor": {**ref(obj.actor, absolute, "country"), "code": obj.actor.code},
        "date": fuzzy(obj.date),
        "not_before": fuzzy(obj.not_before) if obj.not_before.known else None,
        "sequence": obj.sequence,
        "cameo_code": obj.cameo_code or None,
        "plover_code": obj.plover_code or None,
        "people": [ref(p, absolute, "person") for p in obj.public_people],
        "case": _maybe(obj, "case", absolute, "case"),
        "detention": _maybe(obj, "detention", absolute, "detention"),
        "provoked_by": [_link_summary(link, absolute) for link in obj.public_provoked_by],
        "provoked": [_link_summary(link, absolute) for link in obj.public_provoked],
        "citations": citations(obj, absolute),
    }


def _person_queryset() -> QuerySet:
    relations = PersonRelation.objects.public().prefetch_related(_cited())
    return Person.objects.public().prefetch_related(
        _cited(),
        "citizenships",
        Prefetch(
            "roles",
            queryset=Role.objects.public().select_related("country").prefetch_related(_cited()),
        ),
        Prefetch("relations_from", queryset=relations.select_related("other")),
        Prefetch("relations_to", queryset=relations.select_related("person")),
    )


def _relation(relation: PersonRelation, side: str, absolute: Absolute) -> dict:
    """A relation as seen from one of its people: the other one under `side`."""
    return {
        "kind": relation.kind,
        "label": relation.get_kind_display(),
        side: ref(getattr(relation, side), absolute, "person"),
        "detail": relation.detail,
        "citations": citations(relation, absolute),
    }


def person(obj: Person, absolute: Absolute) -> dict:
    return {
        **_record(obj, "person", absolute),
        "name": obj.name or None,
        "named": obj.named,
        "description": obj.description,
        "citizenships": [ref(c, absolute, "country") for c in obj.citizenships.all()],
        "roles": [
            {
                "title": role.title,
                "country": ref(role.country, absolute, "country") if role.country else None,
                "note": role.note,
                "citations": citations(role, absolute),
            }
            for role in obj.roles.all()
        ],
        "relations": [_relation(r, "other", absolute) for r in obj.relations_from.all()],
        # Recorded from the other side ("A is lawyer of B" on B's record), as the page lists them.
        "related_by": [_relation(r, "person", absolute) for r in obj.relations_to.all()],
        "citations": citations(obj, absolute),
    }


def _case_queryset() -> QuerySet:
    return (
        Case.objects.public()
        .select_related("prosecuting_country", "dispute")
        .prefetch_related(_cited(), Prefetch("defendants", queryset=Person.objects.public()))
    )


def case(obj: Case, absolute: Absolute) -> dict:
    return {
        **_record(obj, "case", absolute),
        "dispute": ref(obj.dispute, absolute, "dispute"),
        "prosecuting_country": ref(obj.prosecuting_country, absolute, "country"),
        "court": obj.court,
        "defendants": [ref(p, absolute, "person") for p in obj.defendants.all()],
        "charges": obj.charges,
        "sentence": obj.sentence,
        "sentence_months": obj.sentence_months,
        "outcome": obj.outcome,
        "citations": citations(obj, absolute),
    }


def _detention_queryset() -> QuerySet:
    return (
        Detention.objects.public()
        .select_related("person", "holding_country", "case", "dispute")
        .with_public_flags("person", "case")
        .prefetch_related(_cited())
    )


def detention(obj: Detention, absolute: Absolute) -> dict:
    return {
        **_record(obj, "detention", absolute),
        "dispute": ref(obj.dispute, absolute, "dispute"),
        "person": _maybe(obj, "person", absolute, "person"),
        "group": {
            "description": obj.group_description,
            "words": obj.group_size,
            "size_min": obj.group_size_min,
            "size_max": obj.group_size_max,
        }
        if obj.is_group
        else None,
        "holding_country": ref(obj.holding_country, absolute, "country"),
        "place": obj.place,
        "case": _maybe(obj, "case", absolute, "case"),
        "start": fuzzy(obj.start),
        "end": fuzzy(obj.end),
        "ending": obj.ending,
        "note": obj.note,
        "citations": citations(obj, absolute),
    }


def _link_queryset() -> QuerySet:
    return (
        RetaliationLink.objects.public()
        .select_related("cause", "response", "dispute")
        .prefetch_related(
            _cited(),
            Prefetch(
                "claims",
                queryset=Claim.objects.public()
                .select_related("claimant_person", "claimant_country")
                .with_public_flags("claimant_person")
                .prefetch_related(_cited()),
            ),
        )
    )


def link(obj: RetaliationLink, absolute: Absolute) -> dict:
    return {
        **_record(obj, "link", absolute),
        "dispute": ref(obj.dispute, absolute, "dispute"),
        "cause": ref(obj.cause, absolute, "event"),
        "response": ref(obj.response, absolute, "event"),
        "evidence": obj.evidence,
        "evidence_label": obj.get_evidence_display(),
        "summary": obj.summary,
        "claims": [
            {
                "stance": claim.stance,
                "stance_label": claim.get_stance_display(),
                "claimant": claim.claimant,
                "claimant_person": _maybe(claim, "claimant_person", absolute, "person"),
                "claimant_country": ref(claim.claimant_country, absolute, "country")
                if claim.claimant_country
                else None,
                "detail": claim.detail,
                "citations": citations(claim, absolute),
            }
            for claim in obj.claims.all()
        ],
        "citations": citations(obj, absolute),
    }


def _country_queryset() -> QuerySet:
    return Country.objects.public().prefetch_related(_cited())


def country(obj: Country, absolute: Absolute) -> dict:
    return {
        **_record(obj, "country", absolute),
        "code": obj.code,
        "name": obj.name,
        "demonym": obj.demonym,
        "citations": citations(obj, absolute),
    }


def _source_queryset() -> QuerySet:
    return Source.objects.public().prefetch_related("sentences")


def source(obj: Source, absolute: Absolute) -> dict:
    url = permalink(obj)
    return {
        **_record(obj, "source", absolute),
        "publisher": obj.publisher,
        "author": obj.author,
        "published": fuzzy(obj.published),
        "language": obj.language,
        "original_url": obj.url or None,
        "archive_url": obj.archive_url or None,
        "captured": obj.captured.isoformat() if obj.captured else None,
        "cut_off_lines": obj.cut_off_line_numbers,
        "capture_note": obj.capture_note,
        "text": obj.text,
        "sentences": [
            {
                "number": sentence.number,
                "url": absolute(f"{url}#{sentence.anchor}"),
                "start": sentence.start,
                "end": sentence.end,
                "text": obj.text[sentence.start : sentence.end],
                "context_note": sentence.context_note,
            }
            for sentence in obj.sentences.all()
        ],
    }


def _dispute_queryset() -> QuerySet:
    return (
        Dispute.objects.public()
        .with_chain_changes()
        .prefetch_related(
            _cited(), "countries", Prefetch("sources", queryset=Source.objects.only("pk", "title"))
        )
    )


def dispute(obj: Dispute, absolute: Absolute) -> dict:
    """The dispute with its chain: every public step in time order, and every public link."""
    steps = (
        Event.objects.public()
        .filter(dispute=obj)
        .select_related("actor")
        .in_time_order()
        .iterator()
    )
    # A link's address names its two events.
    links = (
        RetaliationLink.objects.public()
        .filter(dispute=obj)
        .select_related("cause", "response")
        .order_by("pk")
        .iterator()
    )
    return {
        **_record(obj, "dispute", absolute),
        "summary": obj.summary,
        "countries": [{**ref(c, absolute, "country"), "code": c.code} for c in obj.countries.all()],
        "sources": [ref(s, absolute, "source") for s in obj.sources.all()],
        "chain": [
            {
                **ref(step, absolute, "event"),
                "kind": step.kind,
                "actor": step.actor.code,
                "date": fuzzy(step.date),
            }
            for step in steps
        ],
        "links": [_link_summary(link, absolute) for link in links],
        "citations": citations(obj, absolute),
    }


@dataclass(frozen=True)
class Kind:
    name: str
    model: type
    queryset: Callable[[], QuerySet]
    serialize: Callable[..., dict]


KINDS = {
    kind.name: kind
    for kind in [
        Kind("event", Event, _event_queryset, event),
        Kind("person", Person, _person_queryset, person),
        Kind("case", Case, _case_queryset, case),
        Kind("detention", Detention, _detention_queryset, detention),
        Kind("link", RetaliationLink, _link_queryset, link),
        Kind("country", Country, _country_queryset, country),
        Kind("source", Source, _source_queryset, source),
        Kind("dispute", Dispute, _dispute_queryset, dispute),
    ]
}
