"""How machines find the record: sitemap, robots.txt, Atom feeds and JSON-LD.

Django's own parts do the work (django.contrib.sitemaps, django.contrib.syndication); this
module says what they list. Every list reads `public()`: a draft is in no sitemap, feed or
structured-data block.
"""

from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.contrib.syndication.views import Feed
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.templatetags.static import static
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import require_safe

from .caching import public_page
from .models import Case, Country, Detention, Dispute, Event, Person, RetaliationLink, Source

# --- sitemap -------------------------------------------------------------------------------


class RecordSitemap(Sitemap):
    """Every public permalink of one kind of record, with when it last changed."""

    limit = 5000

    def __init__(self, model, related=(), public=None):
        self.model = model
        self.related = related
        # the public records, read with what their latest_change needs
        self.public = public or model.objects.public

    def items(self):
        # the rows of the permalinks, with what their slugs and latest_change read
        return self.public().select_related(*self.related).order_by("pk")

    def lastmod(self, obj):
        return obj.latest_change


SITEMAPS = {
    "disputes": RecordSitemap(
        Dispute, public=lambda: Dispute.objects.public().with_chain_changes()
    ),
    "events": RecordSitemap(Event),
    "links": RecordSitemap(RetaliationLink, related=("cause", "response")),
    "people": RecordSitemap(Person),
    "cases": RecordSitemap(Case),
    "detentions": RecordSitemap(Detention, related=("person", "holding_country")),
    "countries": RecordSitemap(Country),
    "sources": RecordSitemap(Source),
}


@require_safe
@public_page
def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("disputes:sitemap"))
    lines = ["User-agent: *", "Disallow: /admin/", "", f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@require_safe
def favicon(request):
    """/favicon.ico, which browsers ask for where no page names an icon (the JSON twins, the
    feeds): the site's icon, under its hashed name (a temporary redirect kept by no cache,
    as that name changes with the file)."""
    return redirect(static("favicon.svg"))


# --- feeds ---------------------------------------------------------------------------------

FEED_LENGTH = 50


class EventFeed(Feed):
    """The latest changed events of the whole record, newest first (Atom)."""

    feed_type = Atom1Feed
    title = "Dispute Explorer: latest events"
    subtitle = "Steps of the disputes in the record, as they are added or corrected."

    def link(self):
        return reverse("disputes:home")

    def items(self):
        return (
            Event.objects.public()
            .select_related("dispute", "actor")
            .order_by("-last_changed", "-pk")[:FEED_LENGTH]
        )

    def item_title(self, item):
        return f"{item.title} – {item.when}"

    def item_description(self, item):
        return f"{item.actor}: {item.summary or item.title}"

    def item_updateddate(self, item):
        return item.last_changed

    def item_pubdate(self, item):
        return item.last_changed

    def item_categories(self, item):
        return [item.dispute.title, item.get_kind_display(), item.actor.name]


class DisputeEventFeed(EventFeed):
    """The latest changed events of one dispute."""

    def get_object(self, request, pk, slug):
        return get_object_or_404(Dispute.objects.public(), pk=pk)

    def title(self, obj):
        return f"{obj.title}: latest events"

    def subtitle(self, obj):
        return f"Steps of {obj.title}, as they are added or corrected."

    def link(self, obj):
        return obj.get_absolute_url()

    def items(self, obj):
        return (
            Event.objects.public()
            .filter(dispute=obj)
            .select_related("dispute", "actor")
            .order_by("-last_changed", "-pk")[:FEED_LENGTH]
        )


site_feed = require_safe(public_page(EventFeed()))
dispute_feed = require_safe(public_page(DisputeEventFeed()))


# --- JSON-LD -------------------------------------------------------------------------------


def _date(date) -> str | None:
    return date.iso() or None


def jsonld(obj, absolute) -> dict:
    """schema.org's description of a permalink page's record, from the fields the page has
    read already (no query of its own)."""
    url = absolute(obj.get_absolute_url())
    base = {"@context": "https://schema.org", "url": url, "@id": url, "name": str(obj)}
    if isinstance(obj, Event):
        return {
            **base,
            "@type": "Event",
            "description": obj.summary or obj.title,
            "startDate": _date(obj.date),
            "eventStatus": "https://schema.org/EventScheduled",
            "organizer": {"@type": "Country", "name": obj.actor.name},
            "superEvent": {
                "@type": "Event",
                "name": obj.dispute.title,
                "url": absolute(obj.dispute.get_absolute_url()),
            },
            "dateModified": obj.latest_change.isoformat(),
        }
    if isinstance(obj, Person):
        return {
            **base,
            "@type": "Person",
            "description": obj.description,
            "nationality": [{"@type": "Country", "name": c.name} for c in obj.citizenships.all()],
            "jobTitle": [role.title for role in obj.roles.all()],
        }
    if isinstance(obj, Dispute):
        return {
            **base,
            "@type": "Event",
            "description": obj.summary,
            "about": [{"@type": "Country", "name": c.name} for c in obj.countries.all()],
            "dateModified": obj.latest_change.isoformat(),
        }
    if isinstance(obj, Case):
        return {
            **base,
            "@type": "Event",
            "additionalType": "legal proceeding",
            "description": "; ".join(p for p in (obj.charges, obj.sentence) if p),
            "organizer": {"@type": "Country", "name": obj.prosecuting_country.name},
            "location": obj.court or None,
        }
    if isinstance(obj, Detention):
        return {
            **base,
            "@type": "Event",
            "additionalType": "detention",
            "startDate": _date(obj.start),
            "endDate": _date(obj.end),
            "location": obj.place or None,
            "organizer": {"@type": "Country", "name": obj.holding_country.name},
        }
    if isinstance(obj, RetaliationLink):
        return {
            **base,
            "@type": "ClaimReview",
            "claimReviewed": f"“{obj.cause}” provoked “{obj.response}”",
            "reviewRating": {
                "@type": "Rating",
                "alternateName": obj.get_evidence_display(),
            },
            "itemReviewed": {
                "@type": "Claim",
                "about": [
                    {"@type": "Event", "name": str(e), "url": absolute(e.get_absolute_url())}
                    for e in (obj.cause, obj.response)
                ],
            },
            "reviewBody": obj.summary,
        }
    if isinstance(obj, Country):
        return {**base, "@type": "Country", "identifier": obj.code}
    if isinstance(obj, Source):
        return {
            **base,
            "@type": "NewsArticle",
            "headline": obj.title,
            "publisher": {"@type": "Organization", "name": obj.publisher},
            "author": {"@type": "Person", "name": obj.author} if obj.author else None,
            "datePublished": _date(obj.published),
            "inLanguage": obj.language or None,
            "sameAs": obj.url or None,
            "archivedAt": obj.archive_url or None,
        }
    return base
