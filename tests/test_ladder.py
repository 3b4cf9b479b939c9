"""The dispute page's ladder: the dispute's steps in time order, fifty to a page."""

import re

from bench.generate import make_dispute, publish
from disputes.models import Dispute, Event
from disputes.views import LADDER_PAGE


def ragged_dispute(n_events: int, seed: int):
    """A generated dispute, with steps that share a date and a sequence number, undated
    steps (which come last) with tied sequence numbers, and a page that runs from the
    dated steps into the undated ones."""
    dispute = make_dispute(n_events, seed=seed)
    dated = list(Event.objects.filter(dispute=dispute).in_time_order())
    actor = dated[0].actor
    for i, twin in enumerate(dated[::7]):
        publish(Event.objects.create(
            dispute=dispute, kind="other", title=f"Same day {i}", actor=actor,
            date_year=twin.date_year, date_month=twin.date_month, date_day=twin.date_day,
            sequence=twin.sequence + (i % 2),
        ))  # fmt: skip
    publish(
        *(
            Event.objects.create(
                dispute=dispute, kind="other", title=f"Undated {i}", actor=actor, sequence=i % 3
            )
            for i in range(123)
        )
    )
    return dispute


def rungs(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="rung-item-(\d+)"', html)]


def test_the_pages_hold_every_step_once_in_time_order(client, db):
    dispute = ragged_dispute(230, seed=11)
    in_order = list(
        Event.objects.filter(dispute=dispute).in_time_order().values_list("pk", flat=True)
    )
    pages = -(-len(in_order) // LADDER_PAGE)
    seen = []
    for page in range(1, pages + 1):
        html = client.get(dispute.get_absolute_url(), {"page": page}).text
        assert f"Page {page} of {pages}" in html
        seen += rungs(html)
    assert seen == in_order


def test_a_dispute_without_steps_has_one_empty_page(client, db):
    [dispute] = publish(Dispute.objects.create(title="Nothing yet"))
    response = client.get(dispute.get_absolute_url() + "?page=4")
    assert response.status_code == 200
    assert response.context["ladder"]["rows"] == []
    assert "No steps are recorded yet." in response.text


def test_a_new_step_renumbers_every_page_on_the_next_request(client, db):
    dispute = make_dispute(120, seed=4)
    last_page = client.get(dispute.get_absolute_url(), {"page": 3}).text
    assert len(rungs(last_page)) == 20
    first = Event.objects.filter(dispute=dispute).in_time_order().first()
    publish(
        Event.objects.create(
            dispute=dispute,
            kind="other",
            title="Earliest of all",
            actor=first.actor,
            date_year=1900,
        )
    )
    first_page = client.get(dispute.get_absolute_url()).text
    assert "Earliest of all" in first_page
    assert len(rungs(client.get(dispute.get_absolute_url(), {"page": 3}).text)) == 21
