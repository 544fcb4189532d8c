"""One customer's link never shows another customer's data, whatever is put in a URL."""

from __future__ import annotations

import pytest

from portal.debtor.access import SESSION_KEY


@pytest.fixture()
def two_customers(create_customer, create_invoice):
    alice = create_customer(name="Alice Alpha")
    bob = create_customer(name="Bob Bravo")
    return alice, create_invoice(alice), bob, create_invoice(bob)


def test_another_customers_invoice_number_is_not_found(client, two_customers, login):
    alice, alice_invoice, bob, bob_invoice = two_customers
    login(client, alice)

    assert client.get(f"/invoices/{alice_invoice.number}").status_code == 200
    for path in (f"/invoices/{bob_invoice.number}", f"/invoices/{bob_invoice.number}/pdf"):
        response = client.get(path)
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert "Bob Bravo" not in page
        assert f"Factuur {bob_invoice.number}" not in page and "<table" not in page


def test_the_overview_lists_only_the_own_invoices(client, two_customers, login):
    alice, alice_invoice, bob, bob_invoice = two_customers
    login(client, alice)
    page = client.get("/overview").get_data(as_text=True)
    assert alice_invoice.number in page
    assert bob_invoice.number not in page and "Bob Bravo" not in page


def test_ids_and_numbers_in_query_strings_change_nothing(client, two_customers, login):
    alice, alice_invoice, bob, bob_invoice = two_customers
    login(client, alice)
    for query in (f"?customer_id={bob.id}", f"?customer={bob.external_ref}", f"?number={bob_invoice.number}"):
        page = client.get("/overview" + query).get_data(as_text=True)
        assert "Bob Bravo" not in page and f"Factuur {bob_invoice.number}" not in page


def test_opening_a_second_link_replaces_the_first_customer_entirely(client, two_customers, login):
    alice, alice_invoice, bob, bob_invoice = two_customers
    login(client, alice)
    login(client, bob)
    assert client.get(f"/invoices/{alice_invoice.number}").status_code == 404
    assert "Bob Bravo" in client.get("/overview").get_data(as_text=True)


def test_a_forged_session_value_is_not_trusted(client, two_customers):
    alice, *_ = two_customers
    with client.session_transaction() as session:
        session[SESSION_KEY] = "1 OR 1=1"
    assert client.get("/overview").headers["Location"] == "/link"
