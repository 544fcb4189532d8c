"""Money and what a dispute holds: a payment started before the dispute, a hold larger than what is still
owed, and a disputed line that holds nothing."""

from __future__ import annotations

from portal import clock
from portal.accounts.held import held_cents
from portal.debits.holds import collection_hold
from portal.disputes.overview import disputes_view
from portal.invoices.models import Invoice
from portal.payments.models import Payment
from portal.payments.services import choose_invoices, start_payment
from tests.plans.lifecycle_support import ACTOR, confirm


def test_a_checkout_started_before_the_dispute_pays_the_disputed_part_too_and_is_not_paid_twice(
    in_app, session, energy_invoice, dispute_on
) -> None:
    invoice = energy_invoice()
    choice = choose_invoices(session, invoice.customer, [invoice.number])
    payment = start_payment(
        session, invoice.customer, choice, provider="demo", method="ideal", locale="en", actor=ACTOR
    )
    session.commit()
    dispute_on(invoice, lines=[2])  # the fixed charge, 12,10, disputed while the checkout is open

    confirm(session, payment)

    session.expire_all()
    paid = session.get(Payment, payment.id)
    assert paid.unallocated_cents == 0 and paid.refund_pending_key is None
    assert session.get(Invoice, invoice.id).state == "paid"


def test_a_hold_never_exceeds_what_is_still_owed(in_app, session, create_customer, energy_invoice, dispute_on) -> None:
    customer = create_customer(language="en")
    disputed, other = energy_invoice(customer), energy_invoice(customer)
    dispute_on(disputed)  # the whole 66,55
    session.get(Invoice, disputed.id).paid_cents = 6000  # paid by bank transfer meanwhile, the import says
    session.commit()

    view = disputes_view(session, customer.id, now=clock.now())

    assert view.held[disputed.number] == 655 and view.held_in("EUR") == 655
    assert held_cents(session, [disputed.id, other.id]) == {disputed.id: 655}


def test_a_disputed_discount_line_does_not_stop_the_direct_debit(
    session, create_customer, create_invoice, dispute_on
) -> None:
    lines = [("Stroom", "100", "kWh", "0.25000", "21"), ("Korting", "1", "maand", "-10.00000", "21")]
    invoice = create_invoice(create_customer(), lines=lines)
    dispute_on(invoice, lines=[2])
    assert collection_hold(session, invoice) is None
