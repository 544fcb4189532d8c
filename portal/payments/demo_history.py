"""Past portal payments for the demo customers, so staff see payment stories and debtors their usual method."""

from __future__ import annotations

import random
import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from portal.invoices.models import Invoice
from portal.payments.models import DemoCheckout, Payment, PaymentAllocation, PaymentItem


def _usual_method(invoice: Invoice, rng: random.Random) -> str:
    customer = invoice.customer
    if customer.country == "BE":
        return "bancontact"
    if customer.kind == "business":
        return rng.choice(("directdebit", "ideal"))
    return rng.choice(("ideal", "ideal", "ideal", "creditcard", "paypal"))


def add_demo_payments(session: Session, invoices: list[Invoice]) -> None:
    """One demo-provider payment per paid invoice, each customer paying mostly the same way."""
    rng = random.Random(2027)  # noqa: S311 - demo data, not a secret
    methods: dict[int, str] = {}
    paid: list[tuple[Payment, Invoice]] = []
    for invoice in invoices:
        if invoice.state != "paid" or invoice.paid_at is None:
            continue
        invoice.paid_cents = invoice.total_cents
        method = methods.setdefault(invoice.customer_id, _usual_method(invoice, rng))
        started = invoice.paid_at - timedelta(minutes=rng.randint(1, 4))
        payment = Payment(
            public_id=secrets.token_urlsafe(16),
            customer_id=invoice.customer_id,
            provider="demo",
            method=method,
            state="paid",
            currency=invoice.currency,
            amount_cents=invoice.total_cents,
            received_cents=invoice.total_cents,
            external_id=f"demo_history_{invoice.id}",
            locale=invoice.customer.language,
            created_at=started,
            updated_at=invoice.paid_at,
            paid_at=invoice.paid_at,
            synced_at=invoice.paid_at,
        )
        payment.items = [PaymentItem(invoice_id=invoice.id, position=0, outstanding_cents=invoice.total_cents)]
        payment.allocations = [
            PaymentAllocation(invoice_id=invoice.id, amount_cents=invoice.total_cents, created_at=invoice.paid_at)
        ]
        session.add(payment)
        paid.append((payment, invoice))
    session.flush()
    # The demo provider's own records of them, so staff can try a refund on the demo's history too.
    session.add_all(
        DemoCheckout(
            id=payment.external_id,
            idempotency_key=f"demo-history-{payment.id}",
            payment_id=payment.id,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            method=payment.method,
            description=f"Invoice {invoice.number}",
            return_url="",
            status="paid",
            refunds=[],
            created_at=payment.created_at,
        )
        for payment, invoice in paid
    )
    session.flush()
