"""Presentation helpers for the explorer's templates: dates, durations, evidence, quotes."""

import json

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from disputes import dates
from disputes.models import RetaliationLink
from disputes.sources import LINE_REFERENCE

register = template.Library()

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
    """How long the response came after its cause, as precisely as both dates (and their
    not-before bounds) allow."""
    cause, response = link.cause, link.response
    return dates.elapsed(cause.date, response.date, cause.not_before, response.not_before)


@register.simple_tag
def date_note(note):
    """An inferred date explained in words, its sentences linked to their anchors on the
    source page: "Year inferred from sentences 4 and 8–10: … (line 4, sentence 4) …"."""
    numbers = [n for n, _ in note["sentences"]]
    where = ""
    if numbers:
        shown = _ranges(numbers)
        comma = "," if note["label"].startswith("not before") else ""
        where = f"{comma} from sentence{'s' if len(numbers) > 1 else ''} {shown}"

    def linked(match):
        line = int(match.group(1))
        found = note["lines"].get(line)
        if not found:
            return escape(match.group(0))
        # a line of the source can hold several sentences: name them all, open at the first
        numbers = [n for n, _ in found]
        which = f"sentence{'s' if len(numbers) > 1 else ''} {_ranges(numbers)}"
        return format_html('<a href="{}">{} ({})</a>', found[0][1], match.group(0), which)

    reason, html, at = note["reason"], [], 0
    for match in LINE_REFERENCE.finditer(reason):
        html += [escape(reason[at : match.start()]), linked(match)]
        at = match.end()
    html.append(escape(reason[at:]))
    return format_html(
        '<p class="date-note"><strong>{}{}</strong>: {}</p>',
        note["label"][:1].upper() + note["label"][1:],
        where,
        mark_safe("".join(str(part) for part in html)),  # each part escaped above
    )


def _ranges(numbers: list[int]) -> str:
    """[4, 8, 9, 10] as "4 and 8–10"."""
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts = [f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


MARK_EXTRA = {
    "hollow": '<path class="line inner" d="M2 7H42"/><path class="strike" d="M17 2l10 10m0 -10l-10 10"/>',
    "contested": '<path class="diamond" d="M22 1l6 6-6 6-6-6z"/>',
}


@register.simple_tag
def mark_sample(mark: str):
    """A short stretch of a link's line as the ladder draws it (disputes/ladder.mark_of), for
    the legend and the lists: the same shape, so that no colour is needed to tell them apart."""
    return format_html(
        '<svg class="mark-sample mark-{}" viewBox="0 0 44 14" aria-hidden="true" '
        'focusable="false"><path class="line outer" d="M2 7H42"/>{}</svg>',
        mark,
        mark_safe(MARK_EXTRA.get(mark, "")),
    )


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


WALK_ITEM = '<li><a {0}>{1}</a> <span class="meta">{2} · {3} · {4} link{5} {6}</span></li>'
# A step to walk to: a real link that htmx fetches instead, swapping the panel (on an event's
# own page) or the ladder with its panel (in a dispute), and pushing the address it names.
WALK_ATTRS = 'href="{0}" hx-get="{0}" hx-target="{1}" hx-swap="outerHTML" hx-push-url="true"'


def walk_href(context, event) -> str:
    base = context.get("walk_base")
    return f"{base}events/{event.pk}/" if base else event.get_absolute_url()


@register.simple_tag(takes_context=True)
def walk_attrs(context, event):
    """The attributes of a link that walks to `event`: inside a dispute page, the dispute at
    that step (/disputes/<id>/<slug>/events/<event id>/); elsewhere, the event's permalink."""
    target = "#explorer" if context.get("walk_base") else "#step"
    return format_html(WALK_ATTRS, walk_href(context, event), target)


@register.simple_tag(takes_context=True)
def walk_items(context, events):
    """The events a walk reached (chain.walks) as list items, each a step to walk to, with
    how many links away it is. One format string for a list that can be two dozen long
    (an included partial per item was half of rendering a step)."""
    return format_html_join(
        "",
        WALK_ITEM,
        (
            (
                walk_attrs(context, event),
                event.title,
                event.actor_name,
                event_date(event, short=True),
                event.distance,
                "" if event.distance == 1 else "s",
                event.way,
            )
            for event in events
        ),
    )
