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

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal import clock
from portal.accounts.held import held_cents, payable_cents
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.debits.models import ProviderCustomer
from portal.events import emit
from portal.invoices.models import Invoice
from portal.payments import allocation
from portal.payments import events as payment_events
from portal.payments.errors import PaymentProblem
from portal.payments.models import Payment, PaymentItem
from portal.payments.reversals import record_reversal, undo_reversal
from portal.payments.states import transition
from portal.providers.base import (
    CheckoutRequest,
    PaymentProvider,
    ProviderRejected,
    ProviderStatus,
    ProviderUnavailable,
)
from portal.settings.registry import PAID_TWICE_KEY
from portal.settings.services import get_setting

log = logging.getLogger(__name__)

# A second click within this time reuses the checkout already opened for the same choice.
REUSE_CHECKOUT_FOR = timedelta(minutes=30)


@dataclass(frozen=True)
class PaymentChoice:
    """What the debtor is about to pay, computed here from the invoices, never taken from the form."""

    invoices: list[Invoice]  # in the order the money goes to them
    amount_cents: int
    currency: str
    outstanding_cents: int  # all that may be paid on these invoices now; more than amount_cents for a part-payment


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
    if sum(invoice.outstanding_cents for invoice in invoices) <= 0:
        raise PaymentProblem("invoice_not_open")
    # A disputed part is owed but not asked for: the debtor pays the rest (portal/accounts/held.py).
    held = held_cents(session, [invoice.id for invoice in invoices])
    outstanding = sum(payable_cents(invoice, held) for invoice in invoices)
    if outstanding <= 0:
        raise PaymentProblem("invoice_on_hold")
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
    known_customer = session.scalars(
        select(ProviderCustomer).where(
            ProviderCustomer.customer_id == customer.id, ProviderCustomer.provider == provider.name
        )
    ).first()
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
            provider_customer_id=known_customer.external_id if known_customer else None,
        )
    )
    if checkout.provider_customer_id and known_customer is None:
        _remember_provider_customer(session, customer.id, provider.name, checkout.provider_customer_id)
    # A webhook may have got here first while we waited for the provider: change only what is still unset.
    payment = lock_payment(session, payment.id)
    payment.external_id = payment.external_id or checkout.external_id
    payment.checkout_url = checkout.redirect_url
    transition(payment, "open", clock.now())
    return checkout.redirect_url


def _remember_provider_customer(session: Session, customer_id: int, provider: str, external_id: str) -> None:
    """Keep the provider's customer record of this customer, so later first payments and debits use the same one.

    Two checkouts at once may both have made one; the first saved stays (a savepoint keeps the checkout's own
    changes when the second insert meets the unique constraint)."""
    try:
        with session.begin_nested():
            session.add(ProviderCustomer(customer_id=customer_id, provider=provider, external_id=external_id))
    except IntegrityError:
        log.info("customer %s: already has a %s customer; %s not kept", customer_id, provider, external_id)


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
    payment.payer_iban = status.payer_iban or payment.payer_iban
    payment.payer_account_hint = status.payer_account_hint or payment.payer_account_hint
    if status.currency != payment.currency:
        log.error(
            "payment %s: provider reports currency %s, we asked %s", payment.id, status.currency, payment.currency
        )
        return payment
    before = payment.state
    if status.state == "paid" and transition(payment, "paid", now):
        payment.received_cents = status.amount_cents
        allocation.allocate(session, payment, now, actor=actor)
        policy = _handle_paid_twice(session, payment)
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
                paid_twice=policy,
            ),
        )
        if policy is not None:
            # The debtor's e-mail about it reacts to this event; the refund itself is sent after the commit.
            amount = payment.unallocated_cents
            emit(
                session,
                payment_events.about(payment_events.PAID_TWICE, payment, actor, amount_cents=amount, policy=policy),
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
        for reversal in status.undone_reversals:
            undo_reversal(session, payment, reversal, actor=actor)
    return payment


def paid_twice_refund_key(payment_id: int) -> str:
    return f"payment-{payment_id}-paid-twice"


def _handle_paid_twice(session: Session, payment: Payment) -> str | None:
    """A payment that found its invoices paid already: note a refund of the rest, or keep it as credit.

    Returns the policy applied ("refund" or "credit"), None when all the money went onto invoices. The refund
    is only noted here (as a staff refund is): the caller sends it after the commit, and a retry repeats its key.
    """
    if payment.unallocated_cents <= 0:
        return None
    policy = str(get_setting(session, PAID_TWICE_KEY))
    if policy == "refund" and payment.external_id is not None and payment.refund_pending_key is None:
        payment.refund_pending_key = paid_twice_refund_key(payment.id)
        payment.refund_pending_cents = payment.unallocated_cents
        return "refund"
    return "credit"


def superseded_checkouts(session: Session, payment: Payment) -> list[int]:
    """The debtor's earlier open checkouts for any of ``payment``'s invoices: paying one of those as well would
    pay the invoices twice. Only earlier ones (a smaller id): of two checkouts started at once, each ending the
    other would leave the debtor none to pay with. Only reads; the caller commits before it asks the providers
    to end them."""
    invoice_ids = [item.invoice_id for item in payment.items]
    return list(
        session.scalars(
            select(Payment.id)
            .where(
                Payment.customer_id == payment.customer_id,
                Payment.id < payment.id,
                Payment.state == "open",
                Payment.external_id.is_not(None),
                Payment.items.any(PaymentItem.invoice_id.in_(invoice_ids)),
            )
            .order_by(Payment.id)
        )
    )


def cancel_checkout(session: Session, provider: PaymentProvider, payment_id: int, *, actor: Actor) -> bool:
    """Ask the provider to end one superseded checkout, then record what the provider now says about it.

    A provider that refuses or does not answer is logged and otherwise ignored: if that checkout is paid after
    all, the paid-twice policy deals with the money. True when the provider ended it.
    """
    payment = session.get(Payment, payment_id)
    if payment is None or payment.external_id is None or payment.state != "open":
        return False
    try:
        cancelled = provider.cancel_checkout(payment.external_id)
        sync_payment(session, provider, payment, actor=actor)
    except (ProviderUnavailable, ProviderRejected) as error:
        log.warning("payment %s: could not end the superseded checkout: %s", payment_id, type(error).__name__)
        return False
    if not cancelled:
        log.info("payment %s: %s would not end the superseded checkout", payment_id, provider.name)
    return cancelled
