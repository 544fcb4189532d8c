"""The settings in force are read once per transaction, and never served stale after a save or a commit."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from portal.notifications.render import render_message
from portal.settings.services import creditor_details, get_setting, set_settings
from tests.fixtures.factories import TEST_ACTOR


@pytest.fixture()
def settings_queries(app: Flask) -> Iterator[Callable[[], int]]:
    """How many statements have read or written setting_versions since the fixture started."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "setting_versions" in statement:
            statements.append(statement)

    engine = app.extensions["portal_db_engine"]
    event.listen(engine, "before_cursor_execute", seen)
    yield lambda: len(statements)
    event.remove(engine, "before_cursor_execute", seen)


def test_an_overview_in_two_currencies_reads_the_settings_once(
    client, session, create_customer, create_invoice, login, settings_queries
):
    customer = create_customer(language="en")
    create_invoice(customer, number="E-1")
    create_invoice(customer, number="U-1", currency="USD")
    login(client, customer)
    before = settings_queries()
    page = client.get("/overview").get_data(as_text=True)
    assert "E-1" in page and "U-1" in page
    # Each group of the IBAN is in its own no-wrap span; count the text a reader sees.
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert text.count("NL91 ABNA 0417 1643 00") == 2, "a transfer for each currency"
    assert settings_queries() - before <= 1


def test_several_emails_in_one_transaction_read_the_creditor_once(app, session, settings_queries):
    with app.app_context():
        for name in ["Jip", "Janneke", "Noor"]:
            render_message(
                "fresh_link", "nl", {"customer_name": name, "link_url": "http://localhost/p/x", "expires_on": None}
            )
    assert settings_queries() <= 1


def test_a_save_or_a_commit_ends_what_was_read(session, settings_queries):
    assert creditor_details(session)["phone"] == "+31 20 123 4567"
    set_settings(session, {"creditor.phone": "+31 20 765 4321"}, actor=TEST_ACTOR)
    assert creditor_details(session)["phone"] == "+31 20 765 4321", "the save's own transaction sees it"
    session.commit()
    count = settings_queries()
    assert get_setting(session, "creditor.phone") == "+31 20 765 4321"
    assert settings_queries() == count + 1, "a new transaction reads the database again"


def test_changing_a_value_that_was_read_does_not_change_it_for_the_next_reader(session):
    minimums = get_setting(session, "payments.partial_payment_minimum")
    minimums["EUR"] = 1
    assert get_setting(session, "payments.partial_payment_minimum") == {"EUR": 1000}
