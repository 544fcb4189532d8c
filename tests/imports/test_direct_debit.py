"""Mandates and collection schedules from the customers file: created, kept, replaced, changed, or refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from portal.customers.models import Customer
from portal.debits.models import Debit, DebitSchedule, Mandate
from portal.debits.policy import debit_policy
from portal.debits.services import active_schedule, prenotify_schedule
from portal.events.models import DomainEvent
from tests.fixtures.factories import BILLING
from tests.imports.helpers import EXAMPLES, errors

HEADER = (
    "external_ref,name,email,language,kind,country,"
    "mandate_reference,mandate_signed_on,iban,debit_day,debit_amount,debit_from,debit_until"
)


@pytest.fixture(autouse=True)
def _first_of_december(app: Flask):
    """1 December 2026: with 14 days' notice the first debit on the 1st is January's (the 4th: New Year's Day
    is no bank day), and December's on the 25th still fits (on the 28th: Christmas)."""
    with app.app_context(), time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False):
        yield


def _file(*rows: str) -> str:
    return "\n".join([HEADER, *rows])


def _snapshot(session) -> dict[str, list[tuple]]:
    session.expire_all()
    tables = {"mandates": Mandate, "schedules": DebitSchedule, "customers": Customer, "events": DomainEvent}
    return {
        name: [tuple(row) for row in session.execute(select(model.__table__).order_by(*model.__table__.primary_key))]
        for name, model in tables.items()
    }


def _customer(session, ref: str) -> Customer:
    return session.scalars(select(Customer).where(Customer.external_ref == ref)).one()


def test_the_example_file_sets_up_direct_debit_and_a_second_import_changes_nothing(do_import, check, session):
    content = (EXAMPLES / "customers-with-direct-debit.csv").read_bytes()

    outcome = do_import("customers", content)

    assert errors(outcome) == []
    assert outcome.tally.counts == {"created": 4, "updated": 0, "unchanged": 0}
    sanne = active_schedule(session, _customer(session, "C-2101").id)
    assert sanne is not None
    assert (sanne.day_of_month, sanne.amount_cents, sanne.first_period) == (1, 8470, "2027-01")
    assert sanne.mandate.reference == "C-2101-2026-01" and sanne.mandate.masked_iban == "NL20 **** 4567"
    assert sanne.mandate.debtor_name == "Sanne Visser", "the customer's name when debtor_name is empty"
    assert sanne.mandate.bic == "INGBNL2A" and sanne.mandate.collector == "bank"
    bakker = active_schedule(session, _customer(session, "C-2102").id)
    assert bakker is not None and bakker.mandate.debtor_name == "P. Bakker"
    assert (bakker.day_of_month, bakker.amount_cents, bakker.first_period) == (25, 11200, "2026-12")
    assert active_schedule(session, _customer(session, "C-2104").id) is None, "a row without a mandate has none"
    before = _snapshot(session)

    assert check("customers", content).tally.counts == {"created": 0, "updated": 0, "unchanged": 4}
    assert do_import("customers", content).tally.counts == {"created": 0, "updated": 0, "unchanged": 4}
    assert _snapshot(session) == before


def test_a_new_reference_stops_the_old_mandate_and_starts_the_new_one(
    do_import, session, create_customer, create_direct_debit
):
    customer = create_customer(external_ref="K-10", name="Ria Smit")
    old = create_direct_debit(customer, day=5, amount_cents=5000, first_period="2027-01", reference="K-10-OLD")

    outcome = do_import(
        "customers", _file("K-10,Ria Smit,ria@example.nl,nl,consumer,NL,K-10-NEW,2026-11-20,NL44RABO0123456789,20,75,,")
    )

    assert errors(outcome) == []
    assert outcome.tally.counts["updated"] == 1
    assert outcome.tally.samples["updated"][0]["changes"] == ["email", "mandate_reference"]
    session.expire_all()
    assert session.get_one(Mandate, old.mandate_id).status == "revoked"
    running = active_schedule(session, customer.id)
    assert running is not None and running.mandate.reference == "K-10-NEW"
    assert (running.day_of_month, running.amount_cents, running.first_period) == (20, 7500, "2026-12")
    assert session.get_one(DebitSchedule, old.id).ended_at is not None


def test_a_new_mandate_never_collects_a_period_the_old_one_still_does(
    do_import, session, create_customer, create_direct_debit
):
    customer = create_customer(external_ref="K-11")
    old = create_direct_debit(customer, day=10, amount_cents=5000, first_period="2026-12", reference="K-11-OLD")
    # Announced on 20 November: December's debit on the 10th is now fixed, and still happens.
    prenotify_schedule(session, old, today=date(2026, 11, 20), actor=BILLING, policy=debit_policy(session))
    session.commit()

    outcome = do_import("customers", _file("K-11,Test,,nl,consumer,NL,K-11-NEW,2026-11-20,NL44RABO0123456789,28,75,,"))

    assert errors(outcome) == []
    running = active_schedule(session, customer.id)
    assert running is not None and running.first_period == "2027-01", "December was the old mandate's"
    december = session.scalars(select(Debit).where(Debit.schedule_id == old.id)).one()
    assert (december.period, december.state) == ("2026-12", "notified")


def test_a_new_amount_or_day_on_the_same_mandate_changes_what_is_not_announced_yet(
    do_import, check, session, create_customer, create_direct_debit
):
    customer = create_customer(external_ref="K-12", name="Ali Demir", email="ali@example.nl")
    schedule = create_direct_debit(
        customer, day=10, amount_cents=5000, first_period="2026-12", reference="K-12-A", collector="bank"
    )
    mandate = schedule.mandate
    prenotify_schedule(session, schedule, today=date(2026, 12, 1), actor=BILLING, policy=debit_policy(session))
    session.commit()
    row = "K-12,Ali Demir,ali@example.nl,nl,consumer,NL,K-12-A,{signed},NL91 ABNA 0417 1643 00,12,62.50,,2027-06"
    content = _file(row.format(signed=mandate.signed_on.isoformat()))

    preview = check("customers", content)
    assert preview.tally.samples["updated"][0]["changes"] == ["debit_day", "debit_amount", "debit_until"]
    outcome = do_import("customers", content)

    assert errors(outcome) == []
    session.expire_all()
    changed = session.get_one(DebitSchedule, schedule.id)
    assert (changed.day_of_month, changed.amount_cents, changed.last_period) == (12, 6250, "2027-06")
    assert session.scalars(select(Mandate).where(Mandate.customer_id == customer.id)).one().status == "active"
    announced = session.scalars(select(Debit).where(Debit.schedule_id == schedule.id)).one()
    assert (announced.due_on, announced.amount_cents) == (date(2026, 12, 15), 5000), "as the debtor was told"
    assert do_import("customers", content).tally.counts == {"created": 0, "updated": 0, "unchanged": 1}


def test_rows_that_cannot_be_imported_say_why_and_nothing_is_written(
    do_import, session, create_customer, create_direct_debit
):
    other = create_customer(external_ref="K-20", name="Someone Else")
    create_direct_debit(other, reference="TAKEN-1")
    before = _snapshot(session)
    content = _file(
        "N-1,One,,nl,consumer,NL,N-1-A,2026-11-01,NL91ABNA0417164301,1,10,,",
        "N-2,Two,,nl,consumer,NL,TAKEN-1,2026-11-01,NL91ABNA0417164300,1,10,,",
        "N-3,Three,,nl,consumer,NL,N-3-A,2026-11-01,NL91ABNA0417164300,29,10,,",
        "N-4,Four,,nl,consumer,NL,N-4-A,2026-11-01,NL91ABNA0417164300,32,10,,",
        "N-5,Five,,nl,consumer,NL,N-5-A,2026-11-01,NL91ABNA0417164300,1,10,2027-13,",
        "N-6,Six,,nl,consumer,NL,N-6-A,2026-11-01,NL91ABNA0417164300,1,10,2027-05,2027-04",
        "N-7,Seven,,nl,consumer,NL,,,NL91ABNA0417164300,1,10,,",
        "N-8,Eight,,nl,consumer,NL,N-8-A,2026-11-01,NL91ABNA0417164300,1,0,,",
        'N-9,Nine,,nl,consumer,NL,N-1-A,2026-11-01,NL91ABNA0417164300,1,"12,345",2026-10,',
        "N-10,Ten,,nl,consumer,NL,N-10-A,2026-11-01,NL91ABNA0417164300,1,10,2026-11,",
        "N-11,Eleven,,nl,consumer,NL,N-11-A,2026-11-01,NL91ABNA0417164300,1,10,,",
    )

    outcome = do_import("customers", content)

    assert errors(outcome) == [
        "2|iban|“NL91ABNA0417164301” is not a valid IBAN. Check the letters and digits, "
        "for example NL91 ABNA 0417 1643 00.",
        "3|mandate_reference|The mandate reference TAKEN-1 already belongs to customer K-20.",
        "4|debit_day|Day 29 cannot be used as a collection day. The allowed days are 1-28 (a setting).",
        "5|debit_day|“32” is not a day of the month. Write a whole number from 1 to 31.",
        "6|debit_from|“2027-13” is not a month. Write the year and month as YYYY-MM, for example 2027-01.",
        "7|debit_until|debit_until is before debit_from.",
        "8|iban|Direct debit details need a mandate_reference in the same row.",
        "9|debit_amount|The amount to collect each month must be more than zero.",
        "10|debit_amount|“12,345” has too many decimals: at most 2.",
        "10|mandate_reference|The mandate reference N-1-A is also in row 2. Each mandate needs its own reference.",
        "11|debit_from|The month 2026-11 has already begun or passed. Direct debit can only start later.",
    ]
    assert not outcome.imported
    assert _snapshot(session) == before, "not even N-11, whose row is fine"


def test_a_mandate_is_never_edited(do_import, session, create_customer, create_direct_debit):
    customer = create_customer(external_ref="K-30", name="Joost", email="joost@example.nl")
    create_direct_debit(customer, reference="K-30-A", iban="NL91ABNA0417164300", collector="bank")
    row = "K-30,Joost,joost@example.nl,nl,consumer,NL,K-30-A,2026-06-01,NL20INGB0001234567,1,84.70,,"

    outcome = do_import("customers", _file(row))

    assert errors(outcome) == [
        "2|iban|Mandate K-30-A is already in the portal with other details (iban). A mandate cannot be changed: "
        "give the new mandate its own reference."
    ]
    assert session.scalars(select(Mandate).where(Mandate.customer_id == customer.id)).one().iban == (
        "NL91ABNA0417164300"
    )
