"""Reading the settings in force at a moment, and changing them: one new version and one audit record per change.

Nothing is cached here: several web processes serve the same database, and a value an administrator just
saved must be the one the next page (in any process) shows. A page reads a handful of rows per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor, record
from portal.settings import registry
from portal.settings.models import SettingVersion
from portal.settings.registry import CREDITOR_PREFIX, METHODS_KEY, PARTIAL_MINIMUM_KEY, SettingProblem

__all__ = [
    "CREDITOR_PREFIX",
    "METHODS_KEY",
    "PARTIAL_MINIMUM_KEY",
    "InvalidSettings",
    "creditor_details",
    "current_settings",
    "get_setting",
    "partial_payment_minimum_cents",
    "set_settings",
    "versions_in_force",
]


class InvalidSettings(Exception):
    """One or more values were refused; nothing was written. ``problems`` maps each key to what is wrong."""

    def __init__(self, problems: dict[str, SettingProblem]) -> None:
        super().__init__(", ".join(f"{key}: {problem.code}" for key, problem in problems.items()))
        self.problems = problems


def _latest_versions(session: Session, keys: Iterable[str], at: datetime | None) -> dict[str, SettingVersion]:
    """The version of each key in force at ``at`` (now by default): the highest version begun by then."""
    wanted = list(keys)
    moment = at or clock.now()
    latest = (
        select(SettingVersion.key, func.max(SettingVersion.version).label("version"))
        .where(SettingVersion.key.in_(wanted), SettingVersion.valid_from <= moment)
        .group_by(SettingVersion.key)
        .subquery()
    )
    rows = session.scalars(
        select(SettingVersion).join(
            latest, and_(SettingVersion.key == latest.c.key, SettingVersion.version == latest.c.version)
        )
    )
    return {row.key: row for row in rows}


def versions_in_force(session: Session, at: datetime | None = None) -> dict[str, SettingVersion]:
    """The stored version in force at ``at`` of each key that has one (who set it, since when)."""
    return _latest_versions(session, registry.SETTINGS, at)


def current_settings(
    session: Session, keys: Iterable[str] | None = None, *, prefix: str | None = None, at: datetime | None = None
) -> dict[str, Any]:
    """{key: value in force at ``at``} for the given keys, or every key starting with ``prefix``, or all.

    A key nobody has set yet has its registry default.
    """
    if keys is not None:
        wanted = list(keys)
        for key in wanted:
            registry.get(key)  # an unknown key is a programming error: fail here, not with a silent default
    else:
        wanted = registry.keys_with_prefix(prefix or "")
    stored = _latest_versions(session, wanted, at)
    return {key: stored[key].value if key in stored else registry.get(key).default for key in wanted}


def get_setting(session: Session, key: str, at: datetime | None = None) -> Any:
    """The value of ``key`` in force at ``at`` (now by default)."""
    return current_settings(session, [key], at=at)[key]


def creditor_details(session: Session, at: datetime | None = None) -> dict[str, str]:
    """The creditor as {"name", "iban", "bic", "identifier", "email", "phone", "address", "vat_number",
    "legal_text"} for pages, PDFs and e-mails."""
    values = current_settings(session, prefix=CREDITOR_PREFIX, at=at)
    return {key.removeprefix(CREDITOR_PREFIX): str(value) for key, value in values.items()}


def partial_payment_minimum_cents(session: Session, currency: str, at: datetime | None = None) -> int | None:
    """The smallest part-payment in ``currency``, in cents; None: only whole invoices can be paid."""
    minimums = get_setting(session, PARTIAL_MINIMUM_KEY, at=at)
    value = minimums.get(currency.upper())
    return int(value) if value is not None else None


def validate_settings(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Every value through its validator; InvalidSettings names every problem at once."""
    parsed: dict[str, Any] = {}
    problems: dict[str, SettingProblem] = {}
    for key, raw in changes.items():
        try:
            parsed[key] = registry.get(key).parse(raw)
        except SettingProblem as problem:
            problems[key] = problem
    if problems:
        raise InvalidSettings(problems)
    return parsed


def set_settings(session: Session, changes: Mapping[str, Any], *, actor: Actor, note: str | None = None) -> list[str]:
    """Validate ``changes`` ({key: input}) and write a new version of each key whose value changes.

    Raises InvalidSettings, writing nothing, when any value is refused. Returns the keys that changed. Each
    change is in the audit trail as ``setting.changed`` with the old and the new value.
    """
    parsed = validate_settings(changes)
    now = clock.now()
    previous = _latest_versions(session, parsed, at=None)
    changed = []
    for key, value in parsed.items():
        before = previous.get(key)
        old = before.value if before is not None else registry.get(key).default
        if value == old:
            continue
        session.add(
            SettingVersion(
                key=key,
                version=_next_version(session, key),
                value=value,
                # Never before the version it follows, even if this server's clock is behind another's.
                valid_from=max(now, _last_valid_from(session, key) or now),
                changed_by=actor.id if actor.type == "staff" and actor.id else "system",
                note=(note or "").strip()[:500] or None,
            )
        )
        record(session, actor, "setting.changed", subject=("setting", key), old=old, new=value)
        changed.append(key)
    session.flush()
    return changed


def _next_version(session: Session, key: str) -> int:
    return (session.scalar(select(func.max(SettingVersion.version)).where(SettingVersion.key == key)) or 0) + 1


def _last_valid_from(session: Session, key: str) -> datetime | None:
    return session.scalar(select(func.max(SettingVersion.valid_from)).where(SettingVersion.key == key))
