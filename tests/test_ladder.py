"""The dispute page's ladder, paged by where each page starts (disputes/ladder.py)."""

from disputes import ladder
from disputes.models import Dispute, Event
from disputes.synthetic import make_dispute
from tests.test_views_queries import analyze, page_work


def ragged_dispute(n_events: int, seed: int):
    """A generated dispute, with steps that share a date and a sequence number, undated
    steps (which come last) with tied sequence numbers, and a page that runs from the
    dated steps into the undated ones."""
    dispute = make_dispute(n_events, seed=seed)
    dated = list(Event.objects.filter(dispute=dispute).in_time_order())
    actor = dated[0].actor
    for i, twin in enumerate(dated[::7]):
        Event.objects.create(
            dispute=dispute, kind="other", title=f"Same day {i}", actor=actor,
            date_year=twin.date_year, date_month=twin.date_month, date_day=twin.date_day,
            sequence=twin.sequence + (i % 2),
        )  # fmt: skip
    for i in range(123):
        Event.objects.create(
            dispute=dispute, kind="other", title=f"Undated {i}", actor=actor, sequence=i % 3
        )
    return dispute


def test_every_page_holds_the_steps_that_skipping_ahead_would_give(db):
    dispute = ragged_dispute(230, seed=11)
    in_order = list(
        Event.objects.filter(dispute=dispute).in_time_order().values_list("pk", flat=True)
    )
    total, starts = ladder.bounds(dispute.pk, version=1)
    assert total == len(in_order)
    assert len(starts) == -(-total // ladder.PAGE_SIZE)
    undated_pages = [i for i, start in enumerate(starts) if start[0] is None]
    assert undated_pages and undated_pages[0] > 0  # undated pages, and one that crosses over
    for page in range(1, len(starts) + 1):
        offset = (page - 1) * ladder.PAGE_SIZE
        found = (
            Event.objects.filter(dispute=dispute)
            .filter(ladder.page_filter(starts, page))
            .in_time_order()
            .values_list("pk", flat=True)
        )
        assert list(found) == in_order[offset : offset + ladder.PAGE_SIZE], page


def test_a_dispute_without_steps_has_one_empty_page(client, db):
    dispute = Dispute.objects.create(title="Nothing yet")
    assert ladder.bounds(dispute.pk, version=1) == (0, [])
    response = client.get(dispute.get_absolute_url() + "?page=4")
    assert response.status_code == 200
    assert response.context["ladder"]["rows"] == []


def test_the_bounds_are_read_once_per_record_version(db, django_assert_num_queries):
    dispute = make_dispute(120, seed=4)
    with django_assert_num_queries(1):
        first = ladder.bounds(dispute.pk, version=1)
    with django_assert_num_queries(0):
        assert ladder.bounds(dispute.pk, version=1) == first
    Event.objects.create(
        dispute=dispute, kind="other", title="Late", actor=dispute.countries.first()
    )
    with django_assert_num_queries(1):
        total, _starts = ladder.bounds(dispute.pk, version=2)
    assert total == first[0] + 1


def test_a_new_step_renumbers_every_page_on_the_next_request(client, db):
    dispute = make_dispute(120, seed=4)
    last = dispute.get_absolute_url() + "?page=3"
    before = client.get(last).context["ladder"]
    assert (before["total"], before["pages"], len(before["rows"])) == (120, 3, 20)
    early = Event.objects.filter(dispute=dispute).in_time_order().first()
    Event.objects.create(
        dispute=dispute, kind="other", title="Earliest of all", actor=early.actor,
        date_year=early.date_year - 1,
    )  # fmt: skip
    after = client.get(last).context["ladder"]
    assert (after["total"], after["pages"], len(after["rows"])) == (121, 3, 21)
    first_page = client.get(dispute.get_absolute_url()).context["ladder"]
    assert first_page["rows"][0]["event"].title == "Earliest of all"


def test_a_late_page_of_a_long_dispute_reads_as_little_as_an_early_one(client, db):
    """Once a worker knows where the pages start, no statement of the 50th page of 3,000
    steps reads more of the events table than the same statement of the 2nd page: nothing
    counts the dispute's steps or skips over the 2,450 before the page."""
    dispute = make_dispute(3000, seed=6)
    analyze()
    urls = [dispute.get_absolute_url() + f"?page={page}" for page in (2, 50)]
    for url in urls:  # where the pages start, read once for this version of the record
        assert client.get(url).status_code == 200

    # The statements that read the dispute's steps (not the step panel's of the page's
    # first step, which reads as much as that step has links and people).
    def of_the_dispute(sql):
        return '"disputes_event"."dispute_id" = ' in sql

    early, late = (page_work(client, url, of_the_dispute) for url in urls)
    assert len(late) == len(early) >= 1
    grown = [(e, g) for e, g in zip(early, late, strict=True) if g > 1.25 * e + 4]
    assert not grown, f"{early} {late}"
