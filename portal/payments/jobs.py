"""Reconciliation: ask the provider about payments we have not heard of for a while.

Webhooks get lost and debtors close the tab before the return page; this catches both. It also asks again
about payments paid recently, a bounded batch per run, so a chargeback whose webhook never came is still
found. Each payment is synchronised in its own transaction, so one provider outage does not hold up the rest.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.extensions import db
from portal.payments import refunds, services
from portal.payments.models import Payment
from portal.providers.base import ProviderRejected, ProviderUnavailable
from portal.providers.registry import configured_provider_names, get_provider

log = logging.getLogger(__name__)
QUIET_FOR = timedelta(minutes=10)
# Chargebacks come weeks after the payment: SEPA debits may be reversed up to 8 weeks later (13 months for
# an unauthorised debit, which no webhook window covers), card disputes within about 120 days.
RECHECK_PAID_WITHIN = timedelta(days=120)
# A paid payment is asked about at most this often, and at most this many per run, so the provider's rate
# limits are never at risk; oldest-checked first, so every payment gets its turn.
RECHECK_PAID_EVERY = timedelta(hours=12)
RECHECK_PAID_BATCH = 200
RECONCILER = Actor(type="system", id="reconciliation")


def payments_to_reconcile(
    session: Session, *, older_than: timedelta, limit: int = 100, providers: list[str] | None = None
) -> list[Payment]:
    """Unfinished payments nobody has heard about for a while: webhooks get lost, debtors close tabs.

    Also those with a paid-twice refund noted but not sent (the request that noted it ended first)."""
    cutoff = clock.now() - older_than
    return list(
        session.scalars(
            select(Payment)
            .where(
                Payment.external_id.is_not(None),
                *_asked_of(providers),
                or_(
                    and_(
                        Payment.state.in_(("open", "pending")),
                        or_(Payment.synced_at.is_(None), Payment.synced_at < cutoff),
                        Payment.created_at < cutoff,
                    ),
                    and_(Payment.refund_pending_key.like("%-paid-twice"), Payment.updated_at < cutoff),
                ),
            )
            .order_by(Payment.id)
            .limit(limit)
        )
    )


def _asked_of(providers: list[str] | None) -> list[Any]:
    """Only payments of providers we can ask: a debit collected by the creditor's bank (its returns file tells) or
    by the demo collector has nobody to ask."""
    return [] if providers is None else [Payment.provider.in_(providers)]


def paid_payments_to_recheck(
    session: Session,
    *,
    paid_within: timedelta,
    checked_before: timedelta,
    limit: int,
    providers: list[str] | None = None,
) -> list[Payment]:
    """Paid payments to ask the provider about again, those checked longest ago (or never) first."""
    now = clock.now()
    return list(
        session.scalars(
            select(Payment)
            .where(
                Payment.state == "paid",
                Payment.external_id.is_not(None),
                *_asked_of(providers),
                Payment.paid_at >= now - paid_within,
                or_(Payment.synced_at.is_(None), Payment.synced_at < now - checked_before),
            )
            .order_by(Payment.synced_at.is_not(None), Payment.synced_at, Payment.id)
            .limit(limit)
        )
    )


def reconcile_payments(app: Flask) -> int:
    """Synchronise quiet unfinished payments and a batch of recently paid ones; returns how many were asked about."""
    with app.app_context():
        providers = configured_provider_names(app.config)
        stale = [payment.id for payment in payments_to_reconcile(db.session, older_than=QUIET_FOR, providers=providers)]
        paid = paid_payments_to_recheck(
            db.session,
            paid_within=RECHECK_PAID_WITHIN,
            checked_before=RECHECK_PAID_EVERY,
            limit=RECHECK_PAID_BATCH,
            providers=providers,
        )
        ids = list(dict.fromkeys([*stale, *(payment.id for payment in paid)]))
        db.session.rollback()
        for payment_id in ids:
            try:
                payment = db.session.get(Payment, payment_id, populate_existing=True)
                if payment is None:
                    raise LookupError(payment_id)
                provider = get_provider(payment.provider, app)
                external_id = payment.external_id
                # Nothing is written yet: end the read, so no lock (SQLite's is database-wide) waits on the
                # provider; apply_status takes the lock once the answer is in.
                db.session.commit()
                if external_id is not None:
                    status = provider.fetch_status(external_id)
                    asked_at = clock.now()
                    applied = services.apply_status(db.session, payment_id, status, actor=RECONCILER)
                    if applied.synced_at is None or applied.synced_at < asked_at:
                        # apply_status ignored the answer (it names another payment): still a check made.
                        applied.synced_at = asked_at
                # Committed before the refund call below, as every call to a provider is preceded by one.
                db.session.commit()
                refunds.send_paid_twice_refund(db.session, provider, payment_id, actor=RECONCILER)
                db.session.commit()
            except (ProviderUnavailable, ProviderRejected, KeyError, LookupError) as error:
                db.session.rollback()
                log.warning("payment %s: reconciliation failed: %s", payment_id, type(error).__name__)
                _checked_but_failed(payment_id)
        db.scoped.remove()
    return len(ids)


def _checked_but_failed(payment_id: int) -> None:
    """Stamp the failed check, in a commit of its own: a payment that never syncs (its provider no longer
    configured, or refusing) would otherwise stay oldest-checked and take the head of every batch for ever."""
    db.session.execute(update(Payment).where(Payment.id == payment_id).values(synced_at=clock.now()))
    db.session.commit()
