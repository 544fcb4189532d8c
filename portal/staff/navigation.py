"""The staff area's menu. A feature adds its page here; each item shows only to roles that may open it.

Later queues (arrangements, disputes, failed debits, dunning) add one NavItem each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user

from portal.i18n import _l
from portal.sessions import is_staff_request
from portal.staff.permissions import Permission, can, role_allows


@dataclass(frozen=True)
class NavItem:
    label: Any  # a lazy string, translated when the menu is drawn
    endpoint: str
    permission: Permission


NAV_ITEMS: list[NavItem] = [
    NavItem(_l("Dashboard"), "dashboard.index", Permission.VIEW_DASHBOARD),
    NavItem(_l("Customers"), "staff_customers.search", Permission.VIEW_CUSTOMERS),
    NavItem(_l("Failed debits"), "staff_debits.failed", Permission.VIEW_CUSTOMERS),
    NavItem(_l("Payment plans"), "staff_plans.queue", Permission.VIEW_CUSTOMERS),
    NavItem(_l("Disputes"), "staff_disputes.queue", Permission.VIEW_CUSTOMERS),
    NavItem(_l("Bank files"), "staff_debits_bank.index", Permission.REFUND_PAYMENTS),
    NavItem(_l("Sent messages"), "messages.index", Permission.VIEW_MESSAGES),
    NavItem(_l("Imports"), "imports.index", Permission.RUN_IMPORTS),
    NavItem(_l("Audit trail"), "audit.index", Permission.VIEW_AUDIT),
    NavItem(_l("Payment methods"), "staff_payments.methods", Permission.MANAGE_PAYMENT_METHODS),
    NavItem(_l("Staff"), "staff_admin.index", Permission.MANAGE_STAFF),
    NavItem(_l("Settings"), "staff_settings.index", Permission.MANAGE_SETTINGS),
]

# Pages served by one feature's blueprint that belong under another menu item: a refund is made on a
# customer's page, so "Customers" is the current item there, not "Payment methods".
MENU_ITEM_OF_ENDPOINT = {"staff_payments.refund": "staff_customers", "staff_debits.change_day": "staff_customers"}


def _menu() -> dict[str, Any]:
    if not is_staff_request() or not current_user.is_authenticated:
        return {}
    # can(Permission.X) in templates shows a control only to roles that may use it; the view checks again.
    items = [
        item
        for item in NAV_ITEMS
        if item.endpoint in current_app.view_functions and role_allows(current_user.role, item.permission)
    ]
    endpoint = request.endpoint or ""
    current_blueprint = MENU_ITEM_OF_ENDPOINT.get(endpoint, endpoint.split(".")[0])
    return {"staff_menu": items, "staff_menu_current": current_blueprint, "can": can, "Permission": Permission}


def init_navigation(app: Flask) -> None:
    app.context_processor(_menu)
