"""Imports every feature's models so Alembic and the tests see the whole schema."""

from portal.audit.models import AuditEvent
from portal.customers.models import Customer, CustomerNote
from portal.imports.models import ImportJob
from portal.invoices.models import Invoice, InvoiceLine, InvoiceVatTotal
from portal.leases import JobLease
from portal.links.models import PortalLink
from portal.notifications.models import OutboxMessage
from portal.payments.models import (
    DemoCheckout,
    Payment,
    PaymentAllocation,
    PaymentItem,
    PaymentReversal,
)
from portal.settings.models import SettingVersion
from portal.staff.models import LoginThrottle, RecoveryCode, StaffSession, StaffUser

__all__ = [
    "AuditEvent",
    "Customer",
    "CustomerNote",
    "DemoCheckout",
    "ImportJob",
    "Invoice",
    "InvoiceLine",
    "InvoiceVatTotal",
    "JobLease",
    "LoginThrottle",
    "OutboxMessage",
    "Payment",
    "PaymentAllocation",
    "PaymentItem",
    "PaymentReversal",
    "PortalLink",
    "RecoveryCode",
    "SettingVersion",
    "StaffSession",
    "StaffUser",
]
