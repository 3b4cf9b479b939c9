"""The ladder's picture (disputes/ladder.py): time to scale, gaps cut out and said, fuzzy dates
as spans, and each link drawn with the mark of its evidence."""

import datetime
import random
import re

import pytest

from disputes import ladder
from disputes.models import Claim, Dispute, RetaliationLink

D = datetime.date


def step(pk, first, last=None, lane="a", title="A step"):
    return ladder.Step(pk, lane, title, str(first), first_day=first, last_day=last or first)


@pytest.mark.parametrize("seed", range(6))
def test_positions_are_monotonic_in_time_and_proportional_within_a_segment(seed):
    rng = random.Random(seed)
    start = D(2000, 1, 1)
    days = sorted(start + datetime.timedelta(days=rng.randrange(4000)) for _ in range(30))
    steps = [step(i, day, lane=rng.choice("ab")) for i, day in enumerate(days)]
    drawn = ladder.layout(steps, [])
    ys = [s.y0 for s in steps]
    assert ys == sorted(ys)
    assert all(a < b for a, b in zip(ys, ys[1:], strict=False) if a != b)
    scale = drawn.px_per_day
    for segment in drawn.segments:
        inside = [s for s in steps if segment.first <= s.first_day <= segment.last]
        for s in inside:
            assert s.y0 == pytest.approx(segment.y0 + (s.first_day - segment.first).days * scale)
    # a later segment starts below the end of the one before, past a break
    for before, after in zip(drawn.segments, drawn.segments[1:], strict=False):
        assert after.y0 == pytest.approx(before.y1 + ladder.BREAK_PX)


def test_steps_close_in_time_stay_in_one_segment_at_one_scale():
    days = [D(2011, 3, 1), D(2011, 3, 8), D(2011, 3, 15), D(2011, 3, 22), D(2011, 3, 29)]
    steps = [step(i, day, lane="ab"[i % 2]) for i, day in enumerate(days)]
    drawn = ladder.layout(steps, [])
    assert len(drawn.segments) == 1 and drawn.breaks == []
    for a in steps:
        for b in steps:
            assert b.y0 - a.y0 == pytest.approx((b.first_day - a.first_day).days * drawn.px_per_day)


def test_a_long_empty_stretch_is_cut_out_and_says_how_long():
    steps = [
        step(1, D(2008, 1, 1), D(2008, 12, 31)),
        step(2, D(2010, 1, 1), D(2010, 12, 31), lane="b"),
        step(3, D(2010, 6, 1)),
        step(4, D(2010, 6, 3), lane="b"),
        *(step(5 + i, D(2010, 7 + i, 1), lane="ab"[i % 2]) for i in range(4)),
    ]
    drawn = ladder.layout(steps, [])
    assert len(drawn.segments) == 2
    [cut] = drawn.breaks
    assert cut.label == "1 year with nothing recorded"
    assert cut.y0 == pytest.approx(drawn.segments[0].y1)
    assert cut.y1 == pytest.approx(drawn.segments[1].y0)
    assert cut.height == pytest.approx(ladder.BREAK_PX)
    # each segment is at the same scale, and order survives the cut
    scale = drawn.px_per_day
    for segment in drawn.segments:
        days = (segment.last - segment.first).days + 1
        assert segment.y1 - segment.y0 == pytest.approx(days * scale)
    assert [s.y0 for s in steps] == sorted(s.y0 for s in steps)
    # a two-day lag is drawn as two days, far shorter than a year and never cut out
    two_days = steps[3].y0 - steps[2].y0
    assert two_days == pytest.approx(2 * scale)
    assert steps[1].bar_height > 100 * two_days


def test_a_fuzzy_date_is_drawn_as_the_span_it_covers():
    year = step(1, D(2011, 1, 1), D(2011, 12, 31))
    month = step(2, D(2011, 11, 1), D(2011, 11, 30), lane="b")
    day = step(3, D(2011, 12, 28))
    drawn = ladder.layout([year, month, day], [])
    scale = drawn.px_per_day
    assert year.bar_height == pytest.approx(365 * scale)
    assert month.bar_height == pytest.approx(30 * scale)
    assert day.bar_height >= ladder.MIN_BAR
    assert year.bar_height > month.bar_height > day.bar_height
    # bars that overlap in time in one lane stand side by side
    also_2011 = step(4, D(2011, 3, 1), D(2011, 12, 31))
    ladder.layout([year, also_2011], [])
    assert year.bar_x != also_2011.bar_x


def test_cards_never_overlap_in_a_lane_and_undated_steps_come_last():
    same_day = [step(i, D(2011, 11, 5)) for i in range(4)]
    undated = ladder.Step(9, "a", "Undated", "date not given")
    drawn = ladder.layout([*same_day, undated], [])
    cards = [*same_day, undated]
    for above, below in zip(cards, cards[1:], strict=False):
        assert below.card_y >= above.card_y + above.card_h
    assert undated.y0 > same_day[-1].y1
    assert drawn.height >= undated.card_y + undated.card_h


@pytest.mark.parametrize(
    ("evidence", "stances", "mark"),
    [
        ("stated", ["asserts"], ladder.SOLID),
        ("confirmed", ["confirms"], ladder.SOLID),
        ("implied", ["implies"], ladder.DASHED),
        ("speculated", ["speculates", "speculates"], ladder.DASHED),
        ("denied", ["denies"], ladder.HOLLOW),
        ("denied", [], ladder.HOLLOW),
        ("confirmed", ["denies", "confirms"], ladder.CONTESTED),
        ("speculated", ["denies", "asserts"], ladder.CONTESTED),
        ("denied", ["asserts"], ladder.CONTESTED),
    ],
)
def test_the_mark_of_a_link_follows_its_evidence(evidence, stances, mark):
    assert ladder.mark_of(evidence, stances) == mark


def test_each_link_has_its_own_route_between_its_two_steps():
    steps = [
        step(1, D(2011, 1, 1)),
        step(2, D(2011, 2, 1), lane="b"),
        step(3, D(2011, 3, 1)),
        step(4, D(2011, 4, 1), lane="b"),
    ]
    links = [
        ladder.Link(10, 1, 2, ladder.SOLID),
        ladder.Link(11, 1, 4, ladder.DASHED),
        ladder.Link(12, 2, 3, ladder.HOLLOW),
        ladder.Link(13, 1, 3, ladder.CONTESTED),
        ladder.Link(14, 1, 99, ladder.SOLID),  # its response is on another page
    ]
    drawn = ladder.layout(steps, links)
    assert {link.id for link in drawn.links} == {10, 11, 12, 13}
    where = {s.id: s for s in steps}
    for link in drawn.links:
        cause, response = where[link.cause_id], where[link.response_id]
        assert link.start[0] == cause.rail_x and link.end[0] == response.rail_x
        assert cause.y0 - 10 <= link.start[1] <= cause.y1 + 10
        assert response.y0 - 10 <= link.end[1] <= response.y1 + 10
        assert ladder.RAIL_A < link.track_x < ladder.RAIL_B
        assert link.path.startswith(f"M{link.start[0]:.1f} {link.start[1]:.1f}")
    # links whose spans overlap run on different tracks
    assert len({link.track_x for link in drawn.links if link.cause_id == 1}) == 3


# --- the picture on the dispute page ------------------------------------------------------


def svg_of(html: str) -> str:
    return html[html.index('<svg class="ladder-svg"') : html.index("</svg>\n    <figcaption")]


def test_every_link_on_the_page_is_drawn_with_the_mark_of_its_evidence(client, article):
    dispute = Dispute.objects.get()
    svg = svg_of(client.get(dispute.get_absolute_url()).text)
    drawn = {
        int(pk): mark
        for mark, pk in re.findall(r'class="ladder-link mark-(\w+)" id="ladder-link-(\d+)"', svg)
    }
    links = RetaliationLink.objects.public()
    assert set(drawn) == set(links.values_list("pk", flat=True))
    for link in links:
        stances = Claim.objects.public().filter(link=link).values_list("stance", flat=True)
        assert drawn[link.pk] == ladder.mark_of(link.evidence, stances), link
        assert f'<a href="{link.get_absolute_url()}" class="ladder-link' in svg
    # the article has every kind: the Kremlin denies what insiders confirm (contested), the
    # lawyer's denial nobody asserts (hollow), a stated link, speculation and implication
    by_evidence = {link.evidence: drawn[link.pk] for link in links}
    assert by_evidence == {
        "speculated": "dashed",
        "stated": "solid",
        "confirmed": "contested",
        "implied": "dashed",
        "denied": "hollow",
    }


def test_the_article_is_drawn_to_scale_with_its_year_bars_gap_and_inferences(client, article):
    dispute = Dispute.objects.get()
    html = client.get(dispute.get_absolute_url()).text
    svg = svg_of(html)
    assert "1 year with nothing recorded" in svg  # 2009
    bars = re.findall(
        r'<rect class="bar lane-\w( inferred)?" x="[\d.]+" y="([\d.]+)" width="6" '
        r'height="([\d.]+)" data-first="([\d-]+)" data-last="([\d-]+)"><title>([^<]*)</title>',
        svg,
    )
    assert len(bars) == 8
    spans = {(first, last) for _, _, _, first, last, _ in bars}
    assert ("2008-01-01", "2008-12-31") in spans  # a year is a bar
    assert ("2011-12-28", "2011-12-28") in spans  # a day is a point
    assert ("2011-03-01", "2011-12-31") in spans  # a year narrowed by "not before March"
    heights = {(first, last): float(h) for _, _, h, first, last, _ in bars}
    assert heights[("2008-01-01", "2008-12-31")] > 10 * heights[("2011-11-01", "2011-11-30")]
    inferred = [title for mark, _, _, _, _, title in bars if mark]
    assert len(inferred) == 5
    assert all("inferred" in title for title in inferred)
    # each card is a link that walks to its step, inside the dispute
    for event in dispute.events.all():
        assert f'<a href="{dispute.step_url(event.pk)}" hx-get=' in svg
    assert '<figcaption id="ladder-caption"' in html
    for label in ("Stated or confirmed", "Implied or speculated", "Contested", "Denied"):
        assert label in html


def test_an_inferred_date_says_why_with_its_sentences_linked(client, article):
    dispute = Dispute.objects.get()
    sentenced = dispute.events.get(title__startswith="The pilots sentenced")
    source = dispute.sources.get().get_absolute_url()
    html = client.get(dispute.step_url(sentenced.pk)).text
    assert "<strong>Year inferred from sentences 4 and 8–10</strong>: not stated; after" in html
    assert f'<a href="{source}#s4">line 4 (sentence 4)</a>' in html
    # a line of three sentences names all three (the pilots are freed in the third)
    assert f'<a href="{source}#s8">line 8 (sentences 8–10)</a>' in html
    assert "<strong>Not before March 2011, from sentences 4–5</strong>" in html
    # the same words on the event's own page
    assert (
        "Year inferred from sentences 4 and 8–10" in client.get(sentenced.get_absolute_url()).text
    )
    # a reason that points at no line is shown as it is
    cleared = dispute.events.get(title__startswith="A Moscow region court")
    html = client.get(cleared.get_absolute_url()).text
    assert "<strong>Year inferred</strong>: not stated. The article reports" in html


def test_line_references_lead_to_the_sentences_on_those_lines():
    from disputes.sources import line_references, sentences_on_lines, split_sentences

    text = "One. Two.\nThree.\n\nFour. Five. Six."
    sentences = [(n, start) for n, (start, _) in enumerate(split_sentences(text), start=1)]
    assert line_references("after line 4 (and line 2), not line 4 again") == [4, 2]
    assert sentences_on_lines(text, sentences, [1, 2, 3, 4]) == {
        1: [1, 2],
        2: [3],
        3: [],
        4: [4, 5, 6],
    }


# --- the preview: a picture of the ladder --------------------------------------------------


def test_the_dispute_previews_as_a_picture_of_its_ladder_kept_by_record_version(
    client, article, django_assert_max_num_queries
):
    import io

    from PIL import Image

    from bench.generate import publish
    from disputes.models import Event

    dispute = Dispute.objects.get()
    html = client.get(dispute.get_absolute_url()).text
    image_url = re.search(r'<meta property="og:image" content="http://testserver([^"]+)">', html)
    assert image_url, "the page names its preview"
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert '<meta property="og:image:alt" content="The ladder of' in html
    path = image_url.group(1)
    assert path.startswith(dispute.get_absolute_url() + "ladder.png?v=")

    response = client.get(path)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "public" in response["Cache-Control"]
    picture = Image.open(io.BytesIO(response.content))
    assert picture.size == (1200, 630)
    # kept whole by the page cache: the next request reads only the record's version
    with django_assert_max_num_queries(1):
        again = client.get(path)
    assert again.content == response.content

    # an edit changes the record's version: a new address, and a new picture
    first = Event.objects.filter(dispute=dispute).in_time_order().first()
    publish(
        Event.objects.create(
            dispute=dispute, kind="other", title="A step of 2009", actor=first.actor, date_year=2009
        )
    )
    html = client.get(dispute.get_absolute_url()).text
    new_path = re.search(r'<meta property="og:image" content="http://testserver([^"]+)">', html)
    assert new_path.group(1) != path
    assert client.get(new_path.group(1)).content != response.content
    # an old slug leads to the picture's current address
    stale = client.get(path.split("?")[0].replace(dispute.slug, "old-name"))
    assert stale.status_code == 301
    assert stale["Location"] == dispute.get_absolute_url() + "ladder.png"


def test_pages_with_no_step_one_step_or_no_dates_are_drawn():
    assert ladder.layout([], []).segments == []
    [only] = ladder.layout([step(1, D(2011, 12, 28))], []).steps
    assert only.bar_height >= ladder.MIN_BAR
    undated = [ladder.Step(i, "ab"[i % 2], f"Undated {i}", "date not given") for i in range(3)]
    drawn = ladder.layout(undated, [ladder.Link(1, 0, 2, ladder.DASHED)])
    assert drawn.segments == [] and drawn.undated_y is not None
    assert [s.y0 for s in undated] == sorted(s.y0 for s in undated)
    assert len(drawn.links) == 1


def test_a_link_between_steps_at_one_height_runs_level_unless_another_meets_it_there():
    """A link across the gutter between steps a few pixels apart in height runs level and
    steps to its end beside the rail; but where another link reaches that end near the
    level line's height, it takes a track as other links do, or the two would run as one."""
    from types import SimpleNamespace

    from disputes.ladder import LINK_END_GAP, RAIL_A, RAIL_B, Link, _route

    def step(pk, lane, y):
        return SimpleNamespace(
            id=pk, lane=lane, anchor_y=y, rail_x=RAIL_A if lane == "a" else RAIL_B
        )

    alone = _route([step(1, "a", 101.0), step(2, "b", 104.0)], [Link(1, 1, 2, "solid")])
    assert alone[0].path == f"M{RAIL_A:.1f} 101.0H{RAIL_B - LINK_END_GAP:.1f}V104.0H{RAIL_B:.1f}"
    steps = [step(1, "a", 101.0), step(2, "b", 104.0), step(3, "a", 20.0)]
    routed = {x.id: x for x in _route(steps, [Link(2, 3, 2, "solid"), Link(1, 1, 2, "solid")])}
    # the other link reaches step 2 at 100.5, half a pixel from the level line's 101
    assert routed[2].end[1] == 100.5
    assert routed[1].track_x < RAIL_B - LINK_END_GAP  # a track, not the level route
