"""Staff search: by name, reference, e-mail address and invoice number, with paging."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.customers.queries import PER_PAGE


def _today():
    """The customers' local date (the factories make them in Europe/Amsterdam)."""
    return datetime.now(ZoneInfo("Europe/Amsterdam")).date()


def _search(client, query, **params):
    response = client.get("/staff/customers/", query_string={"q": query, **params})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _result_rows(html):
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r'<a href="/staff/customers/(\d+)">([^<]+)</a>', body)


@pytest.fixture()
def zuiderduin(create_customer, create_invoice):
    customer = create_customer(
        name="Wilhelmina van Zuiderduin-Bakker", external_ref="ZD-4711", email="w.zuiderduin@example.com"
    )
    create_invoice(customer, number="F2026-98765")
    create_customer(name="Someone Else", external_ref="SE-0001", email="someone@example.com")
    return customer


@pytest.mark.parametrize(
    "query",
    [
        "zuiderduin",  # a word of the name, any case
        "WILHELMINA",
        "wil zuid",  # the start of each word
        "bakker",  # after a hyphen
        "ZD-4711",  # the customer reference
        "zd-4711",
        "ZD-47",  # the start of a reference
        "w.zuiderduin@example.com",  # the e-mail address
        "W.Zuiderduin@Example.com",
        "F2026-98765",  # an invoice number
        "f2026-98765",
    ],
)
def test_search_finds_a_customer_by_name_reference_email_or_invoice_number(client, staff_login, zuiderduin, query):
    staff_login(client, "viewer", language="en")
    rows = _result_rows(_search(client, query))
    assert rows == [(str(zuiderduin.id), "Wilhelmina van Zuiderduin-Bakker")]


def test_a_search_matches_whole_words_from_their_start_only(client, staff_login, zuiderduin):
    staff_login(client, "viewer", language="en")
    html = _search(client, "uiderduin")
    assert _result_rows(html) == []
    assert "No customers found for “uiderduin”" in html


def test_results_show_what_each_customer_owes_and_link_to_their_page(
    client, staff_login, create_customer, create_invoice
):
    customer = create_customer(name="Henk Achterstand", external_ref="HA-1")
    create_invoice(customer, due_date=_today() - timedelta(days=20), issue_date=_today() - timedelta(days=34))
    create_invoice(customer, due_date=_today() + timedelta(days=5), issue_date=_today() - timedelta(days=9))
    staff_login(client, "viewer", language="en")
    html = _search(client, "achterstand")
    assert "1 customer found for “achterstand”" in html
    assert "€30.25" in html and "€60.50" in html, "overdue and open amounts"
    assert "Overdue by 20 days" in html
    assert f'href="/staff/customers/{customer.id}"' in html


def test_many_results_come_in_pages_of_fifty(client, staff_login, create_customer):
    for n in range(PER_PAGE + 3):
        create_customer(name=f"Pagina Klant {n:02d}")
    staff_login(client, "viewer", language="en")

    first = _search(client, "pagina")
    assert len(_result_rows(first)) == PER_PAGE
    assert "53 customers found for “pagina”" in first
    assert "Page 1 of 2" in first and "Next page" in first and "Previous page" not in first
    assert [name for _id, name in _result_rows(first)][:2] == ["Pagina Klant 00", "Pagina Klant 01"]

    second = _search(client, "pagina", page=2)
    assert [name for _id, name in _result_rows(second)] == ["Pagina Klant 50", "Pagina Klant 51", "Pagina Klant 52"]
    assert "Page 2 of 2" in second and "Previous page" in second and "Next page" not in second

    assert "Page 2 of 2" in _search(client, "pagina", page=99), "a page past the end shows the last one"


def test_an_empty_search_shows_just_the_form(client, staff_login):
    staff_login(client, "viewer", language="en")
    html = _search(client, "   ")
    assert 'label for="q"' in html
    assert "No customers found" not in html and "<table" not in html


def test_a_search_with_like_wildcards_matches_them_literally(client, staff_login, create_customer):
    create_customer(name="Procent Honderd")
    staff_login(client, "viewer", language="en")
    assert _result_rows(_search(client, "%")) == []
    assert _result_rows(_search(client, "_")) == []
