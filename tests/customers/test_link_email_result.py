"""After "Send a new link by e-mail" the answer is the first thing staff see: the page opens at the message,
not at the links section thousands of pixels below it."""

from __future__ import annotations

import re

from portal.customers.models import Customer
from tests.fixtures.factories import csrf_token


def _send_new_link(client, customer):
    token = csrf_token(client, f"/staff/customers/{customer.id}")
    return client.post(f"/staff/customers/{customer.id}/links/email", data={"csrf_token": token})


def _main(client, location: str) -> str:
    return client.get(location).get_data(as_text=True).split('<main id="main"', 1)[1]


def test_the_page_opens_at_the_message_that_the_new_link_is_on_its_way(client, staff_login, create_customer):
    customer = create_customer(email="noor@example.nl", name="Noor El Amrani")
    staff_login(client, "agent", language="en")

    sent = _send_new_link(client, customer)

    assert sent.status_code == 302
    assert sent.headers["Location"] == f"/staff/customers/{customer.id}#messages"
    main = _main(client, sent.headers["Location"])
    assert main.index('id="messages"') < main.index("<h1"), "the result is the first thing on the page"
    assert re.search(
        r'id="messages"[^>]*>\s*<p [^>]*role="status">A new link is on its way to noor@example\.nl\.', main
    )


def test_without_an_address_on_file_the_page_opens_at_the_message_that_nothing_was_sent(
    client, staff_login, create_customer, session
):
    customer = create_customer(email="noor@example.nl")
    staff_login(client, "agent", language="en")
    token = csrf_token(client, f"/staff/customers/{customer.id}")
    session.get(Customer, customer.id).email = None  # removed (by an import, a colleague) while the page was open
    session.commit()

    sent = client.post(f"/staff/customers/{customer.id}/links/email", data={"csrf_token": token})

    assert sent.headers["Location"] == f"/staff/customers/{customer.id}#messages"
    main = _main(client, sent.headers["Location"])
    assert 'role="alert">This customer has no e-mail address on file, so no link was sent.' in main
