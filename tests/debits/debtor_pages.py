"""Helpers the debtor's direct-debit page tests share: page text, forms' tokens, and the e-mailed code."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.customers.models import Customer
from portal.notifications.models import OutboxMessage


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def token_on(html: str) -> str:
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def messages(session: Session, customer: Customer, template: str) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.customer_id == customer.id, OutboxMessage.template == template)
            .order_by(OutboxMessage.id)
        )
    )


def latest_code(session: Session, customer: Customer) -> str:
    """The six digits of the newest code e-mail, read as the debtor would from their inbox."""
    sent = messages(session, customer, "proof_code")
    assert sent, "no code was e-mailed"
    match = re.search(r"^\s*(\d{6})\s*$", sent[-1].body_text, re.MULTILINE)
    assert match, sent[-1].body_text
    return match.group(1)
