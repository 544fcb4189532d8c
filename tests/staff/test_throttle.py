"""The log-in throttle: the delay starts only after the free attempts, also when requests come at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from portal import clock
from portal.extensions import limiter
from tests.fixtures.databases import app_on, database_of_its_own
from tests.fixtures.factories import csrf_token

WRONG = "The e-mail address or password is not right."


def _post_login(client, email, password):
    return client.post(
        "/staff/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
        headers={"Accept-Language": "en"},
    )


def test_one_failure_is_not_told_to_wait_by_a_request_that_read_the_clock_a_moment_earlier(
    client, create_staff, frozen_clock
):
    # Two log-ins at once: the second read the clock first, then waited for the first one's failure to be
    # stored (SQLite lets one writer in at a time). It must see one failure, not a delay.
    staff = create_staff()
    started = clock.now()
    frozen_clock.move_to(started + timedelta(milliseconds=20))
    assert WRONG in _post_login(client, staff.email, "wrong password 1234").get_data(as_text=True)
    frozen_clock.move_to(started)

    page = _post_login(client, staff.email, "wrong password 1234").get_data(as_text=True)

    assert "Too many attempts" not in page
    assert WRONG in page


@pytest.fixture()
def own_app(database_url: str, tmp_path: Path, app: Flask) -> Iterator[Flask]:
    """An app on a database of its own, whose requests really commit (no test transaction around them)."""
    with database_of_its_own(database_url, tmp_path, "auth_throttle") as url, app_on(url, app) as built:
        limiter.reset()
        yield built


def _waiting_for_the_throttle_table(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(
            text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'staff_login_throttles'::regclass")
        )


def test_two_first_failed_log_ins_at_once_both_get_the_usual_answer(own_app):
    engine = own_app.extensions["portal_db_engine"]
    clients = [own_app.test_client() for _ in range(2)]
    tokens = [csrf_token(client) for client in clients]
    answers: list[tuple[int, str]] = []
    start = threading.Barrier(2)

    def log_in(client, token):
        start.wait()
        response = client.post(
            "/staff/login",
            data={"email": "someone@example.com", "password": "wrong password 1234", "csrf_token": token},
            headers={"Accept-Language": "en"},
        )
        answers.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=log_in, args=pair) for pair in zip(clients, tokens, strict=True)]
    holder = None
    if engine.dialect.name == "postgresql":
        # Hold both requests at the throttle table until each has checked the password, then let them go
        # together: both are then at their first failure at the same moment, every time.
        holder = engine.connect()
        holder.execute(text("LOCK TABLE staff_login_throttles IN EXCLUSIVE MODE"))
    for thread in threads:
        thread.start()
    if holder is not None:
        deadline = time.monotonic() + 60
        while _waiting_for_the_throttle_table(engine) < 2:
            assert time.monotonic() < deadline, "the two log-ins never reached the throttle"
            time.sleep(0.01)
        holder.rollback()
        holder.close()
    for thread in threads:
        thread.join()

    assert [status for status, _ in answers] == [200, 200]
    for _, page in answers:
        assert WRONG in page
        assert "Too many attempts" not in page
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT failures FROM staff_login_throttles")) == 2
