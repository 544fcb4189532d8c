"""'I cannot pay': free debt help for the customer's country (or the creditor's own text), a plan offered without
pushing it, and a request to be called back, once."""

from __future__ import annotations

from sqlalchemy import select

from portal.events.models import DomainEvent
from portal.plans.models import CallbackRequest
from portal.settings.services import set_settings
from tests.fixtures.factories import TEST_ACTOR
from tests.plans.overview_support import page_text, token_on


def _ask(client, token: str | None = None, **fields: str):
    token = token or token_on(client.get("/cannot-pay").get_data(as_text=True))
    return client.post("/cannot-pay", data={"csrf_token": token, **fields})


def _requests(session, customer) -> list[CallbackRequest]:
    return list(session.scalars(select(CallbackRequest).where(CallbackRequest.customer_id == customer.id)))


def test_a_dutch_customer_is_pointed_to_the_municipality_and_geldfit(client, create_customer, login) -> None:
    login(client, create_customer(language="en", country="NL"))
    page = client.get("/cannot-pay")
    text = page_text(page)
    assert page.status_code == 200
    assert "schuldhulpverlening van je gemeente" in text
    assert "Geldfit is free and anonymous" in text and 'href="https://www.geldfit.nl"' in page.get_data(as_text=True)
    assert "OCMW" not in text
    assert "a payment plan or a later date is also possible" in text


def test_the_page_speaks_dutch_to_a_dutch_speaking_customer(client, create_customer, login) -> None:
    login(client, create_customer(language="nl", country="NL"))
    html = client.get("/cannot-pay").get_data(as_text=True)
    assert 'lang="nl"' in html and "Terug naar het overzicht" in html and "geldfit.nl" in html


def test_a_belgian_customer_is_pointed_to_the_ocmw(client, create_customer, login) -> None:
    login(client, create_customer(language="en", country="BE"))
    text = page_text(client.get("/cannot-pay"))
    assert "OCMW (CPAS)" in text and "schuldbemiddeling" in text and "Vlaams Centrum Schuldenlast" in text
    assert "Geldfit" not in text


def test_elsewhere_the_general_text(client, create_customer, login) -> None:
    login(client, create_customer(language="en", country="DE"))
    text = page_text(client.get("/cannot-pay"))
    assert "your local council or a recognised debt advice service helps for free" in text
    assert "Geldfit" not in text and "OCMW" not in text


def test_the_creditors_own_text_replaces_the_standard_one_in_that_country_only(
    client, session, create_customer, login
) -> None:
    set_settings(
        session, {"plans.debt_help_NL": "Bel de Schuldhulplijn: 0800 8115.\nGratis <en> anoniem."}, actor=TEST_ACTOR
    )
    session.commit()
    login(client, create_customer(language="en", country="NL"))
    html = client.get("/cannot-pay").get_data(as_text=True)
    assert "Bel de Schuldhulplijn: 0800 8115.<br>Gratis &lt;en&gt; anoniem." in html, "shown as text, lines kept"
    assert "Geldfit is free" not in html
    login(client, create_customer(language="en", country="BE"))
    assert "OCMW (CPAS)" in page_text(client.get("/cannot-pay"))


def test_the_phone_is_prefilled_and_a_request_is_recorded_once(client, session, create_customer, login) -> None:
    customer = create_customer(language="en", phone="06 12345678")
    login(client, customer)
    form = client.get("/cannot-pay").get_data(as_text=True)
    assert 'value="06 12345678"' in form
    asked = _ask(client, phone="06 12345678", preferred_time="evening", note="Best after six.")
    text = page_text(asked)
    assert asked.status_code == 200
    assert "Thank you. We will call you soon." in text
    # Stored as staff dial it: the international form of the number, as the Netherlands writes it.
    assert "You asked us to call you on +31 6 12345678. We will try to call in the evening." in text
    [request] = _requests(session, customer)
    assert (request.phone, request.preferred_time, request.note) == ("+31 6 12345678", "evening", "Best after six.")
    event = session.scalars(select(DomainEvent).where(DomainEvent.kind == "callback.requested")).one()
    assert event.customer_id == customer.id

    again = _ask(client, token_on(form), phone="+31 6 87654321", preferred_time="morning")
    assert again.status_code == 200
    assert "We will call you soon." in page_text(again) and "+31 6 12345678" in page_text(again)
    assert len(_requests(session, customer)) == 1, "no second request for staff to call twice"
    assert "Call me back" not in page_text(client.get("/cannot-pay")), "the form waits until we have called"


def test_an_invalid_phone_is_refused_with_a_message_and_nothing_saved(client, session, create_customer, login) -> None:
    customer = create_customer(language="en", phone=None)
    login(client, customer)
    # "1234567" and "06 1234" look like numbers to a pattern, but no phone in the Netherlands would ring.
    for typed in ("", "call me", "12", "06-1234567８", "1234567", "06 1234", "+31 6 123456789012"):
        refused = _ask(client, phone=typed, preferred_time="morning")
        assert refused.status_code == 400, typed
        assert "Enter a phone number we can call, such as 06 12345678." in page_text(refused)
        assert 'aria-invalid="true"' in refused.get_data(as_text=True)
    assert _requests(session, customer) == []


def test_a_number_is_read_the_way_the_customers_country_writes_it(client, session, create_customer, login) -> None:
    customer = create_customer(language="en", country="BE", phone=None)
    login(client, customer)
    assert _ask(client, phone="0470 12 34 56", preferred_time="morning").status_code == 200
    assert [r.phone for r in _requests(session, customer)] == ["+32 470 12 34 56"]


def test_without_a_preferred_time_any_time_will_do(client, session, create_customer, login) -> None:
    customer = create_customer(language="en")
    login(client, customer)
    assert _ask(client, phone="020 1234567").status_code == 200
    assert [r.preferred_time for r in _requests(session, customer)] == [None]
