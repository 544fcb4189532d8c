"""Staff log-in with password and second factor, enrolment of the second factor, and log-out."""

from __future__ import annotations

import logging

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import clock
from portal.errors import message_for
from portal.extensions import db, limiter
from portal.i18n import _, _n
from portal.settings.services import get_setting
from portal.staff import services, totp_keys
from portal.staff.auth import (
    PENDING_AT_KEY,
    PENDING_KEY,
    PENDING_TTL_SECONDS,
    begin_session,
    current_token,
    end_session,
    ensure_staff_session,
    forget_session,
    staff_actor,
)
from portal.staff.errors import StaffError
from portal.staff.forms import ChangePasswordForm, CodeForm, ConfirmForm, EnrolForm, LoginForm
from portal.staff.models import StaffUser
from portal.staff.totp_keys import TotpKeyError
from portal.web import qr_code_svg, safe_next_path

log = logging.getLogger(__name__)
bp = Blueprint("staff_auth", __name__, url_prefix="/staff")
# The staff log-in needs the TOTP keys: read them when the app is built, so a wrong PORTAL_TOTP_KEYS stops
# the start-up with a clear message instead of failing someone's log-in later.
bp.record_once(lambda state: totp_keys.init_app(state.app))
PENDING_FAILURES_KEY = "staff_pending_failures"
# Wrong codes allowed for one password log-in; then the password must be given again.
MAX_CODE_ATTEMPTS = 5


def _login_rate_limit() -> str:
    return str(current_app.config["STAFF_LOGIN_RATE_LIMIT"])


def _next_path() -> str:
    return safe_next_path(request.args.get("next"), url_for("staff.home"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"], scope="staff-login")
def login() -> str | tuple[str, int] | Response:
    form = LoginForm()
    if form.validate_on_submit():
        result = services.check_password(
            db.session, form.email.data or "", form.password.data or "", actor=staff_actor()
        )
        if result.staff is None:
            db.session.commit()
            if result.wait_seconds:
                form.form_errors.append(
                    _n(
                        "Too many attempts. Please wait %(num)s second and try again.",
                        "Too many attempts. Please wait %(num)s seconds and try again.",
                        result.wait_seconds,
                    )
                )
            else:
                form.form_errors.append(_("The e-mail address or password is not right."))
            return render_template("staff/login.html", form=form), 200
        staff = result.staff
        forget_session(reason="replaced")  # a log-in in this browser before ends here
        if staff.has_second_factor:
            session[PENDING_KEY] = staff.id
            session[PENDING_AT_KEY] = clock.timestamp()
            db.session.commit()
            return redirect(url_for("staff_auth.code", next=request.args.get("next")))
        # No second factor yet: log in, and the only page open until it is set up is the enrolment.
        begin_session(staff, second_factor_passed=False)
        services.complete_login(db.session, staff, actor=staff_actor(), method="none-enrolling")
        db.session.commit()
        return redirect(url_for("staff_auth.two_factor"))
    return render_template("staff/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"], scope="staff-login")
def code() -> str | tuple[str, int] | Response:
    staff_id = session.get(PENDING_KEY)
    started = int(session.get(PENDING_AT_KEY, 0))
    staff = db.session.get(StaffUser, staff_id) if isinstance(staff_id, int) else None
    too_many = int(session.get(PENDING_FAILURES_KEY, 0)) >= MAX_CODE_ATTEMPTS
    if staff is None or not staff.active or too_many or clock.timestamp() - started > PENDING_TTL_SECONDS:
        session.clear()
        flash(_("Please log in again."), "info")
        return redirect(url_for("staff_auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        wait = services.wait_seconds(db.session, staff.email)
        try:
            method = (
                None
                if wait
                else services.verify_second_factor(
                    db.session, staff, form.code.data or "", keyring=totp_keys.current_keyring(), actor=staff_actor()
                )
            )
        except TotpKeyError:
            # Nothing was counted against the person: it is the server's configuration, not their code.
            log.error("the TOTP secret of staff %s opens with none of the keys in PORTAL_TOTP_KEYS", staff.id)
            form.code.errors.append(
                _(
                    "Your code cannot be checked because of a problem with the server's keys. Nothing is wrong "
                    "with your code or your phone. Please tell an administrator."
                )
            )
            return render_template("staff/code.html", form=form), 503
        if method is None:
            db.session.commit()
            session[PENDING_FAILURES_KEY] = int(session.get(PENDING_FAILURES_KEY, 0)) + 1
            form.code.errors.append(
                _n(
                    "Too many attempts. Please wait %(num)s second and try again.",
                    "Too many attempts. Please wait %(num)s seconds and try again.",
                    wait,
                )
                if wait
                else _("This code is not right. Codes change every 30 seconds; try the newest one.")
            )
            return render_template("staff/code.html", form=form)
        begin_session(staff, second_factor_passed=True)
        services.complete_login(db.session, staff, actor=staff_actor(), method=method)
        db.session.commit()
        if method == "recovery_code":
            flash(
                _n(
                    "You used a recovery code. %(num)s code is left.",
                    "You used a recovery code. %(num)s codes are left.",
                    services.remaining_recovery_codes(staff),
                ),
                "info",
            )
        return redirect(_next_path())
    return render_template("staff/code.html", form=form)


@bp.route("/account/two-factor", methods=["GET", "POST"])
def two_factor() -> str | Response:
    redirect_response = ensure_staff_session()
    if redirect_response is not None:
        return redirect_response
    staff: StaffUser = current_user._get_current_object()
    if staff.has_second_factor:
        return redirect(url_for("staff_auth.account"))
    keyring = totp_keys.current_keyring()
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = services.confirm_totp_enrolment(
                db.session, staff, form.code.data or "", keyring=keyring, actor=staff_actor()
            )
        except StaffError as error:
            form.code.errors.append(message_for(error))
        else:
            # This session set up the factor itself; every session of the account (this one too) has just
            # ended, and this browser gets a new one that has passed the second factor.
            begin_session(staff, second_factor_passed=True)
            db.session.commit()
            return render_template("staff/recovery_codes.html", codes=codes)
    # The secret stays on the server, encrypted; the cookie never holds it.
    secret = services.pending_totp_secret(db.session, staff, keyring)
    db.session.commit()
    uri = services.provisioning_uri(secret, staff, get_setting(db.session, "creditor.name"))
    qr_svg = qr_code_svg(segno.make(uri, error="m"), _("QR code to add this account to an authenticator app"), scale=5)
    return render_template("staff/two_factor.html", form=form, secret=secret, qr_svg=qr_svg)


@bp.get("/account")
def account() -> str | Response:
    redirect_response = ensure_staff_session()
    if redirect_response is not None:
        return redirect_response
    return render_template(
        "staff/account.html", form=ConfirmForm(), recovery_left=services.remaining_recovery_codes(current_user)
    )


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> str | Response:
    redirect_response = ensure_staff_session()
    if redirect_response is not None:
        return redirect_response
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                db.session,
                current_user,
                form.current.data or "",
                form.new.data or "",
                actor=staff_actor(),
                keep_session=current_token(),  # every other session ends; this one goes on
            )
        except StaffError as error:
            target = form.current if error.code == "wrong_password" else form.new
            target.errors.append(message_for(error))
        else:
            db.session.commit()
            flash(_("Your password is changed."), "info")
            return redirect(url_for("staff.home"))
    return render_template("staff/change_password.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    form = ConfirmForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        from portal.audit.services import record

        record(db.session, staff_actor(), "staff.logged_out", subject=("staff", current_user.id))
    # Ended on the server, not only forgotten by this browser: a copy of the cookie opens nothing now.
    end_session(reason="logged_out")
    flash(_("You are logged out."), "info")
    return redirect(url_for("staff_auth.login"))


@bp.post("/account/logout-everywhere")
def logout_everywhere() -> Response:
    redirect_response = ensure_staff_session()
    if redirect_response is not None:
        return redirect_response
    if ConfirmForm().validate_on_submit():
        services.log_out_everywhere(db.session, current_user, actor=staff_actor())
        end_session(reason="logged_out_everywhere")
        flash(_("You are logged out on every device."), "info")
    return redirect(url_for("staff_auth.login"))
