"""The flask commands a new user and an operator run."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from portal import cli
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.demo import load_demo_data
from portal.invoices.models import Invoice
from portal.links.models import PortalLink


def test_links_create_prints_a_working_link(app, client, create_customer, session):
    customer = create_customer(external_ref="C-4242", name="Fenna Flink")
    result = app.test_cli_runner().invoke(args=["links", "create", "C-4242"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith("http://localhost/p/")

    response = client.get(url.removeprefix("http://localhost"))
    assert response.headers["Location"] == "/overview"
    assert "Fenna Flink" in client.get("/overview").get_data(as_text=True)
    assert session.scalar(select(func.count()).where(PortalLink.customer_id == customer.id)) == 1


def test_links_create_for_an_unknown_customer_says_so(app, session):
    result = app.test_cli_runner().invoke(args=["links", "create", "C-0000"])
    assert result.exit_code != 0
    assert "No customer with reference 'C-0000'" in result.output


def test_demo_data_has_debtors_that_differ_the_way_real_ones_do(app, session):
    with app.app_context():  # as `flask demo load` runs it: the demo dispute's e-mail carries a link
        assert load_demo_data(session, today=date(2026, 11, 22)) is True
        customers = session.scalars(select(Customer)).all()
        assert 15 <= len(customers) <= 30
        assert {"nl", "en"} <= {c.language for c in customers}
        assert {"consumer", "business"} <= {c.kind for c in customers}
        assert "BE" in {c.country for c in customers}
        today = date(2026, 11, 22)
        overdue_by_customer = {
            c.id: session.scalar(
                select(func.count()).where(
                    Invoice.customer_id == c.id, Invoice.state == "open", Invoice.due_date < today
                )
            )
            for c in customers
        }
        assert sum(1 for n in overdue_by_customer.values() if n == 0) >= 10  # most pay on time
        assert max(overdue_by_customer.values()) >= 3  # someone is in real trouble
        assert load_demo_data(session, today=date(2026, 11, 22)) is False  # loads once


def test_links_revoke_ends_every_open_link_of_the_customer(app, client, create_customer, issue_link):
    customer = create_customer(external_ref="C-4343")
    first, second = issue_link(customer), issue_link(customer)
    client.get(f"/p/{first.token}")

    result = app.test_cli_runner().invoke(args=["links", "revoke", "C-4343"])

    assert result.exit_code == 0, result.output
    assert "Revoked 2 link(s) of C-4343." in result.output
    assert client.get("/overview").headers["Location"] == "/link"
    assert client.get(f"/p/{second.token}").headers["Location"] == "/link"


def test_links_revoke_counts_only_the_links_it_revoked(app, session, create_customer, issue_link, monkeypatch):
    customer = create_customer(external_ref="C-4444")
    issued = [issue_link(customer), issue_link(customer)]
    real_revoke_link = cli.revoke_link
    colleague = Actor(type="staff", id="colleague@example.nl")

    def a_colleague_revokes_the_other_link_meanwhile(db_session, link, **kwargs):
        # After the command loaded both live links, a colleague revokes one of them in the staff area.
        if not colleague_done:
            colleague_done.append(True)
            other = next(each.link.id for each in issued if each.link.id != link.id)
            assert real_revoke_link(db_session, db_session.get(PortalLink, other), actor=colleague)
        return real_revoke_link(db_session, link, **kwargs)

    colleague_done: list[bool] = []
    monkeypatch.setattr(cli, "revoke_link", a_colleague_revokes_the_other_link_meanwhile)

    result = app.test_cli_runner().invoke(args=["links", "revoke", "C-4444"])

    assert result.exit_code == 0, result.output
    assert colleague_done, "the colleague's revocation happened while the command ran"
    assert "Revoked 1 link(s) of C-4444." in result.output
    live = session.scalar(
        select(func.count()).where(PortalLink.customer_id == customer.id, PortalLink.revoked_at.is_(None))
    )
    assert live == 0
