"""Language: the switch (remembered) beats the customer's record, which beats the browser."""

from __future__ import annotations

import re
from datetime import date

import pytest


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


FIXED_AND_GIVEN_TEXTS = (
    "{% macro shout(text) %}<b>{{ text }}</b>{% endmacro %}"
    '<h2 aria-label="{{ _("Total") }}">{{ _("Open invoices") }}</h2>|{{ _("Hello %(name)s", name=name) }}|'
    '{{ shout(_("Paid")) }}|{{ _("Open")|upper }}|{{ _("100%% of it") }}|{{ _("A text not in the catalog") }}|'
    '{% autoescape false %}{{ _("Amount") }}{% endautoescape %}'
)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_fixed_texts_written_in_at_compile_time_read_as_those_translated_when_the_page_is_rendered(app, language):
    """portal/templating.py compiles each catalog's templates with their fixed texts already translated; what a
    page says must not change by it, in either language, whatever the text is given to."""
    from flask import render_template_string

    from portal.i18n import force_locale

    with app.test_request_context("/"), force_locale(language):
        at_render_time = render_template_string(FIXED_AND_GIVEN_TEXTS, name="<Eva & Co>")
        env = app.jinja_env.for_current_catalog()
        written_in = env.from_string(FIXED_AND_GIVEN_TEXTS).render(name="<Eva & Co>")
        compiled = env.compile(FIXED_AND_GIVEN_TEXTS, raw=True)

    assert written_in == at_render_time
    expected = {"nl": ("Openstaande facturen", "Hallo &lt;Eva &amp; Co&gt;", "<b>Betaald</b>", "OPEN")}
    for words in expected.get(language, ("Open invoices", "Hello &lt;Eva &amp; Co&gt;", "<b>Paid</b>", "OPEN")):
        assert words in written_in
    # The fixed texts are in the compiled page; the ones with values, given to a macro or filter, or with a %,
    # are still translated when it is rendered.
    heading = "Openstaande facturen" if language == "nl" else "Open invoices"
    assert heading in compiled and "'Open invoices')" not in compiled
    for kept in ("'Hello %(name)s'", "'Paid')", "'Open')", "'100%% of it')"):
        assert kept in compiled, kept


def test_a_template_that_names_something_underscore_keeps_its_texts_translated_at_render_time(app):
    from portal.i18n import force_locale

    page = "{% set _ = gettext %}{{ _('Total') }}"
    with app.test_request_context("/"), force_locale("nl"):
        env = app.jinja_env.for_current_catalog()
        assert env.from_string(page).render() == "Totaal"
        assert "'Total')" in env.compile(page, raw=True)


def test_each_language_has_its_own_compiled_pages_and_e_mails_keep_theirs(app, create_customer, login, session):
    """The Dutch and the English overview come from environments of their own, and the e-mails' environment
    (plain text not escaped, StrictUndefined) makes its own rather than borrowing the pages'."""
    from datetime import date

    from portal.i18n import force_locale
    from portal.notifications.render import render_message

    for language, heading in (("nl", "Betaald in het afgelopen jaar"), ("en", "Paid in the last year")):
        client = app.test_client()
        login(client, create_customer(language=language))
        assert heading in client.get("/overview").get_data(as_text=True)
    with app.test_request_context("/"):
        with force_locale("nl"):
            dutch_pages = app.jinja_env.for_current_catalog()
        with force_locale("en"):
            english_pages = app.jinja_env.for_current_catalog()
        assert dutch_pages is not english_pages and dutch_pages.catalog is not english_pages.catalog
        given = {"customer_name": "Eva & Co", "link_url": "https://x.example/p/t", "expires_on": date(2027, 1, 9)}
        mail = render_message("fresh_link", "nl", given, session=session)
    assert mail.subject == "Je nieuwe link naar je betaalpagina"
    # Plain text, not escaped: the mails' own environment, not the pages'.
    assert "Hallo Eva & Co," in mail.text and "Met vriendelijke groet," in mail.text
    assert "Hallo Eva &amp; Co," in mail.html
