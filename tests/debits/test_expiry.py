"""A mandate unused for 36 months expires; one with a running schedule does not."""

from __future__ import annotations

from datetime import date

from portal.audit.services import Actor
from portal.debits.expiry import expire_unused_mandates, months_before

SYSTEM = Actor(type="system", id="test")


def test_months_before_keeps_the_day_or_takes_the_months_last() -> None:
    assert months_before(date(2026, 12, 1), 36) == date(2023, 12, 1)
    assert months_before(date(2027, 2, 28), 36) == date(2024, 2, 28)
    assert months_before(date(2028, 2, 29), 12) == date(2027, 2, 28)
    assert months_before(date(2027, 3, 31), 1) == date(2027, 2, 28)


def test_an_unused_mandate_expires_after_36_months(session, create_customer, create_direct_debit) -> None:
    in_use = create_direct_debit(create_customer())
    idle = create_direct_debit(create_customer())
    used_lately = create_direct_debit(create_customer())
    for ended in (idle, used_lately):
        ended.ended_at = ended.created_at  # the contract ended; the mandate stays until it expires
    used_lately.mandate.last_collected_on = date(2028, 1, 4)
    session.commit()
    # Signed on 1 June 2026 (the factory): still valid on 1 June 2029, expired a day later.
    assert expire_unused_mandates(session, today=date(2029, 6, 1), actor=SYSTEM) == []
    assert expire_unused_mandates(session, today=date(2029, 6, 2), actor=SYSTEM) == [idle.mandate.id]
    assert idle.mandate.status == "expired"
    assert in_use.mandate.status == "active", "a running schedule keeps it"
    assert used_lately.mandate.status == "active", "36 months count from its last collection"
