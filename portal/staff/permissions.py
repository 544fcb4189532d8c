"""Who may do what. Every staff view names its permission; the server checks it on every request."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user


class Permission(StrEnum):
    VIEW_CUSTOMERS = "view_customers"
    VIEW_DASHBOARD = "view_dashboard"
    ADD_NOTES = "add_notes"
    MANAGE_LINKS = "manage_links"
    RUN_IMPORTS = "run_imports"
    VIEW_AUDIT = "view_audit"
    MANAGE_STAFF = "manage_staff"
    VIEW_MESSAGES = "view_messages"
    RETRY_MESSAGES = "retry_messages"
    REFUND_PAYMENTS = "refund_payments"
    MANAGE_PAYMENT_METHODS = "manage_payment_methods"
    MANAGE_SETTINGS = "manage_settings"
    CHANGE_DEBIT_DAY = "change_debit_day"  # move a customer's collection day on their behalf
    DECIDE_PLANS = "decide_plans"  # approve, reject or counter a proposal inside the policy; mark a call made
    DECIDE_PLANS_OUTSIDE_POLICY = "decide_plans_outside_policy"  # the same for a schedule the policy does not allow
    HANDLE_DISPUTES = "handle_disputes"  # reply, note, assign, resolve (a credit note up to the settings' limit)
    RESOLVE_DISPUTES_ABOVE_LIMIT = "resolve_disputes_above_limit"  # a credit note above that limit


_VIEWER = {Permission.VIEW_CUSTOMERS, Permission.VIEW_DASHBOARD, Permission.VIEW_MESSAGES}
_AGENT = _VIEWER | {
    Permission.ADD_NOTES,
    Permission.MANAGE_LINKS,
    Permission.RETRY_MESSAGES,
    Permission.CHANGE_DEBIT_DAY,
    Permission.DECIDE_PLANS,
    Permission.HANDLE_DISPUTES,
}
_SUPERVISOR = _AGENT | {
    Permission.RUN_IMPORTS,
    Permission.VIEW_AUDIT,
    Permission.REFUND_PAYMENTS,
    Permission.DECIDE_PLANS_OUTSIDE_POLICY,
    Permission.RESOLVE_DISPUTES_ABOVE_LIMIT,
}
_ADMIN = _SUPERVISOR | {Permission.MANAGE_STAFF, Permission.MANAGE_PAYMENT_METHODS, Permission.MANAGE_SETTINGS}

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "viewer": frozenset(_VIEWER),
    "agent": frozenset(_AGENT),
    "supervisor": frozenset(_SUPERVISOR),
    "admin": frozenset(_ADMIN),
}


def role_allows(role: str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def can(permission: Permission) -> bool:
    """For templates: show a button only to those who may press it (the view checks again)."""
    return bool(current_user.is_authenticated and role_allows(current_user.role, permission))


def requires(permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard a staff view: log-in with a second factor first, then the role must allow ``permission``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        # Read by the role-matrix test; functools.wraps copies the view's __dict__ onto the wrapper.
        view.__dict__["required_permission"] = permission

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from portal.staff.auth import ensure_staff_session

            redirect_response = ensure_staff_session()
            if redirect_response is not None:
                return redirect_response
            if not role_allows(current_user.role, permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
