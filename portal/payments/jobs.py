"""Reconciliation: ask the provider about payments we have not heard of for a while.

Webhooks get lost and debtors close the tab before the return page; this catches both. Each payment
is synchronised in its own transaction, so one provider outage does not hold up the rest.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

from portal.audit.services import Actor
from portal.extensions import db
from portal.payments import services
from portal.providers.base import ProviderRejected, ProviderUnavailable
from portal.providers.registry import get_provider

log = logging.getLogger(__name__)
QUIET_FOR = timedelta(minutes=10)
RECONCILER = Actor(type="system", id="reconciliation")


def reconcile_payments(app: Flask) -> int:
    """Synchronise unfinished payments that have been quiet for QUIET_FOR; returns how many were asked about."""
    with app.app_context():
        stale = [payment.id for payment in services.payments_to_reconcile(db.session, older_than=QUIET_FOR)]
        db.session.rollback()
        for payment_id in stale:
            try:
                payment = services.lock_payment(db.session, payment_id)
                services.sync_payment(db.session, get_provider(payment.provider, app), payment, actor=RECONCILER)
                db.session.commit()
            except (ProviderUnavailable, ProviderRejected, KeyError, LookupError) as error:
                db.session.rollback()
                log.warning("payment %s: reconciliation failed: %s", payment_id, type(error).__name__)
        db.scoped.remove()
    return len(stale)
