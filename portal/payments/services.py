"""Starting payments and keeping them in step with the provider, exactly once.

Every path that learns something about a payment (the return page, a webhook, a reconciliation
job, a staff refund) ends in ``apply_status`` with the provider's freshly fetched view, under a
row lock on the payment. That lock, the forward-only state machine and the unique provider ids
on reversals are what make duplicate, late, out-of-order and concurrent news harmless.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.events import emit
from portal.invoices.models import Invoice
from portal.payments import allocation
from portal.payments import events as payment_events
from portal.payments.errors import PaymentProblem
from portal.payments.models import Payment, PaymentItem, PaymentReversal
from portal.payments.states import transition
from portal.providers.base import CheckoutRequest, PaymentProvider, ProviderStatus, Reversal

log = logging.getLogger(__name__)

# A second click within this time reuses the checkout already opened for the same choice.
REUSE_CHECKOUT_FOR = timedelta(minutes=30)


@dataclass(frozen=True)
class PaymentChoice:
    """What the debtor is about to pay, computed here from the invoices, never taken from the form."""

    invoices: list[Invoice]  # in the order the money goes to them
    amount_cents: int
    currency: str
    outstanding_cents: int  # all that is owed on these invoices; more than amount_cents for a part-payment


def choose_invoices(
    session: Session,
    customer: Customer,
    numbers: list[str],
    *,
    partial_cents: int | None = None,
    minimum_partial_cents: int | None = None,
) -> PaymentChoice:
    """Check the debtor's choice of invoices (and part-payment amount) and work out what to charge."""
    if not numbers:
        raise PaymentProblem("nothing_selected")
    invoices = list(
        session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == customer.id, Invoice.number.in_(numbers), Invoice.state == "open")
            .order_by(Invoice.due_date, Invoice.number)
        )
    )
    if len(invoices) != len(set(numbers)):
        raise PaymentProblem("invoice_not_open")
    currencies = {invoice.currency for invoice in invoices}
    if len(currencies) > 1:
        raise PaymentProblem("mixed_currencies")
    outstanding = sum(invoice.outstanding_cents for invoice in invoices)
    if outstanding <= 0:
        raise PaymentProblem("invoice_not_open")
    amount = outstanding
    if partial_cents is not None and partial_cents != outstanding:
        if minimum_partial_cents is None:
            raise PaymentProblem("partial_not_allowed")
        if partial_cents > outstanding:
            raise PaymentProblem("amount_too_large", maximum=outstanding, currency=next(iter(currencies)))
        if partial_cents < minimum_partial_cents:
            raise PaymentProblem("amount_too_small", minimum=minimum_partial_cents, currency=next(iter(currencies)))
        amount = partial_cents
    return PaymentChoice(invoices, amount, currencies.pop(), outstanding)


def start_payment(
    session: Session,
    customer: Customer,
    choice: PaymentChoice,
    *,
    provider: str,
    method: str,
    locale: str,
    actor: Actor,
) -> Payment:
    """A payment for ``choice``, or the unfinished one already started for exactly the same choice."""
    # Serialise a customer's checkouts, so a double click cannot open two.
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    now = clock.now()
    reusable = _find_reusable(
        session, customer, choice, provider=provider, method=method, since=now - REUSE_CHECKOUT_FOR
    )
    if reusable is not None:
        return reusable
    payment = Payment(
        public_id=secrets.token_urlsafe(16),
        customer_id=customer.id,
        provider=provider,
        method=method,
        state="created",
        currency=choice.currency,
        amount_cents=choice.amount_cents,
        locale=locale,
        created_at=now,
        updated_at=now,
    )
    payment.items = [
        PaymentItem(invoice_id=invoice.id, position=position, outstanding_cents=invoice.outstanding_cents)
        for position, invoice in enumerate(choice.invoices)
    ]
    session.add(payment)
    session.flush()
    emit(
        session,
        payment_events.about(
            payment_events.STARTED,
            payment,
            actor,
            amount_cents=payment.amount_cents,
            method=method,
            provider=provider,
            invoices=[invoice.number for invoice in choice.invoices],
        ),
    )
    return payment


def _find_reusable(
    session: Session, customer: Customer, choice: PaymentChoice, *, provider: str, method: str, since: object
) -> Payment | None:
    candidates = session.scalars(
        select(Payment)
        .where(
            Payment.customer_id == customer.id,
            Payment.state.in_(("created", "open")),
            Payment.provider == provider,
            Payment.method == method,
            Payment.amount_cents == choice.amount_cents,
            Payment.currency == choice.currency,
            Payment.created_at >= since,
        )
        .options(selectinload(Payment.items))
        .order_by(Payment.id.desc())
    )
    wanted = [invoice.id for invoice in choice.invoices]
    for candidate in candidates:
        if [item.invoice_id for item in candidate.items] == wanted:
            return candidate
    return None


def open_checkout(
    session: Session,
    provider: PaymentProvider,
    payment: Payment,
    *,
    description: str,
    return_url: str,
    webhook_url: str,
) -> str:
    """The provider's hosted page for ``payment``, created on first use.

    Raises ProviderUnavailable or ProviderRejected. After ProviderUnavailable the payment stays "created"
    and the next try sends the same idempotency key, so a checkout the provider did create after all is
    found again; after ProviderRejected the caller ends the attempt with ``give_up_checkout``.
    """
    if payment.checkout_url and payment.state in ("created", "open"):
        return payment.checkout_url
    customer = payment.customer
    checkout = provider.start_checkout(
        CheckoutRequest(
            payment_id=payment.id,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            method=payment.method,
            description=description,
            locale=payment.locale,
            return_url=return_url,
            webhook_url=webhook_url,
            customer_ref=customer.external_ref,
            customer_name=customer.name,
            customer_email=customer.email,
            idempotency_key=f"payment-{payment.id}",
        )
    )
    # A webhook may have got here first while we waited for the provider: change only what is still unset.
    payment = lock_payment(session, payment.id)
    payment.external_id = payment.external_id or checkout.external_id
    payment.checkout_url = checkout.redirect_url
    transition(payment, "open", clock.now())
    return checkout.redirect_url


def give_up_checkout(session: Session, payment: Payment, *, reason: str) -> None:
    """The provider refused to open a checkout: end the attempt, so the next click starts afresh with a new key."""
    payment = lock_payment(session, payment.id)
    if payment.state == "created" and payment.external_id is None:
        transition(payment, "failed", clock.now())
        payment.failure_reason = reason


def lock_payment(session: Session, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    if payment is None:
        raise LookupError(payment_id)
    return payment


def sync_payment(
    session: Session, provider: PaymentProvider, payment: Payment, *, actor: Actor, reference: str | None = None
) -> Payment:
    """Fetch the provider's view of ``payment`` and apply it. Raises ProviderUnavailable or ProviderRejected.

    ``reference`` is the provider's id from a webhook, for a checkout whose id we have not saved yet.
    """
    external_id = payment.external_id or reference
    if external_id is None:
        return payment  # the provider never confirmed a checkout: there is nothing to ask about
    status = provider.fetch_status(external_id)
    return apply_status(session, payment.id, status, actor=actor)


def apply_status(session: Session, payment_id: int, status: ProviderStatus, *, actor: Actor) -> Payment:
    """Make our payment agree with the provider's view. Safe to call any number of times, in any order."""
    payment = lock_payment(session, payment_id)
    if status.payment_id not in (None, payment.id) or payment.external_id not in (None, status.external_id):
        # Someone else's payment at the provider (another shop on the account, or a forged webhook id).
        log.warning("payment %s: provider payment %s belongs elsewhere; ignored", payment.id, status.external_id)
        return payment
    now = clock.now()
    payment.synced_at = now
    payment.external_id = payment.external_id or status.external_id
    payment.secondary_reference = status.secondary_reference or payment.secondary_reference
    payment.mandate_reference = status.mandate_reference or payment.mandate_reference
    if status.currency != payment.currency:
        log.error(
            "payment %s: provider reports currency %s, we asked %s", payment.id, status.currency, payment.currency
        )
        return payment
    before = payment.state
    if status.state == "paid" and transition(payment, "paid", now):
        payment.received_cents = status.amount_cents
        allocation.allocate(session, payment, now, actor=actor)
        # The receipt e-mail reacts to this event (payments/events.py), in this transaction.
        emit(
            session,
            payment_events.about(
                payment_events.PAID,
                payment,
                actor,
                amount_cents=payment.received_cents,
                method=status.method or payment.method,
                unallocated_cents=payment.unallocated_cents,
                previous_state=before,
            ),
        )
    elif transition(payment, status.state, now):
        payment.failure_reason = status.failure_reason
        if payment.state in ("failed", "cancelled", "expired"):
            ended = payment_events.ENDED[payment.state]
            reason = status.failure_reason
            emit(session, payment_events.about(ended, payment, actor, amount_cents=payment.amount_cents, reason=reason))
    if payment.state == "paid":
        for reversal in status.reversals:
            record_reversal(session, payment, reversal, actor=actor)
    return payment


def record_reversal(
    session: Session,
    payment: Payment,
    reversal: Reversal,
    *,
    actor: Actor,
    initiated_by: str | None = None,
    request_key: str | None = None,
) -> PaymentReversal | None:
    """Record a refund or chargeback once, and reopen what it takes back. None when already recorded.

    The caller holds the payment's row lock, so two reports of the same reversal cannot both pass the check.
    """
    existing = session.scalars(
        select(PaymentReversal).where(
            PaymentReversal.payment_id == payment.id, PaymentReversal.external_id == reversal.external_id
        )
    ).one_or_none()
    if existing is not None:
        return None
    amount = min(reversal.amount_cents, payment.received_cents - payment.reversed_cents)
    if amount <= 0:
        log.error("payment %s: reversal %s exceeds what was received", payment.id, reversal.external_id)
        return None
    now = clock.now()
    row = PaymentReversal(
        payment=payment,
        external_id=reversal.external_id,
        kind=reversal.kind,
        amount_cents=amount,
        initiated_by=initiated_by,
        request_key=request_key,
        created_at=now,
    )
    session.add(row)
    payment.reversed_cents += amount
    payment.updated_at = now
    session.flush()
    allocation.reverse(session, payment, row, now)
    kind = payment_events.REFUNDED if reversal.kind == "refund" else payment_events.CHARGED_BACK
    emit(session, payment_events.about(kind, payment, actor, amount_cents=amount, initiated_by=initiated_by))
    return row


def payments_to_reconcile(session: Session, *, older_than: timedelta, limit: int = 100) -> list[Payment]:
    """Unfinished payments nobody has heard about for a while: webhooks get lost, debtors close tabs."""
    cutoff = clock.now() - older_than
    return list(
        session.scalars(
            select(Payment)
            .where(
                Payment.state.in_(("open", "pending")),
                Payment.external_id.is_not(None),
                or_(Payment.synced_at.is_(None), Payment.synced_at < cutoff),
                Payment.created_at < cutoff,
            )
            .order_by(Payment.id)
            .limit(limit)
        )
    )
