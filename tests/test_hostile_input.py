"""Text that editors enter is shown inert everywhere: markup and script in a title, a name, a
summary or a quote come out escaped in the page body, in <title>, in Open Graph and Twitter
meta tags, in htmx fragments and in any JSON embedded in a page.

Every text field of every kind of record is filled with a payload that tries each way out of
its context (out of an attribute with " and ', out of <title>, out of a <script> holding
JSON, into template syntax), then every public page and fragment that shows the records is
fetched and searched for the payload's dangerous pieces in raw form.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote, urlencode

import pytest

# Short enough for the narrowest text column (100 characters), with every escape route.
PAYLOAD = (
    "\"><img src=x onerror=alert(1)></title><script>alert(2)</script>'><svg onload=x>{{ 7*7 }}"
)
assert len(PAYLOAD) <= 90
# What must never appear raw: each is only dangerous unescaped.
DANGEROUS = [
    "<img src=x",
    "<script>alert",
    "</title><script>",
    "'><svg",
    "<svg onload",
    '"><img',
]
ESCAPED_MARKER = html.escape("<script>alert(2)</script>")  # &lt;script&gt;alert(2)&lt;/script&gt;


@pytest.fixture
def hostile(db):
    """A dispute in which every text an editor can type holds PAYLOAD."""
    from django.contrib.contenttypes.models import ContentType

    from disputes.models import (
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

    def p(label):
        return f"{label} {PAYLOAD}"

    left = Country.objects.create(code="XQ", name=p("Qland"), demonym=p("Q"))
    right = Country.objects.create(code="XW", name=p("Wland"), demonym=p("W"))
    quote_a = f"The first sentence says {PAYLOAD}."
    quote_b = f"A second sentence quotes </script><script>alert(4)</script> and {PAYLOAD}."
    source = Source.objects.create(
        title=p("Source"),
        publisher=p("Publisher"),
        url="https://example.org/a?b=%22%3E%3Cscript%3E",
        author=p("author"),
        published_year=2011,
        published_inferred=p("published"),
        archive_url="https://web.archive.org/web/2012/https://example.org/a?b=%22%3E",
        text=f"{quote_a} {quote_b}\nA last line: {PAYLOAD}",
        capture_note=p("capture note"),
    )
    dispute = Dispute.objects.create(title=p("Dispute"), summary=p("Summary"))
    dispute.countries.set([left, right])
    dispute.sources.set([source])
    person = Person.objects.create(name=p("Named"), description=p("described as"))
    person.citizenships.set([left, right])
    unnamed = Person.objects.create(name="", description=p("an unnamed pilot"))
    role = Role.objects.create(person=person, title=p("Role"), country=left, note=p("note"))
    relation = PersonRelation.objects.create(
        person=person, kind=PersonRelation.Kind.COUNSEL, other=unnamed, detail=p("detail")
    )
    case = Case.objects.create(
        dispute=dispute,
        title=p("Case"),
        prosecuting_country=left,
        court=p("Court"),
        charges=p("Charges"),
        sentence=p("Sentence"),
    )
    case.defendants.set([person])
    detention = Detention.objects.create(
        dispute=dispute,
        person=person,
        holding_country=left,
        place=p("Place"),
        case=case,
        start_year=2008,
        start_inferred=p("year"),
        note=p("Note"),
    )
    group = Detention.objects.create(
        dispute=dispute,
        group_description=p("Group"),
        group_size=p("hundreds"),
        holding_country=right,
        place=p("Camp"),
        start_year=2011,
        start_month=3,
    )
    cause = Event.objects.create(
        dispute=dispute,
        kind=Event.Kind.ARREST,
        title=p("Cause"),
        summary=p("Cause summary"),
        actor=left,
        case=case,
        detention=detention,
        date_year=2008,
        date_inferred=p("inferred"),
    )
    cause.people.set([person, unnamed])
    response = Event.objects.create(
        dispute=dispute,
        kind=Event.Kind.ROUNDUP,
        title=p("Response"),
        summary=p("Response summary"),
        actor=right,
        detention=group,
        date_year=2011,
        date_month=3,
    )
    link = RetaliationLink.objects.create(
        cause=cause,
        response=response,
        evidence=RetaliationLink.Evidence.SPECULATED,
        summary=p("Link summary"),
    )
    claim = Claim.objects.create(
        link=link,
        stance=Claim.Stance.DENIES,
        claimant=p("Claimant"),
        claimant_person=person,
        claimant_country=right,
        detail=p("Claim detail"),
    )
    for record in [
        left,
        dispute,
        person,
        unnamed,
        role,
        relation,
        case,
        detention,
        group,
        cause,
        response,
        link,
        claim,
    ]:
        for text in (quote_a, quote_b):
            Citation.objects.create(
                source=source,
                quote=text,
                content_type=ContentType.objects.get_for_model(record),
                object_id=record.pk,
            )
    return {
        "pages": [
            left,
            right,
            source,
            dispute,
            person,
            unnamed,
            case,
            detention,
            group,
            cause,
            response,
            link,
        ],
        "fragments": [dispute, cause, response],
        "dispute": dispute,
    }


def _assert_inert(response, where: str) -> str:
    assert response.status_code == 200, (where, response.status_code)
    text = response.content.decode()
    for piece in DANGEROUS:
        assert piece not in text, f"{where}: raw {piece!r} in the response"
    title = re.search(r"<title>(.*?)</title>", text, re.S)
    if title:
        assert "<" not in title.group(1) and ">" not in title.group(1), (
            f"{where}: markup in <title>"
        )
    for name, content in re.findall(
        r'<meta (?:property|name)="((?:og|twitter):[^"]+)" content="([^"]*)"', text
    ):
        assert "<" not in content and "'" not in content, f"{where}: {name} not escaped"
    for body in re.findall(
        r'<script[^>]*type="application/(?:ld\+)?json"[^>]*>(.*?)</script>', text, re.S
    ):
        json.loads(body)  # still valid JSON: the payload did not end the script early
    return text


def test_every_record_page_shows_the_payload_escaped(client, hostile):
    for record in hostile["pages"]:
        url = record.get_absolute_url()
        text = _assert_inert(client.get(url), url)
        assert ESCAPED_MARKER in text, f"{url}: the payload is not shown at all (test is vacuous)"
        assert "{{ 7*7 }}" in text, f"{url}: template syntax in data was not shown literally"


def test_titles_and_open_graph_tags_hold_the_payload_escaped(client, hostile):
    for record in hostile["pages"]:
        url = record.get_absolute_url()
        text = _assert_inert(client.get(url), url)
        title = re.search(r"<title>(.*?)</title>", text, re.S).group(1)
        og_title = re.search(r'<meta property="og:title" content="([^"]*)"', text)
        assert og_title, f"{url}: no og:title"
        assert "&lt;" in title or "&quot;" in title, f"{url}: title without the record's name"
        assert "&lt;" in og_title.group(1) or "&quot;" in og_title.group(1), url


def test_htmx_fragments_show_the_payload_escaped(client, hostile):
    dispute_url = hostile["dispute"].get_absolute_url()
    for record in hostile["fragments"]:
        url = record.get_absolute_url()
        for headers in (
            {"HX-Request": "true"},
            {"HX-Request": "true", "HX-Current-URL": f"http://testserver{dispute_url}"},
        ):
            text = _assert_inert(client.get(url, headers=headers), f"{url} as a fragment")
            assert ESCAPED_MARKER in text, f"{url}: fragment does not show the payload"


@pytest.mark.parametrize("fragment", [False, True])
def test_search_results_and_the_echoed_query_are_escaped(client, hostile, fragment):
    headers = {"HX-Request": "true"} if fragment else {}
    for q in ["Cause", "Named", "Claimant", PAYLOAD, "alert(2)", "</script><script>alert(4)"]:
        url = "/search/?" + urlencode({"q": q})
        _assert_inert(client.get(url, headers=headers), url)


def test_the_home_page_lists_hostile_disputes_escaped(client, hostile):
    text = _assert_inert(client.get("/"), "/")
    assert ESCAPED_MARKER in text


def test_a_hostile_url_gets_an_inert_404(client, hostile):
    path = "/" + quote(PAYLOAD, safe="")
    response = client.get(path)
    assert response.status_code == 404
    text = response.content.decode()
    for piece in DANGEROUS:
        assert piece not in text


def test_a_source_url_that_is_not_http_never_becomes_a_link(client, hostile):
    """A javascript: URL must not reach an href: the database refuses it (constraint
    source_url_is_web_address, which also guards loaddata and imports), and were it ever
    stored, the page must not link it."""
    from django.db import IntegrityError, transaction

    from disputes.models import Source

    source = Source.objects.get(title__startswith="Source ")
    try:
        with transaction.atomic():
            Source.objects.filter(pk=source.pk).update(url="javascript:alert(document.domain)")
    except IntegrityError:
        return
    text = client.get(source.get_absolute_url()).content.decode()
    assert 'href="javascript:' not in text
