"""The queue of proposals waiting for staff: oldest first, each with what a decision needs (total, terms,
why it is outside the policy, the answer-by date, standing out once passed, the debtor's reason and budget)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine

from tests.plans.staff_support import NOW, main_of, text_of

QUEUE = "/staff/plans/"


def _rows(html):
    body = html.split('class="plan-queue"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.split("<tr>")[1:]


def test_the_queue_shows_waiting_proposals_oldest_first(client, propose, staff_login):
    newer = propose(name="Noor Newer", at=NOW - timedelta(hours=1), instalments=12)
    older = propose(
        name="Olga Older",
        at=NOW - timedelta(days=6),
        instalments=4,
        first=date(2027, 1, 30),
        budget={"income": 180000, "expenses": 165050},
    )
    propose(name="Ivo Inside", instalments=3)  # inside the policy: agreed at once, never in the queue

    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="en")
        html = client.get(QUEUE).get_data(as_text=True)
    rows = _rows(html)
    assert len(rows) == 2
    assert "Olga Older" in rows[0] and "Noor Newer" in rows[1], "the oldest proposal first"
    assert "Ivo Inside" not in html
    olga, noor = text_of(rows[0]), text_of(rows[1])
    assert "€605.00" in olga and "4 instalments, every month" in olga
    assert "The first instalment is later than the policy allows (within 30 days)." in olga
    assert "Income €1,800.00, expenses €1,650.50, left €149.50" in olga
    assert "More instalments than the policy allows (at most 6)." in noor
    assert "I lost my job in October" in noor
    # Olga's answer was due two business days after 26 November: passed, so it says so in words.
    assert re.search(r'class="overdue-text">[^<]+</span> <span class="badge badge-overdue">Overdue', rows[0])
    assert "Overdue" not in noor
    assert f'href="/staff/plans/{older.id}/decide"' in rows[0] and f'href="/staff/plans/{newer.id}/decide"' in rows[1]
    assert "2 proposals for a payment plan are outside the policy" in text_of(main_of(html))
    assert re.search(r'<a href="/staff/plans/"[^>]*aria-current="page"', html), "in the staff menu"


def test_the_queue_in_dutch(client, propose, staff_login):
    propose(name="Noor", instalments=12)
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "agent", language="nl")
        html = client.get(QUEUE).get_data(as_text=True)
    assert '<html lang="nl">' in html and "605,00" in html


def test_an_empty_queue_says_so(client, session, staff_login):
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "agent", language="en")
        html = client.get(QUEUE).get_data(as_text=True)
    assert "No proposals are waiting." in html


@pytest.mark.parametrize("role", ["viewer", "agent", "supervisor", "admin"])
def test_every_role_has_payment_plans_in_the_menu(client, session, staff_login, role):
    staff_login(client, role, language="en")
    html = client.get("/staff/account").get_data(as_text=True)
    assert f'href="{QUEUE}"' in html
