"""The "Direct debit" section of the staff customer page: the mandate, the schedule, the next debits, what
happened to each debit and what the customer chose; and the "what if the day moves" preview for the phone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from portal.debits.models import DayChange, Debit
from tests.debits.staff_support import AM04_IBAN, DECEMBER_15, period_invoice, run_at, text_of


@pytest.fixture()
def frozen():
    with time_machine.travel(DECEMBER_15, tick=False) as traveller:
        yield traveller


def _page(staff, customer, query=""):
    response = staff.get(f"/staff/customers/{customer.id}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _section(html):
    return html.split('<h2 id="direct-debit">', 1)[1].split("</section>\n\n", 1)[0]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "UMR-STAFF-1",
                "NL91 **** 4300",
                "1 June 2026",
                "Day 1 of each month",
                "€84.70",
                "January 2027",
                "4 January 2027",
                "1 February 2027",
                "1 March 2027",
            ],
        ),
        (
            "nl",
            [
                "UMR-STAFF-1",
                "NL91 **** 4300",
                "1 juni 2026",
                "€ 84,70",
                "januari 2027",
                "4 januari 2027",
                "1 februari 2027",
                "1 maart 2027",
            ],
        ),
    ],
)
def test_the_section_shows_the_mandate_the_schedule_and_the_next_three_debits(
    app, client, session, create_customer, create_direct_debit, staff_login, frozen, language, expected
):
    customer = create_customer(name="Sanne de Vries")
    create_direct_debit(customer, day=1, amount_cents=8470, first_period="2027-01", reference="UMR-STAFF-1")
    run_at(app, session, DECEMBER_15, date(2026, 12, 15))  # January's debit is announced
    staff_login(client, "viewer", language=language)

    html = _page(client, customer)
    section = text_of(_section(html))
    for text in expected:
        assert text in section, text
    assert "NL91ABNA0417164300" not in html and "0417 1643" not in html, "the IBAN is only ever shown masked"
    assert 'href="#direct-debit"' in html, "the section is in the page's table of contents"
    # The next three debits in order: the one announced (New Year's Day moves it to Monday 4 January), then two more.
    if language == "en":
        order = r"January 2027 4 January 2027 .*February 2027 1 February 2027 .*March 2027 1 March 2027"
        assert re.search(order, section)
        assert "Collected by Demo" in section and "0 of 2 in the past twelve months" in section
        assert "Announced" in section, "the history has the announced debit"


def test_a_customer_without_direct_debit_says_so(client, create_customer, staff_login):
    customer = create_customer()
    staff_login(client, "viewer", language="en")
    assert "This customer does not pay by direct debit." in _page(client, customer)


def test_a_failed_debit_shows_its_reason_attempt_and_the_customers_choice_as_plain_text(
    app, client, session, create_customer, create_invoice, create_direct_debit, staff_login
):
    customer = create_customer(language="en")
    create_direct_debit(customer, day=4, first_period="2027-01", iban=AM04_IBAN)
    invoice = period_invoice(create_invoice, customer, 1, number="DD-2027-01")
    run_at(app, session, DECEMBER_15, date(2026, 12, 15))
    _notified, report = run_at(app, session, datetime(2027, 1, 4, 9, tzinfo=UTC), date(2027, 1, 4))
    debit = session.get(Debit, report.failed[0])
    # What the debtor typed after the failure ("tell us what is wrong") may hold markup and addresses.
    debit.choice = "dispute"
    debit.choice_details = {"message": '<a href="https://evil.example">refund me</a> see https://evil.example'}
    debit.chosen_at = datetime(2027, 1, 5, 10, tzinfo=UTC)
    session.commit()

    with time_machine.travel(datetime(2027, 1, 6, 9, tzinfo=UTC), tick=False):
        staff_login(client, "viewer", language="en")
        html = _section(_page(client, customer))
    text = text_of(html)
    assert "Failed" in text and "AM04" in text and "there was not enough money in the account" in text
    assert "Tells us what is wrong" in text and "5 Jan 2027" in text
    assert "&lt;a href=&#34;https://evil.example&#34;&gt;refund me&lt;/a&gt; see https://evil.example" in html
    assert '<a href="https://evil.example' not in html, "what the customer typed is never a link"
    assert f'href="/staff/customers/{customer.id}/invoices/{invoice.number}"' in html


@pytest.mark.parametrize(
    ("language", "before", "after"),
    [
        (
            "en",
            ["4 January 2027", "1 February 2027", "1 March 2027"],
            ["25 January 2027", "25 February 2027", "25 March 2027"],
        ),
        (
            "nl",
            ["4 januari 2027", "1 februari 2027", "1 maart 2027"],
            ["25 januari 2027", "25 februari 2027", "25 maart 2027"],
        ),
    ],
)
def test_the_preview_shows_the_next_debits_before_and_after_side_by_side(
    app, client, session, create_customer, create_direct_debit, staff_login, frozen, language, before, after
):
    customer = create_customer()
    create_direct_debit(customer, day=1, first_period="2027-01")
    run_at(app, session, DECEMBER_15, date(2026, 12, 15))
    staff_login(client, "viewer", language=language)

    html = _page(client, customer, "?debit_day=25")
    table = html.split('class="before-after"', 1)[1].split("</table>", 1)[0]
    rows = [text_of(row) for row in table.split("<tr>")[2:]]
    assert len(rows) == 3, "the next three debits"
    for row, old, new in zip(rows, before, after, strict=True):
        assert old in row and new in row, row
    assert 'value="25"' in html, "the day asked about stays in the field"
    assert f'action="/staff/debits/customers/{customer.id}/day"' not in html, "a viewer cannot make the change"
    assert session.query(DayChange).count() == 0, "a preview changes nothing"


def test_an_agent_sees_the_button_that_leads_to_the_confirmation(
    app, client, session, create_customer, create_direct_debit, staff_login, frozen
):
    customer = create_customer()
    create_direct_debit(customer, day=1, first_period="2027-01")
    staff_login(client, "agent", language="en")
    html = _page(client, customer, "?debit_day=25")
    form = html.split(f'action="/staff/debits/customers/{customer.id}/day"', 1)[1].split("</form>", 1)[0]
    assert 'name="new_day" value="25"' in form and 'name="from_day" value="1"' in form
    assert 'name="csrf_token"' in form and 'name="confirmed"' not in form, "the first press only asks"
    assert "Move the day to 25" in form


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?debit_day=abc", "Enter a day of the month from 1 to 31."),
        ("?debit_day=40", "Enter a day of the month from 1 to 31."),
        ("?debit_day=30", "That day cannot be chosen. Pick one of the days shown."),
        ("?debit_day=1", "Your debit is already collected on that day."),
    ],
)
def test_a_day_that_cannot_be_chosen_is_explained_and_offers_no_change(
    client, create_customer, create_direct_debit, staff_login, frozen, query, message
):
    customer = create_customer()
    create_direct_debit(customer, day=1, first_period="2027-01")
    staff_login(client, "agent", language="en")
    html = _page(client, customer, query)
    assert message in html
    assert "Days the customer may choose: 1-28." in html
    assert f'action="/staff/debits/customers/{customer.id}/day"' not in html


def test_a_customer_with_no_changes_left_is_told_in_the_preview(
    client, session, create_customer, create_direct_debit, staff_login, frozen
):
    customer = create_customer()
    schedule = create_direct_debit(customer, day=1, first_period="2027-01")
    for to_day in (5, 1):
        session.add(DayChange(schedule_id=schedule.id, from_day=1, to_day=to_day, changed_by="debtor"))
    session.commit()
    staff_login(client, "agent", language="en")
    html = _page(client, customer, "?debit_day=25")
    assert "You have already changed your collection day 2 times in the past twelve months." in html
    assert "2 of 2 in the past twelve months" in text_of(html)
    assert f'action="/staff/debits/customers/{customer.id}/day"' not in html


def test_the_preview_says_which_debits_stay_and_when_two_fall_together(
    app, client, session, create_customer, create_direct_debit, staff_login
):
    """On the 28th, on 20 January: January's debit is fixed, February's new date (1 February) is too close,
    so February keeps 1 March (28 February is a Sunday) and March moves to 1 March as well."""
    customer = create_customer()
    create_direct_debit(customer, day=28, first_period="2027-01")
    run_at(app, session, datetime(2027, 1, 10, 9, tzinfo=UTC), date(2027, 1, 10))  # January's is announced
    moment = datetime(2027, 1, 20, 9, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        staff_login(client, "agent", language="en")
        html = _page(client, customer, "?debit_day=1")
    table = html.split('class="before-after"', 1)[1].split("</table>", 1)[0]
    rows = [text_of(row) for row in table.split("<tr>")[2:]]
    assert "28 January 2027" in rows[0] and "stays: too close to move" in rows[0]
    assert rows[1].count("1 March 2027") == 2 and "stays: too close to move" in rows[1]
    # 28 March 2027 is Easter Sunday, and Easter Monday is no bank day either.
    assert "30 March 2027" in rows[2] and "1 March 2027 moves" in rows[2]
    assert (
        "The debits for February 2027 and March 2027 both fall on 1 March 2027, because the first one is too close "
        "to move." in text_of(html)
    )
