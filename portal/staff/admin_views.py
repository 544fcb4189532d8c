"""Managing staff accounts (administrators only): the team list, new accounts, roles, deactivation, resets.

A temporary password is shown once, in the answer to the POST that made it (the page is not cached),
rather than carried through the session to a GET page.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _, role_name
from portal.staff import admin_services
from portal.staff.admin_forms import CreateStaffForm, RoleForm
from portal.staff.auth import staff_actor
from portal.staff.errors import StaffError
from portal.staff.forms import ConfirmForm
from portal.staff.models import StaffUser
from portal.staff.permissions import Permission, requires

bp = Blueprint("staff_admin", __name__, url_prefix="/staff/team")


def _member_or_404(staff_id: int) -> StaffUser:
    staff = db.session.get(StaffUser, staff_id)
    if staff is None:
        abort(404)
    return staff


def _back_to(staff: StaffUser) -> Response:
    return redirect(url_for("staff_admin.member", staff_id=staff.id))


@bp.get("/")
@requires(Permission.MANAGE_STAFF)
def index() -> str:
    return render_template("staff/team/index.html", members=admin_services.list_staff(db.session))


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def create() -> str:
    form = CreateStaffForm()
    if form.validate_on_submit():
        try:
            staff, password = admin_services.create_account(
                db.session,
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data,
                language=form.language.data,
                actor=staff_actor(),
            )
        except StaffError as error:
            target = form.email if error.code in ("email_taken", "invalid_email") else form.role
            target.errors = [*target.errors, message_for(error)]
        else:
            db.session.commit()
            return render_template("staff/team/password.html", member=staff, password=password, created=True)
    return render_template("staff/team/new.html", form=form)


@bp.get("/<int:staff_id>")
@requires(Permission.MANAGE_STAFF)
def member(staff_id: int) -> str:
    staff = _member_or_404(staff_id)
    return render_template(
        "staff/team/member.html",
        member=staff,
        role_form=RoleForm(role=staff.role),
        is_self=staff.id == current_user.id,
    )


@bp.post("/<int:staff_id>/role")
@requires(Permission.MANAGE_STAFF)
def change_role(staff_id: int) -> Response:
    staff = _member_or_404(staff_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Please choose one of the roles in the list."), "error")
        return _back_to(staff)
    try:
        changed = admin_services.change_role(db.session, staff, form.role.data, by=current_user, actor=staff_actor())
    except StaffError as error:
        db.session.rollback()
        flash(message_for(error), "error")
        return _back_to(staff)
    db.session.commit()
    if changed:
        flash(_("%(name)s is now %(role)s.", name=staff.name, role=role_name(staff.role)), "info")
    return _back_to(staff)


@bp.route("/<int:staff_id>/deactivate", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def deactivate(staff_id: int) -> str | Response:
    staff = _member_or_404(staff_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            admin_services.deactivate(db.session, staff, by=current_user, actor=staff_actor())
        except StaffError as error:
            db.session.rollback()
            flash(message_for(error), "error")
            return _back_to(staff)
        db.session.commit()
        flash(_("The account of %(name)s is deactivated and logged out everywhere.", name=staff.name), "info")
        return _back_to(staff)
    return render_template(
        "staff/team/confirm.html",
        form=form,
        member=staff,
        title=_("Deactivate the account of %(name)s?", name=staff.name),
        explanation=_(
            "%(name)s is logged out at once and can no longer log in. The account and its history stay; "
            "you can reactivate it later.",
            name=staff.name,
        ),
        button=_("Deactivate account"),
    )


@bp.post("/<int:staff_id>/reactivate")
@requires(Permission.MANAGE_STAFF)
def reactivate(staff_id: int) -> Response:
    staff = _member_or_404(staff_id)
    if ConfirmForm().validate_on_submit():
        if admin_services.reactivate(db.session, staff, actor=staff_actor()):
            flash(_("The account of %(name)s is active again.", name=staff.name), "info")
        db.session.commit()
    return _back_to(staff)


@bp.route("/<int:staff_id>/reset-second-factor", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def reset_second_factor(staff_id: int) -> str | Response:
    staff = _member_or_404(staff_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            admin_services.reset_second_factor(db.session, staff, by=current_user, actor=staff_actor())
        except StaffError as error:
            flash(message_for(error), "error")
            return _back_to(staff)
        db.session.commit()
        flash(
            _("The second factor of %(name)s is reset. They set up a new one at their next log-in.", name=staff.name),
            "info",
        )
        return _back_to(staff)
    return render_template(
        "staff/team/confirm.html",
        form=form,
        member=staff,
        title=_("Reset the second factor of %(name)s?", name=staff.name),
        explanation=_(
            "Their authenticator app and recovery codes stop working and they are logged out at once. "
            "At their next log-in they set up the second factor again. Do this when a phone is lost or replaced.",
        ),
        button=_("Reset second factor"),
    )


@bp.route("/<int:staff_id>/reset-password", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def reset_password(staff_id: int) -> str | Response:
    staff = _member_or_404(staff_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            password = admin_services.reset_password(db.session, staff, by=current_user, actor=staff_actor())
        except StaffError as error:
            flash(message_for(error), "error")
            return _back_to(staff)
        db.session.commit()
        return render_template("staff/team/password.html", member=staff, password=password, created=False)
    return render_template(
        "staff/team/confirm.html",
        form=form,
        member=staff,
        title=_("Reset the password of %(name)s?", name=staff.name),
        explanation=_(
            "Their current password stops working and they are logged out at once. "
            "You get a temporary password to pass on to them in a safe way."
        ),
        button=_("Reset password"),
    )
