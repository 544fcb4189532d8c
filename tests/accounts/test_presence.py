"""Which features a debtor has something of, asked in one statement: each feature's own check, and the overview
of a debtor with none of them costing no statement per feature."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, literal

from portal import clock
from portal.accounts.presence import features_present, register_presence_check, unregister_presence_check
from portal.disputes.services import Choice, open_dispute
from portal.events.services import Event, emit
from portal.payments import events as payment_events
from portal.plans.promises import make_promise
from portal.storage import file_store
from tests.fixtures.factories import TEST_ACTOR

NOTHING = {"credit": False, "disputes": False, "reversals": False, "direct_debit": False, "plans": False}


@pytest.fixture()
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = app.extensions["portal_db_engine"]
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def _present(session, customer) -> dict[str, bool]:
    answer = features_present(session, customer.id, now=clock.now())
    session.rollback()
    return {name: answer[name] for name in NOTHING}


def test_each_feature_is_found_for_its_debtor_only(
    app, session, create_customer, create_invoice, create_credit, create_direct_debit
) -> None:
    plain = create_customer(language="en")
    create_invoice(plain)
    assert _present(session, plain) == NOTHING

    with_credit = create_customer(language="en")
    create_credit(with_credit, 1250)
    assert _present(session, with_credit) == {**NOTHING, "credit": True}

    on_debit = create_customer(language="en")
    create_direct_debit(on_debit)
    assert _present(session, on_debit) == {**NOTHING, "direct_debit": True}

    refunded = create_customer(language="en")
    emit(session, Event(payment_events.REFUNDED, TEST_ACTOR, customer_id=refunded.id, payload={"invoices": []}))
    session.commit()
    assert _present(session, refunded) == {**NOTHING, "reversals": True}

    promised = create_customer(language="en")
    invoice = create_invoice(promised, number="PR-1")
    with app.test_request_context():
        promised_on = clock.today_for(promised) + timedelta(days=10)
        make_promise(session, promised, [invoice.number], promised_on, actor=TEST_ACTOR)
        session.commit()
    assert _present(session, promised) == {**NOTHING, "plans": True}


def test_a_dispute_counts_while_open_and_for_sixty_days_after_it_ended(
    app, session, create_customer, create_invoice
) -> None:
    customer = create_customer(language="en")
    invoice = create_invoice(customer, number="D-1", due_date=date(2026, 11, 1))
    with app.app_context():
        dispute = open_dispute(
            session,
            file_store(app.config),
            customer,
            Choice([invoice.number]),
            reason="other",
            explanation="This is not ours.",
            actor=TEST_ACTOR,
        )
        session.commit()
    assert _present(session, customer)["disputes"] is True
    # Resolved 59 days ago, the overview still says how it ended; after 61 days it no longer shows it.
    for days_ago, shown in ((59, True), (61, False)):
        dispute.status, dispute.resolved_at = "resolved", clock.now() - timedelta(days=days_ago)
        session.merge(dispute)
        session.commit()
        assert _present(session, customer)["disputes"] is shown, days_ago


def test_a_check_registered_later_is_asked_too(session, create_customer) -> None:
    customer = create_customer(language="en")
    register_presence_check("always", literal(True))
    try:
        assert features_present(session, customer.id, now=clock.now())["always"] is True
    finally:
        unregister_presence_check("always")
    session.rollback()
    assert "always" not in features_present(session, customer.id, now=clock.now())


def test_the_overview_of_a_debtor_with_none_of_them_asks_once_for_all(
    app, session, create_customer, create_invoice, login, client, statements: list[str]
) -> None:
    customer = create_customer(language="en")
    create_invoice(customer)
    login(client, customer)
    client.get("/overview")  # the first visit writes the visit; the second is the one counted
    statements.clear()
    page = client.get("/overview")
    assert page.status_code == 200 and "You owe" in page.get_data(as_text=True)
    reads = [statement for statement in statements if statement.startswith("SELECT")]
    # The link with its customer, the invoices, the settings, and one statement for credit, disputes, refunds,
    # direct debit, plans and promises (each of them asked on its own cost one statement more each).
    assert len(reads) == 4, reads
    assert sum("EXISTS" in statement for statement in reads) == 1, reads
