"""The audit trail page: who may see it, filtering, paging, and the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit.queries import AuditFilter, iter_event_chunks
from portal.audit.services import Actor, record

ENGLISH = {"Accept-Language": "en"}
# How the page names these actions (codes without a name show as the code).
INVOICE_VIEWED, OVERVIEW_VIEWED = "Invoice viewed", "Overview viewed by the customer"
LINK_CREATED = "Personal link created"


def _event(session, *, at=None, **fields):
    """An event as the application would record it; ``at`` backdates it (a test-only shortcut)."""
    values = {"actor_type": "system", "actor_id": "tests", "action": "test.happened", "details": {}}
    values.update(fields)
    event = AuditEvent(**values)
    if at is not None:
        event.occurred_at = at
    session.add(event)
    session.commit()
    return event


def _actions(html: str) -> list[str]:
    return re.findall(r'<td class="audit-action">([^<]+)</td>', html)


def _csv(response) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff"), "a BOM, so Excel reads UTF-8"
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_viewers_and_agents_may_not_see_the_trail(client, staff_login, role):
    staff_login(client, role)
    assert client.get("/staff/audit/").status_code == 403
    assert client.get("/staff/audit/export.csv").status_code == 403


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_see_the_trail_and_may_export(client, staff_login, role):
    staff = staff_login(client, role, language="en")
    page = client.get("/staff/audit/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Audit trail</h1>" in html
    assert "staff.logged_in" in html and staff.email in html, "their own log-in is in the trail"
    export = client.get("/staff/audit/export.csv")
    assert export.status_code == 200


def test_events_are_listed_newest_first_with_time_in_amsterdam(client, staff_login, session, create_customer):
    customer = create_customer(external_ref="C-7001", name="Jansen Bakkerij")
    _event(session, action="first.thing", at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    _event(
        session,
        action="second.thing",
        actor_type="debtor",
        actor_id="C-7001",
        customer_id=customer.id,
        subject_type="invoice",
        subject_id="2026-000123",
        ip_address="203.0.113.9",
        details={"amount": 1234, "method": "ideal"},
        at=datetime(2026, 7, 1, 22, 30, tzinfo=UTC),  # 2 July 00:30 in Amsterdam (summer time)
    )
    staff_login(client, "supervisor", language="en")
    html = client.get("/staff/audit/?date_to=2026-07-31").get_data(as_text=True)
    assert _actions(html) == ["second.thing", "first.thing"]
    assert "2 Jul 2026, 00:30:00" in html  # British English: day first, 24-hour clock
    assert "C-7001" in html and "Jansen Bakkerij" in html
    assert "invoice 2026-000123" in html and "203.0.113.9" in html
    assert "amount: 1234, method: ideal" in html


def test_filters_narrow_the_list(client, staff_login, session, create_customer):
    customer = create_customer(external_ref="C-8001")
    other = create_customer(external_ref="C-8002")
    _event(session, action="overview.viewed", actor_type="debtor", actor_id="C-8001", customer_id=customer.id)
    _event(session, action="invoice.viewed", actor_type="debtor", actor_id="C-8002", customer_id=other.id)
    _event(session, action="link.created", actor_type="staff", actor_id="Mia@Example.com", customer_id=customer.id)
    _event(session, action="night.job", at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))  # 2 March 00:30 local
    _event(session, action="evening.job", at=datetime(2026, 3, 1, 22, 30, tzinfo=UTC))  # 1 March 23:30 local
    staff_login(client, "supervisor", language="en")

    def actions(query: str) -> list[str]:
        html = client.get(f"/staff/audit/?{query}").get_data(as_text=True)
        assert "Please check the form" not in html, html
        return _actions(html)

    assert actions("actor_type=debtor") == [INVOICE_VIEWED, OVERVIEW_VIEWED]
    assert actions("actor=mia%40example") == [LINK_CREATED], "part of the e-mail, any case"
    assert actions("action=invoice.viewed") == [INVOICE_VIEWED]
    assert actions("customer=C-8001") == [LINK_CREATED, OVERVIEW_VIEWED]
    assert actions("customer=C-8001&actor_type=staff") == [LINK_CREATED]
    assert actions("customer=c-8001 ") == [LINK_CREATED, OVERVIEW_VIEWED], "typed as people type it"
    assert actions("customer=NOBODY") == []
    # Dates are days in Amsterdam: 23:30 UTC on 1 March is already 2 March there.
    assert actions("date_from=2026-03-02&date_to=2026-03-02") == ["night.job"]
    assert actions("date_from=2026-03-01&date_to=2026-03-01") == ["evening.job"]


def test_the_action_filter_offers_the_actions_present(client, staff_login, session):
    _event(session, action="exotic.thing")  # a code without a name is listed as the code
    staff_login(client, "supervisor", language="en")
    html = client.get("/staff/audit/").get_data(as_text=True)
    assert '<option value="exotic.thing">exotic.thing</option>' in html
    html = client.get("/staff/audit/?action=no.such.action").get_data(as_text=True)
    assert "Please choose one of the options." in html


def test_a_reversed_date_range_is_explained(client, staff_login):
    staff_login(client, "supervisor", language="en")
    html = client.get("/staff/audit/?date_from=2026-05-02&date_to=2026-05-01").get_data(as_text=True)
    assert "The end date is before the start date." in html
    assert "<table" not in html


def test_paging_shows_a_hundred_per_page_and_the_count(client, staff_login, session):
    for number in range(130):
        record(session, Actor(type="system", id="bulk"), "bulk.step", number=number)
    session.commit()
    staff_login(client, "supervisor", language="en")
    first = client.get("/staff/audit/?actor=bulk").get_data(as_text=True)
    assert "130 events" in first
    assert len(_actions(first)) == 100
    assert "Page 1 of 2" in first
    assert (
        'href="/staff/audit/?page=2&amp;actor=bulk"' in first or 'href="/staff/audit/?actor=bulk&amp;page=2"' in first
    )
    second = client.get("/staff/audit/?actor=bulk&page=2").get_data(as_text=True)
    assert len(_actions(second)) == 30
    assert "number: 29," in second.replace("</td>", ",") and "number: 30," not in second.replace("</td>", ",")


def test_export_contains_exactly_the_filtered_rows(client, staff_login, session, create_customer):
    customer = create_customer(external_ref="C-9001")
    _event(session, action="link.opened", actor_type="debtor", actor_id="C-9001", customer_id=customer.id)
    _event(session, action="overview.viewed", actor_type="debtor", actor_id="C-9001", customer_id=customer.id)
    _event(session, action="link.created", actor_type="staff", actor_id="ann@example.com", customer_id=customer.id)
    staff_login(client, "supervisor", language="en")

    response = client.get("/staff/audit/export.csv?actor_type=debtor&customer=C-9001")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert re.fullmatch(r'attachment; filename="audit-\d{8}\.csv"', response.headers["Content-Disposition"])
    rows = _csv(response)
    assert [row["Action"] for row in rows] == ["overview.viewed", "link.opened"]
    assert {row["Customer reference"] for row in rows} == {"C-9001"}


def test_export_neutralises_formulas(client, staff_login, session):
    _event(
        session,
        action="evil.input",
        actor_type="debtor",
        actor_id='=HYPERLINK("http://evil.example","x")',
        subject_type="note",
        subject_id="+SUM(A1:A9)",
        user_agent="@cmd",
        details={"comment": "=1+1"},
    )
    staff_login(client, "supervisor", language="en")
    rows = _csv(client.get("/staff/audit/export.csv?action=evil.input"))
    assert len(rows) == 1
    row = rows[0]
    assert row["Actor"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["Subject"] == "note +SUM(A1:A9)"
    assert row["Browser"] == "'@cmd"
    assert row["Details"] == '{"comment": "=1+1"}'
    for cell in row.values():
        assert not cell.startswith(("=", "+", "-", "@")), cell


def test_exporting_is_itself_recorded(client, staff_login, session):
    staff = staff_login(client, "supervisor", language="en")
    response = client.get("/staff/audit/export.csv?actor_type=staff&date_from=2026-01-01")
    assert response.status_code == 200
    rows = _csv(response)
    assert "audit.exported" not in [row["Action"] for row in rows], "the export stops where it began"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.exported")).one()
    assert (event.actor_type, event.actor_id) == ("staff", staff.email)
    assert event.details == {"filters": {"actor_type": "staff", "date_from": "2026-01-01"}, "rows": len(rows)}
    # And the page now shows it.
    assert "audit.exported" in client.get("/staff/audit/").get_data(as_text=True)


def test_export_with_a_bad_filter_goes_back_to_the_form(client, staff_login, session):
    staff_login(client, "supervisor", language="en")
    response = client.get("/staff/audit/export.csv?date_from=2026-05-02&date_to=2026-05-01")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/audit/?")
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.exported")).all() == []


def test_large_exports_come_in_chunks_without_gaps_or_repeats(session):
    same_moment = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    ids = [_event(session, action="chunk.test", at=same_moment).id for _ in range(5)]
    ids += [_event(session, action="chunk.test", at=datetime(2026, 4, 2, 12, 0, tzinfo=UTC)).id for _ in range(2)]
    chunks = list(iter_event_chunks(session, AuditFilter(action="chunk.test"), chunk_size=2))
    assert [len(chunk) for chunk in chunks] == [2, 2, 2, 1]
    seen = [row.id for chunk in chunks for row in chunk]
    assert seen == sorted(ids[5:], reverse=True) + sorted(ids[:5], reverse=True)


def test_there_is_no_way_to_change_or_delete_events(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")]
    assert {rule.endpoint for rule in rules} == {"audit.index", "audit.export"}
    for rule in rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}


def test_audit_page_shows_in_the_menu_only_for_supervisors(client, staff_login):
    staff_login(client, "agent", language="en")
    html = client.get("/staff/dashboard/").get_data(as_text=True)
    assert 'href="/staff/audit/"' not in html


def test_the_customer_links_to_their_page_when_there_is_one(app, client, staff_login, session, create_customer):
    customer = create_customer(external_ref="C-9501")
    _event(session, action="overview.viewed", actor_type="debtor", actor_id="C-9501", customer_id=customer.id)
    staff_login(client, "supervisor", language="en")
    html = client.get("/staff/audit/?customer=C-9501").get_data(as_text=True)
    if "staff_customers.detail" in app.view_functions:
        assert f'<a href="/staff/customers/{customer.id}">C-9501</a>' in html
    else:
        assert "C-9501" in html and f"/staff/customers/{customer.id}" not in html


def test_actions_are_shown_by_name_and_an_unknown_code_as_itself(client, staff_login, session, create_customer):
    customer = create_customer(external_ref="C-9502")
    _event(session, action="customer.viewed", actor_type="staff", actor_id="ann@example.com", customer_id=customer.id)
    _event(session, action="future.feature_done")
    staff_login(client, "supervisor", language="en")
    html = client.get("/staff/audit/").get_data(as_text=True)
    assert "Customer page viewed" in _actions(html)
    assert "customer.viewed" not in _actions(html), "staff read names, not codes"
    assert "future.feature_done" in _actions(html), "a code without a name still shows"
    assert '<td>Member of staff<span class="sub">ann@example.com</span></td>' in html, "one person, not 'Staff'"
    # The filter offers the same names; what it sends is still the code.
    assert '<option value="customer.viewed">Customer page viewed</option>' in html
    assert _actions(client.get("/staff/audit/?action=customer.viewed").get_data(as_text=True)) == [
        "Customer page viewed"
    ]


@pytest.mark.parametrize("language", ["en", "nl"])
def test_every_filter_has_one_label_of_its_own(client, staff_login, language):
    staff_login(client, "supervisor", language=language)
    html = client.get("/staff/audit/").get_data(as_text=True)
    form = html.split('class="audit-filters-form"', 1)[1].split("</form>", 1)[0]
    controls = re.findall(r'<(?:select|input)[^>]* id="([a-z_]+)"', form)
    assert controls == ["actor_type", "actor", "action", "customer", "date_from", "date_to"]
    labels = {control: re.findall(rf'<label for="{control}">([^<]+)</label>', form) for control in controls}
    assert all(len(found) == 1 for found in labels.values()), f"one label per filter: {labels}"
    texts = [found[0] for found in labels.values()]
    assert len(set(texts)) == len(texts), f"two filters carry the same label: {texts}"
    assert "<legend" not in form and "<fieldset" not in form, "no legend repeating a label"


def test_dates_are_in_the_staff_members_language(client, staff_login, session):
    _event(session, action="spring.thing", at=datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
    # A Dutch member of staff with an English browser: the page, dates and months included, is Dutch.
    staff_login(client, "supervisor", language="nl")
    html = client.get("/staff/audit/?date_to=2026-03-31", headers=ENGLISH).get_data(as_text=True)
    assert "4 mrt 2026, 10:00:00" in html
    assert "Mar" not in html.split("<tbody>", 1)[1]


def test_url_for_instructions_in_the_address_are_not_obeyed(client, staff_login, session):
    for number in range(101):  # more than a page, so there are pager links too
        record(session, Actor(type="system", id="bulk"), "bulk.step", number=number)
    session.commit()
    staff_login(client, "supervisor", language="en")
    response = client.get("/staff/audit/?_external=1&_method=POST&_anchor=x&actor=bulk&page=1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    every_link = re.findall(r'(?:href|action)="([^"]*)"', html)
    assert not [link for link in every_link if link.startswith(("http", "//"))], "every link stays relative"
    links = [link for link in every_link if link.startswith("/staff/audit/")]
    export = [link for link in links if "export.csv" in link]
    pager = [link for link in links if "page=2" in link]
    assert export and pager, links
    for link in links:
        assert link.startswith("/staff/audit/"), f"a link to another host or absolute: {link}"
        assert "#" not in link and "_method" not in link and "_external" not in link, link
    assert all("actor=bulk" in link for link in export + pager), "the real filter is kept"
    # The export link works and the redirect of a bad filter keeps to the same host too.
    bad = client.get("/staff/audit/export.csv?_external=1&_anchor=x&date_from=2026-05-02&date_to=2026-05-01")
    assert bad.status_code == 302 and bad.headers["Location"].startswith("/staff/audit/")
    assert "#" not in bad.headers["Location"]
