"""Link lookups are rate-limited per client address, with a friendly page past the limit."""

from __future__ import annotations

import pytest

from portal.extensions import limiter


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
