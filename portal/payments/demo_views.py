"""The demo provider's hosted checkout page: pick an outcome, as if at a bank. Only there when the demo is on."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from portal.audit.services import Actor
from portal.debtor.access import load_debtor
from portal.extensions import db
from portal.payments import services, webhooks
from portal.payments.models import DemoCheckout
from portal.providers.demo import OUTCOMES, DemoProvider
from portal.providers.registry import configured_provider_names, get_provider

bp = Blueprint("demo_checkout", __name__)


def _demo() -> DemoProvider:
    if "demo" not in configured_provider_names(current_app.config):
        abort(404)
    provider = get_provider("demo")
    assert isinstance(provider, DemoProvider)
    return provider


@bp.get("/demo-checkout/<checkout_id>")
def show(checkout_id: str) -> str:
    _demo()
    checkout = db.session.get(DemoCheckout, checkout_id)
    if checkout is None:
        abort(404)
    # A real provider's page speaks the language we asked for; the debtor's session tells us which.
    g.customer = load_debtor()
    return render_template("payments/demo_checkout.html", checkout=checkout, form=FlaskForm(), outcomes=OUTCOMES)


@bp.post("/demo-checkout/<checkout_id>/<outcome>")
def decide(checkout_id: str, outcome: str) -> Response:
    provider = _demo()
    form = FlaskForm()
    if outcome not in OUTCOMES or not form.validate_on_submit():
        abort(400)
    checkout = provider.choose_outcome(checkout_id, outcome)
    # What a real provider's webhook would make us do: re-fetch and apply.
    payment = webhooks.find_payment_for_notice(db.session, provider, checkout.id, checkout.payment_id)
    if payment is not None:
        services.sync_payment(db.session, provider, payment, actor=Actor(type="system", id="demo-webhook"))
    db.session.commit()
    return redirect(checkout.return_url, code=303)
