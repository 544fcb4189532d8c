"""A link revoked by two presses at the same moment (a double click, two colleagues) is revoked once: one
"Link revoked" on the customer's timeline and in the audit trail, and the other press hears "already revoked".

These tests commit for real on connections of their own, in a database of their own (as
tests/payments/test_exactly_once.py), because each press needs its own connection and its own committed view.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from portal.audit.models import AuditEvent
from portal.audit.services import Actor
from portal.customers import queries as customer_queries
from portal.customers.models import Customer
from portal.customers.timeline import build_timeline
from portal.events.models import DomainEvent
from portal.extensions import db
from portal.links import events as link_events
from portal.links.models import PortalLink
from portal.links.services import create_link, revoke_link
from portal.staff import services as staff_services
from portal.staff.totp_keys import APP_KEY as TOTP_KEYS
from tests.fixtures.databases import app_on, database_of_its_own
from tests.fixtures.factories import STAFF_PASSWORD, csrf_token

PRESSES = 6
STAFF_COOKIE = "portal_staff"  # the staff area's own session cookie, on /staff
SETUP = Actor(type="system", id="tests")


@pytest.fixture()
def own_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    with database_of_its_own(database_url, tmp_path, "revoke_once") as url:
        yield url


@pytest.fixture()
def own_app(own_database: str, app: Flask) -> Iterator[Flask]:
    with app_on(own_database, app) as built:
        yield built


def _prepare(app: Flask) -> tuple[int, int]:
    """A customer with one live link; returns (customer id, link id)."""
    with app.app_context():
        customer = Customer(external_ref="REV-1", name="Sanne de Vries", email="sanne@example.com", language="en")
        db.session.add(customer)
        db.session.flush()
        issued = create_link(db.session, customer, ttl_days=30, created_by="tests", actor=SETUP)
        db.session.commit()
        ids = customer.id, issued.link.id
        db.scoped.remove()
    return ids


def _revocations(app: Flask, customer_id: int) -> tuple[list[str], int, int]:
    """What the customer's timeline says about links, and how many link.revoked audit rows and events there are."""
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        customer = db.session.get(Customer, customer_id)
        titles = [entry.title for entry in build_timeline(db.session, customer).entries]
        audit = db.session.scalar(select(func.count()).where(AuditEvent.action == "link.revoked"))
        events = db.session.scalar(select(func.count()).where(DomainEvent.kind == link_events.REVOKED))
        db.scoped.remove()
    return titles, audit or 0, events or 0


def test_two_presses_that_both_loaded_the_live_link_record_the_revocation_once(own_app: Flask) -> None:
    customer_id, link_id = _prepare(own_app)
    factory = sessionmaker(bind=own_app.extensions["portal_db_engine"], expire_on_commit=False)
    results: dict[str, Any] = {}
    errors: list[BaseException] = []
    with factory() as first, factory() as second:
        # Both have the live link in hand. Each read transaction ends at once (on SQLite a transaction holds the
        # write lock from its start); the loaded objects stay as they were read.
        mine = first.get(PortalLink, link_id)
        first.commit()
        theirs = second.get(PortalLink, link_id)
        second.commit()
        assert mine is not None and theirs is not None and mine.revoked_at is None and theirs.revoked_at is None

        def second_press() -> None:
            try:
                results["second"] = revoke_link(second, theirs, actor=Actor(type="staff", id="colleague@example.nl"))
                second.commit()
            except BaseException as error:  # asserted on below
                errors.append(error)

        results["first"] = revoke_link(first, mine, actor=Actor(type="staff", id="agent@example.nl"))
        press = threading.Thread(target=second_press)
        press.start()
        press.join(0.5)
        # The second press writes while the first has not committed: it waits for the first one's row lock
        # (PostgreSQL) or write lock (SQLite), then sees the committed revocation.
        results["waited"] = press.is_alive()
        first.commit()
        press.join(20)

    assert errors == []
    titles, audit, events = _revocations(own_app, customer_id)
    assert titles.count("Link revoked") == 1, f"the timeline tells the revocation once: {titles}"
    assert (audit, events) == (1, 1)
    assert (results["first"], results["second"]) == (True, False), "only the press that revoked it says so"
    assert results["waited"], "the second press overlapped the first"


def _staff_client(app: Flask) -> Any:
    """A client logged in to the staff area as an English-speaking agent, through the real password and code forms."""
    with app.app_context():
        secret = pyotp.random_base32()
        staff = staff_services.create_staff(
            db.session, email="agent@example.nl", name="Agent", role="agent", password=STAFF_PASSWORD, actor=SETUP
        )
        staff.totp_secret_encrypted = app.extensions[TOTP_KEYS].encrypt(secret)
        staff.totp_enabled_at = staff.created_at
        staff.language = "en"
        db.session.commit()
        db.scoped.remove()
    client = app.test_client()
    login = {"email": "agent@example.nl", "password": STAFF_PASSWORD, "csrf_token": csrf_token(client)}
    assert client.post("/staff/login", data=login).status_code == 302
    code = {"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(client, "/staff/login/code")}
    assert client.post("/staff/login/code", data=code).status_code == 302
    return client


def test_six_confirmed_presses_at_once_revoke_once_and_the_others_hear_it_was_already_revoked(
    own_app: Flask, own_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id, link_id = _prepare(own_app)
    staff = _staff_client(own_app)
    page = f"/staff/customers/{customer_id}"
    token = csrf_token(staff, page)
    cookie = staff.get_cookie(STAFF_COOKIE, path="/staff")
    presses = []
    for _ in range(PRESSES):  # six tabs of the same browser: the same log-in
        press = own_app.test_client()
        press.set_cookie(cookie.key, cookie.value, path="/staff")
        presses.append(press)

    if own_database.startswith("postgresql"):
        # Every press has loaded the live link before any revokes it. (On SQLite a request holds the write lock
        # from its first query, so the presses run one after another and this moment cannot occur.)
        loaded = threading.Barrier(PRESSES, timeout=20)
        real_get_link = customer_queries.get_link_for_customer

        def get_link_then_wait(*args: Any, **kwargs: Any) -> Any:
            link = real_get_link(*args, **kwargs)
            loaded.wait()
            return link

        monkeypatch.setattr(customer_queries, "get_link_for_customer", get_link_then_wait)

    shown: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(PRESSES, timeout=20)

    def confirm(client: Any) -> None:
        try:
            start.wait()
            done = client.post(f"{page}/links/{link_id}/revoke", data={"csrf_token": token, "confirmed": "yes"})
            assert done.status_code == 302, done.get_data(as_text=True)
            html = client.get(done.headers["Location"]).get_data(as_text=True)
            shown.extend(re.findall(r'role="status">([^<]+)</p>', html))
        except BaseException as error:  # asserted on below
            errors.append(error)

    threads = [threading.Thread(target=confirm, args=(press,)) for press in presses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    monkeypatch.undo()

    assert errors == []
    timeline = staff.get(page).get_data(as_text=True).split('<table class="timeline">', 1)[1].split("</table>", 1)[0]
    assert timeline.count("Link revoked") == 1, "the customer's timeline tells the revocation once"
    revoked = f"Link {link_id} of Sanne de Vries is revoked. It no longer opens the portal; they can ask for a new one."
    assert sorted(shown) == sorted([revoked] + [f"Link {link_id} was already revoked."] * (PRESSES - 1))
    _titles, audit, events = _revocations(own_app, customer_id)
    assert (audit, events) == (1, 1)
