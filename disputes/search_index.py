"""What search finds: one definition of what each public record shows to search, written
into SearchEntry rows that both databases index the same way.

Each kind of record (and each sentence of a source) gives one entry with four weighted
fields, title > names > quotes > body, folded by `tokens()`: Cyrillic (Russian and Tajik)
transliterated to Latin by unidecode, accents dropped, lowercased, cut into words of
letters and digits. A name written Хукумов, Ҳукумов or Khukumov is then the same word,
in the record and in a query alike. PostgreSQL indexes the fields as a weighted tsvector
(SearchEntry.document, stored, GIN-indexed), SQLite as an FTS5 table kept by triggers
(triggers.py): the same words, so the same records match on both.

Only public records get entries (Model.objects.public() decides), so nothing search
returns or counts is a draft. The entries follow the record through Django's signals, in
the edit's own transaction: a save, a delete, a citation added or removed, a change of
people named. Writes that send no signals (bulk_create, QuerySet.update(), raw SQL,
loaddata) are followed by `manage.py rebuild_search_index`, which the project's own bulk
paths (load_record, import_record, the generator of synthetic disputes) run themselves.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Prefetch, Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from unidecode import unidecode

from .sources import split_sentences

# Tajik letters first, as Russian writes them (Ҳукумов is Хукумов, Khukumov in English),
# and the few Russian letters whose usual English spelling differs from unidecode's
# (я "ya", not "ia"); soft and hard signs are not written in English.
_CYRILLIC = str.maketrans(
    {
        "ҳ": "х", "Ҳ": "Х", "қ": "к", "Қ": "К", "ғ": "г", "Ғ": "Г", "ӣ": "и", "Ӣ": "И",
        "ӯ": "у", "Ӯ": "У", "ҷ": "дж", "Ҷ": "Дж", "я": "ya", "Я": "Ya", "ю": "yu",
        "Ю": "Yu", "ё": "yo", "Ё": "Yo", "й": "y", "Й": "Y", "ь": "", "Ь": "", "ъ": "", "Ъ": "",
    }
)  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
BATCH = 1000
FIELDS = ("title", "names", "quotes", "body")
# The format of the entries: raise it with any change to what _entries() writes or tokens()
# folds, and `migrate` writes every entry again (apps.fill_search_index).
FORMAT = 3


def tokens(text: str) -> list[str]:
    """The words search matches in `text`: Latin, lowercase, without accents. "Dzh" (how
    Russian spells a J, Джалол) is written "j", as English does."""
    if not text:
        return []
    latin = unidecode(text.translate(_CYRILLIC)).lower()
    return [word.replace("dzh", "j") for word in _WORD.findall(latin)]


def fold(*texts: str) -> str:
    return " ".join(word for text in texts for word in tokens(text))


def _names(people) -> list[str]:
    return [person.name for person in people if person.name]


# --- the documents: what each kind of record shows to search ------------------------------


def _dispute(dispute, quotes):
    countries = list(dispute.countries.all())
    return {
        "title": fold(dispute.title),
        "names": fold(*(c.name for c in countries)),
        "body": fold(dispute.summary),
        "label": dispute.title,
        "line": "Dispute between " + " and ".join(c.name for c in countries),
        "text": dispute.summary,
        "dispute_id": dispute.pk,
        "countries": [c.code for c in countries],
    }


def _event(event, quotes):
    return {
        "title": fold(event.title),
        "names": fold(*_names(event.public_people)),
        "body": fold(event.summary, event.get_kind_display()),
        "label": event.title,
        "line": f"{event.actor.name} · {event.when}",
        "text": event.summary,
        "dispute_id": event.dispute_id,
        "countries": [event.actor.code],
        "year": event.date_year,
    }


def _person(person, quotes):
    roles = [role.title for role in person.public_roles]
    countries = list(person.citizenships.all())
    line = ", ".join(c.demonym for c in countries)
    related = [
        f"{relation.get_kind_display()} {relation.other.name}"
        for relation in person.public_relations
    ]
    return {
        "title": fold(person.name or person.description),
        "names": fold(*related),
        "body": fold(person.description, *roles),
        "label": str(person),
        "line": (person.description if person.name else "") + (f" · {line}" if line else ""),
        "text": "; ".join(roles),
        "countries": [c.code for c in countries],
    }


def _case(case, quotes):
    parts = [case.charges, case.sentence, case.court]
    return {
        "title": fold(case.title),
        "names": fold(*_names(case.public_defendants), case.court),
        "body": fold(case.charges, case.sentence, case.get_outcome_display()),
        "label": case.title,
        "line": f"Prosecuted by {case.prosecuting_country.name} · {case.get_outcome_display()}",
        "text": "; ".join(p for p in parts if p),
        "dispute_id": case.dispute_id,
        "countries": [case.prosecuting_country.code],
    }


def _detention(detention, quotes):
    shown = bool(detention.person_id and detention.person_is_public)
    person = str(detention.person) if shown else ""
    who = detention.group_description or person or "A person not yet in the record"
    held_by = detention.holding_country.name
    until = f" to {detention.end}" if detention.end.known else ""
    return {
        "title": fold(f"{who}, held by {held_by}"),
        "names": fold(detention.person.name if shown else ""),
        "body": fold(detention.place, detention.group_size, detention.note),
        "label": f"{who}, held by {held_by}",
        "line": f"From {detention.start}{until} · {detention.get_ending_display()}",
        # place and note are two sentences of their own, not one run together
        "text": " · ".join(p for p in (detention.place, detention.note) if p),
        "dispute_id": detention.dispute_id,
        "countries": [detention.holding_country.code],
        "year": detention.start_year,
    }


def _link(link, quotes):
    claims = list(link.public_claims)
    said = [str(claim) for claim in claims]
    claimants = [
        name
        for claim in claims
        for name in (
            claim.claimant,
            claim.claimant_person.name if claim.claimant_person else "",
            claim.claimant_country.name if claim.claimant_country else "",
        )
    ]
    claim_quotes = [q for claim in claims for q in quotes.get(("claim", claim.pk), [])]
    return {
        "title": fold(link.cause.title, link.response.title),
        "names": fold(*claimants, *said),
        "quotes_extra": claim_quotes,
        "body": fold(link.summary, link.get_evidence_display(), *(c.detail for c in claims)),
        "label": str(link),
        "line": f"Evidence: {link.get_evidence_display()}"
        + (f" · {'; '.join(said)}" if said else ""),
        "text": link.summary,
        "dispute_id": link.cause.dispute_id,
        "countries": sorted({link.cause.actor.code, link.response.actor.code}),
        "year": link.response.date_year,
    }


def _country(country, quotes):
    return {
        "title": fold(country.name),
        "names": fold(country.code, country.demonym),
        "label": country.name,
        "line": f"{country.code} · {country.demonym}",
        "countries": [country.code],
    }


def _source(source, quotes):
    disputes = list(source.public_disputes)
    published = source.published.display() if source.published.known else ""
    return {
        "title": fold(source.title),
        "names": fold(source.publisher, source.author),
        "body": fold(published, source.capture_note),
        "label": source.title,
        "line": " · ".join(p for p in (source.publisher, source.author, published) if p),
        "text": source.capture_note,
        "dispute_id": disputes[0].pk if len(disputes) == 1 else None,
    }


def _sentences(source):
    """One entry per sentence of a public source, numbered as sync_sentences numbers them
    (the same split), so that a hit opens the source page at the sentence's anchor."""
    disputes = list(source.public_disputes)
    url = source.get_absolute_url()
    for number, (start, end) in enumerate(split_sentences(source.text), start=1):
        text = source.text[start:end]
        yield {
            "number": number,
            "body": fold(text),
            "label": f"{source.title}, sentence {number}",
            "url": f"{url}#s{number}",
            "line": source.publisher,
            "text": text,
            "dispute_id": disputes[0].pk if len(disputes) == 1 else None,
        }


MODELS = {
    "dispute": "Dispute",
    "event": "Event",
    "person": "Person",
    "case": "Case",
    "detention": "Detention",
    "link": "RetaliationLink",
    "country": "Country",
    "source": "Source",
}


def _kind(kind: str):
    """(model, queryset of its public records with what their document reads, document
    function) of one kind of record; built on each use, since public() reads the content
    types' IDs, which a flushed test database renumbers."""
    from .models import (
        Case,
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

    people = Person.objects.public().only("pk", "name", "description")
    builders = {
        "dispute": lambda: (
            Dispute,
            Dispute.objects.public().prefetch_related("countries"),
            _dispute,
        ),
        "event": lambda: (
            Event,
            Event.objects.public()
            .select_related("actor")
            .prefetch_related(Prefetch("people", queryset=people, to_attr="public_people")),
            _event,
        ),
        "person": lambda: (
            Person,
            Person.objects.public().prefetch_related(
                "citizenships",
                Prefetch("roles", queryset=Role.objects.public(), to_attr="public_roles"),
                Prefetch(
                    "relations_from",
                    queryset=PersonRelation.objects.public().select_related("other"),
                    to_attr="public_relations",
                ),
            ),
            _person,
        ),
        "case": lambda: (
            Case,
            Case.objects.public()
            .select_related("prosecuting_country")
            .prefetch_related(Prefetch("defendants", queryset=people, to_attr="public_defendants")),
            _case,
        ),
        "detention": lambda: (
            Detention,
            Detention.objects.public()
            .select_related("person", "holding_country")
            .with_public_flags("person"),
            _detention,
        ),
        "link": lambda: (
            RetaliationLink,
            RetaliationLink.objects.public()
            .select_related("cause__actor", "response__actor")
            .prefetch_related(
                Prefetch(
                    "claims",
                    queryset=Claim.objects.public().select_related(
                        "claimant_person", "claimant_country"
                    ),
                    to_attr="public_claims",
                )
            ),
            _link,
        ),
        "country": lambda: (Country, Country.objects.public(), _country),
        "source": lambda: (
            Source,
            Source.objects.public().prefetch_related(
                Prefetch("disputes", queryset=Dispute.objects.public(), to_attr="public_disputes")
            ),
            _source,
        ),
    }
    return builders[kind]()


def _quotes(models_and_ids) -> dict[tuple[str, int], list[str]]:
    """{(kind, pk): [quote, ...]} for the records given as {kind: (model, pks)}."""
    from .models import Citation

    found = defaultdict(list)
    for kind, (model, pks) in models_and_ids.items():
        content_type = ContentType.objects.get_for_model(model)
        citations = Citation.objects.filter(content_type=content_type, object_id__in=pks)
        for object_id, quote in citations.order_by("start", "pk").values_list("object_id", "quote"):
            found[(kind, object_id)].append(quote)
    return found


def _entries(kind: str, records: list) -> list:
    from .models import Claim, SearchEntry

    _model, _queryset, document = _kind(kind)
    wanted = {kind: (_model, [r.pk for r in records])}
    if kind == "link":
        wanted["claim"] = (
            Claim,
            [c.pk for r in records for c in r.public_claims],
        )
    quotes = _quotes(wanted)
    entries = []
    for record in records:
        fields = document(record, quotes)
        own = quotes.get((kind, record.pk), []) + fields.pop("quotes_extra", [])
        if not fields.get("text"):
            # nothing of its own to excerpt (a country): its quotes, so that a result found
            # through them shows why
            fields["text"] = " · ".join(own)
        entries.append(
            SearchEntry(
                kind=kind,
                object_id=record.pk,
                quotes=fold(*own),
                url=fields.pop("url", "") or record.get_absolute_url(),
                countries=_spaced(fields.pop("countries", [])),
                **fields,
            )
        )
        if kind == "source":
            entries += [
                SearchEntry(kind="sentence", object_id=record.pk, **fields)
                for fields in _sentences(record)
            ]
    return entries


def _spaced(codes: Iterable[str]) -> str:
    """Country codes as " RU TJ ", so that one code is found by a plain `contains`."""
    return f" {' '.join(codes)} " if codes else ""


def _write(entries: list) -> None:
    from .models import SearchEntry, SearchWord

    for entry in entries:
        for name in ("label", "url", "line"):
            setattr(entry, name, getattr(entry, name)[:500])
    SearchEntry.objects.bulk_create(entries, batch_size=BATCH)
    words = {
        word
        for entry in entries
        for word in f"{entry.title} {entry.names}".split()
        if len(word) >= 3 and not word.isdigit() and len(word) <= 100
    }
    SearchWord.objects.bulk_create(
        (SearchWord(word=word) for word in sorted(words)), batch_size=BATCH, ignore_conflicts=True
    )


def refresh(kind: str, pks: Iterable[int], _depth: int = 0) -> None:
    """Write again the entries of these records of `kind`: their own, and those of the
    records whose entries show them or whose publicity follows theirs."""
    from .models import SearchEntry

    pks = set(pks)
    if not pks:
        return
    _model, queryset, _document = _kind(kind)
    own = Q(kind=kind, object_id__in=pks)
    if kind == "source":
        own |= Q(kind="sentence", object_id__in=pks)
    before = dict(SearchEntry.objects.filter(own, number=0).values_list("object_id", "label"))
    SearchEntry.objects.filter(own).delete()
    records = list(queryset.filter(pk__in=pks))
    entries = _entries(kind, records)
    _write(entries)
    after = {entry.object_id: entry.label for entry in entries if not entry.number}
    renamed = {pk for pk in pks if before.get(pk) != after.get(pk)}
    if renamed and _depth < 3:
        flipped = set(before) ^ set(after)
        for other, other_pks in _dependents(kind, renamed, flipped).items():
            refresh(other, other_pks, _depth + 1)


def _dependents(kind: str, pks: set[int], flipped: set[int]) -> dict[str, set[int]]:
    """The records whose entries must be written again when these were renamed, or became
    public or stopped being so: those that show their names, and those that are public
    only if these are."""
    from .models import Case, Detention, Event, Person, RetaliationLink

    found: dict[str, set[int]] = defaultdict(set)

    def add(other, queryset):
        found[other] |= set(queryset.values_list("pk", flat=True))

    if kind == "person":
        add("event", Event.objects.filter(people__in=pks))
        add("case", Case.objects.filter(defendants__in=pks))
        add("detention", Detention.objects.filter(person__in=pks))
        add("link", RetaliationLink.objects.filter(claims__claimant_person__in=pks))
        add("person", Person.objects.filter(relations_from__other__in=pks).exclude(pk__in=pks))
    elif kind == "event":
        add("link", RetaliationLink.objects.touching(pks))
    if kind == "dispute" and flipped:
        for other, model in (("event", Event), ("case", Case), ("detention", Detention)):
            add(other, model.objects.filter(dispute__in=flipped))
        add("link", RetaliationLink.objects.filter(cause__dispute__in=flipped))
    return {other: ids for other, ids in found.items() if ids}


def written_format() -> int | None:
    """The FORMAT the entries were written in (None: not known, written before it was kept)."""
    from .models import SearchIndexFormat

    found = SearchIndexFormat.objects.filter(pk=1).first()
    return found.number if found else None


def mark_written() -> None:
    """The entries are (or, none yet, will be) in this code's FORMAT."""
    from .models import SearchIndexFormat

    SearchIndexFormat.objects.update_or_create(pk=1, defaults={"number": FORMAT})


def rebuild(log=None) -> int:
    """Every entry written again from the record, in one transaction; returns how many."""
    from .models import SearchEntry, SearchWord

    say = log or (lambda _message: None)
    total = 0
    with transaction.atomic():
        SearchEntry.objects.all().delete()
        SearchWord.objects.all().delete()
        for kind in MODELS:
            _model, queryset, _document = _kind(kind)
            pks = list(queryset.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(pks), BATCH):
                records = list(queryset.filter(pk__in=pks[start : start + BATCH]).order_by("pk"))
                entries = _entries(kind, records)
                _write(entries)
                total += len(entries)
            say(f"  {kind}: {len(pks)} records")
        mark_written()
    return total


# --- following edits ----------------------------------------------------------------------


def _kind_of(model) -> str | None:
    for kind, name in MODELS.items():
        if model._meta.app_label == "disputes" and model.__name__ == name:
            return kind
    return None


def _changed(sender, instance, raw=False, **kwargs):
    """Any save or delete of a record, or of what its entry shows."""
    from .models import Citation, Claim, PersonRelation, Role

    if raw:
        return  # loaddata: the loading command rebuilds the index when it is done
    if sender is Citation:
        model = ContentType.objects.get_for_id(instance.content_type_id).model_class()
        target = model._default_manager.filter(pk=instance.object_id).first() if model else None
        if target is not None:
            _changed(model, target)
        return
    if sender is Claim:
        refresh("link", [instance.link_id])
    elif sender is Role:
        refresh("person", [instance.person_id])
    elif sender is PersonRelation:
        refresh("person", [instance.person_id, instance.other_id])
    else:
        kind = _kind_of(sender)
        if kind:
            refresh(kind, [instance.pk])


def changed(*records) -> None:
    """Write again the entries these records touch, after a write that sent no signal."""
    for record in records:
        _changed(type(record), record)


def _m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    kind = _kind_of(type(instance))
    if kind:
        refresh(kind, [instance.pk])
    other = _kind_of(model)
    if other and pk_set:
        refresh(other, pk_set)


def connect() -> None:
    """Follow every write the ORM signals (apps.py calls this once)."""
    from . import models

    watched = [
        models.Dispute,
        models.Event,
        models.Person,
        models.Case,
        models.Detention,
        models.RetaliationLink,
        models.Country,
        models.Source,
        models.Citation,
        models.Claim,
        models.Role,
        models.PersonRelation,
    ]
    for model in watched:
        uid = f"disputes.search_index.{model.__name__}"
        post_save.connect(_changed, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(_changed, sender=model, dispatch_uid=uid + ".delete")
    for through in (
        models.Event.people.through,
        models.Case.defendants.through,
        models.Person.citizenships.through,
        models.Dispute.countries.through,
        models.Dispute.sources.through,
    ):
        m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"search.{through}")
