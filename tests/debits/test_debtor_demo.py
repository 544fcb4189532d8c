"""The demo: four customers on direct debit on the 1st (one through the bank), collected by the next run, one
failing with AM04."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from portal.customers.models import Customer
from portal.debits.bank import pain008_for
from portal.debits.collection import collect_due
from portal.debits.models import Debit
from portal.demo import load_demo_data
from tests.debits.debtor_pages import messages, text_of

SUNDAY = date(2026, 11, 22)


def test_the_demo_collects_three_and_one_fails_for_lack_of_money(app, session, login, client) -> None:
    with time_machine.travel(datetime(2026, 11, 22, 9, tzinfo=UTC), tick=False), app.app_context():
        assert load_demo_data(session, today=SUNDAY)
        session.commit()
        debits = session.scalars(select(Debit).order_by(Debit.id)).all()
        assert [(d.customer.external_ref, d.due_on, d.state) for d in debits] == [
            ("C-1013", date(2026, 11, 20), "notified"),  # Friday: the most recent TARGET day
            ("C-1010", date(2026, 11, 20), "notified"),
            ("C-1009", date(2026, 11, 20), "notified"),
            ("C-1008", date(2026, 11, 20), "notified"),  # through the creditor's own bank
        ]
        assert all(d.invoice is not None and d.invoice.state == "open" for d in debits)

        report = collect_due(session, today=SUNDAY)
        assert len(report.collected) == 3 and len(report.failed) == 1
        noor = session.scalars(select(Customer).where(Customer.external_ref == "C-1008")).one()
        banked = session.scalars(select(Debit).where(Debit.customer_id == noor.id)).one()
        assert banked.state == "submitted" and banked.payment.state == "pending", "in the bank's file, not paid yet"
        assert b"ZE-C-1008-01" in pain008_for(session, date(2026, 11, 20))
        daan = session.scalars(select(Customer).where(Customer.external_ref == "C-1009")).one()
        failed = session.get(Debit, report.failed[0])
        assert failed.customer_id == daan.id and failed.failure_code == "AM04"
        assert "niet genoeg geld" in messages(session, daan, "debit_failed")[0].body_text, "in Daan's Dutch"

        anouk = session.scalars(select(Customer).where(Customer.external_ref == "C-1013")).one()
        login(client, anouk)
        html = client.get("/overview").get_data(as_text=True)
        assert 'href="/direct-debit/day"' in html and "ZE-C-1013-01" in html
        # December's debit on the 1st is too close to announce with 14 days' notice: it comes on the first
        # day the notice allows, late but not skipped; January's is on the 4th (the 1st is a holiday).
        assert "7 dec 2026" in text_of(html) and "4 jan 2027" in text_of(html)
        login(client, daan)
        html = client.get("/overview").get_data(as_text=True)
        assert f'href="/direct-debit/failed/{failed.id}"' in html
