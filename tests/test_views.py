"""The explorer's pages: full pages, htmx fragments, history restores, permalinks, sharing."""

import re

import pytest
from django.urls import reverse

from bench.generate import make_dispute
from disputes.models import (
    Case,
    Country,
    Detention,
    Dispute,
    Event,
    Person,
    RetaliationLink,
    Source,
)

HX = {"HTTP_HX_REQUEST": "true"}
RESTORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}
PUBLIC_MODELS = [Dispute, Event, RetaliationLink, Person, Case, Detention, Country, Source]


@pytest.fixture
def dispute(db):
    return make_dispute(12, seed=1)


def ordered(dispute):
    return list(Event.objects.filter(dispute=dispute).in_time_order())


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",")}


def is_full_page(html: str) -> bool:
    return html.lstrip().lower().startswith("<!doctype html>") and "</html>" in html


# --- htmx: full page, fragment, history restore, Vary --------------------------------------


def test_event_page_full_fragment_and_restore(client, dispute):
    event = ordered(dispute)[3]
    url = event.get_absolute_url()

    full = client.get(url)
    assert full.status_code == 200
    assert is_full_page(full.text)
    assert 'id="step"' in full.text
    assert "hx-request" in vary(full)

    fragment = client.get(url, **HX)
    assert fragment.status_code == 200
    assert not is_full_page(fragment.text)
    assert fragment.text.lstrip().startswith("<title>")
    assert f"<title>{event.title} – {event.date}" in fragment.text
    assert 'id="step"' in fragment.text
    assert "site-header" not in fragment.text
    assert "hx-request" in vary(fragment)

    restore = client.get(url, **RESTORE)
    assert is_full_page(restore.text)
    assert "hx-request" in vary(restore)


def test_dispute_page_full_fragment_and_restore(client, dispute):
    url = dispute.get_absolute_url()
    full = client.get(url)
    assert is_full_page(full.text)
    assert 'id="ladder"' in full.text and 'id="step"' in full.text
    assert "hx-request" in vary(full)

    fragment = client.get(url, **HX)
    assert not is_full_page(fragment.text)
    assert fragment.text.lstrip().startswith("<title>")
    assert 'id="explorer"' in fragment.text
    assert 'id="ladder"' in fragment.text and 'id="step"' in fragment.text
    assert "site-header" not in fragment.text
    assert "hx-request" in vary(fragment)

    restore = client.get(url, **RESTORE)
    assert is_full_page(restore.text)
    assert "hx-request" in vary(restore)


def test_search_page_full_fragment_and_restore(client, dispute):
    url = reverse("disputes:search") + "?q=step"
    full = client.get(url)
    assert is_full_page(full.text)
    assert 'id="results"' in full.text
    assert "hx-request" in vary(full)

    fragment = client.get(url, **HX)
    assert not is_full_page(fragment.text)
    assert fragment.text.lstrip().startswith("<title>Search: step")
    assert 'class="results"' in fragment.text
    assert 'id="q"' not in fragment.text
    assert "hx-request" in vary(fragment)

    restore = client.get(url, **RESTORE)
    assert is_full_page(restore.text)
    assert "hx-request" in vary(restore)


def test_step_fragment_keeps_the_heading_level_of_the_page_it_lands_in(client, dispute):
    event = ordered(dispute)[2]
    on_dispute = client.get(event.get_absolute_url(), HTTP_X_STEP_HEADING_LEVEL="2", **HX)
    assert '<h2 id="step-title"' in on_dispute.text
    assert "x-step-heading-level" in vary(on_dispute)
    on_event = client.get(event.get_absolute_url(), **HX)
    assert '<h1 id="step-title"' in on_event.text
    full = client.get(event.get_absolute_url(), HTTP_X_STEP_HEADING_LEVEL="2")
    assert '<h1 id="step-title"' in full.text


# --- the dispute at a step: one address for what a walk shows ---------------------------


def test_the_dispute_at_a_step_is_a_full_page_or_the_explorer_fragment(client, dispute):
    events = ordered(dispute)
    url = dispute.step_url(events[4].pk)
    assert url == f"{dispute.get_absolute_url()}events/{events[4].pk}/"
    full = client.get(url)
    assert full.status_code == 200 and is_full_page(full.text)
    assert full.text.count("<h1") == 1, "one h1: the dispute's"
    step = full.text[full.text.index('id="step"') :]
    assert '<h2 id="step-title" class="step-title" tabindex="-1" data-focus-on-swap' in step
    assert events[4].title in step[: step.index("</h2>")]
    assert f'id="rung-item-{events[4].pk}"' in full.text
    assert re.search(rf'class="[^"]*is-current[^"]*" id="rung-item-{events[4].pk}"', full.text)
    # shared, it previews as the step and names the event's permalink as canonical
    assert f"<title>{events[4].title} – {events[4].when} · {dispute}" in full.text
    assert f'rel="canonical" href="http://testserver{events[4].get_absolute_url()}"' in full.text
    assert "hx-request" in vary(full)

    fragment = client.get(url, **HX)
    assert not is_full_page(fragment.text)
    assert fragment.text.lstrip().startswith(f"<title>{events[4].title}")
    assert 'data-focus-target="step-title"' in fragment.text
    assert "<h1" not in fragment.text
    assert "hx-request" in vary(fragment)
    restore = client.get(url, **RESTORE)
    assert is_full_page(restore.text)


def test_every_walk_inside_a_dispute_stays_in_the_dispute(client, dispute):
    events = ordered(dispute)
    middle = events[5]
    html = client.get(dispute.step_url(middle.pk)).text
    explorer = html[html.index('id="explorer"') :]
    walking = [a for a in anchors(explorer) if "hx-get" in a and "page=" not in a]
    assert len(walking) > len(events), "rungs, words, previous, next, provoked by, provoked"
    for a in walking:
        href = re.search(r'href="([^"]+)"', a).group(1)
        assert href.startswith(dispute.get_absolute_url() + "events/"), a
        assert f'hx-get="{href}"' in a and 'hx-target="#explorer"' in a, a
        assert 'hx-push-url="true"' in a, a
    prev = [a for a in walking if 'rel="prev"' in a]
    assert f'href="{dispute.step_url(events[4].pk)}"' in prev[0]
    for link in RetaliationLink.objects.filter(response=middle):
        assert dispute.step_url(link.cause_id) in explorer


def test_a_step_on_a_later_page_opens_that_page_of_the_ladder(client, db):
    big = make_dispute(120, seed=3)
    events = ordered(big)
    html = client.get(big.step_url(events[77].pk)).text
    assert "Page 2 of 3" in html
    assert f'id="rung-item-{events[77].pk}"' in html
    assert f'id="rung-item-{events[10].pk}"' not in html


def test_step_query_parameter_leads_to_the_step_address(client, dispute):
    events = ordered(dispute)
    response = client.get(dispute.get_absolute_url(), {"step": events[2].pk})
    assert response.status_code == 301
    assert response["Location"] == dispute.step_url(events[2].pk)
    assert client.get(dispute.get_absolute_url(), {"step": "x"}).status_code == 404


def test_a_step_address_with_a_wrong_event_or_slug(client, dispute):
    other = make_dispute(3, seed=9)
    foreign = ordered(other)[0]
    assert client.get(dispute.step_url(foreign.pk)).status_code == 404
    assert client.get(dispute.step_url(999999)).status_code == 404
    event = ordered(dispute)[1]
    stale = dispute.step_url(event.pk).replace(f"/{dispute.slug}/", "/old-name/")
    response = client.get(stale)
    assert response.status_code == 301 and response["Location"] == dispute.step_url(event.pk)


def test_an_event_page_offers_to_see_it_in_the_dispute(client, dispute):
    event = ordered(dispute)[3]
    html = client.get(event.get_absolute_url()).text
    assert f'href="{dispute.step_url(event.pk)}">See it in the dispute</a>' in html
    keys = "<kbd>→</kbd> next step; on a step or the ladder, <kbd>k</kbd> and <kbd>j</kbd> too"
    assert keys in html  # the keys, documented
    assert f'rel="canonical" href="http://testserver{event.get_absolute_url()}"' in html


# --- walking the chain ---------------------------------------------------------------------


def anchors(html: str) -> list[str]:
    return re.findall(r"<a\b[^>]*>", html)


def test_walk_links_are_real_links_that_htmx_swaps_into_the_step(client, dispute):
    events = ordered(dispute)
    middle = events[5]
    html = client.get(middle.get_absolute_url()).text
    prev = [a for a in anchors(html) if 'rel="prev"' in a]
    nxt = [a for a in anchors(html) if 'rel="next"' in a]
    assert len(prev) == 1 and len(nxt) == 1
    assert f'href="{events[4].get_absolute_url()}"' in prev[0]
    assert f'href="{events[6].get_absolute_url()}"' in nxt[0]
    swapping = [a for a in anchors(html) if "hx-get" in a]
    assert swapping, "the step panel has htmx links"
    for a in swapping:
        href = re.search(r'href="([^"]+)"', a).group(1)
        assert f'hx-get="{href}"' in a, a
        assert 'hx-target="#step"' in a and 'hx-push-url="true"' in a, a
    # provoked-by and provoked neighbours are there, each linking to the other event
    for link in RetaliationLink.objects.filter(response=middle):
        assert link.cause.get_absolute_url() in html
    for link in RetaliationLink.objects.filter(cause=middle):
        assert link.response.get_absolute_url() in html


def test_first_and_last_steps_say_so(client, dispute):
    events = ordered(dispute)
    first = client.get(events[0].get_absolute_url()).text
    assert 'rel="prev"' not in first and "First step" in first
    last = client.get(events[-1].get_absolute_url()).text
    assert 'rel="next"' not in last and "Last step" in last


def test_the_dispute_page_starts_the_walk_at_its_first_step(client, dispute):
    events = ordered(dispute)
    html = client.get(dispute.get_absolute_url()).text
    step = html[html.index('id="step"') :]
    assert '<h2 id="step-title"' in step
    assert events[0].title in step
    assert f'rel="next" href="{dispute.step_url(events[1].pk)}"' in step


def test_focus_target_and_live_region_are_in_place(client, dispute):
    html = client.get(ordered(dispute)[1].get_absolute_url()).text
    assert re.search(r'<h1 id="step-title"[^>]*tabindex="-1"[^>]*data-focus-on-swap', html)
    assert 'id="live"' in html and 'aria-live="polite"' in html


def test_no_inline_scripts_styles_or_handlers(client, dispute):
    pages = [dispute.get_absolute_url(), ordered(dispute)[0].get_absolute_url()]
    pages += [reverse("disputes:search") + "?q=step", Source.objects.first().get_absolute_url()]
    for url in pages:
        html = client.get(url).text
        for script in re.findall(r"<script\b[^>]*>", html):
            # JSON-LD is a data block: the browser never runs it.
            assert "src=" in script or script == '<script type="application/ld+json">', script
        assert not re.search(r"\son[a-z]+=", html), url
        assert not re.search(r"\sstyle=", html), url
        assert "<style" not in html, url


# --- the ladder ----------------------------------------------------------------------------


def test_ladder_places_each_event_in_its_states_lane_in_time_order(client, dispute):
    html = client.get(dispute.get_absolute_url()).text
    lanes = dict(
        zip(
            [c.pk for c in dispute.countries.order_by("name")],
            ["lane-a", "lane-b"],
            strict=True,
        )
    )
    positions = []
    for row, event in enumerate(ordered(dispute), start=1):
        match = re.search(
            rf'<li class="rung row-{row} (lane-[ab])[^"]*"[^>]*>\s*<article[^>]*rung-{event.pk}"',
            html,
        )
        assert match, event
        assert match.group(1) == lanes[event.actor_id]
        positions.append(match.start())
    assert positions == sorted(positions)


def test_ladder_draws_links_with_their_evidence_and_has_legend_and_text(client, dispute):
    html = client.get(dispute.get_absolute_url()).text
    assert re.search(r'class="ladder-link mark-(solid|dashed|hollow|contested)"', html)
    for label in ("Stated or confirmed", "Implied or speculated", "Contested", "Denied"):
        assert label in html
    words = html[html.index('id="words-title"') :]
    for link in RetaliationLink.objects.filter(response__dispute=dispute):
        assert f"Provoked by “{link.cause.title}” ({link.get_evidence_display()}" in words


def test_big_dispute_pages_its_ladder(client, db):
    big = make_dispute(120, seed=3)
    events = ordered(big)
    first = client.get(big.get_absolute_url()).text
    # a link to a step on a later page is in the words, which every width shows
    words = first[first.index('id="words-title"') :]
    later = RetaliationLink.objects.public().filter(cause__in=events[:50], response__in=events[50:])
    assert later, "the generated dispute links across its pages"
    for link in later:
        title = f">{link.response.title}</a>”, on another page of the ladder"
        assert title in words.replace("&#x27;", "'")
    assert first.count('class="rung ') == 50
    # absolute, so that the link still works after htmx pushed a step's URL
    assert f'rel="next" href="{big.get_absolute_url()}?page=2"' in first
    second = client.get(big.get_absolute_url() + "?page=2").text
    assert events[50].title in second and events[49].get_absolute_url() not in re.findall(
        r'rung-title"[^>]*><a href="([^"]+)"', second
    )
    assert f'rel="prev" href="{big.get_absolute_url()}?page=1"' in second
    assert 'rel="canonical" href="http://testserver' + big.get_absolute_url() + '?page=2"' in second
    last = client.get(big.get_absolute_url() + "?page=999")
    assert last.status_code == 200 and last.text.count('class="rung ') == 20
    junk = client.get(big.get_absolute_url() + "?page=abc")
    assert junk.status_code == 200 and junk.text.count('class="rung ') == 50


# --- permalinks ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", PUBLIC_MODELS, ids=lambda m: m.__name__)
def test_stale_slug_redirects_permanently_to_the_canonical_url(client, dispute, model):
    obj = model.objects.first()
    canonical = obj.get_absolute_url()
    wrong = canonical.replace(f"/{obj.slug}/", "/an-old-name/")
    response = client.get(wrong)
    assert response.status_code == 301
    assert response["Location"] == canonical
    short = client.get(canonical.replace(f"{obj.slug}/", ""))
    assert short.status_code == 301 and short["Location"] == canonical


def test_a_dated_title_nests_no_parentheses(client, article):
    """ "The pilots sentenced to 8 1/2 years (2011, not before March 2011 (year inferred))"
    read badly in a tab, a feed reader and an embed."""
    event = Event.objects.get(title__startswith="The pilots sentenced")
    expected = f"{event.title} – 2011, not before March 2011 (year inferred)"
    html = client.get(event.get_absolute_url()).text
    assert f"<title>{expected} · " in html
    assert f"<title>{expected}</title>" in client.get(reverse("disputes:feed")).text
    oembed = client.get(reverse("disputes:oembed"), {"url": event.get_absolute_url()}).json()
    assert oembed["title"] == expected


@pytest.mark.parametrize("model", PUBLIC_MODELS, ids=lambda m: m.__name__)
def test_permalink_pages_carry_canonical_title_and_previews(client, dispute, model):
    obj = model.objects.first()
    response = client.get(obj.get_absolute_url())
    assert response.status_code == 200
    html = response.text
    canonical = "http://testserver" + obj.get_absolute_url()
    assert f'<link id="canonical" rel="canonical" href="{canonical}">' in html
    assert f'<meta property="og:url" content="{canonical}">' in html
    for tag in ('property="og:title"', 'property="og:description"', 'property="og:type"'):
        assert re.search(rf'<meta {tag} content="[^"]+">', html), tag
    assert '<meta property="og:site_name" content="Dispute Explorer">' in html
    card = "summary_large_image" if model is Dispute else "summary"
    assert f'<meta name="twitter:card" content="{card}">' in html
    assert re.search(r'<meta name="twitter:title" content="[^"]+">', html)
    assert re.search(r'<meta name="description" content="[^"]+">', html)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert title.endswith("· Dispute Explorer") and len(title) > len("· Dispute Explorer") + 3


@pytest.mark.parametrize("model", PUBLIC_MODELS, ids=lambda m: m.__name__)
def test_unknown_ids_get_the_sites_own_404(client, db, model):
    url = reverse(model.url_name, kwargs={"pk": 987654, "slug": "nothing"})
    response = client.get(url)
    assert response.status_code == 404
    assert is_full_page(response.text)
    assert "site-header" in response.text and "Not found" in response.text
    assert "with ID 987654" in response.text


def test_unknown_id_via_htmx_is_still_a_404(client, db):
    response = client.get("/events/987654/x/", **HX)
    assert response.status_code == 404


# --- what readers see on each page ---------------------------------------------------------


def test_fuzzy_dates_read_naturally_with_the_inference_visible(client, article):
    court = Event.objects.get(date_year=2011, date_month=12, date_day=28)
    html = client.get(court.get_absolute_url()).text
    assert '<time datetime="2011-12-28">28 Dec 2011</time>' in html
    assert '<span class="inferred">(year inferred)</span>' in html
    # the reason, in words of its own under the step's date
    assert '<p class="date-note"><strong>Year inferred</strong>: not stated. The article' in html
    year_only = Event.objects.get(date_year=2008)
    assert '<time datetime="2008">2008</time>' in client.get(year_only.get_absolute_url()).text
    month = Event.objects.get(date_year=2011, date_month=3)
    assert '<time datetime="2011-03">March 2011</time>' in client.get(month.get_absolute_url()).text


def test_each_link_says_how_long_the_response_took(client, article):
    from disputes.dates import elapsed

    for link in RetaliationLink.objects.select_related("cause", "response"):
        cause, response = link.cause, link.response
        took = elapsed(cause.date, response.date, cause.not_before, response.not_before)
        html = client.get(link.get_absolute_url()).text
        assert f"response time: {took}" in html.replace("&#x27;", "'")
        step = client.get(link.response.get_absolute_url()).text
        assert f"response time: {took}" in step.replace("&#x27;", "'")


def test_a_link_is_drawn_the_same_on_its_own_page_as_in_the_step_panel(client, article):
    """The evidence page shows the mark the ladder and the step panel draw (a link its claims
    dispute is contested there, whatever its own state of evidence)."""
    marks = {}
    for link in RetaliationLink.objects.public().select_related("response"):
        step = client.get(link.response.get_absolute_url()).text
        item = re.search(
            rf'<li class="chain-link mark-(\w+)">(?:(?!</li>).)*{re.escape(link.get_absolute_url())}',
            step,
            re.S,
        )
        page = client.get(link.get_absolute_url()).text
        assert item and f'class="verdict mark-{item[1]}"' in page, link
        assert f'<svg class="mark-sample mark-{item[1]}"' in page, link
        assert ("(contested" in page) == (item[1] == "contested"), link
        marks[link.pk] = item[1]
    assert "contested" in marks.values() and "solid" in marks.values(), marks


def test_facts_are_shown_with_quotes_linking_to_their_sentence(client, article):
    event = Event.objects.get(date_year=2008)
    html = client.get(event.get_absolute_url()).text
    source = Source.objects.get()
    quotes = re.findall(r'<blockquote cite="([^"]+)"><p>([^<]+)</p></blockquote>', html)
    assert quotes
    for url, _quote in quotes:
        assert re.fullmatch(re.escape(source.get_absolute_url()) + r"#s\d+", url)


def test_source_page_anchors_every_sentence_and_highlights_the_cited(client, article):
    source = Source.objects.get()
    html = client.get(source.get_absolute_url()).text
    sentences = list(source.sentences.all())
    for sentence in sentences:
        assert f'id="s{sentence.number}"' in html
    citations = list(source.citations.all())
    cited = [s for s in sentences if any(c.start < s.end and s.start < c.end for c in citations)]
    assert cited and html.count("<mark>") == len(cited)
    assert "Supports:" in html
    event = Event.objects.get(date_year=2008)
    assert event.get_absolute_url() in html
    assert "What cites this source" in html
    # the publisher's appeal after the article is not part of the stored text
    assert "Dear readers" not in html


def test_every_page_of_the_article_renders(client, article):
    for model in PUBLIC_MODELS:
        for obj in model.objects.all():
            response = client.get(obj.get_absolute_url())
            assert response.status_code == 200, obj
    assert client.get(reverse("disputes:home")).status_code == 200


def test_a_source_address_is_linked_only_when_it_is_a_web_address(client, dispute):
    source = Source.objects.get(disputes=dispute)
    Source.objects.filter(pk=source.pk).update(url="https://example.org/story")
    assert 'href="https://example.org/story"' in client.get(source.get_absolute_url()).text
    from disputes.templatetags.explorer import web_url

    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "//evil"):
        assert web_url(bad) == ""
    assert web_url("http://example.org") == "http://example.org"


def test_a_date_bounded_by_an_earlier_step_says_not_before_with_its_reason(client, dispute):
    event = ordered(dispute)[-1]
    Event.objects.filter(pk=event.pk).update(
        date_year=2040,
        date_month=None,
        date_day=None,
        not_before_year=2040,
        not_before_month=3,
        not_before_inferred="told after the March step",
    )
    event.refresh_from_db()
    html = client.get(event.get_absolute_url()).text
    assert '<time datetime="2040">2040</time>' in html
    assert ', not before <time datetime="2040-03">March 2040</time>' in html
    assert "<strong>Not before March 2040</strong>: told after the March step</p>" in html
    assert f"<title>{event.title} – 2040, not before March 2040" in html


def test_steps_named_beside_a_step_say_which_part_of_their_date_is_inferred(client, dispute):
    """The previous and next steps and the chain further on carry their dates as the steps'
    own pages do: a year the source does not give is said to be inferred, not shown as if
    the source stated it."""
    link = RetaliationLink.objects.public().select_related("cause", "response").first()
    events = ordered(dispute)
    after = events[events.index(link.cause) + 1]
    Event.objects.filter(pk__in=[link.response.pk, after.pk]).update(
        date_inferred="year: reported as recent news"
    )
    html = client.get(link.cause.get_absolute_url()).text

    nav = re.search(r'<nav class="walk".*?</nav>', html, re.S).group(0)
    next_step = re.search(r'<a class="walk-next".*?</a>', nav, re.S).group(0)
    assert after.title in next_step
    assert '<span class="inferred">(year inferred)</span>' in next_step
    further = re.search(r'<section class="further".*?</section>', html, re.S).group(0)
    reached = [item for item in further.split("<li>") if f">{link.response.title}<" in item]
    assert reached and '<span class="inferred">(year inferred)</span>' in reached[0]


def test_a_persons_detention_lists_the_steps_about_them_that_name_no_detention(client, article):
    """A step about two detained pilots can name neither pilot's detention (a step has one),
    yet each pilot's detention page lists it: the steps that name the person, taken by the
    holding country in the dispute. Another country's reaction is not a step of it, and a
    step that names a detention stays with that one."""
    for detention in Detention.objects.public().select_related("holding_country"):
        page = client.get(detention.get_absolute_url()).text
        steps = re.search(r'<section aria-labelledby="events-title">.*?</section>', page, re.S)
        listed = set(re.findall(r'href="/events/(\d+)/', steps.group(0)))
        if not detention.person_id:
            expected = set(detention.events.public().values_list("pk", flat=True))
        else:
            expected = {
                event.pk
                for event in Event.objects.public().filter(dispute=detention.dispute)
                if event.detention_id == detention.pk
                or (
                    event.detention_id is None
                    and event.actor_id == detention.holding_country_id
                    and detention.person in event.people.all()
                )
            }
        assert listed == {str(pk) for pk in expected}, detention
    pilots = [d for d in Detention.objects.public() if d.person and "pilot" in str(d.person)]
    assert len(pilots) == 2
    for detention in pilots:
        page = client.get(detention.get_absolute_url()).text
        assert "None recorded" not in page
        for title in ("detains a Russian pilot", "pilots sentenced", "Both pilots freed"):
            assert title in page
        assert "politically motivated" not in page  # Russia's reaction: not Tajikistan's step


def test_a_claim_reads_as_it_is_reported_whoever_the_claimant_is(client, article):
    """Claimants are what the source calls them ("observers", "Konstantin Rybalov,
    Khukumov's lawyer"), and a claim is reported as the article reports it: "observers
    speculated", "the Kremlin denied" ("observers speculates" was wrong), the same on the
    link page, in the chain list of a step, in search and in the data."""
    from html import unescape

    from django.utils.html import strip_tags

    from disputes.models import Claim

    claims = list(Claim.objects.public().select_related("link"))
    assert any(claim.claimant == "observers" for claim in claims)
    for claim in claims:
        said = f"{claim.claimant} {claim.get_stance_display()}"
        assert str(claim) == said and claim.get_stance_display().endswith("ed")
        page = unescape(strip_tags(client.get(claim.link.get_absolute_url()).text))
        # the claimant, with the country it speaks for in brackets where one is recorded
        label = claim.get_stance_display()
        assert re.search(rf"{re.escape(claim.claimant)}( \([^)]*\))? {label}", page)
        for end in (claim.link.cause, claim.link.response):
            step = unescape(client.get(end.get_absolute_url()).text)
            assert said in step
        twin = client.get(claim.link.get_absolute_url().rstrip("/") + ".json").json()
        assert {"claimant": claim.claimant, "stance_label": label} in [
            {"claimant": c["claimant"], "stance_label": c["stance_label"]} for c in twin["claims"]
        ]
    found = client.get("/search/", {"q": "observers"}).text
    assert "observers speculated" in found and "observers speculates" not in found


def test_a_source_whose_title_names_its_publisher_is_described_with_it_once(client, article):
    source = Source.objects.get()
    assert source.title.startswith(f"{source.publisher}: ")
    page = client.get(source.get_absolute_url()).text
    description = re.search(r'<meta name="description" content="([^"]*)"', page).group(1)
    assert description.count(source.publisher) == 1
    Source.objects.filter(pk=source.pk).update(title="Son of an official cleared")
    source.refresh_from_db()
    page = client.get(source.get_absolute_url()).text
    description = re.search(r'<meta name="description" content="([^"]*)"', page).group(1)
    assert description.startswith(f"{source.publisher}: Son of an official cleared. ")


def test_the_lines_date_reasons_cite_are_numbered_on_the_source_page(client, article):
    """Editors' date reasons point at lines of the source ("freed in November (line 8)"),
    and every surface repeats them: the source page numbers its lines (#line-8), each
    holding the sentences that start on it, so a reader can find any line a reason names."""
    from disputes.dates import date_reasons
    from disputes.sources import line_references, sentences_on_lines

    source = Source.objects.get()
    page = client.get(source.get_absolute_url()).text
    lines = re.findall(r'<p id="line-(\d+)" class="source-line">(.*?)</p>', page, re.S)
    assert [int(n) for n, _ in lines] == list(range(1, source.text.count("\n") + 2))
    cited = {
        n
        for event in Event.objects.public()
        for _, reason in date_reasons(event)
        for n in line_references(reason)
    }
    assert 8 in cited
    sentences = source.sentences.values_list("number", "start")
    on_lines = sentences_on_lines(source.text, sentences, range(1, len(lines) + 1))
    for number, body in lines:
        assert f'href="#line-{number}">line {number}</a>' in body
        assert re.findall(r'id="s(\d+)"', body) == [str(n) for n in on_lines[int(number)]]


def test_the_chain_is_not_walked_on_through_a_link_only_denied(client, article):
    """The lawyer denied that politics had anything to do with the acquittal, and nobody
    says otherwise: the pilots' detention lists the acquittal under "Provoked", as denied,
    but the chain through the conviction and the detention does not run on to it."""
    link = RetaliationLink.objects.public().get(evidence="denied")
    detained, cleared = link.cause, link.response
    page = client.get(detained.get_absolute_url()).text
    provoked = re.search(
        r'<section class="neighbours" aria-labelledby="provoked-title">.*?</section>', page, re.S
    )
    assert cleared.title in provoked.group(0) and "Denied" in provoked.group(0)
    for step in (detained, RetaliationLink.objects.public().get(response=detained).cause):
        page = client.get(step.get_absolute_url()).text
        further = re.search(r'<section class="further".*?</section>', page, re.S)
        assert further is None or cleared.title not in further.group(0), step
