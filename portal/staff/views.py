"""The staff area's front door."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.staff.auth import ensure_staff_session
from portal.staff.navigation import NAV_ITEMS
from portal.staff.permissions import role_allows

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
def home() -> Response:
    """The first page this member of staff may open (the dashboard for everyone today)."""
    redirect_response = ensure_staff_session()
    if redirect_response is not None:
        return redirect_response
    for item in NAV_ITEMS:
        if item.endpoint in current_app.view_functions and role_allows(current_user.role, item.permission):
            return redirect(url_for(item.endpoint))
    return redirect(url_for("staff_auth.account"))
