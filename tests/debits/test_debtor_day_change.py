"""The debtor moves their collection day: the preview side by side, the e-mailed code, the new dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from portal.debits.jobs import prenotify_all
from portal.debits.models import DayChange, Debit, ProofCode
from portal.events.models import DomainEvent
from tests.debits.debtor_pages import latest_code, messages, text_of, token_on

DEC_15 = datetime(2026, 12, 15, 9, tzinfo=UTC)


@pytest.fixture()
def on_the_first(app, session, create_customer, create_direct_debit, login, client):
    """An English customer on direct debit on the 1st, the January debit announced, on 15 December 2026."""
    customer = create_customer(language="en")
    schedule = create_direct_debit(customer, day=1, first_period="2027-01")
    with time_machine.travel(DEC_15, tick=False):
        with app.app_context():
            prenotify_all(session, today=date(2026, 12, 15))
        login(client, customer)
        yield customer, schedule


def _ask_code(client, day: int) -> None:
    page = client.get(f"/direct-debit/day/preview?day={day}").get_data(as_text=True)
    response = client.post("/direct-debit/day/code", data={"csrf_token": token_on(page), "day": str(day)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/direct-debit/day/confirm?day={day}")


def _confirm(client, day: int, code: str):
    page = client.get(f"/direct-debit/day/confirm?day={day}").get_data(as_text=True)
    return client.post(f"/direct-debit/day/confirm?day={day}", data={"csrf_token": token_on(page), "code": code})


def test_the_overview_links_to_changing_the_day(on_the_first, session, client) -> None:
    page = text_of(client.get("/overview").get_data(as_text=True))
    assert "We collect on day 1 of each month, from account NL91 **** 4300." in page
    assert "Change the collection day" in page and "Stop direct debit" in page
    choose = text_of(client.get("/direct-debit/day").get_data(as_text=True))
    assert "We now collect on day 1 of each month." in choose and "Day 25" in choose
    seen = session.scalars(select(DomainEvent).where(DomainEvent.kind == "portal.page_viewed")).all()
    assert "debit_day" in [event.payload["page"] for event in seen], "staff see the visit on the timeline"


def test_preview_shows_before_and_after_in_plain_words(on_the_first, client) -> None:
    response = client.get("/direct-debit/day/preview?day=25")
    assert response.mimetype == "text/html", "a browser shows it as a page"
    page = text_of(response.get_data(as_text=True))
    assert "From day 1 to day 25" in page
    # 1 January is a TARGET holiday: the January debit was announced for Monday 4 January.
    assert "January 2027 4 Jan 2027 25 Jan 2027" in page
    assert "The debit for January 2027 moves from 4 January 2027 to 25 January 2027." in page
    assert "The debit for March 2027 moves from 1 March 2027 to 25 March 2027." in page
    assert "Send me a code" in page


def test_moving_with_the_emailed_code_changes_the_dates(on_the_first, session, client) -> None:
    customer, schedule = on_the_first
    _ask_code(client, 25)
    code_mail = messages(session, customer, "proof_code")
    assert len(code_mail) == 1 and code_mail[0].recipient == customer.email
    assert "change the day of your direct debit to day 25" in code_mail[0].body_text
    confirm = text_of(client.get("/direct-debit/day/confirm?day=25").get_data(as_text=True))
    local = customer.email.split("@")[0]
    assert f"We sent a code of 6 digits to {local[0]}" in confirm and customer.email not in confirm

    response = _confirm(client, 25, latest_code(session, customer))
    assert response.status_code == 302
    done = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Your new collection day is day 25" in done
    assert "25 Jan 2027 January 2027" in done and "25 Feb 2027" in done and "25 Mar 2027" in done
    session.expire_all()
    assert session.get(type(schedule), schedule.id).day_of_month == 25
    debit = session.scalars(select(Debit).where(Debit.schedule_id == schedule.id)).one()
    assert debit.due_on == date(2027, 1, 25)
    moved = messages(session, customer, "debit_prenotification")[-1]
    assert "The day of your direct debit has changed" in moved.body_text and "25 January 2027" in moved.body_text
    overview = text_of(client.get("/overview").get_data(as_text=True))
    assert "We collect on day 25 of each month" in overview


def test_a_wrong_code_changes_nothing_and_says_how_many_tries_are_left(on_the_first, session, client) -> None:
    customer, schedule = on_the_first
    _ask_code(client, 25)
    right = latest_code(session, customer)
    wrong = "000000" if right != "000000" else "111111"
    response = _confirm(client, 25, wrong)
    assert response.status_code == 400
    assert "That code is not right. Check the e-mail and try again (4 tries left)." in text_of(
        response.get_data(as_text=True)
    )
    session.expire_all()
    assert session.get(type(schedule), schedule.id).day_of_month == 1
    assert session.scalar(select(DayChange.id)) is None


def test_five_wrong_tries_end_the_code(on_the_first, session, client) -> None:
    customer, schedule = on_the_first
    _ask_code(client, 25)
    right = latest_code(session, customer)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        response = _confirm(client, 25, wrong)
    assert "The code was entered wrongly too often. Ask for a new code." in text_of(response.get_data(as_text=True))
    response = _confirm(client, 25, right)
    assert response.status_code == 400, "not even the right code works after five wrong tries"
    session.expire_all()
    assert session.get(type(schedule), schedule.id).day_of_month == 1


def test_an_expired_code_is_refused(on_the_first, session, client) -> None:
    customer, schedule = on_the_first
    _ask_code(client, 25)
    code = latest_code(session, customer)
    with time_machine.travel(datetime(2026, 12, 15, 9, 11, tzinfo=UTC), tick=False):
        response = _confirm(client, 25, code)
    assert "This code has expired: a code works for 10 minutes. Ask for a new code." in text_of(
        response.get_data(as_text=True)
    )
    session.expire_all()
    assert session.get(type(schedule), schedule.id).day_of_month == 1


def test_a_code_for_one_day_does_not_confirm_another(on_the_first, session, client) -> None:
    customer, schedule = on_the_first
    _ask_code(client, 25)
    response = _confirm(client, 20, latest_code(session, customer))
    assert "This code was sent for another change" in text_of(response.get_data(as_text=True))
    session.expire_all()
    assert session.get(type(schedule), schedule.id).day_of_month == 1


def test_a_used_code_cannot_confirm_again_and_a_new_code_replaces_the_old(on_the_first, session, client) -> None:
    customer, _schedule = on_the_first
    _ask_code(client, 25)
    first = latest_code(session, customer)
    _ask_code(client, 25)
    second = latest_code(session, customer)
    if first != second:
        response = _confirm(client, 25, first)
        assert response.status_code == 400, "the old code stopped working when a new one was sent"
    assert _confirm(client, 25, second).status_code == 302
    again = _confirm(client, 25, second)
    assert "This code has already been used." in text_of(again.get_data(as_text=True))
    stored = session.scalars(select(ProofCode)).all()
    assert all(second not in row.code_hash and len(row.code_hash) == 64 for row in stored), "only a hash is kept"


def test_codes_are_rate_limited(on_the_first, session, client) -> None:
    for _ in range(5):
        _ask_code(client, 25)
    page = client.get("/direct-debit/day/preview?day=25").get_data(as_text=True)
    response = client.post("/direct-debit/day/code", data={"csrf_token": token_on(page), "day": "25"})
    assert response.status_code == 429
    assert "You have asked for several codes in the last hour." in text_of(response.get_data(as_text=True))
    assert len(messages(session, on_the_first[0], "proof_code")) == 5


def test_too_many_changes_are_refused_with_the_reason(on_the_first, session, client) -> None:
    customer, _schedule = on_the_first
    for day in (25, 20):
        _ask_code(client, day)
        assert _confirm(client, day, latest_code(session, customer)).status_code == 302
    page = text_of(client.get("/direct-debit/day/preview?day=10").get_data(as_text=True))
    assert "This change is not possible" in page
    assert "You have already changed your collection day 2 times in the past twelve months." in page
    assert "Send me a code" not in page


def test_two_debits_close_together_are_pointed_out(app, session, create_customer, create_direct_debit, login, client):
    customer = create_customer(language="en")
    create_direct_debit(customer, day=25, first_period="2027-01")
    with time_machine.travel(datetime(2027, 1, 8, 9, tzinfo=UTC), tick=False), app.app_context():
        prenotify_all(session, today=date(2027, 1, 8))  # the January debit is announced for the 25th
    with time_machine.travel(datetime(2027, 1, 12, 9, tzinfo=UTC), tick=False):
        login(client, customer)
        page = text_of(client.get("/direct-debit/day/preview?day=1").get_data(as_text=True))
    assert "The debit for January 2027 stays on 25 January 2027: it is too close to move." in page
    assert "Two debits close together" in page
    assert "The debit of 25 January 2027 was already fixed, so the next one follows on 1 February 2027, 7 days" in page


def test_the_months_and_dates_follow_the_dutch_locale(
    app, session, create_customer, create_direct_debit, login, client
) -> None:
    customer = create_customer(language="nl")
    create_direct_debit(customer, day=1, first_period="2027-01")
    with time_machine.travel(DEC_15, tick=False):
        login(client, customer)
        page = text_of(client.get("/direct-debit/day/preview?day=25").get_data(as_text=True))
    assert "januari 2027 4 jan 2027 25 jan 2027" in page


def test_a_change_with_nothing_announced_yet_still_sends_the_new_dates(
    app, session, create_customer, create_direct_debit, login, client
) -> None:
    # No debit is announced yet (the first is for March): the page says an e-mail has the new dates, so one does.
    customer = create_customer(language="nl")
    create_direct_debit(customer, day=1, first_period="2027-03")
    with time_machine.travel(DEC_15, tick=False):
        login(client, customer)
        _ask_code(client, 25)
        response = _confirm(client, 25, latest_code(session, customer))
        done = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Klaar. We hebben je een e-mail gestuurd met de nieuwe datums." in done
    sent = messages(session, customer, "debit_prenotification")
    assert len(sent) == 1 and "25 maart 2027" in sent[0].body_text
    assert "De dag van je incasso is gewijzigd" in sent[0].body_text
