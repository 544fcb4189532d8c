"""A debtor who cannot pay asks to be phoned: one open request per customer, staff call and mark it handled."""

from __future__ import annotations

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.events import emit
from portal.plans import events as plan_events
from portal.plans.errors import PlanProblem
from portal.plans.models import CallbackRequest

PARTS_OF_DAY = ("morning", "afternoon", "evening")
MAX_NOTE = 1000


def callable_number(text: str, country: str) -> str:
    """The number as staff dial it (international format), read the way the customer's country writes numbers
    ("06 12345678" in the Netherlands); PlanProblem("phone_invalid") for anything no phone would ring."""
    # ASCII only: a full-width digit is a digit to Python, but nobody can dial the number it makes.
    if not text.isascii() or len(text) > 40:
        raise PlanProblem("phone_invalid")
    try:
        number = phonenumbers.parse(text, country.upper() or "NL")
    except phonenumbers.NumberParseException:
        raise PlanProblem("phone_invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise PlanProblem("phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def open_callback(session: Session, customer: Customer) -> CallbackRequest | None:
    return session.scalars(
        select(CallbackRequest)
        .where(CallbackRequest.customer_id == customer.id, CallbackRequest.handled_at.is_(None))
        .order_by(CallbackRequest.id.desc())
    ).first()


def request_callback(
    session: Session,
    customer: Customer,
    *,
    phone: str,
    preferred_time: str | None,
    note: str | None,
    actor: Actor,
) -> CallbackRequest:
    """Record the request, or raise PlanProblem("callback_exists") while an earlier one waits for our call."""
    number = callable_number(phone, customer.country)
    if preferred_time not in PARTS_OF_DAY:
        preferred_time = None  # "any time": the field is optional
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise PlanProblem("reason_too_long", limit=MAX_NOTE)
    # Serialise, so a double click cannot leave two requests for staff to call twice.
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    if open_callback(session, customer) is not None:
        raise PlanProblem("callback_exists")
    request = CallbackRequest(
        customer_id=customer.id, phone=number, preferred_time=preferred_time, note=note, created_at=clock.now()
    )
    session.add(request)
    session.flush()
    emit(session, plan_events.about_callback(plan_events.CALLBACK_REQUESTED, request, actor))
    return request
