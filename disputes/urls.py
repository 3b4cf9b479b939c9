from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path
from django.views.decorators.http import require_safe

from . import downloads, findable, views
from .caching import public_page

permalink_patterns = [
    path("disputes/<int:pk>/<slug:slug>/", views.dispute_detail, name="dispute"),
    path(
        "disputes/<int:pk>/<slug:slug>/events/<int:event_pk>/",
        views.dispute_detail,
        name="dispute-step",
    ),
    path("disputes/<int:pk>/<slug:slug>/ladder.png", views.dispute_image, name="dispute-image"),
    path("events/<int:pk>/<slug:slug>/", views.event_detail, name="event"),
    path("links/<int:pk>/<slug:slug>/", views.link_detail, name="link"),
    path("people/<int:pk>/<slug:slug>/", views.person_detail, name="person"),
    path("cases/<int:pk>/<slug:slug>/", views.case_detail, name="case"),
    path("detentions/<int:pk>/<slug:slug>/", views.detention_detail, name="detention"),
    path("countries/<int:pk>/<slug:slug>/", views.country_detail, name="country"),
    path("sources/<int:pk>/<slug:slug>/", views.source_detail, name="source"),
]

# The JSON twin of each permalink: the same address with .json for its last slash.
json_patterns = [
    path(
        f"{prefix}/<int:pk>/<slug:slug>.json",
        views.record_json,
        {"kind": kind},
        name=f"{kind}-json",
    )
    for prefix, kind in [
        ("disputes", "dispute"),
        ("events", "event"),
        ("links", "link"),
        ("people", "person"),
        ("cases", "case"),
        ("detentions", "detention"),
        ("countries", "country"),
        ("sources", "source"),
    ]
]

# The permalink without its slug (as typed, or cut short in a chat) leads to the full one.
short_patterns = [
    path(f"{prefix}/<int:pk>/", views.short_permalink, {"kind": kind}, name=f"{kind}-short")
    for prefix, kind in [
        ("disputes", "dispute"),
        ("events", "event"),
        ("links", "link"),
        ("people", "person"),
        ("cases", "case"),
        ("detentions", "detention"),
        ("countries", "country"),
        ("sources", "source"),
    ]
]

findable_patterns = [
    path("robots.txt", findable.robots_txt, name="robots"),
    path("favicon.ico", findable.favicon, name="favicon"),
    path(
        "sitemap.xml",
        require_safe(public_page(sitemap_views.index)),
        {"sitemaps": findable.SITEMAPS, "sitemap_url_name": "disputes:sitemap-section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        require_safe(public_page(sitemap_views.sitemap)),
        {"sitemaps": findable.SITEMAPS},
        name="sitemap-section",
    ),
    path("feed.atom", findable.site_feed, name="feed"),
    path("disputes/<int:pk>/<slug:slug>/feed.atom", findable.dispute_feed, name="dispute-feed"),
]

# Every kind of record as a list: JSON (a page, by cursor) and CSV (all of it, streamed).
list_patterns = [
    pattern
    for plural in (
        "events",
        "links",
        "people",
        "cases",
        "detentions",
        "countries",
        "sources",
        "disputes",
    )
    for pattern in (
        path(f"{plural}.json", views.list_json, {"plural": plural}, name=f"{plural}-json"),
        path(f"{plural}.csv", views.list_csv, {"plural": plural}, name=f"{plural}-csv"),
    )
]

public_patterns = [
    path("", views.home, name="home"),
    *findable_patterns,
    *list_patterns,
    path("events/", views.event_list, name="events"),
    path("events-gdelt.csv", views.events_gdelt, name="events-gdelt"),
    path("downloads/record.json", downloads.record_json, name="download-record"),
    path("downloads/record-csv.zip", downloads.record_zip, name="download-zip"),
    path("downloads/datapackage.json", downloads.datapackage, name="datapackage"),
    path("downloads/record.ftm.json", downloads.record_ftm, name="download-ftm"),
    path("schemas/v1/<slug:name>.json", downloads.schema, name="schema"),
    path("events/<int:pk>/<slug:slug>/embed/", views.event_embed, name="event-embed"),
    path("oembed", views.oembed, name="oembed"),
    path("search/", views.search, name="search"),
    path("search.json", views.search_json, name="search-json"),
    *permalink_patterns,
    *json_patterns,
    *short_patterns,
]

urlpatterns = [
    path("", include((public_patterns, "disputes"))),
    path("admin/", admin.site.urls),
]

handler404 = "disputes.views.page_not_found"
handler500 = "disputes.views.server_error"
