"""The plan and promise policy in force, read once from the versioned settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.plans.rules import KINDS, Policy
from portal.settings.plan_settings import (
    DEBT_HELP_PREFIX,
    PLAN_ANSWER_DAYS_KEY,
    PLAN_COOLING_OFF_DAYS_KEY,
    PLAN_FIRST_WITHIN_DAYS_KEY,
    PLAN_GRACE_DAYS_KEY,
    PLAN_INTEREST_KEY,
    PLAN_INVOICES_KEY,
    PLAN_PREFIX,
    PLAN_REMINDER_DAYS_KEY,
    PROMISE_MAX_DAYS_KEY,
    plan_limit_key,
)
from portal.settings.services import current_settings, versions_in_force


@dataclass(frozen=True)
class PlanPolicy:
    limits: dict[str, Policy]  # per customer kind
    invoices: str  # "overdue" or "open": which invoices a plan may cover
    reminder_days: int
    grace_days: int
    answer_days: int
    interest: str  # "none" or "statutory"
    promise_max_days: int
    cooling_off_days: int  # after a lapsed plan or a broken promise: new ones are for staff to decide

    def for_kind(self, kind: str) -> Policy:
        return self.limits.get(kind, self.limits["consumer"])


def plan_policy(session: Session, at: datetime | None = None) -> PlanPolicy:
    values = current_settings(session, prefix=PLAN_PREFIX, at=at)
    first_within = int(values[PLAN_FIRST_WITHIN_DAYS_KEY])
    limits = {
        kind: Policy(
            kind=kind,
            max_instalments=int(values[plan_limit_key(kind, "max_instalments")]),
            min_instalment_cents=int(values[plan_limit_key(kind, "min_instalment")]),
            max_total_cents=int(values[plan_limit_key(kind, "max_total")]),
            first_within_days=first_within,
        )
        for kind in KINDS
    }
    return PlanPolicy(
        limits=limits,
        invoices=str(values[PLAN_INVOICES_KEY]),
        reminder_days=int(values[PLAN_REMINDER_DAYS_KEY]),
        grace_days=int(values[PLAN_GRACE_DAYS_KEY]),
        answer_days=int(values[PLAN_ANSWER_DAYS_KEY]),
        interest=str(values[PLAN_INTEREST_KEY]),
        promise_max_days=int(values[PROMISE_MAX_DAYS_KEY]),
        cooling_off_days=int(values[PLAN_COOLING_OFF_DAYS_KEY]),
    )


def debt_help_text(session: Session, country: str) -> str:
    """The creditor's own text for the "I cannot pay" page in ``country``; empty means the standard text."""
    key = f"{DEBT_HELP_PREFIX}{country.upper()}"
    values = current_settings(session, prefix=DEBT_HELP_PREFIX)
    return str(values.get(key) or "")


def policy_versions(session: Session, at: datetime | None = None) -> dict[str, int]:
    """{key: version} of every plan setting in force at ``at`` (0: never set, so its default): the evidence of
    which policy a debtor agreed under."""
    stored = versions_in_force(session, at)
    values = current_settings(session, prefix=PLAN_PREFIX, at=at)
    return {key: (stored[key].version if key in stored else 0) for key in sorted(values)}
