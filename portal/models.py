"""Imports every feature's models so Alembic and the tests see the whole schema."""

from portal.audit.models import AuditEvent
from portal.customers.models import Customer, CustomerNote
from portal.debits.models import DayChange, Debit, DebitReturn, DebitSchedule, Mandate, ProofCode, ProviderCustomer
from portal.disputes.models import CreditNote, Dispute, DisputeFile, DisputeInvoice, DisputeLine, DisputeMessage
from portal.events.models import DomainEvent
from portal.imports.models import ImportJob
from portal.invoices.models import Invoice, InvoiceLine, InvoiceVatTotal
from portal.leases import JobLease
from portal.links.models import PortalLink
from portal.notifications.models import OutboxAttachment, OutboxMessage
from portal.payments.models import (
    DemoCheckout,
    Payment,
    PaymentAllocation,
    PaymentItem,
    PaymentReversal,
)
from portal.plans.models import (
    CallbackRequest,
    PaymentPlan,
    PaymentPromise,
    PlanConsent,
    PlanInstalment,
    PlanInvoice,
    PromiseInvoice,
)
from portal.settings.models import SettingVersion
from portal.staff.models import LoginThrottle, RecoveryCode, StaffSession, StaffUser

__all__ = [
    "AuditEvent",
    "CallbackRequest",
    "CreditNote",
    "Customer",
    "CustomerNote",
    "DayChange",
    "Debit",
    "DebitReturn",
    "DebitSchedule",
    "DemoCheckout",
    "Dispute",
    "DisputeFile",
    "DisputeInvoice",
    "DisputeLine",
    "DisputeMessage",
    "DomainEvent",
    "ImportJob",
    "Invoice",
    "InvoiceLine",
    "InvoiceVatTotal",
    "JobLease",
    "LoginThrottle",
    "Mandate",
    "OutboxAttachment",
    "OutboxMessage",
    "Payment",
    "PaymentAllocation",
    "PaymentItem",
    "PaymentPlan",
    "PaymentPromise",
    "PaymentReversal",
    "PlanConsent",
    "PlanInstalment",
    "PlanInvoice",
    "PortalLink",
    "PromiseInvoice",
    "ProofCode",
    "ProviderCustomer",
    "RecoveryCode",
    "SettingVersion",
    "StaffSession",
    "StaffUser",
]
