"""Imports every feature's models so Alembic and the tests see the whole schema."""

from portal.audit.models import AuditEvent
from portal.customers.models import Customer
from portal.invoices.models import Invoice, InvoiceLine, InvoiceVatTotal
from portal.links.models import PortalLink

__all__ = ["AuditEvent", "Customer", "Invoice", "InvoiceLine", "InvoiceVatTotal", "PortalLink"]
