"""The demo's dispute: a customer who disputed an invoice a week ago and heard nothing. The staff queue shows
it past its deadline, and the disputes job tells the supervisors, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.disputes.rules import deadlines
from portal.disputes.services import Choice, open_dispute
from portal.invoices.models import Invoice
from portal.storage import file_store

UNANSWERED_DISPUTE = "Esra Yilmaz"


def add_unanswered_dispute(session: Session, today: date, actor: Actor, invoices: list[Invoice]) -> None:
    customer = session.scalars(select(Customer).where(Customer.name == UNANSWERED_DISPUTE)).one()
    oldest = min(
        (invoice for invoice in invoices if invoice.customer is customer and invoice.state == "open"),
        key=lambda invoice: (invoice.due_date, invoice.id),
    )
    dispute = open_dispute(
        session,
        file_store(current_app.config),
        customer,
        Choice([oldest.number]),
        reason="amount_wrong",
        explanation="De meterstand op deze factuur klopt niet: ik heb in die maand veel minder verbruikt.",
        actor=actor,
    )
    opened_on = today - timedelta(days=7)
    due = deadlines(opened_on, first_response_days=2, resolution_days=10, country=customer.country)
    # A quarter past nine in the morning where she lives, as a person writing from home would.
    opened_at = datetime.combine(opened_on, time(9, 15), tzinfo=clock.zone_of(customer)).astimezone(UTC)
    dispute.created_at = dispute.updated_at = opened_at
    for message in dispute.messages:
        message.created_at = dispute.created_at
    dispute.first_response_due_on, dispute.resolution_due_on = due.first_response_on, due.resolution_on
