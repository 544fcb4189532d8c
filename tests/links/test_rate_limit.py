"""Link lookups are rate-limited per client address, with a friendly page past the limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import limiter
from tests.fixtures.factories import csrf_token


@pytest.fixture()
def strict_app(make_app):
    limiter.reset()
    yield make_app(LINK_RATE_LIMIT="3 per minute")
    limiter.reset()


def test_past_the_limit_a_friendly_429_page_in_the_visitors_language(strict_app):
    client = strict_app.test_client()
    for _ in range(3):
        assert client.get("/p/" + "z" * 43).status_code == 302

    response = client.get("/p/" + "z" * 43, headers={"Accept-Language": "nl"})

    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Te veel pogingen" in page
    assert "Traceback" not in page


def test_the_limit_counts_per_client_address(strict_app):
    client = strict_app.test_client()
    for _ in range(3):
        client.get("/p/" + "z" * 43, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert client.get("/p/" + "z" * 43, environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 429
    assert client.get("/p/" + "z" * 43, environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 302


def test_past_the_limit_the_answer_says_when_to_try_again(strict_app, frozen_clock):
    client = strict_app.test_client()
    for _ in range(3):
        client.get("/p/" + "z" * 43)

    response = client.get("/p/" + "z" * 43, headers={"Accept-Language": "en"})

    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 60, "a per-minute limit is over within the minute"
    page = response.get_data(as_text=True)
    wait = f"{seconds} seconds" if seconds < 60 else "1 minute"
    assert f"You can try again in {wait}." in page

    # Told to wait that long, the visitor is let in again after it.
    frozen_clock.shift(timedelta(seconds=seconds))
    assert client.get("/p/" + "z" * 43).status_code == 302


def test_asking_for_fresh_links_too_often_from_one_address_says_when_too(make_app):
    limiter.reset()
    client = make_app(LINK_RATE_LIMIT="2 per hour").test_client()
    for _ in range(2):
        client.post("/link", data={"email": "someone@example.com", "csrf_token": csrf_token(client, "/link")})

    response = client.post(
        "/link",
        data={"email": "someone@example.com", "csrf_token": csrf_token(client, "/link")},
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 3540 < seconds <= 3600
    assert "You can try again in 60 minutes." in response.get_data(as_text=True)
    limiter.reset()
