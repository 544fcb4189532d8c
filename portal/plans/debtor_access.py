"""The debtor's own plan, or 404: a plan of another customer does not exist for them (never a 403 that says it does)."""

from __future__ import annotations

from flask import abort, g

from portal.extensions import db
from portal.plans.models import PaymentPlan


def own_plan_or_404(plan_id: int) -> PaymentPlan:
    plan = db.session.get(PaymentPlan, plan_id)
    if plan is None or plan.customer_id != g.customer.id:
        abort(404)
    return plan
