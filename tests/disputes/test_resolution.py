"""Ending a dispute with credit notes or a corrected invoice: what is owed afterwards, the supervisor limit, a
second click, and the corrected invoice's number and totals."""

from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import func, select

from portal.accounts.held import held_cents
from portal.accounts.view import balance_of
from portal.disputes.errors import DisputeProblem
from portal.disputes.models import CreditNote, Dispute
from portal.disputes.resolution import resolve_with_corrected_invoice, resolve_with_credit_notes, vat_split
from portal.invoices.models import Invoice
from portal.invoices.numbers import MAX_LENGTH, number_problem
from tests.disputes.resolution_support import NOW, events_of, notes_of, set_credit_limit
from tests.fixtures.factories import TEST_ACTOR


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _credit(session, dispute, amounts, *, may_exceed_limit=False, staff=None):
    return resolve_with_credit_notes(
        session,
        dispute,
        amounts,
        reason="The meter reading was estimated too high.",
        staff=staff,
        may_exceed_limit=may_exceed_limit,
        actor=TEST_ACTOR,
    )


def _correct(session, dispute, invoice, cents, *, due_on=None, may_exceed_limit=True):
    return resolve_with_corrected_invoice(
        session,
        dispute,
        invoice.id,
        cents,
        due_on or NOW.date().replace(day=30),
        reason="We billed the wrong meter.",
        staff=None,
        may_exceed_limit=may_exceed_limit,
        actor=TEST_ACTOR,
    )


def test_credit_notes_end_the_dispute_and_lower_the_balance(
    in_app, session, create_customer, create_staff, energy_invoice, dispute_on
):
    customer = create_customer()
    first, second = energy_invoice(customer), energy_invoice(customer)
    dispute = dispute_on(first, second)
    agent = create_staff("agent")
    assert balance_of(session, customer).open == {"EUR": 13310}

    notes = _credit(session, dispute, {first.id: 1210, second.id: 0}, staff=agent)
    session.commit()

    assert [(note.invoice_id, note.amount_cents) for note in notes] == [(first.id, 1210)]
    assert balance_of(session, customer).open == {"EUR": 12100}
    assert held_cents(session, [first.id, second.id]) == {}, "a resolved dispute holds nothing"
    done = session.get(Dispute, dispute.id)
    assert (done.status, done.outcome, done.resolved_by_id) == ("resolved", "credit_note", agent.id)
    assert done.outcome_note == "The meter reading was estimated too high." and done.resolved_at == NOW
    [event] = events_of(session, "dispute.resolved", "dispute", dispute.id)
    assert event.payload["outcome"] == "credit_note" and event.payload["credited_cents"] == 1210


def test_a_credit_note_above_the_limit_needs_a_supervisor(in_app, session, energy_invoice, dispute_on):
    set_credit_limit(session, 1000)
    invoice = energy_invoice()
    dispute = dispute_on(invoice)

    with pytest.raises(DisputeProblem) as refused:
        _credit(session, dispute, {invoice.id: 1001})
    assert refused.value.code == "needs_supervisor" and refused.value.details["limit"] == 1000
    session.rollback()
    assert notes_of(session, dispute) == [] and session.get(Dispute, dispute.id).status == "open"
    assert session.get(Invoice, invoice.id).credited_cents == 0

    _credit(session, dispute, {invoice.id: 1001}, may_exceed_limit=True)
    session.commit()
    assert [note.amount_cents for note in notes_of(session, dispute)] == [1001]


def test_up_to_the_limit_an_agent_may(in_app, session, energy_invoice, dispute_on):
    set_credit_limit(session, 1000)
    invoice = energy_invoice()
    _credit(session, dispute_on(invoice), {invoice.id: 1000})
    assert session.get(Invoice, invoice.id).credited_cents == 1000


@pytest.mark.parametrize(
    ("amount", "code"), [(0, "amount_missing"), (-5, "amount_missing"), (6656, "amount_too_large")]
)
def test_credit_amounts_that_cannot_be(in_app, session, energy_invoice, dispute_on, amount, code):
    invoice = energy_invoice()
    dispute = dispute_on(invoice)
    with pytest.raises(DisputeProblem) as refused:
        _credit(session, dispute, {invoice.id: amount}, may_exceed_limit=True)
    assert refused.value.code == code


def test_only_invoices_of_the_dispute_are_credited(in_app, session, create_customer, energy_invoice, dispute_on):
    customer = create_customer()
    disputed, other = energy_invoice(customer), energy_invoice(customer)
    with pytest.raises(DisputeProblem) as refused:
        _credit(session, dispute_on(disputed), {other.id: 100})
    assert refused.value.code == "invoice_not_in_dispute"


def test_a_second_click_changes_nothing(in_app, session, energy_invoice, dispute_on):
    invoice = energy_invoice()
    dispute = dispute_on(invoice)
    _credit(session, dispute, {invoice.id: 500})
    session.commit()
    with pytest.raises(DisputeProblem) as refused:
        _credit(session, dispute, {invoice.id: 500})
    assert refused.value.code == "not_open"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CreditNote)) == 1
    assert session.get(Invoice, invoice.id).credited_cents == 500


def test_a_corrected_invoice_replaces_what_was_open(in_app, session, energy_invoice, dispute_on):
    original = energy_invoice(paid_cents=655)  # 60,00 still open
    dispute = dispute_on(original)

    corrected = _correct(session, dispute, original, 5000, due_on=NOW.date().replace(day=30))
    session.commit()

    assert corrected.number == f"{original.number}-C"
    assert (corrected.subtotal_cents, corrected.vat_cents, corrected.total_cents) == (4132, 868, 5000)
    assert corrected.subtotal_cents + corrected.vat_cents == corrected.total_cents
    [line] = corrected.lines
    assert line.amount_cents == 4132 and str(line.vat_rate) == "21.00"
    assert line.description in (
        f"Corrected invoice for {original.number}",
        f"Gecorrigeerde factuur voor {original.number}",
    )
    assert [(vat.base_cents, vat.vat_cents) for vat in corrected.vat_totals] == [(4132, 868)]
    assert (corrected.issue_date, corrected.due_date, corrected.category) == (
        NOW.date(),
        NOW.date().replace(day=30),
        original.category,
    )
    assert corrected.customer_id == original.customer_id and corrected.period_start == original.period_start

    settled = session.get(Invoice, original.id)
    assert (settled.credited_cents, settled.state) == (6000, "paid"), "paid in part, the rest credited"
    assert balance_of(session, original.customer).open == {"EUR": 5000}
    done = session.get(Dispute, dispute.id)
    assert (done.outcome, done.corrected_invoice_id) == ("corrected_invoice", corrected.id)
    assert len(events_of(session, "invoice.issued", "invoice", corrected.number)) == 1
    [event] = events_of(session, "dispute.resolved", "dispute", dispute.id)
    assert event.payload["corrected_invoice"] == corrected.number and event.payload["credited_cents"] == 6000


def test_a_second_correction_of_the_same_number_gets_the_next_suffix(
    in_app, session, create_invoice, energy_invoice, dispute_on
):
    original = energy_invoice()
    create_invoice(original.customer, number=f"{original.number}-C")
    corrected = _correct(session, dispute_on(original), original, 3000)
    assert corrected.number == f"{original.number}-C2"


# Forty characters, as long as the column allows; a real series and sequence at either end.
LONG_NUMBER = "ZONNIG-ENERGIE/KLANT-0012345/2026-000297"


def test_a_correction_of_a_number_as_long_as_the_column_still_fits_it(in_app, session, energy_invoice, dispute_on):
    assert len(LONG_NUMBER) == MAX_LENGTH
    original = energy_invoice(number=LONG_NUMBER)
    corrected = _correct(session, dispute_on(original), original, 3000)
    session.commit()

    number = session.get(Invoice, corrected.id).number
    assert len(number) <= MAX_LENGTH, f"{number!r} does not fit the column"
    assert number_problem(number) is None, "the corrected number is a valid invoice number"
    # Still recognisable: the series at the start, the sequence and the correction at the end.
    assert number == "ZONNIG-ENERGIE/KLAN~012345/2026-000297-C"
    [line] = corrected.lines
    assert LONG_NUMBER in line.description, "the line names the original in full"


def test_a_number_is_shortened_only_as_much_as_its_suffix_needs(
    in_app, session, create_customer, create_invoice, energy_invoice, dispute_on
):
    customer = create_customer(language="en")
    fits, too_long = LONG_NUMBER[: MAX_LENGTH - 2], LONG_NUMBER[: MAX_LENGTH - 1]

    first = energy_invoice(customer, number=fits)
    assert _correct(session, dispute_on(first), first, 3000).number == f"{fits}-C", "room for -C: kept whole"

    second = energy_invoice(customer, number=too_long)
    number = _correct(session, dispute_on(second), second, 3000).number
    assert (len(number), number[:10], number[-8:]) == (MAX_LENGTH, too_long[:10], f"{too_long[-6:]}-C")

    # The same 38 characters once more (its -C taken): -C2 needs one more, so this one is shortened.
    third = energy_invoice(customer, number=f"{fits[:-1]}X")
    create_invoice(customer, number=f"{third.number}-C")
    number = _correct(session, dispute_on(third), third, 3000).number
    assert len(number) == MAX_LENGTH and number.endswith("X-C2") and number_problem(number) is None


def test_corrections_of_long_numbers_that_share_a_prefix_get_numbers_of_their_own(
    in_app, session, create_customer, energy_invoice, dispute_on
):
    customer = create_customer(language="en")
    # The same series; the second differs from the first only at the end, the third only in the part that
    # shortening leaves out.
    numbers = [
        "ZONNIG-ENERGIE/KLANT-0012345/2026-000297",
        "ZONNIG-ENERGIE/KLANT-0012345/2026-000298",
        "ZONNIG-ENERGIE/KLANT-1012345/2026-000297",
    ]
    corrected = []
    for number in numbers:
        original = energy_invoice(customer, number=number)
        corrected.append(_correct(session, dispute_on(original), original, 3000).number)
    session.commit()

    assert len(set(corrected)) == len(numbers), f"two corrections share a number: {corrected}"
    for number in corrected:
        assert len(number) <= MAX_LENGTH and number_problem(number) is None, number
    assert corrected[0].endswith("000297-C") and corrected[1].endswith("000298-C")
    stored = session.scalars(select(Invoice.number).where(Invoice.number.in_(corrected)))
    assert sorted(stored) == sorted(corrected)


def test_what_the_customer_gains_by_a_correction_follows_the_limit(in_app, session, energy_invoice, dispute_on):
    set_credit_limit(session, 1000)
    invoice = energy_invoice()  # 66,55 open
    dispute = dispute_on(invoice)
    with pytest.raises(DisputeProblem) as refused:
        _correct(session, dispute, invoice, 5654, may_exceed_limit=False)  # 10,01 less
    assert refused.value.code == "needs_supervisor"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Invoice).where(Invoice.number.like("%-C"))) == 0
    corrected = _correct(session, dispute, invoice, 5655, may_exceed_limit=False)  # 10,00 less
    assert corrected.total_cents == 5655


@pytest.mark.parametrize(
    ("cents", "day", "code"),
    [
        (0, 30, "corrected_amount_missing"),
        (6655, 30, "corrected_not_lower"),
        (5000, 2, "due_date_past"),
    ],
)
def test_a_correction_that_cannot_be(in_app, session, energy_invoice, dispute_on, cents, day, code):
    invoice = energy_invoice()
    with pytest.raises(DisputeProblem) as refused:
        _correct(session, dispute_on(invoice), invoice, cents, due_on=NOW.date().replace(day=day))
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("total", "rate", "split"),
    [(5000, "21", (4132, 868)), (1, "21", (1, 0)), (1090, "9", (1000, 90)), (700, "0", (700, 0))],
)
def test_the_vat_split_of_a_corrected_amount_adds_up(total, rate, split):
    from decimal import Decimal

    assert vat_split(total, Decimal(rate)) == split


def test_a_correction_of_a_disputed_low_rate_line_keeps_its_vat_rate(
    in_app, session, create_customer, create_invoice, dispute_on
):
    lines = [("Stroom", "100", "kWh", "0.25000", "21"), ("Onderhoud zonnepanelen", "1", "kwartaal", "89.00000", "9")]
    original = create_invoice(create_customer(language="en"), lines=lines)
    dispute = dispute_on(original, lines=[2])

    corrected = _correct(session, dispute, original, 5000)

    assert str(corrected.lines[0].vat_rate) == "9.00"
    assert corrected.subtotal_cents + corrected.vat_cents == 5000
