"""Moving a customer's collection day from the staff area: a confirmation that says what will happen, then the
change with new pre-notifications; a second press changes nothing more; viewers and forged forms are refused."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from portal.debits.models import DayChange, Debit, DebitSchedule
from portal.events.models import DomainEvent
from portal.notifications.models import OutboxMessage
from tests.debits.staff_support import DECEMBER_15, messages_block, run_at, text_of
from tests.fixtures.factories import csrf_token


@pytest.fixture()
def frozen():
    with time_machine.travel(DECEMBER_15, tick=False) as traveller:
        yield traveller


@pytest.fixture()
def on_direct_debit(app, session, create_customer, create_direct_debit, frozen):
    """Sanne pays on the 1st; January's debit (4 January, after New Year's Day) is already announced."""
    customer = create_customer(name="Sanne de Vries", email="sanne@example.com", language="nl")
    schedule = create_direct_debit(customer, day=1, first_period="2027-01", reference="UMR-SANNE")
    run_at(app, session, DECEMBER_15, date(2026, 12, 15))
    return customer, schedule


def _form(staff, customer, **overrides):
    token = csrf_token(staff, f"/staff/customers/{customer.id}")
    return {"csrf_token": token, "new_day": "25", "from_day": "1", **overrides}


def _url(customer):
    return f"/staff/debits/customers/{customer.id}/day"


def _prenotifications(session, customer):
    return session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.customer_id == customer.id, OutboxMessage.template == "debit_prenotification"
        )
    ).all()


def _changes(session, schedule):
    session.expire_all()
    return session.scalars(select(DayChange).where(DayChange.schedule_id == schedule.id)).all()


@pytest.mark.parametrize(
    ("language", "dates"),
    [
        ("en", ["25 January 2027", "4 January 2027", "€84.70"]),
        ("nl", ["25 januari 2027", "4 januari 2027", "€ 84,70"]),
    ],
)
def test_the_first_press_only_says_what_will_happen(client, session, on_direct_debit, staff_login, language, dates):
    customer, schedule = on_direct_debit
    staff_login(client, "agent", language=language)
    answer = client.post(_url(customer), data=_form(client, customer))
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    text = text_of(html)
    for shown in dates:
        assert shown in text
    assert "UMR-SANNE" in text and "sanne@example.com" in text
    if language == "en":
        assert "<h1>Move the collection day of Sanne de Vries to day 25?</h1>" in html
        assert "From day 1 to day 25 of each month" in text
        assert "1 debit was already announced; sanne@example.com gets an e-mail with its new date." in text
        assert "This is change 1 of the 2 allowed in twelve months." in text
        assert "The customer needs no code" in text
    assert 'name="confirmed" value="yes"' in html
    assert re.search(r'<a href="/staff/customers/"[^>]*aria-current="page"', html), "still under Customers"
    assert _changes(session, schedule) == [], "nothing changes before the confirmation"
    assert session.get(DebitSchedule, schedule.id).day_of_month == 1


def test_the_confirmed_press_moves_the_day_tells_the_customer_and_shows_the_result_on_top(
    client, session, on_direct_debit, staff_login
):
    customer, schedule = on_direct_debit
    staff = staff_login(client, "agent", language="en", email="ada@example.com")
    before = len(_prenotifications(session, customer))

    answer = client.post(_url(customer), data=_form(client, customer, confirmed="yes"))
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/staff/customers/{customer.id}#messages"

    [change] = _changes(session, schedule)
    assert (change.from_day, change.to_day, change.changed_by) == (1, 25, staff.email)
    january = session.scalars(select(Debit).where(Debit.schedule_id == schedule.id)).one()
    assert january.due_on == date(2027, 1, 25)
    notices = _prenotifications(session, customer)
    assert len(notices) == before + 1, "a new pre-notification for the debit that moved"
    assert "25 januari 2027" in notices[-1].body_text and notices[-1].recipient == "sanne@example.com"
    event = session.scalars(select(DomainEvent).where(DomainEvent.kind == "debit.day_changed")).one()
    assert (event.actor_type, event.actor_id) == ("staff", staff.email)

    landing = client.get(answer.headers["Location"]).get_data(as_text=True)
    block = messages_block(landing)
    assert "The collection day of Sanne de Vries is now day 25." in block
    assert "1 debit already announced has a new date; sanne@example.com gets an e-mail with it." in block
    assert "Day 25 of each month" in text_of(landing)


def test_the_result_reads_in_dutch_dates_for_a_dutch_staff_member(client, session, on_direct_debit, staff_login):
    customer, _schedule = on_direct_debit
    staff_login(client, "agent", language="nl")
    answer = client.post(_url(customer), data=_form(client, customer, confirmed="yes"))
    landing = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert '<html lang="nl">' in landing
    assert "Sanne de Vries" in messages_block(landing)
    assert "25 januari 2027" in text_of(landing), "the next debits, in Dutch"


def test_a_second_press_of_the_confirmation_changes_nothing_more(client, session, on_direct_debit, staff_login):
    customer, schedule = on_direct_debit
    staff_login(client, "agent", language="en")
    form = _form(client, customer, confirmed="yes")
    first = client.post(_url(customer), data=form)
    second = client.post(_url(customer), data=form)
    assert first.status_code == second.status_code == 302
    assert len(_changes(session, schedule)) == 1, "the change limit counts it once"
    assert len([m for m in _prenotifications(session, customer) if "25 januari" in m.body_text]) == 1
    landing = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "The collection day of Sanne de Vries is already day 25." in messages_block(landing)
    assert "1 of 2 in the past twelve months" in text_of(landing)


def test_a_change_made_by_someone_else_in_between_is_not_overwritten(client, session, on_direct_debit, staff_login):
    customer, schedule = on_direct_debit
    staff_login(client, "agent", language="en")
    form = _form(client, customer, confirmed="yes")
    session.get(DebitSchedule, schedule.id).day_of_month = 15  # the customer moved it themselves meanwhile
    session.commit()
    answer = client.post(_url(customer), data=form)
    landing = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "was changed to day 15 while you were looking" in messages_block(landing)
    assert session.get(DebitSchedule, schedule.id).day_of_month == 15
    assert _changes(session, schedule) == []


@pytest.mark.parametrize("confirmed", ["", "yes"])
def test_too_many_changes_are_refused_with_the_reason(client, session, on_direct_debit, staff_login, confirmed):
    customer, schedule = on_direct_debit
    for to_day in (5, 1):
        session.add(DayChange(schedule_id=schedule.id, from_day=1, to_day=to_day, changed_by="debtor"))
    session.commit()
    staff_login(client, "agent", language="en")
    answer = client.post(_url(customer), data=_form(client, customer, confirmed=confirmed))
    assert answer.status_code == 302
    block = messages_block(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert "The collection day was not changed." in block
    assert "You have already changed your collection day 2 times in the past twelve months." in block
    assert 'role="alert"' in block
    assert len(_changes(session, schedule)) == 2 and session.get(DebitSchedule, schedule.id).day_of_month == 1


@pytest.mark.parametrize("language", ["en", "nl"])
def test_a_viewer_cannot_move_the_day(client, session, on_direct_debit, staff_login, language):
    customer, schedule = on_direct_debit
    staff_login(client, "viewer", language=language)
    answer = client.post(_url(customer), data=_form(client, customer, confirmed="yes"))
    assert answer.status_code == 403
    assert f'<html lang="{language}">' in answer.get_data(as_text=True)
    assert _changes(session, schedule) == []


@pytest.mark.parametrize("language", ["en", "nl"])
def test_a_form_without_its_csrf_token_changes_nothing(client, session, on_direct_debit, staff_login, language):
    customer, schedule = on_direct_debit
    staff_login(client, "agent", language=language)
    answer = client.post(_url(customer), data={"new_day": "25", "from_day": "1", "confirmed": "yes"})
    assert answer.status_code == 400
    assert f'<html lang="{language}">' in answer.get_data(as_text=True)
    assert _changes(session, schedule) == []
    assert session.get(DebitSchedule, schedule.id).day_of_month == 1


def test_a_day_outside_the_month_is_refused_before_anything(client, session, on_direct_debit, staff_login):
    customer, schedule = on_direct_debit
    staff_login(client, "agent", language="en")
    answer = client.post(_url(customer), data=_form(client, customer, new_day="40", confirmed="yes"))
    block = messages_block(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert "Enter a day of the month from 1 to 31." in block
    assert _changes(session, schedule) == []


def test_an_unknown_customer_is_not_found(client, on_direct_debit, staff_login):
    customer, _schedule = on_direct_debit
    staff_login(client, "agent", language="en")
    answer = client.post("/staff/debits/customers/987654321/day", data=_form(client, customer))
    assert answer.status_code == 404


def test_the_confirmation_says_which_debits_keep_their_date(
    app, client, session, create_customer, create_direct_debit, staff_login
):
    """On the 28th, moving to the 1st on 20 January: January is fixed and February's 1st is too close."""
    customer = create_customer(name="Jip Jansen", email=None)
    schedule = create_direct_debit(customer, day=28, first_period="2027-01")
    run_at(app, session, datetime(2027, 1, 10, 9, tzinfo=UTC), date(2027, 1, 10))
    with time_machine.travel(datetime(2027, 1, 20, 9, tzinfo=UTC), tick=False):
        staff_login(client, "agent", language="en")
        html = client.post(_url(customer), data=_form(client, customer, new_day="1", from_day="28")).get_data(
            as_text=True
        )
        text = text_of(html)
        assert "The debit of January 2027 stays on 28 January 2027: it is too close to move." in text
        assert "The debit of February 2027 stays on 1 March 2027: it is too close to move." in text
        assert "both fall on 1 March 2027" in text
        assert "gets an e-mail" not in text, "no debit already announced moves, and there is no address"
        done = client.post(_url(customer), data=_form(client, customer, new_day="1", from_day="28", confirmed="yes"))
        landing = text_of(client.get(done.headers["Location"]).get_data(as_text=True))
    assert "The collection day of Jip Jansen is now day 1." in landing
    assert session.get(DebitSchedule, schedule.id).day_of_month == 1
