"""Opening a dispute: what it holds, that dunning pauses at once, and what cannot be disputed."""

from __future__ import annotations

import pytest

from portal import clock
from portal.accounts.held import held_cents
from portal.accounts.pausing import pause_reason
from portal.accounts.view import dunnable_invoices
from portal.debits.holds import collection_hold
from portal.disputes.errors import DisputeProblem
from portal.disputes.services import Choice, open_dispute, withdraw
from tests.fixtures.factories import TEST_ACTOR


def test_a_disputed_line_pauses_dunning_and_holds_only_that_line(app, session, energy_invoice, dispute_on):
    invoice = energy_invoice(due_date=clock.today("Europe/Amsterdam").replace(day=1))
    assert pause_reason(session, invoice, clock.now()) is None

    dispute = dispute_on(invoice, lines=[2])

    assert pause_reason(session, invoice, clock.now()) == "dispute"
    assert invoice.id not in {row.id for row in session.execute(dunnable_invoices(clock.now(), clock.today("UTC")))}
    assert held_cents(session, [invoice.id]) == {invoice.id: 1210}  # the fixed charge, with its VAT
    assert dispute.held_cents == 1210 and dispute.reference.startswith("D-")
    assert collection_hold(session, invoice) == "dispute"
    assert dispute.first_response_due_on > clock.today_for(invoice.customer)
    assert dispute.resolution_due_on > dispute.first_response_due_on


def test_a_dispute_wins_over_a_plan_or_promise_in_the_pause_answer():
    from portal.accounts.pausing import registered_reasons

    assert registered_reasons()[0] == "dispute"


def test_several_invoices_at_once_hold_each_in_full(session, create_customer, energy_invoice, dispute_on):
    customer = create_customer()
    first, second = energy_invoice(customer), energy_invoice(customer)

    dispute = dispute_on(first, second, reason="amount_wrong")

    assert held_cents(session, [first.id, second.id]) == {first.id: 6655, second.id: 6655}
    assert dispute.held_cents == 13310


def test_withdrawing_asks_for_everything_again(in_app, session, energy_invoice, dispute_on):
    invoice = energy_invoice()
    dispute = dispute_on(invoice)
    withdraw(session, dispute, actor=TEST_ACTOR)
    session.commit()
    assert pause_reason(session, invoice, clock.now()) is None
    assert held_cents(session, [invoice.id]) == {}


@pytest.mark.parametrize(
    ("numbers", "reason", "explanation", "code"),
    [
        ([], "amount_wrong", "x", "no_invoices"),
        (["NOPE-1"], "amount_wrong", "x", "unknown_invoice"),
        (["{own}"], "nonsense", "x", "no_reason"),
        (["{own}"], "other", "   ", "explanation_missing"),
        (["{other}"], "other", "x", "unknown_invoice"),  # another customer's invoice does not exist for them
    ],
)
def test_what_cannot_be_disputed_is_refused_and_nothing_is_written(
    app, session, create_customer, energy_invoice, file_store, numbers, reason, explanation, code
):
    own = energy_invoice()
    other = energy_invoice()
    wanted = [{"{own}": own.number, "{other}": other.number}.get(number, number) for number in numbers]
    with app.app_context(), pytest.raises(DisputeProblem) as refused:
        open_dispute(
            session, file_store, own.customer, Choice(wanted), reason=reason, explanation=explanation, actor=TEST_ACTOR
        )
    assert refused.value.code == code
    session.rollback()
    assert pause_reason(session, own, clock.now()) is None


def test_an_invoice_already_disputed_points_to_that_dispute(app, session, energy_invoice, dispute_on, file_store):
    invoice = energy_invoice()
    first = dispute_on(invoice)
    with app.app_context(), pytest.raises(DisputeProblem) as refused:
        open_dispute(
            session,
            file_store,
            invoice.customer,
            Choice([invoice.number]),
            reason="other",
            explanation="again",
            actor=TEST_ACTOR,
        )
    assert refused.value.code == "already_disputed"
    assert refused.value.details["reference"] == first.reference


def test_a_paid_invoice_cannot_be_disputed_here(app, session, energy_invoice, file_store):
    invoice = energy_invoice(state="paid", paid_cents=6655)
    with app.app_context(), pytest.raises(DisputeProblem) as refused:
        open_dispute(
            session,
            file_store,
            invoice.customer,
            Choice([invoice.number]),
            reason="already_paid",
            explanation="x",
            actor=TEST_ACTOR,
        )
    assert refused.value.code == "invoice_not_open"


def test_a_disputed_discount_line_holds_nothing_but_still_pauses(session, create_customer, create_invoice, dispute_on):
    lines = [("Stroom", "100", "kWh", "0.25000", "21"), ("Korting", "1", "maand", "-10.00000", "21")]
    invoice = create_invoice(create_customer(), lines=lines)

    dispute = dispute_on(invoice, lines=[2])

    assert dispute.held_cents == 0 and held_cents(session, [invoice.id]) == {}
    assert pause_reason(session, invoice, clock.now()) == "dispute"


def test_a_withdrawal_or_reply_from_a_page_drawn_before_staff_resolved_it_is_refused(
    in_app, session, energy_invoice, dispute_on, create_staff, file_store
) -> None:
    from sqlalchemy import update

    from portal.disputes.models import Dispute
    from portal.disputes.services import debtor_writes

    invoice = energy_invoice()
    dispute = dispute_on(invoice)
    # Staff resolve it in another transaction; this session still holds the dispute as it was (open).
    resolve = update(Dispute).where(Dispute.id == dispute.id).values(status="resolved", outcome="rejected")
    session.execute(resolve.execution_options(synchronize_session=False))
    assert dispute.status == "open"

    with pytest.raises(DisputeProblem) as refused:
        withdraw(session, dispute, actor=TEST_ACTOR)
    assert refused.value.code == "closed"
    with pytest.raises(DisputeProblem):
        debtor_writes(session, file_store, dispute, "one more thing", actor=TEST_ACTOR)
    assert session.get(Dispute, dispute.id).status == "resolved"


def test_files_of_a_dispute_that_is_not_committed_are_not_kept(in_app, session, energy_invoice, file_store) -> None:
    from portal.disputes.uploads import check_upload
    from portal.storage import StoredFileMissing
    from tests.disputes.files_support import small_pdf

    invoice = energy_invoice()
    dispute = open_dispute(
        session,
        file_store,
        invoice.customer,
        Choice([invoice.number]),
        reason="other",
        explanation="See the scan.",
        uploads=[check_upload("scan.pdf", small_pdf())],
        actor=TEST_ACTOR,
    )
    key = dispute.files[0].storage_key
    assert file_store.get(key)

    session.rollback()  # something later in the request failed

    with pytest.raises(StoredFileMissing):
        file_store.get(key)


def test_one_debtor_cannot_open_dispute_after_dispute_all_day(
    in_app, session, create_customer, energy_invoice, dispute_on, file_store
) -> None:
    from portal.disputes.services import OPENED_PER_DAY

    customer = create_customer(language="en")
    for _ in range(OPENED_PER_DAY):
        withdraw(session, dispute_on(energy_invoice(customer)), actor=TEST_ACTOR)
        session.commit()
    invoice = energy_invoice(customer)
    with pytest.raises(DisputeProblem) as refused:
        open_dispute(
            session, file_store, customer, Choice([invoice.number]), reason="other", explanation="x", actor=TEST_ACTOR
        )
    assert refused.value.code == "too_many_today"
