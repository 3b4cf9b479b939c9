"""Presentation helpers for the explorer's templates: dates, durations, evidence, quotes."""

import json

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from disputes import dates
from disputes.models import RetaliationLink

register = template.Library()

EVIDENCE_LINE = {
    RetaliationLink.Evidence.STATED: "solid",
    RetaliationLink.Evidence.CONFIRMED: "solid",
    RetaliationLink.Evidence.IMPLIED: "dashed",
    RetaliationLink.Evidence.SPECULATED: "dashed",
    RetaliationLink.Evidence.DENIED: "struck",
}


# What json_script escapes, so that no string in the data can close the <script> element.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def ld_json(data) -> str:
    """A JSON-LD block (<script type="application/ld+json">), escaped as json_script
    escapes: a record's text cannot end the element or open another. Empty values are left
    out. A data block is not run, so the Content-Security-Policy has nothing to allow."""
    if not data:
        return ""
    data = {key: value for key, value in data.items() if value not in (None, "", [])}
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))


@register.filter
def data_date(value) -> str:
    """A fuzzy date as the JSON gives it ({value, precision, inferred, reason}), shown as
    `fuzzy` shows a date (for pages built from the serializers' data)."""
    if not isinstance(value, dict):
        return ""
    parts = [int(p) for p in (value.get("value") or "").split("-") if p]
    date = dates.FuzzyDate(*(parts + [None] * (3 - len(parts))), inferred=value.get("reason") or "")
    return fuzzy(date, "short")


@register.simple_tag
def site_name() -> str:
    return getattr(settings, "SITE_NAME", "Dispute Explorer")


@register.filter
def fuzzy(value, short=False) -> str:
    """A fuzzy date as a <time> element at its own precision, with any inference spelled out
    as visible text: a tooltip or footnote is not enough for touch and screen-reader users.
    `|fuzzy:"short"` (for compact lists) names the inferred part and leaves the reason to the
    step's own page."""
    if not isinstance(value, dates.FuzzyDate):
        return ""
    if not value.known:
        return mark_safe('<span class="date unknown">date not given in the source</span>')
    reason = ""
    if value.inferred:
        part = value.inferred_part()
        note = value.inferred.split(":", 1)[1].strip() if ":" in value.inferred else value.inferred
        if note and note.lower() != part and not short:
            reason = format_html(' <span class="inferred">({} inferred: {})</span>', part, note)
        else:
            reason = format_html(' <span class="inferred">({} inferred)</span>', part)
    return format_html('<time datetime="{}">{}</time>{}', value.iso(), value.display(), reason)


@register.filter
def plain_date(value) -> str:
    """The date as plain text (for titles and descriptions): "28 Dec 2011 (year inferred)"."""
    return str(value) if isinstance(value, dates.FuzzyDate) else ""


@register.filter
def took(link) -> str:
    """How long the response came after its cause, as precisely as both dates allow."""
    return dates.elapsed(link.cause.date, link.response.date)


@register.filter
def line_style(evidence: str) -> str:
    return EVIDENCE_LINE.get(evidence, "dashed")


@register.filter
def evidence_label(evidence: str) -> str:
    try:
        return RetaliationLink.Evidence(evidence).label
    except ValueError:
        return evidence


QUOTE_HTML = (
    '<figure class="quote">\n'
    '  <blockquote cite="{url}"><p>{quote}</p></blockquote>\n'
    '  <figcaption>— <cite><a href="{url}">{title}</a></cite>{sentence}</figcaption>\n'
    "</figure>\n"
)


@register.simple_tag
def quote(citation):
    """A citation as a blockquote whose <cite> links to the exact sentence of its source."""
    number = getattr(citation, "sentence_number", None)
    url = citation.source.get_absolute_url()
    return format_html(
        QUOTE_HTML,
        url=f"{url}#s{number}" if number else url,
        quote=citation.quote,
        title=citation.source.title,
        sentence=format_html(", sentence {}", number) if number else "",
    )


@register.filter
def web_url(value: str) -> str:
    """The address if it is an http(s) URL, else "": a stored javascript: or data: URL must
    never become a link, whatever got it into the database."""
    value = (value or "").strip()
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    return value if scheme in {"http", "https"} else ""


@register.filter
def event_date(event, short=False) -> str:
    """An event's date as `fuzzy` shows it, and, when the source places the event after a
    known step (Event.not_before), the earliest it can be: "2011, not before March 2011"."""
    date = event.date
    shown = fuzzy(date, short)
    bound = getattr(event, "not_before", None)
    narrowed = getattr(date, "narrowed_by", None)
    if not isinstance(bound, dates.FuzzyDate) or narrowed is None or not narrowed(bound):
        return shown
    reason = ""
    if bound.inferred and not short:
        reason = format_html(' <span class="inferred">({})</span>', bound.inferred)
    return format_html(
        '{}<span class="bound">, not before <time datetime="{}">{}</time>{}</span>',
        shown,
        bound.iso(),
        bound.display(),
        reason,
    )


WALK_ITEM = (
    '<li><a href="{0}" hx-get="{0}" hx-target="#step" hx-swap="outerHTML" hx-push-url="true">'
    '{1}</a> <span class="meta">{2} · {3} · {4} link{5} {6}</span></li>'
)


@register.simple_tag
def walk_items(events):
    """The events a walk reached (chain.walks) as list items, each a step to walk to, with
    how many links away it is. One format string for a list that can be two dozen long
    (an included partial per item was half of rendering a step)."""
    return format_html_join(
        "",
        WALK_ITEM,
        (
            (
                event.get_absolute_url(),
                event.title,
                event.actor_name,
                event.date.display(),
                event.distance,
                "" if event.distance == 1 else "s",
                event.way,
            )
            for event in events
        ),
    )
