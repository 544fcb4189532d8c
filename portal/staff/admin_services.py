"""Administrators managing staff accounts: create, change role, (de)activate, reset password or second factor.

Two rules protect the team from locking itself out: nobody demotes or deactivates their own account,
and the last active administrator can never be demoted or deactivated. Every change is audited with
the administrator as actor. Like the rest of the services, nothing here reads Flask's request globals.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.services import Actor, record
from portal.staff.errors import StaffError
from portal.staff.models import ROLES, LoginThrottle, StaffUser
from portal.staff.services import create_staff, hash_password, throttle_key
from portal.staff.staff_sessions import end_all_sessions

# No 0/o, 1/l/i: the person types this from what the administrator read out or sent them.
_READABLE_CHARACTERS = "abcdefghjkmnpqrstuvwxyz23456789"
_PASSWORD_GROUPS = 4
_PASSWORD_GROUP_LENGTH = 4  # 16 characters, each one of 31: about 79 bits


def generate_temporary_password() -> str:
    """A random password such as ``k7mq-x2pa-93fd-hnwt``, long enough for the password rules."""
    groups = (
        "".join(secrets.choice(_READABLE_CHARACTERS) for _ in range(_PASSWORD_GROUP_LENGTH))
        for _ in range(_PASSWORD_GROUPS)
    )
    return "-".join(groups)


def list_staff(session: Session) -> list[StaffUser]:
    """Every account, active ones first, then by name."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.name, StaffUser.id)))


def create_account(
    session: Session, *, email: str, name: str, role: str, language: str, actor: Actor
) -> tuple[StaffUser, str]:
    """A new account with a generated temporary password, returned once so the administrator can pass it on.

    The second factor is set up by the person at their first log-in.
    """
    password = generate_temporary_password()
    staff = create_staff(session, email=email, name=name.strip(), role=role, password=password, actor=actor)
    staff.language = language
    staff.password_must_change = True
    return staff, password


def change_role(session: Session, staff: StaffUser, role: str, *, by: StaffUser | None, actor: Actor) -> bool:
    """Give ``staff`` another role; False when it already had it. ``by`` is the administrator (None from the CLI)."""
    if role not in ROLES:
        raise StaffError("unknown_role")
    if role == staff.role:
        return False
    if staff.role == "admin":
        _refuse_losing_an_admin(session, staff, by)
    previous = staff.role
    staff.role = role
    change: dict[str, Any] = {"from": previous, "to": role}  # "from" is a Python keyword, hence the dict
    record(session, actor, "staff.role_changed", subject=("staff", staff.id), email=staff.email, **change)
    return True


def deactivate(session: Session, staff: StaffUser, *, by: StaffUser | None, actor: Actor) -> bool:
    """Close the account and end all its sessions at once; False when it was already inactive."""
    if not staff.active:
        return False
    if staff.role == "admin":
        _refuse_losing_an_admin(session, staff, by)
    elif by is not None and by.id == staff.id:
        raise StaffError("cannot_change_self")
    staff.active = False
    # The session loader also refuses inactive accounts; ending the sessions makes sure they never come back,
    # not even when the account is opened again.
    end_all_sessions(session, staff, reason="deactivated")
    record(session, actor, "staff.deactivated", subject=("staff", staff.id), email=staff.email)
    return True


def reactivate(session: Session, staff: StaffUser, *, actor: Actor) -> bool:
    """Open a deactivated account again (with its old password and second factor); False when it was active."""
    if staff.active:
        return False
    staff.active = True
    record(session, actor, "staff.reactivated", subject=("staff", staff.id), email=staff.email)
    return True


def reset_second_factor(session: Session, staff: StaffUser, *, by: StaffUser | None, actor: Actor) -> None:
    """Forget the authenticator and the recovery codes and end all sessions: the person enrols again at log-in."""
    _refuse_self(staff, by)
    staff.totp_secret_encrypted = None
    staff.totp_pending_encrypted = None
    staff.totp_pending_until = None
    staff.totp_enabled_at = None
    staff.recovery_codes.clear()
    end_all_sessions(session, staff, reason="second_factor_reset")
    record(session, actor, "staff.second_factor_reset", subject=("staff", staff.id), email=staff.email)


def reset_password(session: Session, staff: StaffUser, *, by: StaffUser | None, actor: Actor) -> str:
    """Set a new temporary password, end all sessions, and return the password once."""
    _refuse_self(staff, by)
    password = generate_temporary_password()
    staff.password_hash = hash_password(password)
    staff.password_must_change = True
    end_all_sessions(session, staff, reason="password_reset")
    # Someone who forgot their password has often locked the address too; the new password should work now.
    throttle = session.get(LoginThrottle, throttle_key(staff.email))
    if throttle is not None:
        session.delete(throttle)
    record(session, actor, "staff.password_reset", subject=("staff", staff.id), email=staff.email)
    return password


def _refuse_self(staff: StaffUser, by: StaffUser | None) -> None:
    # Resetting your own password from a session would turn a stolen session into a permanent account
    # take-over; another administrator has to do it.
    if by is not None and by.id == staff.id:
        raise StaffError("cannot_reset_self")


def _refuse_losing_an_admin(session: Session, staff: StaffUser, by: StaffUser | None) -> None:
    """Refuse when ``staff`` (an administrator being demoted or deactivated) is the last active one, or ``by``."""
    # Lock the administrators' rows (PostgreSQL): two administrators demoting each other at the same
    # moment would otherwise both see the other one and leave nobody to manage the team.
    active_admins = session.scalars(
        select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.active.is_(True)).with_for_update()
    ).all()
    if staff.active and set(active_admins) <= {staff.id}:
        raise StaffError("last_admin")
    if by is not None and by.id == staff.id:
        raise StaffError("cannot_change_self")
