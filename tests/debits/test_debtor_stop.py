"""The debtor stops direct debit: what still happens is said first, the e-mailed code confirms it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from portal.debits.jobs import prenotify_all
from portal.debits.models import Debit, Mandate
from tests.debits.debtor_pages import latest_code, text_of, token_on


def _stop_with(client, code: str):
    page = client.get("/direct-debit/stop/confirm").get_data(as_text=True)
    return client.post("/direct-debit/stop/confirm", data={"csrf_token": token_on(page), "code": code})


def test_stopping_says_what_still_happens_and_needs_the_code(
    app, session, create_customer, create_direct_debit, login, client
) -> None:
    customer = create_customer(language="en")
    schedule = create_direct_debit(customer, day=1, first_period="2027-01")
    with time_machine.travel(datetime(2026, 12, 15, 9, tzinfo=UTC), tick=False), app.app_context():
        prenotify_all(session, today=date(2026, 12, 15))  # January, on Monday 4 January
    with time_machine.travel(datetime(2026, 12, 28, 9, tzinfo=UTC), tick=False):
        login(client, customer)
        page = client.get("/direct-debit/stop").get_data(as_text=True)
        text = text_of(page)
        assert "What still happens" in text and "4 January 2027: €84.70" in text, "the January debit is fixed"
        assert "After that we collect nothing more from account NL91 **** 4300." in text

        response = client.post("/direct-debit/stop/code", data={"csrf_token": token_on(page)})
        assert response.headers["Location"].endswith("/direct-debit/stop/confirm")
        wrong = _stop_with(client, "12345")
        assert wrong.status_code == 400 and "That code is not right." in text_of(wrong.get_data(as_text=True))
        session.expire_all()
        assert session.get(Mandate, schedule.mandate_id).status == "active", "a wrong code stops nothing"

        response = _stop_with(client, latest_code(session, customer))
        assert response.headers["Location"].endswith("/direct-debit/stopped")
        done = text_of(client.get("/direct-debit/stopped").get_data(as_text=True))
        assert "Direct debit stopped" in done and "4 January 2027: €84.70" in done
        overview = text_of(client.get("/overview").get_data(as_text=True))
        assert "Hello" in overview and "Stop direct debit" not in overview
        again = client.get("/direct-debit/stop")
        assert again.headers["Location"].endswith("/overview"), "nothing left to stop: the overview says so"
    session.expire_all()
    assert session.get(Mandate, schedule.mandate_id).status == "revoked"
    january = session.scalars(select(Debit).where(Debit.schedule_id == schedule.id)).one()
    assert january.state == "notified", "the fixed debit is still collected"


def test_a_code_for_moving_the_day_does_not_stop_direct_debit(
    app, session, create_customer, create_direct_debit, login, client
) -> None:
    customer = create_customer(language="en")
    schedule = create_direct_debit(customer, day=1, first_period="2027-01")
    with time_machine.travel(datetime(2026, 12, 15, 9, tzinfo=UTC), tick=False):
        login(client, customer)
        page = client.get("/direct-debit/day/preview?day=25").get_data(as_text=True)
        client.post("/direct-debit/day/code", data={"csrf_token": token_on(page), "day": "25"})
        response = _stop_with(client, latest_code(session, customer))
        assert "Ask for a code first." in text_of(response.get_data(as_text=True))
    session.expire_all()
    assert session.get(Mandate, schedule.mandate_id).status == "active"
