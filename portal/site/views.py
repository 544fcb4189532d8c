"""Pages that belong to no feature: the front door, the language switch and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlalchemy import text
from werkzeug.wrappers import Response

from portal.config import SUPPORTED_LOCALES
from portal.debtor.access import load_debtor
from portal.extensions import db
from portal.i18n import LANGUAGE_COOKIE
from portal.web import safe_next_path

bp = Blueprint("site", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.get("/")
def index() -> str | Response:
    if load_debtor() is not None:
        return redirect(url_for("debtor.overview"))
    return render_template("site/index.html")


@bp.get("/language/<code>")
def switch_language(code: str) -> Response:
    """A plain link, so the switch works without JavaScript; the choice is remembered for a year."""
    target = safe_next_path(request.args.get("next"), url_for("site.index"))
    response = redirect(target)
    if code in SUPPORTED_LOCALES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            code,
            max_age=ONE_YEAR,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"; the log has the details
        current_app.logger.exception("health check: database unreachable")
        return {"status": "database unreachable"}, 503
    return {"status": "ok"}, 200
