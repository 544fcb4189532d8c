"""The second proof a change of direct debit needs: a six-digit code e-mailed to the address on file.

A personal link alone must not be enough (an e-mail with the link may have been forwarded), so moving the
collection day or stopping direct debit also asks for a code sent to the customer's e-mail address. A code
is bound to what it confirms (the purpose and, for a new day, that day), lives ten minutes, allows five
tries, and only its keyed hash is stored. Asking for a new code ends the old one; a customer can ask for a
few codes an hour, so nobody can flood their inbox.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.debits.errors import DebitProblem
from portal.debits.models import ProofCode
from portal.notifications.services import queue_email

CHANGE_DAY = "debits.change_day"
STOP = "debits.stop"
PURPOSES = (CHANGE_DAY, STOP)
VALID_FOR = timedelta(minutes=10)
MAX_TRIES = 5
REQUESTS_PER_HOUR = 5
REQUEST_WINDOW = timedelta(hours=1)
DIGITS = 6


def _hash(code_id: int, customer_id: int, code: str) -> str:
    # Keyed with the app's secret and bound to this row: a copy of the table alone does not give the codes
    # away (a million candidates would otherwise be tried in no time).
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{code_id}:{customer_id}:{code}".encode(), hashlib.sha256).hexdigest()


def request_code(session: Session, customer: Customer, purpose: str, details: dict[str, Any], *, actor: Actor) -> None:
    """E-mail a new code for ``purpose`` with ``details`` to the customer's address; earlier codes for the
    purpose stop working. DebitProblem("code_requests", retry_after=<seconds>) after too many codes within
    the hour, ``retry_after`` saying in whole seconds when the next code can be asked for."""
    if purpose not in PURPOSES:
        raise KeyError(purpose)
    if not customer.email:
        raise DebitProblem("no_email")
    now = clock.now()
    window_start = now - REQUEST_WINDOW
    recent = list(
        session.scalars(
            select(ProofCode.created_at)
            .where(ProofCode.customer_id == customer.id, ProofCode.created_at > window_start)
            .order_by(ProofCode.created_at)
        )
    )
    if len(recent) >= REQUESTS_PER_HOUR:
        # A code may be asked for again once enough of these have left the window to bring the count under
        # the limit: with exactly the limit counted, when the oldest leaves. Rounded up to a whole second, so
        # the debtor is never told a moment at which they would still be refused.
        frees_up = recent[len(recent) - REQUESTS_PER_HOUR] + REQUEST_WINDOW
        raise DebitProblem("code_requests", retry_after=max(1, math.ceil((frees_up - now).total_seconds())))
    session.execute(
        update(ProofCode)
        .where(ProofCode.customer_id == customer.id, ProofCode.purpose == purpose, ProofCode.used_at.is_(None))
        .values(expires_at=now)
    )
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    row = ProofCode(
        customer_id=customer.id,
        purpose=purpose,
        code_hash="",
        details=details,
        attempts=0,
        expires_at=now + VALID_FOR,
        created_at=now,
    )
    session.add(row)
    session.flush()
    row.code_hash = _hash(row.id, customer.id, code)
    queue_email(
        session,
        to=customer.email,
        template="proof_code",
        language=customer.language,
        context={
            "customer_name": customer.name,
            "code": code,
            "purpose": purpose,
            "minutes": int(VALID_FOR.total_seconds() // 60),
            "day_of_month": details.get("day"),
        },
        actor=actor,
        customer_id=customer.id,
        # Blanked from the stored copy once delivered, and hidden from staff who may not create links: a code
        # read off the outbox would stand in for the debtor's own mailbox.
        secrets=(code,),
    )


def _latest(session: Session, customer: Customer, purpose: str, *, lock: bool = False) -> ProofCode | None:
    statement = (
        select(ProofCode)
        .where(ProofCode.customer_id == customer.id, ProofCode.purpose == purpose)
        .order_by(ProofCode.id.desc())
        .limit(1)
    )
    if lock:
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def check_code(session: Session, customer: Customer, purpose: str, details: dict[str, Any], code: str) -> None:
    """Accept ``code`` for ``purpose`` and ``details`` (the code is then used up), or raise DebitProblem.

    A wrong code counts as a try; the caller commits that too, so five wrong tries end the code however the
    tries arrive. Nothing else may change when this raises.
    """
    row = _latest(session, customer, purpose, lock=True)
    now = clock.now()
    if row is None:
        raise DebitProblem("code_missing")
    if row.used_at is not None:
        raise DebitProblem("code_used")
    if row.expires_at <= now:
        raise DebitProblem("code_expired")
    if row.attempts >= MAX_TRIES:
        raise DebitProblem("code_locked")
    if row.details != details:
        # The code was asked for another change (another day): it cannot confirm this one.
        raise DebitProblem("code_other_change")
    given = "".join(ch for ch in code if ch in "0123456789")  # spaces and dashes as people type them
    if not hmac.compare_digest(row.code_hash, _hash(row.id, customer.id, given)):
        row.attempts += 1
        left = MAX_TRIES - row.attempts
        if left <= 0:
            raise DebitProblem("code_locked")
        raise DebitProblem("code_wrong", left=left)
    row.used_at = now
