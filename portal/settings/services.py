"""Reading the settings in force at a moment, and changing them: one new version and one audit record per change.

The settings in force are read once per transaction: the first read loads every key (one query) into
``session.info``, keyed on ``at``, and later reads in the same transaction use it. The memo ends with the
transaction (commit, rollback or close) and whenever ``set_settings`` writes, so it is never shared between
processes or requests and never outlives a save: the next transaction, in any process, reads the database
again. Within one transaction, "now" is the moment of the first read.

Saving is optimistic: a form sends back the version of each key it showed (``expected_versions``), and a
key that someone else changed in the meantime refuses the save (SettingsConflict) instead of being
overwritten with what the form showed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar

from sqlalchemy import Select, and_, bindparam, event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from portal import clock
from portal.audit.services import Actor, record
from portal.errors import DomainError, Message
from portal.i18n import _
from portal.settings import registry
from portal.settings.models import SettingVersion
from portal.settings.registry import (
    CONTACT_HOURS_KEY,
    CREDITOR_PREFIX,
    METHODS_KEY,
    PARTIAL_MINIMUM_KEY,
    SettingProblem,
)

__all__ = [
    "CONTACT_HOURS_KEY",
    "CREDITOR_PREFIX",
    "METHODS_KEY",
    "PARTIAL_MINIMUM_KEY",
    "InvalidSettings",
    "SettingsConflict",
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


def _changed_meanwhile(details: Mapping[str, Any]) -> str:
    names = ", ".join(str(registry.get(key).label) for key in details.get("keys", ()))
    return _(
        "Someone else changed these settings while you were editing them: %(settings)s. Below you see the values "
        "that apply now. Make your change again and save."
    ) % {"settings": names}


class SettingsConflict(DomainError):
    """The save would overwrite keys (``keys``) that someone else changed since the form was drawn."""

    area = "setting"
    status = 409
    messages: ClassVar[Mapping[str, Message]] = {"changed_meanwhile": _changed_meanwhile}


_MEMO_KEY = "portal_settings_in_force"


@event.listens_for(Session, "after_transaction_end")
def _forget_settings(session: Session, _transaction: SessionTransaction) -> None:
    # Every end counts (commit, rollback, close, a savepoint's end): the next read asks the database again.
    session.info.pop(_MEMO_KEY, None)


def _in_force(session: Session, at: datetime | None) -> dict[str, SettingVersion]:
    """Every key's version in force at ``at``, read once per transaction (see the module's docstring)."""
    memo: dict[datetime | None, dict[str, SettingVersion]] = session.info.setdefault(_MEMO_KEY, {})
    if at not in memo:
        memo[at] = _latest_versions(session, None, at)
    return memo[at]


def _latest_versions(session: Session, keys: Iterable[str] | None, at: datetime | None) -> dict[str, SettingVersion]:
    """The version of each key (of every key in the registry: None) in force at ``at`` (now by default): the
    highest version begun by then."""
    asked = None if keys is None else tuple(keys)
    # Every key: no IN list, whose dozens of parameters SQLAlchemy expands anew on each execution (every page
    # reads the settings); a key no longer in the registry is left out here instead.
    wanted = registry.SETTINGS if asked is None else asked
    rows = session.scalars(_latest_versions_statement(asked), {"moment": at or clock.now()})
    return {row.key: row for row in rows if row.key in wanted}


@lru_cache(maxsize=64)
def _latest_versions_statement(keys: tuple[str, ...] | None) -> Select[SettingVersion]:
    # Built once per set of keys: every page reads the settings, and building this statement costs more than
    # running it (SQLAlchemy also keeps its compiled form with the statement).
    begun = SettingVersion.valid_from <= bindparam("moment")
    latest = (
        select(SettingVersion.key, func.max(SettingVersion.version).label("version"))
        .where(begun if keys is None else and_(SettingVersion.key.in_(keys), begun))
        .group_by(SettingVersion.key)
        .subquery()
    )
    return select(SettingVersion).join(
        latest, and_(SettingVersion.key == latest.c.key, SettingVersion.version == latest.c.version)
    )


def versions_in_force(session: Session, at: datetime | None = None) -> dict[str, SettingVersion]:
    """The stored version in force at ``at`` of each key that has one (who set it, since when)."""
    return dict(_in_force(session, at))


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
    stored = _in_force(session, at)
    # Copies: a caller that changes a dict it was given must not change what the next caller reads.
    return {key: copy.deepcopy(stored[key].value if key in stored else registry.get(key).default) for key in wanted}


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


def set_settings(
    session: Session,
    changes: Mapping[str, Any],
    *,
    actor: Actor,
    note: str | None = None,
    expected_versions: Mapping[str, int] | None = None,
) -> list[str]:
    """Validate ``changes`` ({key: input}) and write a new version of each key whose value changes.

    Raises InvalidSettings, writing nothing, when any value is refused. With ``expected_versions`` ({key:
    version the form showed}, 0 or absent for a key that had none), raises SettingsConflict, writing
    nothing, when a key whose value would change has a newer version than that: someone else saved it in
    between. Returns the keys that changed. Each change is in the audit trail as ``setting.changed`` with
    the old and the new value.
    """
    parsed = validate_settings(changes)
    now = clock.now()
    previous = _latest_versions(session, parsed, at=None)
    newest = _newest_versions(session, parsed)
    changing: dict[str, tuple[Any, Any]] = {}
    for key, value in parsed.items():
        before = previous.get(key)
        old = before.value if before is not None else registry.get(key).default
        if value != old:
            changing[key] = (old, value)
    if expected_versions is not None:
        stale = [key for key in changing if newest.get(key, (0, None))[0] > expected_versions.get(key, 0)]
        if stale:
            raise SettingsConflict("changed_meanwhile", keys=stale)
    session.info.pop(_MEMO_KEY, None)
    for key, (old, value) in changing.items():
        last_version, last_valid_from = newest.get(key, (0, None))
        session.add(
            SettingVersion(
                key=key,
                version=last_version + 1,
                value=value,
                # Never before the version it follows, even if this server's clock is behind another's.
                valid_from=max(now, last_valid_from or now),
                changed_by=actor.id if actor.type == "staff" and actor.id else "system",
                note=(note or "").strip()[:500] or None,
            )
        )
        record(session, actor, "setting.changed", subject=("setting", key), old=old, new=value)
    session.flush()
    return list(changing)


def _newest_versions(session: Session, keys: Iterable[str]) -> dict[str, tuple[int, datetime | None]]:
    """{key: (highest version, latest valid_from)} of every key that has versions, in force yet or not."""
    rows = session.execute(
        select(SettingVersion.key, func.max(SettingVersion.version), func.max(SettingVersion.valid_from))
        .where(SettingVersion.key.in_(list(keys)))
        .group_by(SettingVersion.key)
    )
    return {key: (version, valid_from) for key, version, valid_from in rows}
