"""What staff do with a request to be called back: mark it as called, once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.events import emit
from portal.plans import events as plan_events
from portal.plans.errors import PlanProblem
from portal.plans.models import CallbackRequest


def lock_callback(session: Session, request_id: int) -> CallbackRequest:
    """The request, locked: two staff pressing "called" at once, or one pressing twice, mark it once."""
    found = session.scalar(
        select(CallbackRequest)
        .where(CallbackRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise PlanProblem("callback_unknown")
    return found


def mark_called(session: Session, request: CallbackRequest, *, actor: Actor, staff_email: str) -> None:
    if request.handled_at is not None:
        raise PlanProblem("callback_handled", by=request.handled_by or "")
    request.handled_at = clock.now()
    request.handled_by = staff_email
    emit(session, plan_events.about_callback(plan_events.CALLBACK_HANDLED, request, actor, by=staff_email))
