"""A debtor who asked for too many codes is told when the next one can really be asked for."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from portal.debits.jobs import prenotify_all
from tests.debits.debtor_pages import messages, text_of, token_on

DEC_15 = datetime(2026, 12, 15, 9, tzinfo=UTC)


@pytest.fixture()
def debtor(app, session, create_customer, create_direct_debit, login, client):
    """An English customer on direct debit on the 1st, logged in at 09:00 on 15 December 2026."""
    customer = create_customer(language="en")
    create_direct_debit(customer, day=1, first_period="2027-01")
    with time_machine.travel(DEC_15, tick=False):
        with app.app_context():
            prenotify_all(session, today=date(2026, 12, 15))
        login(client, customer)
    return customer


def _ask_day_code(client, at: datetime):
    with time_machine.travel(at, tick=False):
        page = client.get("/direct-debit/day/preview?day=25").get_data(as_text=True)
        return client.post("/direct-debit/day/code", data={"csrf_token": token_on(page), "day": "25"})


def _ask_stop_code(client, at: datetime):
    with time_machine.travel(at, tick=False):
        page = client.get("/direct-debit/stop").get_data(as_text=True)
        return client.post("/direct-debit/stop/code", data={"csrf_token": token_on(page)})


def test_moving_the_day_says_when_the_oldest_code_of_the_hour_stops_counting(debtor, session, client) -> None:
    for minutes in (0, 10, 20, 30, 40):
        assert _ask_day_code(client, DEC_15 + timedelta(minutes=minutes)).status_code == 302

    refused = _ask_day_code(client, DEC_15 + timedelta(minutes=50))
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "600", "the first code, at 09:00, stops counting at 10:00"
    assert "You can try again in 10 minutes." in text_of(refused.get_data(as_text=True))

    last_second = _ask_day_code(client, DEC_15 + timedelta(minutes=59, seconds=59, milliseconds=500))
    assert last_second.status_code == 429
    assert last_second.headers["Retry-After"] == "1", "half a second left is rounded up, never down to 0"
    assert "You can try again in 1 second." in text_of(last_second.get_data(as_text=True))

    # At the moment the header named, a code can be asked for again.
    assert _ask_day_code(client, DEC_15 + timedelta(minutes=60)).status_code == 302
    assert len(messages(session, debtor, "proof_code")) == 6


def test_stopping_says_when_a_code_can_be_asked_for_again(debtor, session, client) -> None:
    for _ in range(5):
        assert _ask_day_code(client, DEC_15).status_code == 302

    refused = _ask_stop_code(client, DEC_15 + timedelta(minutes=15, seconds=30))
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(44 * 60 + 30)
    assert "You can try again in 45 minutes." in text_of(refused.get_data(as_text=True))

    assert _ask_stop_code(client, DEC_15 + timedelta(hours=1)).status_code == 302


def test_the_wait_is_said_in_the_debtors_language(app, session, create_customer, create_direct_debit, login, client):
    customer = create_customer(language="nl")
    create_direct_debit(customer, day=1, first_period="2027-01")
    with time_machine.travel(DEC_15, tick=False):
        login(client, customer)
    for _ in range(5):
        assert _ask_stop_code(client, DEC_15).status_code == 302
    refused = _ask_stop_code(client, DEC_15 + timedelta(minutes=58))
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "120"
    assert "Over 2 minuten kun je het opnieuw proberen." in text_of(refused.get_data(as_text=True))
