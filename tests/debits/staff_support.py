"""Shared steps of the staff direct-debit tests: a customer on direct debit, their debits run for real."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from portal.debits.collectors import DEMO_FAILING_IBANS
from portal.debits.jobs import run_debits

# 15 December 2026: the January debit (day 1, moved past New Year's Day to Monday 4 January) is announced.
DECEMBER_15 = datetime(2026, 12, 15, 9, tzinfo=UTC)
AM04_IBAN = next(iban for iban, code in DEMO_FAILING_IBANS.items() if code == "AM04")


def text_of(html: str) -> str:
    """The page as a person reads it: tags gone, white space folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def period_invoice(create_invoice, customer, month: int, *, number: str | None = None):
    """The billing system's invoice for a month of 2027 (the one that month's debit collects)."""
    start = date(2027, month, 1)
    end = date(2027, month, 28)
    extra = {"number": number} if number else {}
    return create_invoice(
        customer, issue_date=date(2026, 12, 1), due_date=end, period_start=start, period_end=end, **extra
    )


def run_at(app, session, moment: datetime, today: date):
    """The daily debit job as the scheduler runs it (pre-notify, then collect what is due)."""
    import time_machine

    with time_machine.travel(moment, tick=False), app.app_context():
        result = run_debits(session, today=today)
        session.commit()
        return result


def messages_block(html: str) -> str:
    """The result block: it must come first in <main>, before the page's own heading."""
    main = html.split('<main id="main"', 1)[1]
    assert main.index('id="messages"') < main.index("<h1"), "the result is at the top of the page"
    return main.split('id="messages"', 1)[1].split("</div>", 1)[0]
