"""Language: the switch (remembered) beats the customer's record, which beats the browser."""

from __future__ import annotations

import re
from datetime import date


def _lang(client, path="/overview", **headers) -> str:
    html = client.get(path, headers=headers).get_data(as_text=True)
    return re.search(r'<html lang="(\w+)"', html).group(1)


def test_the_customers_record_decides_before_the_browser(client, create_customer, login):
    login(client, create_customer(language="en"))
    assert _lang(client, **{"Accept-Language": "nl"}) == "en"


def test_the_switch_overrides_the_record_and_is_remembered(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    invoice = create_invoice(customer)
    login(client, customer)

    response = client.get("/language/nl?next=/overview")
    assert response.headers["Location"] == "/overview"

    assert _lang(client) == "nl"
    assert _lang(client, f"/invoices/{invoice.number}") == "nl"
    assert "Factuur" in client.get(f"/invoices/{invoice.number}").get_data(as_text=True)


def test_without_a_customer_the_browser_decides(client):
    assert _lang(client, "/link", **{"Accept-Language": "en-US,en;q=0.8"}) == "en"
    assert _lang(client, "/link", **{"Accept-Language": "nl-BE"}) == "nl"
    assert _lang(client, "/link", **{"Accept-Language": "de-DE"}) == "nl"  # the configured default


def test_every_page_offers_the_other_language(client, create_customer, login):
    login(client, create_customer(language="nl"))
    html = client.get("/overview").get_data(as_text=True)
    assert 'href="/language/en?next=/overview"' in html


def test_english_dates_are_written_the_british_way(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    invoice = create_invoice(customer, issue_date=date(2026, 6, 1), due_date=date(2026, 6, 28))
    login(client, customer)

    for path in ("/overview", "/pay", f"/invoices/{invoice.number}"):
        html = client.get(path).get_data(as_text=True)
        assert re.search(r'<html lang="en">', html), "the language stays English"
        assert "28 June 2026" in html, path
        assert "June 28" not in html, path


def test_dutch_dates_stay_dutch(client, create_customer, create_invoice, login):
    customer = create_customer(language="nl")
    create_invoice(customer, issue_date=date(2026, 6, 1), due_date=date(2026, 6, 28))
    login(client, customer)
    assert "28 juni 2026" in client.get("/overview").get_data(as_text=True)


def test_template_translations_escape_what_they_are_given_and_count_in_the_right_form(app):
    """The template's ``_`` and ``ngettext`` (portal/i18n.py) behave as Jinja's own newstyle callables: the
    catalog's text in the visitor's language, every value escaped, ``num`` filled in, ``%%`` always a ``%``."""
    from flask import render_template_string
    from markupsafe import Markup

    from portal.i18n import force_locale

    page = (
        '{{ _("Hello %(name)s", name=name) }}|{{ ngettext("%(num)s open invoice", "%(num)s open invoices", 1) }}|'
        '{{ ngettext("%(num)s open invoice", "%(num)s open invoices", 3) }}|{{ _("Total") }}|'
        '{{ _("Call us on %(phone)s or e-mail %(email)s.", phone=link, email=name) }}|{{ _("100%% of it") }}'
    )
    link = Markup('<a href="tel:+31201234567">020 123 45 67</a>')
    with app.test_request_context("/"), force_locale("nl"):
        dutch = render_template_string(page, name="<b>Eva & Co</b>", link=link)
    with app.test_request_context("/"), force_locale("en"):
        english = render_template_string(page, name="<b>Eva</b>", link=link)

    assert dutch == (
        "Hallo &lt;b&gt;Eva &amp; Co&lt;/b&gt;|1 openstaande factuur|3 openstaande facturen|Totaal|"
        f"Bel ons op {link} of mail naar &lt;b&gt;Eva &amp; Co&lt;/b&gt;.|100% of it"
    )
    assert english == (
        "Hello &lt;b&gt;Eva&lt;/b&gt;|1 open invoice|3 open invoices|Total|"
        f"Call us on {link} or e-mail &lt;b&gt;Eva&lt;/b&gt;.|100% of it"
    )
