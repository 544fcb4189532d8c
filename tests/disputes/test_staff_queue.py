"""The staff queue of disputes: by the next deadline, what is late red and saying so, what is close amber;
the filters (amount at stake, segment, repeat complaints, assignee, closed ones) work without JavaScript."""

from __future__ import annotations

import re

import pytest
import time_machine

from portal.disputes.models import Dispute
from portal.disputes.services import withdraw
from tests.disputes.staff_support import NOW, QUEUE, opened, queue_rows, text_of
from tests.fixtures.factories import TEST_ACTOR


def test_the_queue_is_ordered_by_the_next_deadline_and_marks_late_and_close_ones(
    client, session, staff_login, energy_invoice, dispute_on, create_customer
) -> None:
    late = opened(dispute_on, energy_invoice(create_customer(name="Lotte Late")), days_ago=10)
    fresh = opened(dispute_on, energy_invoice(create_customer(name="Frits Fresh")), days_ago=1)  # due tomorrow
    answered = opened(dispute_on, energy_invoice(create_customer(name="Anna Answered")), days_ago=3)
    found = session.get(Dispute, answered.id)
    found.first_responded_at = NOW  # answered: its resolution counts now, 10 business days after opening
    found.status = "in_progress"
    session.commit()

    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="en")
        response = client.get(QUEUE)
        html = response.get_data(as_text=True)
    assert response.mimetype == "text/html", "a page, not its source"
    rows = queue_rows(html)
    assert [row.count(name) for row, name in zip(rows, ["Lotte", "Frits", "Anna"], strict=True)] == [1, 1, 1]
    assert late.reference in rows[0] and fresh.reference in rows[1] and answered.reference in rows[2]
    # Late: the row is red and says it in words; the one due tomorrow is close: amber, "Due soon".
    assert rows[0].startswith(' class="late"') and "Past deadline" in text_of(rows[0])
    assert rows[1].startswith(' class="due-soon"') and "Due soon" in text_of(rows[1])
    assert "Past deadline" not in rows[2] and "Due soon" not in rows[2]
    assert "first answer" in text_of(rows[0]) and "decision" in text_of(rows[2])
    assert f'href="/staff/disputes/{late.id}"' in rows[0]
    assert "€66.55" in rows[0] and late.invoices[0].invoice.number in rows[0]
    assert "3 disputes are open" in text_of(html)
    assert re.search(r'<a href="/staff/disputes/"[^>]*aria-current="page"', html), "in the staff menu"


def test_the_filters(client, session, staff_login, energy_invoice, dispute_on, create_customer) -> None:
    consumer = create_customer(name="Carla Consumer")
    small = opened(dispute_on, energy_invoice(consumer), lines=[1], days_ago=2)  # one line: 30,25 at stake
    repeat = opened(dispute_on, energy_invoice(consumer), days_ago=1)  # the same reason again: a repeat
    business = opened(dispute_on, energy_invoice(create_customer(name="Bart BV", kind="business")), days_ago=1)
    closed = opened(dispute_on, energy_invoice(create_customer(name="Wim Withdrawn")), days_ago=1)
    withdraw(session, session.get(Dispute, closed.id), actor=TEST_ACTOR)
    session.commit()

    with time_machine.travel(NOW, tick=False):
        me = staff_login(client, "agent", language="en")
        session.get(Dispute, business.id).assigned_to_id = me.id
        session.commit()

        def shown(**args) -> str:
            response = client.get(QUEUE, query_string=args)
            assert response.status_code == 200
            return response.get_data(as_text=True).split('class="dispute-queue"', 1)[-1]

        everything = shown()
        assert all(d.reference in everything for d in (small, repeat, business))
        assert closed.reference not in everything
        at_least_50 = shown(min="50,00")
        assert small.reference not in at_least_50 and repeat.reference in at_least_50
        assert business.reference in shown(kind="business") and repeat.reference not in shown(kind="business")
        consumers = shown(kind="consumer")
        assert repeat.reference in consumers and business.reference not in consumers
        repeats = shown(repeat="1")
        assert repeat.reference in repeats and small.reference not in repeats and business.reference not in repeats
        mine = shown(assigned="me")
        assert business.reference in mine and small.reference not in mine
        nobodys = shown(assigned="unassigned")
        assert business.reference not in nobodys and small.reference in nobodys
        closed_view = shown(view="closed")
        assert closed.reference in closed_view and small.reference not in closed_view
        assert "Withdrawn by the customer" in closed_view


@pytest.mark.parametrize("typed", ["lots", "12,345", "-5"])
def test_an_amount_that_is_not_one_is_explained(client, session, staff_login, typed) -> None:
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="en")
        response = client.get(QUEUE, query_string={"min": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'class="error" id="min-error"' in html and "for example 25.00" in text_of(html).replace("12.50", "25.00")


def test_the_queue_in_dutch(client, session, staff_login, energy_invoice, dispute_on) -> None:
    opened(dispute_on, energy_invoice(), days_ago=10)
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "agent", language="nl")
        html = client.get(QUEUE).get_data(as_text=True)
    assert '<html lang="nl">' in html and "66,55" in html
