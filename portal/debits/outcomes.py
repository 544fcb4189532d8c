"""What a debit's payment becoming paid, failing or being reversed means for the debit.

Every outcome reaches the payment through ``apply_status`` (the collector's answer, a webhook, reconciliation,
the bank's returns file); these reactions to the payment's events keep the debit in step, in the same
transaction, whoever brought the news.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.debits import events as debit_events
from portal.debits.models import Debit
from portal.debits.policy import debit_policy
from portal.events import emit
from portal.events.models import DomainEvent
from portal.events.registry import react_to
from portal.payments import events as payment_events

# A reversal of a paid debit without a reason of its own: the debtor asked their bank for the money back.
REVERSAL_WITHOUT_REASON = "MD06"


def _debit_of(session: Session, event: DomainEvent) -> Debit | None:
    if event.subject_type != "payment" or event.subject_id is None:
        return None
    return session.scalars(select(Debit).where(Debit.payment_id == int(event.subject_id))).first()


def _actor(event: DomainEvent) -> Actor:
    return Actor(type=event.actor_type, id=event.actor_id)


def _collected(session: Session, event: DomainEvent) -> None:
    debit = _debit_of(session, event)
    if debit is None or debit.state == "collected":
        return
    now = clock.now()
    debit.state = "collected"
    debit.collected_at = now
    debit.paused_until = None
    debit.updated_at = now
    debit.schedule.mandate.last_collected_on = debit.due_on
    emit(session, debit_events.about_debit(debit_events.COLLECTED, debit, _actor(event), attempt=debit.attempt))


def mark_failed(session: Session, debit: Debit, code: str | None, *, actor: Actor, reversed_after_paid: bool) -> None:
    """The debit did not bring the money (refused, or reversed later): reopen, pause dunning, tell the debtor."""
    now = clock.now()
    grace = debit_policy(session).failed_grace_days
    debit.state = "failed"
    debit.failure_code = (code or "MS03")[:8].upper()
    debit.failed_at = now
    debit.paused_until = now + timedelta(days=grace)
    debit.choice = None
    debit.choice_details = None
    debit.chosen_at = None
    debit.updated_at = now
    emit(
        session,
        debit_events.about_debit(
            debit_events.FAILED,
            debit,
            actor,
            code=debit.failure_code,
            attempt=debit.attempt,
            reversed=reversed_after_paid,
            invoice=debit.invoice.number if debit.invoice else None,
        ),
    )


def _failed(session: Session, event: DomainEvent) -> None:
    debit = _debit_of(session, event)
    if debit is None or debit.state == "failed":
        return
    mark_failed(session, debit, event.payload.get("reason"), actor=_actor(event), reversed_after_paid=False)


def _reversed(session: Session, event: DomainEvent) -> None:
    debit = _debit_of(session, event)
    if debit is None or debit.state == "failed":
        return
    code = event.payload.get("reason") or REVERSAL_WITHOUT_REASON
    mark_failed(session, debit, str(code), actor=_actor(event), reversed_after_paid=True)


react_to(payment_events.PAID, _collected)
react_to(payment_events.ENDED["failed"], _failed)
react_to(payment_events.CHARGED_BACK, _reversed)


def _reversal_undone(session: Session, event: DomainEvent) -> None:
    """The bank gave the money back after all (a chargeback reversed): the debit stands as collected again."""
    debit = _debit_of(session, event)
    if debit is None or debit.state != "failed":
        return
    debit.state = "collected"
    debit.paused_until = None
    debit.updated_at = clock.now()
    emit(session, debit_events.about_debit(debit_events.COLLECTED, debit, _actor(event), attempt=debit.attempt))


react_to(payment_events.CHARGEBACK_REVERSED, _reversal_undone)
