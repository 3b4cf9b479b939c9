"""Presentation helpers for the explorer's templates: dates, durations, evidence, quotes."""

import html

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeData, mark_safe
from django.utils.text import capfirst

from disputes import dates
from disputes.models import RetaliationLink, reverse_plain

register = template.Library()

EVIDENCE_LINE = {
    RetaliationLink.Evidence.STATED: "solid",
    RetaliationLink.Evidence.CONFIRMED: "solid",
    RetaliationLink.Evidence.IMPLIED: "dashed",
    RetaliationLink.Evidence.SPECULATED: "dashed",
    RetaliationLink.Evidence.DENIED: "struck",
}


@register.simple_tag
def site_name() -> str:
    return getattr(settings, "SITE_NAME", "Dispute Explorer")


@register.simple_tag
def plain_url(url_name: str) -> str:
    """{% url url_name %} for a URL without arguments, without reversing it on every page."""
    return reverse_plain(url_name)


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
            reason = _html(
                ' <span class="inferred">({part} inferred: {note})</span>', part=part, note=note
            )
        else:
            reason = _html(' <span class="inferred">({part} inferred)</span>', part=part)
    return mark_safe(
        _html('<time datetime="{iso}">{shown}</time>', iso=value.iso(), shown=value.display())
        + reason
    )


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
    """A citation as a blockquote whose <cite> links to the exact sentence of its source.
    Built with format_html rather than an inclusion template: a page can hold dozens of
    quotes, and each inclusion costs a template context of its own."""
    number = getattr(citation, "sentence_number", None)
    url = permalink(citation.source)
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
        reason = _html(' <span class="inferred">({note})</span>', note=bound.inferred)
    return mark_safe(
        shown
        + _html(
            '<span class="bound">, not before <time datetime="{iso}">{shown}</time>',
            iso=bound.iso(),
            shown=bound.display(),
        )
        + reason
        + "</span>"
    )


def event_when(event) -> str:
    """The same as plain text, for titles and descriptions."""
    when = getattr(event, "when", None)
    return when if isinstance(when, str) else str(event.date)


@register.filter
def permalink(obj) -> str:
    """obj.get_absolute_url(), worked out once per object: a step's link appears several
    times on a page (href and hx-get, the ladder and the text), and reversing a URL and
    slugifying a title each time adds up on a page of fifty steps."""
    url = getattr(obj, "_permalink", None)
    if url is None:
        url = obj.get_absolute_url()
        obj._permalink = url
    return url


# The step panel's lists, built here rather than by template loops: a step can have dozens of
# entries, and each template variable (and each format_html argument, escaped through
# Django's lazy-aware wrapper) costs more than a string built here. The markup is the same
# as the template's would be, escaped the same way (html.escape, as Django's escape).


def _escaped(value) -> str:
    if isinstance(value, SafeData):
        return value
    if isinstance(value, int):
        return str(value)
    return html.escape(str(value))


def _html(template: str, **values) -> str:
    """format_html for the hot paths: the same escaping, without the lazy-string checks."""
    return template.format(**{name: _escaped(value) for name, value in values.items()})


HX_STEP = 'hx-target="#step" hx-swap="outerHTML" hx-push-url="true"'

CHAIN_LINK_HTML = (
    '<li class="chain-link line-{line}">\n'
    '  <span class="line-sample" aria-hidden="true"></span>\n'
    "  <div>\n"
    '    <a class="chain-target" href="{url}" hx-get="{url}" ' + HX_STEP + ">{title}</a>\n"
    '    <span class="meta">{actor} · {date}</span>\n'
    '    <span class="link-facts"><span class="evidence evidence-{evidence}">{evidence_label}'
    "</span> · response time: {took}{claims} · "
    '<a href="{link_url}">the evidence for this link</a></span>\n'
    "  </div>\n"
    "</li>\n"
)


@register.simple_tag
def chain_links(links, end: str):
    """The links of a step's "provoked by" ("cause": each link's cause is shown) or
    "provoked" ("response") list, as <li> items: the event at the other end, its actor and
    date, the state of the evidence, the response time, the claims, and the link's page."""
    items = []
    for link in links:
        other = getattr(link, end)
        claims = "; ".join(
            f"{claim.claimant}: {claim.get_stance_display()}"
            for claim in getattr(link, "claim_list", ())
        )
        items.append(
            _html(
                CHAIN_LINK_HTML,
                line=line_style(link.evidence),
                url=permalink(other),
                title=other.title,
                actor=other.actor.name,
                date=event_date(other, "short"),
                evidence=link.evidence,
                evidence_label=capfirst(link.get_evidence_display()),
                took=took(link),
                claims=f" · {claims}" if claims else "",
                link_url=permalink(link),
            )
        )
    return mark_safe("".join(items))


@register.simple_tag
def walk_items(events, way: str):
    """The events a walk reached (chain.around), as <li> items: each links to its step and
    says how many links away it is, "back" or "on". Written out directly (a step shows up
    to two dozen of these): every value escaped as _html escapes it."""
    escape = html.escape
    way = escape(way)
    items = []
    for event in events:
        url = escape(permalink(event))
        distance = event.distance
        items.append(
            f'<li><a href="{url}" hx-get="{url}" {HX_STEP}>{escape(event.title)}</a> '
            f'<span class="meta">{escape(event.actor_name)} · {escape(event.date.display())}'
            f" · {distance} link{'' if distance == 1 else 's'} {way}</span></li>"
        )
    return mark_safe("".join(items))
