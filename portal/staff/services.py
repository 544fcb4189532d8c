"""Staff accounts: creation, passwords, the second factor, recovery codes and log-in throttling.

Nothing here reads Flask's request globals: the views pass in what is needed, so the CLI and the
tests use the same functions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor, record
from portal.staff.errors import StaffError
from portal.staff.models import ROLES, LoginThrottle, RecoveryCode, StaffUser
from portal.staff.staff_sessions import end_all_sessions
from portal.staff.totp_keys import TotpKeyError, TotpKeyring

MIN_PASSWORD_LENGTH = 12
RECOVERY_CODE_COUNT = 10
# After this many failures each further attempt must wait twice as long as the one before ...
FREE_ATTEMPTS = 3
MAX_DELAY = timedelta(seconds=60)
# ... and after this many the address is locked for a while.
LOCK_AFTER = 10
LOCK_FOR = timedelta(minutes=15)
# A secret shown for set-up is kept (encrypted, server-side) this long for the first code to confirm it.
ENROLMENT_TTL = timedelta(minutes=15)

_hasher = PasswordHasher()
# Verifying against this when the e-mail is unknown costs the same time as a real check.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class LoginResult:
    staff: StaffUser | None
    wait_seconds: int = 0  # > 0: refused because of earlier failures, try again after this


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError("password_too_short")
    return _hasher.hash(password)


def create_staff(session: Session, *, email: str, name: str, role: str, password: str, actor: Actor) -> StaffUser:
    email = normalise_email(email)
    if role not in ROLES:
        raise StaffError("unknown_role")
    if "@" not in email:
        raise StaffError("invalid_email")
    if session.scalars(select(StaffUser).where(StaffUser.email == email)).first() is not None:
        raise StaffError("email_taken")
    staff = StaffUser(email=email, name=name or email, role=role, password_hash=hash_password(password))
    session.add(staff)
    session.flush()
    record(session, actor, "staff.created", subject=("staff", staff.id), email=email, role=role)
    return staff


def throttle_key(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def check_password(
    session: Session, email: str, password: str, *, actor: Actor, now: datetime | None = None
) -> LoginResult:
    """The first step of logging in. Unknown addresses are throttled and timed exactly like known ones."""
    now = now or clock.now()
    throttle = session.get(LoginThrottle, throttle_key(email))
    if throttle is not None and throttle.blocked_until is not None and throttle.blocked_until > now:
        record(session, actor, "staff.login_throttled", email=normalise_email(email))
        return LoginResult(None, wait_seconds=max(1, int((throttle.blocked_until - now).total_seconds() + 0.999)))

    staff = session.scalars(select(StaffUser).where(StaffUser.email == normalise_email(email))).one_or_none()
    try:
        _hasher.verify(staff.password_hash if staff else _DUMMY_HASH, password)
        valid = staff is not None and staff.active
    except (VerificationError, InvalidHashError):
        valid = False

    if not valid:
        failures = register_failure(session, email, now=now)
        record(session, actor, "staff.login_failed", email=normalise_email(email), failures=failures)
        return LoginResult(None)

    assert staff is not None
    # The throttle is cleared only once the second factor is passed too (complete_login).
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = _hasher.hash(password)
    return LoginResult(staff)


def register_failure(session: Session, email: str, *, now: datetime | None = None) -> int:
    """One more failed step (password or code) for this address; returns the count so far."""
    now = now or clock.now()
    key = throttle_key(email)
    # Two first failures for one address at the same moment must not both insert the row (one would
    # fail on the primary key): insert-if-absent, which waits for a concurrent insert, then lock the row.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginThrottle)
        .values(key=key, failures=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=[LoginThrottle.key])
    )
    throttle = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
    assert throttle is not None
    throttle.failures += 1
    throttle.updated_at = now
    delay = _delay_after(throttle.failures)
    # No delay, no block: "blocked until now" would make a request that read the clock a moment earlier
    # (while it waited for this row) wait after a single failure.
    throttle.blocked_until = now + delay if delay else None
    return throttle.failures


def wait_seconds(session: Session, email: str, *, now: datetime | None = None) -> int:
    """How long this address must wait before the next attempt (0: it may try now)."""
    now = now or clock.now()
    throttle = session.get(LoginThrottle, throttle_key(email))
    if throttle is None or throttle.blocked_until is None or throttle.blocked_until <= now:
        return 0
    return max(1, int((throttle.blocked_until - now).total_seconds() + 0.999))


def _delay_after(failures: int) -> timedelta:
    if failures >= LOCK_AFTER:
        return LOCK_FOR
    if failures <= FREE_ATTEMPTS:
        return timedelta(0)
    return min(MAX_DELAY, timedelta(seconds=2 ** (failures - FREE_ATTEMPTS)))


def complete_login(session: Session, staff: StaffUser, *, actor: Actor, method: str) -> None:
    throttle = session.get(LoginThrottle, throttle_key(staff.email))
    if throttle is not None:
        session.delete(throttle)
    staff.last_login_at = clock.now()
    record(session, actor, "staff.logged_in", subject=("staff", staff.id), second_factor=method)


def pending_totp_secret(session: Session, staff: StaffUser, keyring: TotpKeyring) -> str:
    """The secret to show for set-up: the one shown before while it is fresh, else a new one.

    It is kept encrypted on the account (never in the cookie) and becomes the second factor only once
    the first code from it has been confirmed.
    """
    now = clock.now()
    if staff.totp_pending_encrypted and staff.totp_pending_until and staff.totp_pending_until > now:
        try:
            return keyring.decrypt(staff.totp_pending_encrypted)
        except TotpKeyError:
            pass  # the keys changed since it was shown: show a new one
    secret = pyotp.random_base32()
    staff.totp_pending_encrypted = keyring.encrypt(secret)
    staff.totp_pending_until = now + ENROLMENT_TTL
    return secret


def provisioning_uri(secret: str, staff: StaffUser, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=staff.email, issuer_name=issuer)


def confirm_totp_enrolment(
    session: Session, staff: StaffUser, code: str, *, keyring: TotpKeyring, actor: Actor
) -> list[str]:
    """Switch the pending secret on as the second factor and return fresh recovery codes (shown once, stored
    hashed). The caller starts a new session for the person: every session of the account ends here."""
    pending = staff.totp_pending_encrypted
    if not pending or staff.totp_pending_until is None or staff.totp_pending_until <= clock.now():
        raise StaffError("enrolment_expired")
    try:
        secret = keyring.decrypt(pending)
    except TotpKeyError as error:
        raise StaffError("enrolment_expired") from error
    if not _totp_matches(secret, code):
        raise StaffError("wrong_code")
    staff.totp_secret_encrypted = keyring.encrypt(secret)
    staff.totp_pending_encrypted = None
    staff.totp_pending_until = None
    staff.totp_enabled_at = clock.now()
    staff.totp_last_step = _totp_step(secret, code)
    # Sessions that began before the second factor existed must not carry on without it.
    end_all_sessions(session, staff, reason="second_factor_enabled")
    codes = _new_recovery_codes(staff)
    record(session, actor, "staff.second_factor_enabled", subject=("staff", staff.id))
    return codes


def verify_second_factor(
    session: Session, staff: StaffUser, code: str, *, keyring: TotpKeyring, actor: Actor
) -> str | None:
    """ "totp" or "recovery_code" when the code is good, None when it is not. A recovery code works once.

    Raises TotpKeyError when the stored secret opens with none of the configured keys and the code is no
    recovery code either; nothing is then counted as a failure: the person did nothing wrong.
    """
    cleaned = code.strip().replace(" ", "").replace("-", "").lower()
    key_problem: TotpKeyError | None = None
    if staff.totp_secret_encrypted and cleaned.isdigit():
        try:
            secret = keyring.decrypt(staff.totp_secret_encrypted)
        except TotpKeyError as error:
            key_problem = error  # a recovery code still works: it does not depend on the keys
        else:
            step = _totp_step(secret, cleaned)
            if step is not None and (staff.totp_last_step is None or step > staff.totp_last_step):
                staff.totp_last_step = step
                return "totp"
    digest = _hash_recovery_code(cleaned)
    for recovery in staff.recovery_codes:
        if recovery.used_at is None and hmac.compare_digest(recovery.code_hash, digest):
            recovery.used_at = clock.now()
            record(session, actor, "staff.recovery_code_used", subject=("staff", staff.id))
            return "recovery_code"
    if key_problem is not None:
        raise key_problem
    register_failure(session, staff.email)
    record(session, actor, "staff.second_factor_failed", subject=("staff", staff.id))
    return None


def remaining_recovery_codes(staff: StaffUser) -> int:
    return sum(1 for code in staff.recovery_codes if code.used_at is None)


def log_out_everywhere(session: Session, staff: StaffUser, *, actor: Actor) -> None:
    end_all_sessions(session, staff, reason="logged_out_everywhere")
    record(session, actor, "staff.logged_out_everywhere", subject=("staff", staff.id))


def _totp_matches(secret: str, code: str) -> bool:
    return _totp_step(secret, code) is not None


def _totp_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """The 30-second step ``code`` belongs to, allowing one step of clock drift either way (phones are rarely
    exact), or None when it matches none of them."""
    totp = pyotp.TOTP(secret)
    moment = now or clock.now()
    current = totp.timecode(moment)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code.strip()):
            return step
    return None


def _new_recovery_codes(staff: StaffUser) -> list[str]:
    staff.recovery_codes.clear()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits, shown as xxxxx-xxxxx
        codes.append(f"{raw[:5]}-{raw[5:]}")
        staff.recovery_codes.append(RecoveryCode(code_hash=_hash_recovery_code(raw)))
    return codes


def _hash_recovery_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def change_password(
    session: Session, staff: StaffUser, current: str, new: str, *, actor: Actor, keep_session: str | None = None
) -> None:
    """The person changes their own password; a temporary one set by an administrator stops being temporary.

    Every other session of the account ends; ``keep_session`` (the token of the session asking) goes on.
    """
    try:
        _hasher.verify(staff.password_hash, current)
    except (VerificationError, InvalidHashError) as error:
        raise StaffError("wrong_password") from error
    if new == current:
        raise StaffError("same_password")
    staff.password_hash = hash_password(new)
    staff.password_must_change = False
    # A suspected leak is the usual reason: end every other session.
    end_all_sessions(session, staff, reason="password_changed", keep=keep_session)
    record(session, actor, "staff.password_changed", subject=("staff", staff.id))


def rotate_totp_secrets(session: Session, keyring: TotpKeyring) -> tuple[int, list[StaffUser]]:
    """Encrypt every stored TOTP secret with the first key; returns how many, and the accounts whose secret
    opens with none of the keys (left as they are)."""
    rotated, unreadable = 0, []
    for staff in session.scalars(select(StaffUser).order_by(StaffUser.id)):
        try:
            if staff.totp_secret_encrypted:
                staff.totp_secret_encrypted = keyring.rotate(staff.totp_secret_encrypted)
                rotated += 1
            if staff.totp_pending_encrypted:
                staff.totp_pending_encrypted = keyring.rotate(staff.totp_pending_encrypted)
        except TotpKeyError:
            unreadable.append(staff)
    session.flush()
    return rotated, unreadable
