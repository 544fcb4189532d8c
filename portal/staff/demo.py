"""Demo staff accounts, one per role, so a new user can try the staff area straight after ``make run``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.services import SYSTEM
from portal.staff.models import ROLES, StaffUser
from portal.staff.services import create_staff

# Demo only: the demo database lives on the user's own machine and holds made-up customers.
DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - printed for the demo by design
DEMO_DOMAIN = "zonnig.example"


def demo_email(role: str) -> str:
    return f"{role}@{DEMO_DOMAIN}"


def load_demo_staff(session: Session) -> bool:
    if session.scalars(select(StaffUser).limit(1)).first() is not None:
        return False
    for role in ROLES:
        create_staff(
            session, email=demo_email(role), name=f"Demo {role}", role=role, password=DEMO_PASSWORD, actor=SYSTEM
        )
    return True
