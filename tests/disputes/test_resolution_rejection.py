"""Rejecting a dispute: the reasons and a new due date. The disputed part is asked for again at once, while
reminders wait until the end of the new due date where the customer lives, and not a moment longer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from portal.accounts.held import held_cents, payable_cents
from portal.accounts.pausing import pause_reason
from portal.accounts.view import balance_of, dunnable_invoices
from portal.disputes.errors import DisputeProblem
from portal.disputes.models import Dispute
from portal.disputes.resolution import reject
from portal.errors import message_for
from portal.i18n import force_locale
from tests.disputes.resolution_support import NOW, events_of
from tests.fixtures.factories import TEST_ACTOR

NEW_DUE = date(2026, 12, 16)
# The end of 16 December in Amsterdam (winter time, UTC+1): 23:00 UTC.
END_OF_NEW_DUE = datetime(2026, 12, 16, 23, 0, tzinfo=UTC)


def _reject(session, dispute, new_due_on=NEW_DUE, reason="The reading on your photo matches the invoice."):
    with time_machine.travel(NOW, tick=False):
        reject(session, dispute, reason=reason, new_due_on=new_due_on, staff=None, actor=TEST_ACTOR)


def _dunnable(session, at: datetime) -> set[int]:
    return {row.id for row in session.execute(dunnable_invoices(at, at.date()))}


def test_a_rejection_asks_for_the_disputed_part_again_at_once(in_app, session, energy_invoice, dispute_on):
    invoice = energy_invoice()
    dispute = dispute_on(invoice, lines=[2])
    assert held_cents(session, [invoice.id]) == {invoice.id: 1210}
    assert payable_cents(invoice, held_cents(session, [invoice.id])) == 5445

    _reject(session, dispute)
    session.commit()

    assert held_cents(session, [invoice.id]) == {}
    assert payable_cents(invoice, held_cents(session, [invoice.id])) == 6655
    assert balance_of(session, invoice.customer, now=NOW).open == {"EUR": 6655}, "nothing was credited"
    done = session.get(Dispute, dispute.id)
    assert (done.status, done.outcome, done.new_due_on) == ("resolved", "rejected", NEW_DUE)
    assert done.outcome_note == "The reading on your photo matches the invoice."
    [event] = events_of(session, "dispute.resolved", "dispute", dispute.id)
    assert event.payload["outcome"] == "rejected" and event.payload["new_due_on"] == "2026-12-16"


def test_reminders_wait_until_the_end_of_the_new_due_date_in_amsterdam_and_not_after(
    in_app, session, energy_invoice, dispute_on
):
    invoice = energy_invoice()  # overdue since October
    dispute = dispute_on(invoice)
    _reject(session, dispute)
    session.commit()
    assert session.get(Dispute, dispute.id).paused_until == END_OF_NEW_DUE

    last_moment = END_OF_NEW_DUE - timedelta(seconds=1)  # 23:59:59 on the 16th in Amsterdam
    with time_machine.travel(last_moment, tick=False):
        assert pause_reason(session, invoice, last_moment) == "dispute"
        assert invoice.id not in _dunnable(session, last_moment)
    with time_machine.travel(END_OF_NEW_DUE, tick=False):
        assert pause_reason(session, invoice, END_OF_NEW_DUE) is None
        assert invoice.id in _dunnable(session, END_OF_NEW_DUE)


def test_the_end_of_the_day_is_where_the_customer_lives(in_app, session, create_customer, energy_invoice, dispute_on):
    invoice = energy_invoice(create_customer(time_zone="America/Curacao"))  # UTC-4
    dispute = dispute_on(invoice)
    _reject(session, dispute)
    assert session.get(Dispute, dispute.id).paused_until == datetime(2026, 12, 17, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("new_due_on", "reason", "code"),
    [
        (NEW_DUE, "   ", "reason_missing"),
        (None, "Matches.", "due_date_missing"),
        (NOW.date(), "Matches.", "due_date_past"),
        (NOW.date() + timedelta(days=61), "Matches.", "due_date_too_far"),
    ],
)
def test_a_rejection_needs_reasons_and_a_due_date_soon_after_today(
    in_app, session, energy_invoice, dispute_on, new_due_on, reason, code
):
    dispute = dispute_on(energy_invoice())
    with pytest.raises(DisputeProblem) as refused:
        _reject(session, dispute, new_due_on=new_due_on, reason=reason)
    assert refused.value.code == code
    session.rollback()
    assert session.get(Dispute, dispute.id).status == "open"


def test_sixty_days_ahead_is_the_latest_new_due_date(in_app, session, energy_invoice, dispute_on):
    dispute = dispute_on(energy_invoice())
    _reject(session, dispute, new_due_on=NOW.date() + timedelta(days=60))
    assert session.get(Dispute, dispute.id).new_due_on == date(2027, 1, 31)
    with force_locale("en"):
        assert message_for(DisputeProblem("due_date_too_far", days=60)) == (
            "The new due date can be at most 60 days from today."
        )


def test_a_withdrawn_dispute_cannot_be_rejected(in_app, session, energy_invoice, dispute_on):
    from portal.disputes.services import withdraw

    dispute = dispute_on(energy_invoice())
    withdraw(session, dispute, actor=TEST_ACTOR)
    session.commit()
    with pytest.raises(DisputeProblem) as refused:
        _reject(session, dispute)
    assert refused.value.code == "not_open"
