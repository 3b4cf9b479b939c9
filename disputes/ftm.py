"""The record as FollowTheMoney entities, for Aleph, OpenSanctions and their tools.

Built from the records' JSON twins (disputes/serializers.py) with the `followthemoney`
package, which is an optional extra (`pip install -e '.[ftm]'`): it needs PyICU, which
builds against the system's ICU. Without it the export says so and how to add it.

What becomes what: people are Person entities (their citizenships as `nationality`, the
states as country codes throughout, FollowTheMoney's way of naming jurisdictions); events
and detentions are Event entities (the acting or holding state as `country`, the people
involved as `involved`); cases are CourtCase entities with a CourtCaseParty per
defendant; relations between people are Family, Associate or Representation entities; and
each retaliation link is an UnknownLink from the cause to the response, its role saying
the state of the evidence. Every entity's `sourceUrl` is its permalink, and the verbatim
quotes are in its `notes` (a link's in its `description`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from . import serializers

MISSING = (
    "The FollowTheMoney export needs the optional followthemoney package. Install it with "
    "`pip install -e '.[ftm]'` (it builds PyICU, which needs the ICU headers and a C++ "
    "compiler: on Debian, `apt-get install libicu-dev pkg-config g++`)."
)
PREFIX = "dispute-explorer"


class Unavailable(RuntimeError):
    pass


def _model():
    try:
        from followthemoney import model
    except ImportError as missing:
        raise Unavailable(MISSING) from missing
    return model


def available() -> bool:
    try:
        _model()
    except Unavailable:
        return False
    return True


def _id(kind: str, pk) -> str:
    return f"{PREFIX}-{kind}-{pk}"


def _quotes(data: dict) -> list[str]:
    return [
        f"“{c['quote']}” ({c['sentence_url'] or c['source']['url']})" for c in data["citations"]
    ]


def _date(date: dict | None) -> str | None:
    return date["value"] if date else None


def entities(absolute) -> Iterator:
    """Every public record as FollowTheMoney entities (EntityProxy), in a stable order."""
    model = _model()

    def make(schema: str, kind: str, pk, **properties):
        entity = model.make_entity(schema)
        entity.id = _id(kind, pk)
        for name, value in properties.items():
            for item in value if isinstance(value, list) else [value]:
                if item not in (None, ""):
                    entity.add(name, str(item))
        return entity

    def records(kind: str):
        spec = serializers.KINDS[kind]
        for obj in spec.queryset().order_by("pk").iterator(chunk_size=1000):
            yield spec.serialize(obj, absolute)

    codes = {c["id"]: c["code"].lower() for c in records("country")}

    relation_schemas = {
        "parent": ("Family", "person", "relative"),
        "ally": ("Associate", "person", "associate"),
        "colleague": ("Associate", "person", "associate"),
        "counsel": ("Representation", "agent", "client"),
    }
    for person in records("person"):
        yield make(
            "Person",
            "person",
            person["id"],
            name=person["name"] or person["title"],
            description=person["description"],
            nationality=[codes.get(c["id"]) for c in person["citizenships"]],
            position=[role["title"] for role in person["roles"]],
            sourceUrl=person["url"],
            notes=_quotes(person),
        )
        for relation in person["relations"]:
            schema, one, other = relation_schemas[relation["kind"]]
            yield make(
                schema,
                f"relation-{person['id']}-{relation['kind']}",
                relation["other"]["id"],
                **{
                    one: _id("person", person["id"]),
                    other: _id("person", relation["other"]["id"]),
                    "relationship" if schema != "Representation" else "role": relation["label"],
                    "description": relation["detail"],
                    "sourceUrl": person["url"],
                },
            )
    for case in records("case"):
        yield make(
            "CourtCase",
            "case",
            case["id"],
            name=case["title"],
            country=codes.get(case["prosecuting_country"]["id"]),
            court=case["court"],
            summary="; ".join(p for p in (case["charges"], case["sentence"]) if p),
            status=case["outcome"],
            sourceUrl=case["url"],
            notes=_quotes(case),
        )
        for defendant in case["defendants"]:
            yield make(
                "CourtCaseParty",
                f"case-{case['id']}-party",
                defendant["id"],
                case=_id("case", case["id"]),
                party=_id("person", defendant["id"]),
                role="defendant",
            )
    for event in records("event"):
        yield make(
            "Event",
            "event",
            event["id"],
            name=event["title"],
            date=_date(event["date"]),
            summary=event["summary"],
            country=event["actor"]["code"].lower(),
            involved=[_id("person", p["id"]) for p in event["people"]],
            keywords=[event["kind"], event["cameo_code"], event["plover_code"]],
            sourceUrl=event["url"],
            notes=_quotes(event),
        )
    for detention in records("detention"):
        group = detention["group"]
        yield make(
            "Event",
            "detention",
            detention["id"],
            name=detention["title"],
            startDate=_date(detention["start"]),
            endDate=_date(detention["end"]),
            country=codes.get(detention["holding_country"]["id"]),
            location=detention["place"],
            involved=_id("person", detention["person"]["id"]) if detention["person"] else None,
            summary=f"{group['description']}: {group['words']}" if group else detention["note"],
            keywords="detention",
            sourceUrl=detention["url"],
            notes=_quotes(detention),
        )
    for link in records("link"):
        yield make(
            "UnknownLink",
            "link",
            link["id"],
            subject=_id("event", link["cause"]["id"]),
            object=_id("event", link["response"]["id"]),
            role=f"provoked ({link['evidence_label']})",
            summary=link["summary"],
            # A link has no notes in FollowTheMoney: who claims what, and the quotes.
            description="; ".join(
                [f"{claim['claimant']} {claim['stance_label']}" for claim in link["claims"]]
                + _quotes(link)
            ),
            sourceUrl=link["url"],
        )


def lines(absolute) -> Iterator[str]:
    """The entities as line-delimited JSON (FollowTheMoney's .ftm.json), one a line."""
    for entity in entities(absolute):
        yield json.dumps(entity.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
