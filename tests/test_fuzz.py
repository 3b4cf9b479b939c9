"""Fuzzed requests to every public URL pattern never break the site.

Whatever a scraper, a broken chat client or an attacker sends (paths, slugs, IDs that are
huge, negative, zero or not numbers, query strings with unicode, NUL bytes or 100,000 characters
of text, htmx and conditional headers with nonsense in them), the answer is one of 200, 301, 302, 304, 400 or
404, never a 500; and a 400 or 404 is the site's own error page.

The patterns are read from the URL configuration itself, so a view added later is fuzzed
without anyone remembering to list it here. Only the admin is left out: it has its own tests.
In CI (``CI`` set) hypothesis runs derandomized and without its example database, so a run
is repeatable; on a developer machine it explores and remembers what failed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

ALLOWED = {200, 301, 302, 304, 400, 404}
CI = bool(os.environ.get("CI"))

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=CI,
    **({"database": None} if CI else {}),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- the public URL patterns, read from the URLconf ----------------------------------------

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    name: str  # "disputes:event"
    route: str  # "events/<int:pk>/<slug:slug>/"
    default_kwargs: tuple

    @property
    def params(self) -> list[tuple[str, str]]:
        return [(m["converter"] or "str", m["name"]) for m in _PARAM.finditer(self.route)]

    @property
    def kind(self) -> str:
        """The record this route shows: "event" for events/<pk>/<slug>/, events/<pk>/ and
        events/<pk>/<slug>/embed/ alike (a name's suffix says which view of it)."""
        kwargs = dict(self.default_kwargs)
        return kwargs.get("kind") or self.name.split(":")[-1].split("-")[0]

    def build(self, values: dict[str, str]) -> str:
        def fill(match):
            return quote(str(values[match["name"]]), safe="")

        return "/" + _PARAM.sub(fill, self.route)


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin" or entry.namespace == "admin":
                continue
            assert isinstance(entry.pattern, RoutePattern), entry
            ns = ":".join(filter(None, [namespace, entry.namespace]))
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            # A regex pattern would need its own generator; fail loudly rather than skip it.
            assert isinstance(entry.pattern, RoutePattern), f"not fuzzed: {entry.pattern}"
            name = ":".join(filter(None, [namespace, entry.name or ""]))
            yield Route(
                name, prefix + str(entry.pattern), tuple(sorted(entry.default_args.items()))
            )


ROUTES = list(_walk(get_resolver().url_patterns))
ROUTE_IDS = [route.name for route in ROUTES]
PARAMETERISED = [route for route in ROUTES if route.params]
# Routes whose parameter is not a record's pk and slug: the real values to try them with.
NAMED_VALUES = {
    "section": ["events", "people", "sources"],  # the sitemap's sections
    "name": ["event", "record", "common"],  # the published JSON Schemas
}
WITH_PK = [route for route in PARAMETERISED if ("int", "pk") in route.params]


def _oembed_query(records) -> str:
    pk, slug = records["event"][0]
    return "?" + urlencode({"url": f"http://testserver/events/{pk}/{slug}/"})


# Routes that answer only with a query: the query that makes them answer.
REAL_QUERIES = {"disputes:oembed": _oembed_query}


def test_the_fuzzed_routes_cover_the_public_site():
    """A guard against the walk silently finding nothing (a refactored URLconf)."""
    names = set(ROUTE_IDS)
    for expected in ["home", "search", "event", "dispute", "person", "source", "event-short"]:
        assert f"disputes:{expected}" in names
    assert not any(route.route.startswith("admin") for route in ROUTES)


def _model_for(kind: str):
    for model in apps.get_app_config("disputes").get_models():
        if getattr(model, "url_name", "") == f"disputes:{kind}":
            return model
    return None


# --- strategies ----------------------------------------------------------------------------

NASTY_TEXT = st.sampled_from(
    [
        "",
        "\x00",
        "a\x00b",
        "%00",
        "%",
        "%ZZ",
        "%FF%FE",
        "\ufeff",
        "\u202e",
        "𝕏",
        "é",
        "../..",
        "..%2f..%2fetc%2fpasswd",
        "' OR 1=1 --",
        '"',
        "<script>alert(1)</script>",
        "{{7*7}}",
        "http://[",
        "http://x:99999/",
        "//[::1",
        "/admin/",
        "a" * 5000,
        "\n\r\t",
        " ",
        "NaN",
        "1e309",
        "0x10",
        "١٢٣",  # Arabic-Indic digits: int() accepts them, the int converter must not crash
    ]
)
TEXT = st.one_of(NASTY_TEXT, st.text(max_size=300))
IDS = st.one_of(
    st.sampled_from([0, 1, 2, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30, 10**400]).map(
        str
    ),
    st.integers().map(str),
    st.integers(min_value=0, max_value=50).map(str),
    TEXT,
)
SLUGS = st.one_of(st.from_regex(r"[-a-zA-Z0-9_]{1,120}", fullmatch=True), TEXT)
QUERY_KEYS = st.one_of(
    st.sampled_from(["q", "page", "kind", "country", "filter", "dispute", "sort", "order", "p"]),
    TEXT,
)
QUERY_VALUES = st.one_of(IDS, TEXT, st.lists(TEXT, max_size=3))
HTMX_HEADERS = st.one_of(
    st.just({}),
    st.fixed_dictionaries(
        {"HX-Request": st.sampled_from(["true", "false", "", "1"])},
        optional={
            "HX-Current-URL": TEXT.map(lambda s: s.encode("ascii", "replace").decode()),
            "X-Step-Heading-Level": st.one_of(st.sampled_from(["1", "2", "3", "0", "-1"]), TEXT),
            "HX-History-Restore-Request": st.sampled_from(["true", "false", "x"]),
            "HX-Target": st.sampled_from(["main", "step", ""]),
            "HX-Trigger": st.sampled_from(["next", ""]),
            # Conditional requests: pages may answer 304 from the page cache.
            "If-None-Match": st.one_of(
                st.sampled_from(["*", '"x"', 'W/"x"', '"', ",,,", '"a", "b"']),
                TEXT.map(lambda s: s.encode("ascii", "replace").decode()),
            ),
            "If-Modified-Since": st.sampled_from(
                ["Thu, 01 Jan 1970 00:00:00 GMT", "yesterday", "", "Mon, 99 Foo 99999 99:99:99 GMT"]
            ),
        },
    ),
)


# --- the check -----------------------------------------------------------------------------


def _latin1(value: str) -> str:
    """Headers travel as latin-1 on the wire; a real client cannot send other characters."""
    return value.encode("latin-1", "replace").decode("latin-1").replace("\x00", "")


def _assert_sane(client, path: str, headers: dict | None = None):
    headers = {
        k: _latin1(v).replace("\n", " ").replace("\r", " ") for k, v in (headers or {}).items()
    }
    response = client.get(path, headers=headers)
    assert response.status_code in ALLOWED, (path, headers, response.status_code)
    if response.status_code in (400, 404) and response["Content-Type"] == "application/json":
        # A JSON endpoint answers in JSON: the site's error envelope, saying what is wrong.
        assert response.json()["type"] == "error" and response.json()["error"], path
    elif response.status_code in (400, 404):
        assert django_settings.SITE_NAME in response.content.decode(errors="replace"), (
            f"{path!r} gave a {response.status_code} without the site's own error page"
        )
    return response


@pytest.fixture
def records(article):
    """{kind: [(pk, slug), ...]} of the loaded article, to build valid and near-valid URLs."""
    found = {}
    for model in apps.get_app_config("disputes").get_models():
        url_name = getattr(model, "url_name", "")
        if url_name.startswith("disputes:"):
            found[url_name.split(":")[1]] = [(o.pk, o.slug) for o in model._default_manager.all()]
    assert found.get("event"), "the article's record did not load"
    # the dispute at one of its steps: the dispute's pk and slug, and an event's pk
    found["dispute-step"] = found["dispute-image"] = found["dispute"]
    return found


# --- the tests -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_every_record_page_answers_in_full_and_as_fragment(client, records, route):
    """The baseline the fuzzing starts from: each route with real values is a 200 or a redirect."""
    values = []
    names = {name for _converter, name in route.params}
    if names & NAMED_VALUES.keys():
        (name,) = names
        values = [{name: value} for value in NAMED_VALUES[name]]
    elif route.params:
        event_pk = records["event"][0][0]
        values = [
            {"pk": pk, "slug": slug, "event_pk": event_pk}
            for pk, slug in records.get(route.kind, [])
        ]
        assert values, f"no record to try {route.name} with"
    else:
        values = [{}]
    query = REAL_QUERIES[route.name](records) if route.name in REAL_QUERIES else ""
    for value in values:
        for headers in ({}, {"HX-Request": "true"}):
            response = _assert_sane(client, route.build(value) + query, headers)
            assert response.status_code in {200, 301, 302}


EXTREME_IDS = [
    "0",
    "-1",
    "00",
    "1.0",
    "1e3",
    str(2**31),
    str(2**63),
    str(2**64),
    str(10**30),
    "9" * 400,
    "１",
    "١",
]


@pytest.mark.django_db
@pytest.mark.parametrize("route", WITH_PK, ids=[r.name for r in WITH_PK])
def test_extreme_ids_get_a_404_not_an_error(client, records, route):
    """IDs past every integer column's range, zero, negative, or digits from other scripts."""
    for pk in EXTREME_IDS:
        for headers in ({}, {"HX-Request": "true"}):
            values = {"pk": pk, "slug": "x", "event_pk": pk}
            response = _assert_sane(client, route.build(values), headers)
            assert response.status_code == 404, (pk, response.status_code)


@pytest.mark.django_db
@FUZZ
@given(data=st.data())
def test_fuzzed_ids_and_slugs_never_break_a_permalink(client, records, data):
    """Every parameterised route, with its parameters drawn from real values, huge, negative
    and zero IDs, non-numbers and arbitrary unicode."""
    route = data.draw(st.sampled_from(PARAMETERISED), label="route")
    real = records.get(route.kind, [])
    values = {}
    for _converter, name in route.params:
        if name == "event_pk":
            events = [str(pk) for pk, _ in records["event"]]
            strategy = st.one_of(st.sampled_from(events), IDS)
        elif name == "pk":
            strategy = st.one_of(st.sampled_from([str(pk) for pk, _ in real]), IDS) if real else IDS
        elif name == "slug":
            strategy = (
                st.one_of(st.sampled_from([slug for _, slug in real]), SLUGS) if real else SLUGS
            )
        else:
            strategy = TEXT
        values[name] = data.draw(strategy, label=name)
    headers = data.draw(HTMX_HEADERS, label="headers")
    _assert_sane(client, route.build(values), headers)


@pytest.mark.django_db
@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    params=st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=5),
    headers=HTMX_HEADERS,
)
@example(route=ROUTES[0], params=[("q", "\x00")], headers={})
@example(route=ROUTES[0], params=[("page", str(10**400))], headers={"HX-Request": "true"})
def test_fuzzed_query_strings_never_break_a_page(client, records, route, params, headers):
    """Searches, pages and filters with any value, on every route (with a real record where
    the route needs one), as full pages and as htmx fragments."""
    real = records.get(route.kind, [])
    values = {"pk": real[0][0], "slug": real[0][1]} if route.params and real else {}
    values["event_pk"] = records["event"][0][0]
    if route.params and not real:
        return
    pairs = []
    for key, value in params:
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    path = route.build(values) + ("?" + urlencode(pairs) if pairs else "")
    _assert_sane(client, path, headers)


SEARCH_QUERIES = st.one_of(
    TEXT,
    st.text(alphabet=st.characters(codec="utf-8"), min_size=150, max_size=3000),
    st.lists(
        st.sampled_from(
            [
                '"',
                "-",
                "OR",
                "AND",
                "(",
                ")",
                "*",
                ":",
                "&",
                "|",
                "!",
                "\\",
                "'",
                "%",
                "_",
                "Khukumov",
                "pilot",
                "Russia",
            ]
        ),
        max_size=20,
    ).map(" ".join),
)


@pytest.mark.django_db
@FUZZ
@given(q=SEARCH_QUERIES, page=st.one_of(st.none(), IDS), fragment=st.booleans())
@example(q='"unbalanced', page=None, fragment=False)
@example(q="-", page=None, fragment=True)
@example(q="a & b | !c <-> d:*", page="-1", fragment=False)
@example(q="\x00\x01\x02", page=None, fragment=False)
@example(q="x" * 100_000, page=None, fragment=False)
def test_fuzzed_searches_never_break_the_search(client, records, q, page, fragment):
    """Search syntax from every engine (websearch, tsquery, LIKE wildcards) and very long
    queries are just text to search for."""
    params = {"q": q}
    if page is not None:
        params["page"] = page
    headers = {"HX-Request": "true"} if fragment else {}
    _assert_sane(client, "/search/?" + urlencode(params), headers)


PATH_PREFIXES = sorted({"/" + route.route.split("<", 1)[0] for route in ROUTES})


@pytest.mark.django_db
@FUZZ
@given(
    prefix=st.sampled_from(PATH_PREFIXES),
    tail=st.lists(TEXT, max_size=4),
    raw=st.one_of(
        st.just(""), st.sampled_from(["%00", "%FF", "%C0%AF", "%2e%2e/", "//", ";", "%25"])
    ),
)
@example(prefix="/", tail=["\x00"], raw="")
@example(prefix="/events/", tail=["1", "a" * 3000], raw="")
@example(prefix="/", tail=[], raw="%FF")
@example(prefix="/static/", tail=["..", "..", "disputes", "settings.py"], raw="")
def test_fuzzed_paths_never_break_the_site(client, records, prefix, tail, raw):
    """Arbitrary paths below every public prefix, percent-encoded as a client would send them,
    plus raw escapes that are not valid UTF-8."""
    path = prefix + "/".join(quote(part, safe="") for part in tail) + raw
    _assert_sane(client, path)


def test_a_bad_request_uses_the_sites_own_error_page(client, db):
    """A 400 (here: a Host header that is not allowed) is answered in the site's design."""
    response = client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert django_settings.SITE_NAME in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "current_url",
    [
        "http://[",
        "http://x:99999/",
        "\x7f",
        "/events/1/x/",
    ],
)
def test_a_malformed_hx_current_url_is_ignored(client, records, current_url):
    """HX-Current-URL is whatever the client says; a URL that does not parse is not a 500
    (it once was: the step's heading level was read from it)."""
    pk, slug = records["event"][0]
    headers = {"HX-Request": "true", "HX-Current-URL": current_url}
    response = _assert_sane(client, f"/events/{pk}/{slug}/", headers)
    assert response.status_code == 200
