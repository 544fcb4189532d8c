"""From a provider's webhook to the payment it is about; the webhook's own claims are never trusted."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.payments.models import Payment, PaymentReversal
from portal.payments.services import sync_payment
from portal.providers.base import PaymentProvider, ProviderRejected

log = logging.getLogger(__name__)


def find_payment_for_notice(
    session: Session, provider: PaymentProvider, reference: str | None, payment_id: int | None
) -> Payment | None:
    """Our payment a webhook is about: by the provider's ids, else by our id echoed in its metadata."""
    if reference:
        found = session.scalars(
            select(Payment).where(
                Payment.provider == provider.name,
                or_(Payment.external_id == reference, Payment.secondary_reference == reference),
            )
        ).first()
        if found is not None:
            return found
        # A refund or chargeback id of ours names its payment too.
        found = session.scalars(
            select(Payment)
            .join(PaymentReversal, PaymentReversal.payment_id == Payment.id)
            .where(Payment.provider == provider.name, PaymentReversal.external_id == reference)
        ).first()
        if found is not None:
            return found
    if payment_id is not None:
        found = session.get(Payment, payment_id)
        if found is not None and found.provider == provider.name:
            return found
    return None


@dataclass(frozen=True)
class WebhookTarget:
    payment_id: int
    reference: str | None


def resolve_webhook(
    session: Session, provider: PaymentProvider, body: bytes, headers: Mapping[str, str]
) -> WebhookTarget | None:
    """Which of our payments a webhook is about; None when none. Only reads: the caller may end the
    transaction before the provider is asked. Raises InvalidWebhook, ProviderUnavailable."""
    notice = provider.parse_webhook(body, headers)
    if notice is None:
        return None
    payment = find_payment_for_notice(session, provider, notice.reference, notice.payment_id)
    if payment is not None:
        return WebhookTarget(payment.id, notice.reference)
    if not notice.reference or not provider.signed_webhooks:
        # Anyone can send an unsigned webhook (Mollie's carry only an id): asking the provider about ids we
        # never created would let them spend our API quota and time, one call per request. Mollie calls only
        # once a payment changes, long after we saved its id, and reconciliation catches the rest.
        if notice.reference:
            log.info("%s webhook for %s: not an id of ours; not asked", provider.name, notice.reference)
        return None
    # A signed webhook for a checkout so new that its id is not saved yet: the provider's metadata names ours.
    try:
        status = provider.fetch_status(notice.reference)
    except ProviderRejected:
        return None
    payment = find_payment_for_notice(session, provider, None, status.payment_id)
    if payment is None or payment.external_id not in (None, status.external_id):
        log.info("%s webhook for %s: no payment of ours", provider.name, notice.reference)
        return None
    return WebhookTarget(payment.id, status.external_id)


def sync_webhook_target(session: Session, provider: PaymentProvider, target: WebhookTarget, *, actor: Actor) -> Payment:
    payment = session.get(Payment, target.payment_id)
    if payment is None:
        raise LookupError(target.payment_id)
    return sync_payment(session, provider, payment, actor=actor, reference=target.reference)
