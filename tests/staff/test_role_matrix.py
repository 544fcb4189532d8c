"""The whole role x action matrix of the staff area, read from the app itself.

Every staff page and action names its permission with ``@requires``; these tests find them all in the
URL map, so a new view is covered (or, without a permission check, fails) without editing this file.
Only a new kind of URL parameter needs a sample value below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from portal.audit.services import record
from portal.clock import now as utcnow
from portal.customers.models import CustomerNote
from portal.disputes.models import CreditNote, Dispute, DisputeFile, DisputeMessage
from portal.imports.models import ImportJob
from portal.notifications.models import OutboxMessage
from portal.payments.models import Payment
from portal.plans.models import CallbackRequest, PaymentPlan
from portal.staff.models import ROLES
from portal.staff.permissions import ROLE_PERMISSIONS, Permission
from tests.fixtures.factories import TEST_ACTOR, csrf_token

STAFF_BLUEPRINTS = ("dashboard", "staff_customers", "imports", "audit", "staff_admin", "staff_settings")
# Reachable without a role: logging in, enrolling the second factor, and the front door that sends you on.
OPEN_ENDPOINTS = ("staff_auth.", "staff.home", "static")


def _is_staff_rule(rule: Rule) -> bool:
    in_staff_area = rule.rule == "/staff" or rule.rule.startswith("/staff/")
    return rule.endpoint.split(".")[0] in STAFF_BLUEPRINTS or in_staff_area


def _guarded_staff_rules(app: Flask) -> list[Rule]:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if _is_staff_rule(rule) and not rule.endpoint.startswith(OPEN_ENDPOINTS)
        ),
        key=lambda rule: (rule.rule, rule.endpoint),
    )


def required_permission(app: Flask, endpoint: str) -> Permission | None:
    """The permission ``@requires`` put on the view, looking through any decorators stacked on top."""
    view: Any = app.view_functions[endpoint]
    while view is not None:
        permission = getattr(view, "required_permission", None)
        if permission is not None:
            return permission  # type: ignore[no-any-return]
        view = getattr(view, "__wrapped__", None)
    return None


def _method(rule: Rule) -> str:
    methods = rule.methods or set()
    if "GET" in methods:
        return "GET"
    if "POST" in methods:
        return "POST"
    return sorted(methods - {"HEAD", "OPTIONS"})[0]


def _path(rule: Rule, samples: dict[str, Any]) -> str:
    missing = sorted(rule.arguments - samples.keys())
    if missing:
        pytest.fail(
            f"{rule.endpoint} ({rule.rule}) takes {', '.join(missing)}: add a real sample value for it to "
            "sample_values() in tests/staff/test_role_matrix.py, so the role matrix stays complete"
        )
    built = rule.build({name: samples[name] for name in rule.arguments}, append_unknown=False)
    assert built is not None, f"cannot build {rule.rule}"
    return built[1]


def _request(client: Any, rule: Rule, path: str, token: str) -> Any:
    method = _method(rule)
    if method == "GET":
        return client.get(path)
    # A valid CSRF token, so what answers is the permission check rather than the CSRF protection.
    return client.open(path, method=method, data={"csrf_token": token})


@pytest.fixture()
def sample_values(session, create_customer, create_invoice, issue_link, create_staff) -> dict[str, Any]:
    """Ids of real objects for every URL parameter a staff route may take, by parameter name."""
    customer = create_customer()
    invoice = create_invoice(customer)
    link = issue_link(customer).link
    colleague = create_staff("agent")
    note = CustomerNote(customer_id=customer.id, author_id=colleague.id, body="Called; pays on Friday.")
    job = ImportJob(kind="customers", filename="customers.csv", content=b"external_ref,name\r\n", created_by="tests")
    event = record(session, TEST_ACTOR, "tests.sample", customer_id=customer.id, subject=("customer", customer.id))
    # Written straight to the table, not queued: nothing should be delivered from this test.
    message = OutboxMessage(
        channel="email",
        customer_id=customer.id,
        recipient=customer.email,
        template="tests",
        language="nl",
        subject="Test",
        body_text="Test",
        body_html="<p>Test</p>",
        state="failed",
    )
    payment = Payment(
        public_id="role-matrix-payment",
        customer_id=customer.id,
        provider="demo",
        method="ideal",
        state="paid",
        currency="EUR",
        amount_cents=invoice.total_cents,
        received_cents=invoice.total_cents,
        paid_at=utcnow(),
    )
    # A proposal waiting for staff, and a request to be called back: the plan pages and their actions.
    plan = PaymentPlan(
        customer_id=customer.id,
        total_cents=invoice.total_cents,
        instalment_count=12,
        every="month",
        first_due_on=invoice.due_date,
        customer_kind="consumer",
        policy_reason="too_many_instalments",
    )
    callback = CallbackRequest(customer_id=customer.id, phone="06 12345678")
    session.add_all([note, job, message, payment, plan, callback])
    # A dispute and a credit note: the outcome actions and the credit note's PDF.
    dispute = Dispute(
        customer_id=customer.id,
        reference="D-MATRIX",
        reason="amount_wrong",
        held_cents=0,
        first_response_due_on=invoice.due_date,
        resolution_due_on=invoice.due_date,
    )
    credit_note = CreditNote(
        number="CN-2026-99999",
        invoice_id=invoice.id,
        currency="EUR",
        amount_cents=100,
        reason="Role matrix.",
        issued_on=invoice.issue_date,
    )
    session.add_all([dispute, credit_note])
    session.flush()
    # A file of the dispute (its stored bytes need not exist: the matrix checks who may ask for it).
    said = DisputeMessage(dispute_id=dispute.id, author="debtor", body="Wrong meter reading.")
    said.files.append(
        DisputeFile(
            dispute_id=dispute.id,
            storage_key="role-matrix",
            filename="a.pdf",
            content_type="application/pdf",
            size_bytes=1,
        )
    )
    session.add(said)
    session.commit()
    return {
        "payment_id": payment.id,
        "customer_id": customer.id,
        "invoice_id": invoice.id,
        "number": invoice.number,
        "link_id": link.id,
        "note_id": note.id,
        "job_id": job.id,
        "import_id": job.id,
        "event_id": event.id,
        "staff_id": colleague.id,
        "member_id": colleague.id,
        "message_id": message.id,
        "kind": "customers",
        "plan_id": plan.id,
        "callback_id": callback.id,
        "dispute_id": dispute.id,
        "credit_note_id": credit_note.id,
        "file_id": said.files[0].id,
    }


def test_every_staff_page_and_action_names_its_permission(app):
    rules = _guarded_staff_rules(app)
    assert any(rule.endpoint.startswith("staff_admin.") for rule in rules)
    unguarded = [f"{rule.endpoint} {rule.rule}" for rule in rules if required_permission(app, rule.endpoint) is None]
    assert not unguarded, f"staff views without @requires(Permission.X): {unguarded}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_what_its_permissions_allow(
    app, client, staff_login: Callable[..., Any], sample_values, role
):
    staff_login(client, role)
    token = csrf_token(client, "/staff/account")
    allowed = ROLE_PERMISSIONS[role]
    checked = 0
    for rule in _guarded_staff_rules(app):
        permission = required_permission(app, rule.endpoint)
        if permission is None:
            continue  # reported by the test above
        path = _path(rule, sample_values)
        response = _request(client, rule, path, token)
        where = f"{role} {_method(rule)} {path} ({rule.endpoint}, needs {permission.value})"
        if permission in allowed:
            assert response.status_code != 403, f"{where}: refused although the role has the permission"
            assert response.status_code < 500, f"{where}: server error {response.status_code}"
            location = response.headers.get("Location", "")
            assert not location.startswith("/staff/login"), f"{where}: the session ended; the matrix needs it"
        else:
            assert response.status_code == 403, f"{where}: answered {response.status_code}, expected 403"
        checked += 1
    assert checked > 0


def test_anonymous_visitors_are_sent_to_the_log_in_everywhere(app, client, sample_values):
    token = csrf_token(client, "/staff/login")
    for rule in _guarded_staff_rules(app):
        path = _path(rule, sample_values)
        response = _request(client, rule, path, token)
        where = f"{_method(rule)} {path} ({rule.endpoint})"
        assert response.status_code == 302, f"{where}: answered {response.status_code}"
        assert response.headers["Location"].startswith("/staff/login"), where
