from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import Base, UTCDateTime

ROLES = ("viewer", "agent", "supervisor", "admin")


class StaffUser(Base):
    """A member of the credit-management team. Passwords are Argon2id hashes; TOTP is the second factor."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('viewer', 'agent', 'supervisor', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(12))
    password_hash: Mapped[str] = mapped_column(String(200))
    # The TOTP secret, Fernet-encrypted with PORTAL_TOTP_KEYS (portal/staff/totp_keys.py); never in plain text.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(300))
    # A secret being set up, kept here (encrypted) rather than in the cookie until the first code confirms it.
    totp_pending_encrypted: Mapped[str | None] = mapped_column(String(300))
    totp_pending_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The 30-second step of the last accepted code: a code (or an older one) is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # A temporary password set by an administrator must be replaced at the next log-in.
    password_must_change: Mapped[bool] = mapped_column(default=False, server_default=false())
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(2), default="nl")
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    recovery_codes: Mapped[list[RecoveryCode]] = relationship(cascade="all, delete-orphan")

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None


class RecoveryCode(Base):
    """One-time codes for when the authenticator is lost; stored as hashes, each usable once."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Base):
    """One log-in on one device. The signed cookie carries only a random token whose hash is the key here,
    so logging out (or a password change, or closing the account) ends the session on the server: a copy
    of the cookie taken earlier opens nothing afterwards."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the cookie's token
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # logged_out, logged_out_everywhere, idle, password_changed, second_factor_enabled, deactivated, ...
    ended_reason: Mapped[str | None] = mapped_column(String(40))


class LoginThrottle(Base):
    """Failed log-ins per e-mail address, known or not, so the throttle reveals nothing about accounts."""

    __tablename__ = "staff_login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the normalised e-mail
    failures: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
