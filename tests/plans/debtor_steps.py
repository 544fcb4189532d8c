"""The steps of the debtor's plan pages the tests share: fill in the form, see the schedule, agree."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from flask.testing import FlaskClient

from tests.debits.debtor_pages import text_of, token_on

# Tuesday 1 December 2026, 10:00 in Amsterdam.
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
FIRST = date(2026, 12, 8)
# 400 kWh at 0.25 plus 21% VAT: 121.00 per invoice.
LINES = [("Stroom", "400", "kWh", "0.25000", "21")]


def overdue_invoices(create_invoice: Any, customer: Any, count: int = 2) -> list[Any]:
    return [
        create_invoice(customer, lines=LINES, issue_date=date(2026, 9, 1 + n), due_date=date(2026, 9, 15 + n))
        for n in range(count)
    ]


def seal_on(html: str) -> str:
    match = re.search(r'name="seal" type="hidden" value="([0-9a-f]+)"', html)
    assert match, "no agreement seal on the page"
    return match.group(1)


def agreement_on(html: str) -> str:
    match = re.search(r'<div class="agreement">(.*?)</div>', html, re.DOTALL)
    assert match, "no agreement on the page"
    return match.group(1).replace("&amp;", "&").replace("&#39;", "'").replace("&#34;", '"')


def choices(numbers: list[str], **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"invoice": numbers, "instalments": "3", "every": "month", "first": FIRST.isoformat()}
    data.update(overrides)
    return data


def preview(client: FlaskClient, data: dict[str, Any]) -> str:
    page = client.get("/plan").get_data(as_text=True)
    response = client.post("/plan", data={**data, "csrf_token": token_on(page), "action": "preview"})
    assert response.status_code == 200, text_of(response.get_data(as_text=True))
    return response.get_data(as_text=True)


def agree(client: FlaskClient, shown: str, data: dict[str, Any], **changes: Any) -> Any:
    """Send the form as shown on the schedule step, ticked "I agree", with ``changes`` made to it."""
    form = {**data, "csrf_token": token_on(shown), "seal": seal_on(shown), "agree": "y", "action": "propose"}
    form.update(changes)
    return client.post("/plan", data=form)


def plan_id_of(response: Any) -> int:
    assert response.status_code == 302, text_of(response.get_data(as_text=True))
    match = re.search(r"/plan/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))
