"""The staff session: Flask-Login on the staff cookie, backed by a row per log-in (staff_sessions.py) so
log-out ends it on the server, plus idle time-out and the rule that nothing but enrolment is reachable
before the second factor is set up."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from portal import clock
from portal.audit.services import Actor
from portal.extensions import db
from portal.i18n import _l
from portal.staff import staff_sessions
from portal.staff.models import StaffUser
from portal.web import client_address

login_manager = LoginManager()
login_manager.login_view = "staff_auth.login"
login_manager.login_message = _l("Please log in to continue.")
login_manager.session_protection = "basic"

TOKEN_KEY = "staff_session_token"  # noqa: S105 - the name of a cookie entry, not a secret
LAST_SEEN_KEY = "staff_last_seen"
PENDING_KEY = "staff_pending_id"
PENDING_AT_KEY = "staff_pending_at"
PENDING_TTL_SECONDS = 300
# Set only when this session passed (or just set up) the second factor; the account having one is not enough.
SECOND_FACTOR_KEY = "staff_second_factor_passed"
# The session row's last-seen time is written at most this often: it is a record, the idle rule reads the cookie.
LAST_SEEN_WRITE_SECONDS = 60


@login_manager.user_loader
def _load_staff(staff_id: str) -> StaffUser | None:
    staff = db.session.get(StaffUser, int(staff_id)) if staff_id.isdigit() else None
    if staff is None or not staff.active:
        return None
    # A cookie whose session was ended (log-out, password change, ...) or never stored opens nothing.
    row = staff_sessions.live_session(db.session, current_token(), staff.id)
    if row is None:
        return None
    g.staff_session = row
    return staff


def staff_actor() -> Actor:
    staff_id = current_user.email if current_user.is_authenticated else None
    return Actor(type="staff", id=staff_id, ip_address=client_address(), user_agent=request.user_agent.string)


def current_token() -> str | None:
    token = session.get(TOKEN_KEY)
    return token if isinstance(token, str) else None


def begin_session(staff: StaffUser, *, second_factor_passed: bool) -> None:
    """A fresh staff session (no fixation): only what this log-in put there survives. The caller commits."""
    forget_session(reason="replaced")
    login_user(staff)
    session[TOKEN_KEY] = staff_sessions.start_session(db.session, staff)
    session[LAST_SEEN_KEY] = clock.timestamp()
    session[SECOND_FACTOR_KEY] = second_factor_passed


def forget_session(*, reason: str) -> None:
    """End this browser's session on the server and empty the cookie. The caller commits."""
    staff_sessions.end_session(db.session, current_token(), reason=reason)
    logout_user()
    session.clear()


def end_session(*, reason: str) -> None:
    """End this browser's session and commit: nothing else happens in the requests that call this."""
    forget_session(reason=reason)
    db.session.commit()


def ensure_staff_session() -> Response | None:
    """None when the request may go on; otherwise where to send the visitor instead."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    now = clock.timestamp()
    idle_limit = current_app.config["STAFF_IDLE_MINUTES"] * 60
    if now - int(session.get(LAST_SEEN_KEY, 0)) > idle_limit:
        end_session(reason="idle")
        flash(_l("You were logged out after a period of inactivity. Please log in again."), "info")
        return redirect(url_for("staff_auth.login", next=request.full_path))
    session[LAST_SEEN_KEY] = now
    _note_last_seen()
    if not session.get(SECOND_FACTOR_KEY):
        if current_user.has_second_factor:
            # The account got a second factor after this session began: log in again, with it.
            end_session(reason="second_factor_enabled")
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if request.endpoint != "staff_auth.two_factor":
            return redirect(url_for("staff_auth.two_factor"))
    if (
        current_user.has_second_factor
        and current_user.password_must_change
        and request.endpoint not in ("staff_auth.change_password", "staff_auth.account")
    ):
        return redirect(url_for("staff_auth.change_password"))
    return None


def _note_last_seen() -> None:
    row = g.get("staff_session")
    if row is None or (clock.now() - row.last_seen_at).total_seconds() < LAST_SEEN_WRITE_SECONDS:
        return
    row.last_seen_at = clock.now()
    # Its own commit: most staff pages only read and never commit, and the view's own commit (if any)
    # must not be the only way this record is kept. At most once a minute per session.
    db.session.commit()
