"""Public views: thin functions, one query shape per page.

Every permalink carries the primary key; the slug is for humans. A stale or wrong slug
answers with a permanent redirect to the canonical URL, so links survive a rename.

Pages that htmx updates in place (dispute, event, search) come from one template each: the
full page for ordinary requests, one of its partials for htmx. A history-restore request
(the back button after the cache was evicted) gets the full page, and every such response
says `Vary: HX-Request` so that no cache hands a fragment to a fresh tab.

Every public view is a @public_page: the same for every visitor, kept whole by the page
cache (disputes/caching.py) and cacheable by a CDN.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from functools import wraps
from urllib.parse import urlencode, urlsplit

from csp.decorators import csp_replace
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from . import chain, dates, findable, interchange, lists, og_image, serializers
from . import ladder as ladder_module
from . import search as search_module
from .caching import public_page
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

LIST_LIMIT = 50
LADDER_PAGE = 50
VARY = ["HX-Request", "HX-History-Restore-Request"]
STEP_LEVEL_HEADER = "X-Step-Heading-Level"


# --- helpers -------------------------------------------------------------------------------


def _wants_fragment(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _respond(request, template: str, partial: str, context: dict, vary=()):
    """The full page, or its partial for an htmx swap; cacheable only per HX-Request."""
    name = f"{template}#{partial}" if _wants_fragment(request) else template
    response = render(request, name, context)
    patch_vary_headers(response, [*VARY, *vary])
    return response


def _get_or_redirect(queryset, pk, slug):
    """The object with this pk, or a redirect when the slug is not its current one."""
    try:
        obj = queryset.get(pk=pk)
    except queryset.model.DoesNotExist:
        raise Http404(f"No {queryset.model._meta.verbose_name} with ID {pk}.") from None
    if slug != obj.slug:
        return obj, HttpResponsePermanentRedirect(obj.get_absolute_url())
    return obj, None


def _meta(request, obj, description: str, kind: str = "article", title: str = "", url=None):
    """What a shared link previews: title, description, canonical URL (absolute); what a
    machine reads: the JSON twin's address, and the record in schema.org terms (JSON-LD)."""
    return {
        **_addresses(request, obj, url),
        "title": title or str(obj),
        "description": Truncator(" ".join(description.split())).chars(200),
        "type": kind,
        "jsonld": findable.jsonld(obj, request.build_absolute_uri),
    }


def _addresses(request, obj, url=None) -> dict:
    """The page's canonical URL, its JSON twin's and when its record last changed: what a
    swapped fragment updates in the page around it (disputes/_page_links.html)."""
    own = obj.get_absolute_url()
    return {
        "url": request.build_absolute_uri(url or own),
        "json_url": request.build_absolute_uri(own.rstrip("/") + ".json"),
        "last_changed": obj.latest_change,
    }


def _citations():
    return Prefetch("citations", queryset=Citation.objects.with_sentence())


def _heading_level(request) -> int:
    """The step panel is the page's h1 on an event page and an h2 inside a dispute page, whose
    panel says so in a header on the requests made from inside it (hx-headers)."""
    if _wants_fragment(request) and request.headers.get(STEP_LEVEL_HEADER) == "2":
        return 2
    return 1


def _json(payload: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})


def _json_twin_response(request, kind: str, pk: int, slug: str, suffix: str):
    """A record as data (disputes/serializers.py), or a redirect to its current address."""
    spec = serializers.KINDS[kind]
    obj, redirect = _get_or_redirect(spec.queryset(), pk, slug)
    if redirect:
        return HttpResponsePermanentRedirect(obj.get_absolute_url().rstrip("/") + suffix)
    return _json(serializers.envelope(kind, spec.serialize(obj, request.build_absolute_uri)))


@require_safe
@public_page
def record_json(request, kind, pk, slug):
    """`<permalink>.json`: the JSON twin of a permalink page."""
    return _json_twin_response(request, kind, pk, slug, ".json")


def json_twin(kind: str):
    """The permalink page, or its JSON twin when the request prefers application/json
    (`Accept`). Both say `Vary: Accept`, and the page cache keys on the choice."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, pk, slug, **kwargs):
            if serializers.wants_json(request):
                response = _json_twin_response(request, kind, pk, slug, "/")
            else:
                response = view(request, pk, slug, **kwargs)
            patch_vary_headers(response, ["Accept"])
            return response

        return wrapper

    return decorate


# --- pages ---------------------------------------------------------------------------------


@require_safe
@public_page
def home(request):
    steps = Event.objects.public().filter(dispute=OuterRef("pk")).order_by()
    disputes = (
        Dispute.objects.public()
        .prefetch_related("countries")
        .annotate(
            event_count=Coalesce(
                Subquery(steps.values("dispute").annotate(n=Count("pk")).values("n")), 0
            )
        )
    )
    meta = {
        "title": "Disputes",
        "description": "Tit-for-tat disputes between states, step by step, every claim "
        "traced to the sentence that supports it.",
        "url": request.build_absolute_uri(request.path),
        "type": "website",
    }
    return render(request, "disputes/home.html", {"disputes": disputes, "meta": meta})


def _lanes(countries):
    """Two lanes: the first country on the left, every other on the right."""
    lane_of = {c.pk: ("a" if i == 0 else "b") for i, c in enumerate(countries)}
    names = {
        "a": countries[0].name if countries else "",
        "b": " / ".join(c.name for c in countries[1:]),
    }
    return lane_of, names


def _ladder(dispute, countries, page_number, selected_pk=None):
    """One page of the dispute in time order: its steps as cards (the phone's timeline and
    the text), and the picture (disputes/ladder.py) of their dates and of the links between
    them."""
    steps = Event.objects.public().filter(dispute=dispute).select_related("actor").in_time_order()
    page = Paginator(steps, LADDER_PAGE).get_page(page_number)
    window = list(page)
    row_of = {event.pk: i + 1 for i, event in enumerate(window)}
    links = chain.links_of(window)
    stances = defaultdict(list)
    if links:
        claims = Claim.objects.public_of([link.pk for link in links])
        for link_id, stance in claims.values_list("link_id", "stance"):
            stances[link_id].append(stance)
    lane_of, lane_names = _lanes(countries)
    incoming, outgoing = defaultdict(list), defaultdict(list)
    for link in links:
        link.mark = ladder_module.mark_of(link.evidence, stances[link.pk])
        if link.response_id in row_of:
            incoming[link.response_id].append(link)
        if link.cause_id in row_of:
            outgoing[link.cause_id].append(link)
    rows = []
    previous_day = None
    for event in window:
        first, last = _days_of(event)
        gap = (first - previous_day).days - 1 if first and previous_day else 0
        previous_day = last or previous_day
        rows.append(
            {
                "event": event,
                "row": row_of[event.pk],
                "lane": lane_of.get(event.actor_id, "b"),
                "incoming": incoming[event.pk],
                "outgoing_elsewhere": [
                    x for x in outgoing[event.pk] if x.response_id not in row_of
                ],
                # on a phone, a long wait before this step is said between the cards
                "gap": ladder_module.gap_label(gap) if gap > PHONE_GAP_DAYS else "",
            }
        )
    picture = ladder_module.layout(
        [_ladder_step(dispute, event, lane_of, selected_pk) for event in window],
        [
            ladder_module.Link(
                link.pk,
                link.cause_id,
                link.response_id,
                link.mark,
                url=link.get_absolute_url(),
                label=f"“{link.cause.title}” provoked “{link.response.title}”? "
                f"{ladder_module.MARK_LABELS[link.mark].capitalize()} "
                f"(evidence: {link.get_evidence_display()}). Open the evidence.",
            )
            for link in links
        ],
    )
    return {
        "rows": rows,
        "picture": picture,
        "lane_names": lane_names,
        "page": page,
    }


PHONE_GAP_DAYS = 30  # on a phone, a wait longer than a month is said between two cards


def _days_of(event):
    """The first and last day the event's date can mean (its not-before date narrows it)."""
    date = event.date
    if not date.known:
        return None, None
    return dates.first_possible_day(date, event.not_before), date.last_day()


def _ladder_step(dispute, event, lane_of, selected_pk):
    date = event.date
    notes = [
        f"{label[0].upper()}{label[1:]}: {reason}" for label, reason in dates.date_reasons(event)
    ]
    first, last = _days_of(event)
    return ladder_module.Step(
        event.pk,
        lane_of.get(event.actor_id, "b"),
        event.title,
        event.when if date.known else "date not given in the source",
        first_day=first,
        last_day=last,
        inferred=bool(date.inferred),
        note=" ".join(notes),
        url=dispute.step_url(event.pk),
        current=event.pk == selected_pk,
    )


def _dispute_or_redirect(pk, slug, event_pk=None):
    dispute, redirect = _get_or_redirect(
        # The header names the sources and links to them: their full text stays unread.
        Dispute.objects.public()
        .with_chain_changes()
        .prefetch_related(
            Prefetch("sources", queryset=Source.objects.only("pk", "title")),
            Prefetch("countries", queryset=Country.objects.order_by("name")),
            _citations(),
        ),
        pk,
        slug,
    )
    if redirect and event_pk is not None:
        redirect = HttpResponsePermanentRedirect(dispute.step_url(event_pk))
    return dispute, redirect


@require_safe
@public_page
@json_twin("dispute")
def dispute_detail(request, pk, slug, event_pk=None):
    """The dispute as a ladder with one step selected in the walking panel: its first step,
    or the step its address names (/disputes/<id>/<slug>/events/<event id>/, which a walk
    pushes and `?step=<event id>` leads to). An htmx request gets the ladder and the panel
    alone (#explorer), any other request the whole page."""
    if event_pk is None and "step" in request.GET:
        step_id = request.GET["step"]
        if not step_id.isdigit():
            raise Http404("A step is named by its event's number.")
        return HttpResponsePermanentRedirect(
            reverse("disputes:dispute-step", args=[pk, slug, int(step_id)])
        )
    dispute, redirect = _dispute_or_redirect(pk, slug, event_pk)
    if redirect:
        return redirect
    selected = None
    page_number = request.GET.get("page")
    if event_pk is not None:
        steps = Event.objects.public().filter(dispute=dispute)
        try:
            selected = steps.for_step().get(pk=event_pk)
        except Event.DoesNotExist:
            raise Http404(f"The dispute has no step {event_pk}.") from None
        page_number = steps.steps_before(selected) // LADDER_PAGE + 1
    countries = list(dispute.countries.order_by("name"))
    if selected is None:
        ladder = _ladder(dispute, countries, page_number)
        rows = ladder["rows"]
        if rows:
            # the page's first step, selected in the panel and on the picture
            selected = Event.objects.for_step().get(pk=rows[0]["event"].pk)
            ladder["picture"].steps[0].current = True
        focus = "ladder-title"
    else:
        ladder = _ladder(dispute, countries, page_number, selected.pk)
        focus = "step-title"
    page = ladder["page"]
    url = dispute.get_absolute_url()
    if page.number > 1:
        url += f"?page={page.number}"
    title = str(dispute)
    if page.number > 1:
        title += f", steps {page.start_index()}–{page.end_index()}"
    description = dispute.summary or f"{page.paginator.count} steps between " + " and ".join(
        c.name for c in countries
    )
    if event_pk is not None:
        # A step seen in its dispute: the event's permalink stays its canonical address.
        when = selected.when
        title = f"{selected.title} – {when} · {dispute}"
        description = f"{when} · {selected.actor}: {selected.summary or selected.title}"
        url = selected.get_absolute_url()
    meta = _meta(request, dispute, description, url=url, title=title)
    # The preview is a picture of the ladder; its address changes with the record's version,
    # so that a site that keeps previews fetches the new one after an edit.
    image = reverse("disputes:dispute-image", args=[dispute.pk, dispute.slug])
    version = getattr(request, "record_version", None)
    meta["image"] = request.build_absolute_uri(image + (f"?v={version}" if version else ""))
    meta["image_alt"] = f"The ladder of {dispute}: " + " and ".join(c.name for c in countries)
    context = {
        "dispute": dispute,
        "countries": countries,
        "ladder": ladder,
        "focus": focus,
        "walk_base": dispute.get_absolute_url(),
        "meta": {
            **meta,
            "feed_url": reverse("disputes:dispute-feed", args=[dispute.pk, dispute.slug]),
        },
    }
    if selected is not None:
        context["step"] = chain.step(selected)
        context["heading_level"] = 2
    return _respond(request, "disputes/dispute.html", "explorer-fragment", context)


@require_safe
@public_page
def dispute_image(request, pk, slug):
    """The first page of the dispute's ladder as a PNG, for link previews (og:image). A public
    page like the others: the page cache keeps it under the record's version."""
    dispute, redirect = _dispute_or_redirect(pk, slug)
    if redirect:
        return HttpResponsePermanentRedirect(
            reverse("disputes:dispute-image", args=[dispute.pk, dispute.slug])
        )
    countries = list(dispute.countries.order_by("name"))
    ladder = _ladder(dispute, countries, 1)
    png = og_image.render(ladder["picture"], dispute.title, ladder["lane_names"])
    return HttpResponse(png, content_type="image/png")


@require_safe
@public_page
@json_twin("event")
def event_detail(request, pk, slug):
    event, redirect = _get_or_redirect(chain.STEP, pk, slug)
    if redirect:
        return redirect
    when = event.when
    title = f"{event.title} – {when}"  # a dash: `when` may hold parentheses of its own
    if _wants_fragment(request):
        # a swapped panel changes the document's title and addresses, nothing else
        meta = {"title": title, **_addresses(request, event)}
    else:
        meta = {
            **_meta(
                request,
                event,
                f"{when} · {event.actor}: {event.summary or event.title}",
                title=title,
            ),
            "oembed_url": reverse("disputes:oembed")
            + "?"
            + urlencode(
                {"url": request.build_absolute_uri(event.get_absolute_url()), "format": "json"}
            ),
        }
    context = {"step": chain.step(event), "heading_level": _heading_level(request), "meta": meta}
    return _respond(request, "disputes/event.html", "fragment", context, vary=[STEP_LEVEL_HEADER])


@require_safe
@public_page
@json_twin("link")
def link_detail(request, pk, slug):
    queryset = (
        RetaliationLink.objects.public()
        .select_related("cause__actor", "response__actor", "cause__dispute")
        .prefetch_related(
            _citations(),
            Prefetch(
                "claims",
                queryset=Claim.objects.public()
                .select_related("claimant_person", "claimant_country")
                .with_public_flags("claimant_person")
                .prefetch_related(_citations()),
            ),
        )
    )
    link, redirect = _get_or_redirect(queryset, pk, slug)
    if redirect:
        return redirect
    # drawn as the ladder and the step panel draw it: contested when its claims disagree
    link.mark = ladder_module.mark_of(link.evidence, [c.stance for c in link.claims.all()])
    link.mark_label = ladder_module.MARK_LABELS[link.mark]
    description = (
        f"Did “{link.cause}” provoke “{link.response}”? Evidence: "
        f"{link.get_evidence_display()}. {link.summary}"
    )
    context = {"link": link, "meta": _meta(request, link, description)}
    return render(request, "disputes/link.html", context)


@require_safe
@public_page
@json_twin("person")
def person_detail(request, pk, slug):
    relations = PersonRelation.objects.public().prefetch_related(_citations())
    queryset = Person.objects.public().prefetch_related(
        "citizenships",
        _citations(),
        Prefetch(
            "roles",
            queryset=Role.objects.public().select_related("country").prefetch_related(_citations()),
        ),
        Prefetch("relations_from", queryset=relations.select_related("other")),
        Prefetch("relations_to", queryset=relations.select_related("person")),
    )
    person, redirect = _get_or_redirect(queryset, pk, slug)
    if redirect:
        return redirect
    context = {
        "person": person,
        "events": list(
            person.events.public().in_time_order().select_related("actor", "dispute")[:LIST_LIMIT]
        ),
        "cases": list(person.cases.public().select_related("prosecuting_country")[:LIST_LIMIT]),
        "detentions": list(
            person.detentions.public().select_related("holding_country", "person")[:LIST_LIMIT]
        ),
        "meta": _meta(request, person, f"{person}: {person.description}", kind="profile"),
    }
    return render(request, "disputes/person.html", context)


@require_safe
@public_page
@json_twin("case")
def case_detail(request, pk, slug):
    queryset = (
        Case.objects.public()
        .select_related("prosecuting_country", "dispute")
        .prefetch_related(Prefetch("defendants", queryset=Person.objects.public()), _citations())
    )
    case, redirect = _get_or_redirect(queryset, pk, slug)
    if redirect:
        return redirect
    parts = [case.charges, case.sentence, case.get_outcome_display()]
    context = {
        "case": case,
        "events": list(case.events.public().in_time_order().select_related("actor")[:LIST_LIMIT]),
        "detentions": list(
            case.detentions.public().select_related("person", "holding_country")[:LIST_LIMIT]
        ),
        "meta": _meta(
            request,
            case,
            f"{case.title}, prosecuted by {case.prosecuting_country}: "
            + "; ".join(p for p in parts if p),
        ),
    }
    return render(request, "disputes/case.html", context)


@require_safe
@public_page
@json_twin("detention")
def detention_detail(request, pk, slug):
    queryset = (
        Detention.objects.public()
        .select_related("person", "holding_country", "case", "dispute")
        .with_public_flags("person", "case")
        .prefetch_related(_citations())
    )
    detention, redirect = _get_or_redirect(queryset, pk, slug)
    if redirect:
        return redirect
    context = {
        "detention": detention,
        "events": list(
            Event.objects.public()
            .of_detention(detention)
            .in_time_order()
            .select_related("actor")[:LIST_LIMIT]
        ),
        "meta": _meta(
            request,
            detention,
            f"{detention}, from {detention.start} "
            f"({detention.get_ending_display()}). {detention.place}",
        ),
    }
    return render(request, "disputes/detention.html", context)


@require_safe
@public_page
@json_twin("country")
def country_detail(request, pk, slug):
    country, redirect = _get_or_redirect(
        Country.objects.public().prefetch_related(
            Prefetch("disputes", queryset=Dispute.objects.public()), _citations()
        ),
        pk,
        slug,
    )
    if redirect:
        return redirect
    context = {
        "country": country,
        "events": list(
            country.events.public().in_time_order().select_related("dispute", "actor")[:LIST_LIMIT]
        ),
        "cases": list(country.cases.public()[:LIST_LIMIT]),
        "citizens": list(country.citizens.public()[:LIST_LIMIT]),
        "meta": _meta(request, country, f"{country.name} ({country.code}) in the record"),
    }
    return render(request, "disputes/country.html", context)


EMBED_WIDTH, EMBED_HEIGHT = 480, 360


@require_safe
@public_page
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
def event_embed(request, pk, slug):
    """A small card of one step that any site may put in a frame: the only page without
    `X-Frame-Options: DENY`, with a policy of its own (frame-ancestors *)."""
    queryset = Event.objects.public().select_related("dispute", "actor")
    event, redirect = _get_or_redirect(queryset, pk, slug)
    if redirect:
        return HttpResponsePermanentRedirect(reverse("disputes:event-embed", args=[pk, event.slug]))
    context = {
        "event": event,
        "quotes": list(event.citations.with_sentence()[:1]),
        "permalink": request.build_absolute_uri(event.get_absolute_url()),
    }
    return render(request, "disputes/embed.html", context)


@require_safe
@public_page
def oembed(request):
    """oEmbed (https://oembed.com/) for an event's permalink: the card as a rich embed."""
    if request.GET.get("format", "json") != "json":
        return HttpResponse("Only the JSON format is offered.", status=501)
    try:
        match = resolve(urlsplit(request.GET.get("url", "")).path)
    except Resolver404:
        raise Http404("Give the address of an event's page as url.") from None
    if match.url_name not in ("event", "event-embed", "event-short"):
        raise Http404("Only an event's page can be embedded.")
    event = get_object_or_404(
        Event.objects.public().select_related("dispute"), pk=match.kwargs["pk"]
    )
    width, height = EMBED_WIDTH, EMBED_HEIGHT
    for name, default in (("maxwidth", EMBED_WIDTH), ("maxheight", EMBED_HEIGHT)):
        value = request.GET.get(name, "")
        if value.isdigit() and int(value) < default:
            if name == "maxwidth":
                width = int(value)
            else:
                height = int(value)
    src = request.build_absolute_uri(reverse("disputes:event-embed", args=[event.pk, event.slug]))
    return _json(
        {
            "version": "1.0",
            "type": "rich",
            "title": f"{event.title} – {event.when}",
            "provider_name": "Dispute Explorer",
            "provider_url": request.build_absolute_uri("/"),
            "width": width,
            "height": height,
            "html": format_html(
                '<iframe src="{}" width="{}" height="{}" title="{}" loading="lazy" '
                'style="border:0"></iframe>',
                src,
                width,
                height,
                event.title,
            ),
        }
    )


def _bad_filter(request, problem, json=True):
    """A filter that cannot be read: said in JSON to a JSON client, else on the 400 page."""
    if json:
        return _json(serializers.envelope("error", {"error": str(problem)}), status=400)
    return render(request, "400.html", {"message": str(problem)}, status=400)


@require_safe
@public_page
def list_json(request, plural):
    """/events.json and the like: a page of a kind of record, filtered, faceted, by cursor."""
    try:
        data = lists.page(
            lists.LISTS[plural], request.GET, request.build_absolute_uri, request.path
        )
    except lists.BadFilter as problem:
        return _bad_filter(request, problem)
    return _json(data)


@require_safe
@public_page
def list_csv(request, plural):
    """/events.csv and the like: every record the filters select, streamed."""
    spec = lists.LISTS[plural]
    try:
        queryset, _ = spec.filtered(request.GET)
    except lists.BadFilter as problem:
        return _bad_filter(request, problem, json=False)
    response = StreamingHttpResponse(
        lists.csv_rows(spec, queryset, request.build_absolute_uri),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{plural}.csv"'
    return response


@require_safe
@public_page
def events_gdelt(request):
    """/events-gdelt.csv: the events (filtered as /events.csv) in GDELT 2.0's column order."""
    try:
        queryset, _ = lists.LISTS["events"].filtered(request.GET)
    except lists.BadFilter as problem:
        return _bad_filter(request, problem, json=False)
    response = StreamingHttpResponse(
        interchange.gdelt_rows(queryset, request.build_absolute_uri),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="events-gdelt.csv"'
    return response


FACET_LABELS = {
    "dispute": "Dispute",
    "country": "Lane (acting state)",
    "kind": "Kind",
    "year": "Year",
}


@require_safe
@public_page
def event_list(request):
    """/events/: the events of the record, with the facets as links that narrow the list
    (the same filters and cursor as /events.json)."""
    try:
        data = lists.page(lists.LISTS["events"], request.GET, lambda url: url, request.path)
    except lists.BadFilter as problem:
        return render(request, "400.html", {"message": str(problem)}, status=400)
    query = request.GET.urlencode()
    context = {
        "data": data,
        "facets": [(FACET_LABELS.get(k, k), k, values) for k, values in data["facets"].items()],
        "json_url": "/events.json" + (f"?{query}" if query else ""),
        "meta": {
            "title": "Events",
            "description": "Every public event of the record, filtered by dispute, lane, "
            "kind and year.",
            "url": request.build_absolute_uri(request.path),
            "type": "website",
        },
    }
    return render(request, "disputes/list.html", context)


# Records without a page of their own link to the page that shows them.
_SHOWN_ON = {Role: "person", PersonRelation: "person", Claim: "link"}


def _citing_records(citations):
    """{citation id: (label, url)} for the records citing, a query per kind of record."""
    by_type = defaultdict(set)
    for citation in citations:
        by_type[citation.content_type_id].add(citation.object_id)
    records = {}
    for type_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        if not hasattr(model, "public_condition"):
            continue  # not a part of the record readers see
        queryset = model._default_manager.public().filter(pk__in=ids)
        parent = _SHOWN_ON.get(model)
        # What each label and URL names (a claim's link is named by its two events).
        related = {
            Detention: ["person", "holding_country"],
            RetaliationLink: ["cause", "response"],
            PersonRelation: ["person", "other"],
            Claim: ["link__cause", "link__response"],
        }.get(model, [parent] if parent else [])
        queryset = queryset.select_related(*related)
        for record in queryset:
            target = getattr(record, parent) if parent else record
            url = target.get_absolute_url() if hasattr(target, "get_absolute_url") else ""
            label = model._meta.verbose_name.capitalize()
            records[(type_id, record.pk)] = (f"{label}: {record}", url)
    return {
        c.pk: records[(c.content_type_id, c.object_id)]
        for c in citations
        if (c.content_type_id, c.object_id) in records
    }


def _source_paragraphs(source, sentences, citations, citing):
    """The source's text as (line number, paragraph) pairs, each paragraph a line of the text
    (the numbers editors' date reasons cite: "line 8") made of its sentences, each with the
    records citing it; text between sentences that no sentence covers is shown as it is."""
    cites_by_sentence = defaultdict(list)
    starts = [sentence.start for sentence in sentences]
    for citation in citations:
        if citation.pk not in citing:
            continue
        end = citation.start + len(citation.quote)
        i = max(bisect_right(starts, citation.start) - 1, 0)
        while i < len(sentences) and sentences[i].start < end:
            sentence = sentences[i]
            if (
                citation.start < sentence.end
                and citing[citation.pk] not in cites_by_sentence[sentence.pk]
            ):
                cites_by_sentence[sentence.pk].append(citing[citation.pk])
            i += 1
    text = source.text
    paragraphs, current, at, line = [], [], 0, 1

    def add_gap(gap):
        nonlocal current, line
        pieces = gap.split("\n")
        for i, piece in enumerate(pieces):
            if i:
                if current:
                    paragraphs.append((line, current))
                current = []
                line += 1
            if piece.strip():
                current.append({"text": piece, "sentence": None})

    for sentence in sentences:
        if sentence.start > at:
            add_gap(text[at : sentence.start])
        current.append(
            {
                "text": text[sentence.start : sentence.end],
                "sentence": sentence,
                "citing": cites_by_sentence[sentence.pk],
            }
        )
        at = max(at, sentence.end)
    add_gap(text[at:])
    if current:
        paragraphs.append((line, current))
    return paragraphs


@require_safe
@public_page
@json_twin("source")
def source_detail(request, pk, slug):
    source, redirect = _get_or_redirect(Source.objects.public(), pk, slug)
    if redirect:
        return redirect
    sentences = list(source.sentences.order_by("start"))
    citations = list(source.citations.order_by("start", "pk"))
    citing = _citing_records(citations)
    cited_by = sorted(set(citing.values()))
    # A title that names its publisher already ("The Moscow Times: ...") says it once.
    named = source.title
    if not named.startswith(f"{source.publisher}:"):
        named = f"{source.publisher}: {named}"
    context = {
        "source": source,
        "paragraphs": _source_paragraphs(source, sentences, citations, citing),
        "cited_by": cited_by,
        "has_sentences": bool(sentences),
        "cut_off_ends": source.cut_off_ends(),
        "meta": _meta(
            request,
            source,
            f"{named}. The text, sentence by sentence, with what each sentence supports.",
        ),
    }
    return render(request, "disputes/source.html", context)


_KIND_ROUTES = {
    "dispute": Dispute,
    "event": Event,
    "link": RetaliationLink,
    "person": Person,
    "case": Case,
    "detention": Detention,
    "country": Country,
    "source": Source,
}


@require_safe
@public_page
def short_permalink(request, kind, pk):
    """/events/7/ and the like: the permalink without its slug leads to the full one."""
    model = _KIND_ROUTES[kind]
    obj = get_object_or_404(model._default_manager.public(), pk=pk)
    return HttpResponsePermanentRedirect(obj.get_absolute_url())


SEARCH_PARAMS = ("q", *search_module.FACETS, "page")
QUICK_TARGET = "site-results"


def _search_url(request, outcome, page=None, **changes) -> str:
    """The search's address with some parameters changed (None removes one)."""
    params = {"q": outcome.corrected or outcome.text, **outcome.filters, "page": page}
    params.update(changes)
    if params["page"] in (1, "1"):
        params["page"] = None  # the first page's address is the search's own
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return request.path + (f"?{urlencode(kept)}" if kept else "")


def _search_addresses(request, url: str) -> dict:
    """A search page's canonical address (`url`, from _search_url) and its JSON twin's: the
    same query and filters at search.json."""
    twin = reverse("disputes:search-json") + url.removeprefix(request.path)
    return {"url": request.build_absolute_uri(url), "json_url": request.build_absolute_uri(twin)}


def _search_problem(request, message: str, status: int, json=False):
    """A search refused (400: too long) or not finished in time (503): said plainly."""
    if json:
        response = _json(serializers.envelope("error", {"error": message}), status=status)
    else:
        context = {
            "query": " ".join(request.GET.get("q", "").split())[:200],
            "problem": message,
            "meta": {"title": "Search", **_search_addresses(request, request.path)},
        }
        quick = request.headers.get("HX-Target") == QUICK_TARGET
        partial = "quick" if quick else "results-fragment"
        response = _respond(request, "disputes/search.html", partial, context, vary=["HX-Target"])
        response.status_code = status
    if status == 503:
        response["Retry-After"] = "5"
        response["Cache-Control"] = "no-store"
    return response


def _run_search(request, json=False):
    filters = {name: request.GET.get(name, "") for name in search_module.FACETS}
    try:
        return search_module.search(request.GET.get("q", ""), filters, request.GET.get("page"))
    except search_module.QueryTooLong as problem:
        return _search_problem(request, str(problem), 400, json)
    except search_module.SearchUnavailable:
        return _search_problem(
            request,
            "The search took too long and was stopped, so that the site stays quick for "
            "everyone. Try again in a few seconds, or with more precise words.",
            503,
            json,
        )


def _search_context(request, outcome):
    """The page's results grouped by type (groups in the order of their best result), each
    with its title and excerpt marked; facets and pages as links."""
    terms = outcome.used.positive if outcome.used else []
    groups: dict[str, list] = {}
    labels = dict(search_module.SearchEntry.Kind.choices)
    for entry in outcome.page or []:
        entry.label_html = search_module.highlight(entry.label, terms)
        entry.kind_name = search_module.SINGULAR[entry.kind]
        entry.excerpt = search_module.highlight(entry.text, terms, width=220)
        groups.setdefault(entry.kind, []).append(entry)
    for facet in outcome.facets:
        chosen = outcome.filters.get(facet.key)
        for value in facet.values:
            value["active"] = value["value"] == chosen
            value["url"] = _search_url(
                request, outcome, **{facet.key: None if value["active"] else value["value"]}
            )
    page = outcome.page
    return {
        "groups": [(key, labels[key], hits) for key, hits in groups.items()],
        "next_url": _search_url(request, outcome, page.next_page_number())
        if page and page.has_next()
        else "",
        "previous_url": _search_url(request, outcome, page.previous_page_number())
        if page and page.has_previous()
        else "",
        "corrected_url": _search_url(request, outcome, q=outcome.corrected)
        if outcome.corrected
        else "",
        "clear_filters_url": _search_url(request, outcome, **dict.fromkeys(outcome.filters))
        if outcome.filters
        else "",
    }


@require_safe
@public_page
def search(request):
    outcome = _run_search(request)
    if isinstance(outcome, HttpResponse):
        return outcome
    page = outcome.page.number if outcome.page else 1
    url = _search_url(request, outcome, page)
    title = f"Search: {outcome.text}" if outcome.text else "Search"
    if page > 1:
        title += f" (page {page})"
    context = {
        "query": outcome.text,
        "outcome": outcome,
        **_search_context(request, outcome),
        "meta": {
            "title": title,
            "description": "Search the record: events, people, cases, detentions, links and "
            "their claims, countries, disputes and every sentence of the sources.",
            **_search_addresses(request, url),
            "type": "website",
        },
    }
    # The header's box on every page asks for a short list of results under itself.
    partial = "quick" if request.headers.get("HX-Target") == QUICK_TARGET else "results-fragment"
    return _respond(request, "disputes/search.html", partial, context, vary=["HX-Target"])


@require_safe
@public_page
def search_json(request):
    """The search page's results as data: the same query grammar, the same order."""
    outcome = _run_search(request, json=True)
    if isinstance(outcome, HttpResponse):
        return outcome
    return _json(search_module.as_data(outcome, request, _search_url))


def page_not_found(request, exception):
    """The 404 page; for an address of data (`….json`, or `Accept: application/json`), the
    same as data: an error object, as the JSON a reader's program asked for."""
    message = ""
    if exception and isinstance(getattr(exception, "args", None), tuple) and exception.args:
        first = exception.args[0]
        message = first if isinstance(first, str) else ""
    if request.path.endswith(".json") or serializers.wants_json(request):
        text = message or "Nothing in the record has this address."
        return _json(serializers.envelope("error", {"error": text}), status=404)
    return render(request, "404.html", {"message": message}, status=404)


def server_error(request):
    return HttpResponse(
        render(request, "500.html").content, status=500, content_type="text/html; charset=utf-8"
    )
