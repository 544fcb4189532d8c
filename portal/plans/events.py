"""The plan and promise events: how each reads on the timeline. Reactions (the e-mails) are added with
``react_to`` by the modules that send them, so this module stays the list of what can happen."""

from __future__ import annotations

from datetime import date
from typing import Any

from portal.audit.decisions import keep_in_audit_trail
from portal.audit.services import Actor
from portal.events import Event, EventKind, Presentation, register
from portal.events.models import DomainEvent
from portal.events.presenting import joined
from portal.events.registry import name_category
from portal.i18n import _, _l, format_day, format_money

PROPOSED = "plan.proposed"  # outside the policy: waiting for staff
AGREED = "plan.agreed"  # inside the policy at once, approved by staff, or a counter-proposal accepted
COUNTERED = "plan.countered"  # staff proposed another schedule: waiting for the debtor
DECLINED = "plan.declined"  # the debtor said no to the counter-proposal
REJECTED = "plan.rejected"  # staff said no, with a reason
INSTALMENT_PAID = "plan.instalment_paid"
INSTALMENT_REMINDED = "plan.instalment_reminded"  # a few days before it is due
INSTALMENT_MISSED = "plan.instalment_missed"  # due and unpaid: one reminder, the grace period runs
LAPSED = "plan.lapsed"  # unpaid after the grace period: what remains is due
COMPLETED = "plan.completed"
CANCELLED = "plan.cancelled"  # ended before it ran its course: the invoices were paid or cancelled otherwise
PROMISE_MADE = "promise.made"
PROMISE_KEPT = "promise.kept"
PROMISE_BROKEN = "promise.broken"
CALLBACK_REQUESTED = "callback.requested"
CALLBACK_HANDLED = "callback.handled"

_TITLES: dict[str, Any] = {
    PROPOSED: _l("Payment plan proposed"),
    AGREED: _l("Payment plan agreed"),
    COUNTERED: _l("Other payment plan offered"),
    DECLINED: _l("Other payment plan declined"),
    REJECTED: _l("Payment plan rejected"),
    INSTALMENT_PAID: _l("Instalment paid"),
    INSTALMENT_REMINDED: _l("Instalment reminder"),
    INSTALMENT_MISSED: _l("Instalment missed"),
    LAPSED: _l("Payment plan lapsed"),
    COMPLETED: _l("Payment plan completed"),
    CANCELLED: _l("Payment plan ended"),
    PROMISE_MADE: _l("Promise to pay"),
    PROMISE_KEPT: _l("Promise to pay kept"),
    PROMISE_BROKEN: _l("Promise to pay broken"),
    CALLBACK_REQUESTED: _l("Asked to be called back"),
    CALLBACK_HANDLED: _l("Called back"),
}
# The creditor's systems hear of agreements and how they end; the reminders are routine.
_PRIVATE = {INSTALMENT_REMINDED, CALLBACK_REQUESTED, CALLBACK_HANDLED}


def about_plan(kind: str, plan: Any, actor: Actor, **payload: Any) -> Event:
    return Event(
        kind,
        actor,
        customer_id=plan.customer_id,
        subject=("payment_plan", plan.id),
        payload={
            "reference": plan.reference,
            "total_cents": plan.total_cents,
            "currency": plan.currency,
            "instalments": plan.instalment_count,
            "every": plan.every,
            "first_due_on": plan.first_due_on.isoformat(),
            **payload,
        },
    )


def about_promise(kind: str, promise: Any, actor: Actor, **payload: Any) -> Event:
    return Event(
        kind,
        actor,
        customer_id=promise.customer_id,
        subject=("payment_promise", promise.id),
        payload={
            "promised_on": promise.promised_on.isoformat(),
            "amount_cents": promise.amount_cents,
            "currency": promise.currency,
            **payload,
        },
    )


def about_callback(kind: str, request: Any, actor: Actor, **payload: Any) -> Event:
    return Event(
        kind,
        actor,
        customer_id=request.customer_id,
        subject=("callback_request", request.id),
        payload={"preferred_time": request.preferred_time, **payload},
    )


def _present(event: DomainEvent, _extra: Any) -> Presentation:
    details = event.payload
    currency = str(details.get("currency", "EUR"))
    parts: list[str] = []
    if details.get("reference"):
        parts.append(str(details["reference"]))
    if "total_cents" in details:
        parts.append(format_money(int(details["total_cents"]), currency))
    if details.get("instalments"):
        every = _("every month") if details.get("every") == "month" else _("every two weeks")
        parts.append(_("%(count)s instalments, %(every)s", count=details["instalments"], every=every))
    if details.get("number"):
        parts.append(_("instalment %(number)s", number=details["number"]))
    if "amount_cents" in details:
        parts.append(format_money(int(details["amount_cents"]), currency))
    for key in ("due_on", "promised_on"):
        if details.get(key):
            parts.append(format_day(date.fromisoformat(str(details[key]))))
    if details.get("note"):
        parts.append(str(details["note"]))
    return Presentation(title=str(_TITLES[event.kind]), detail=joined(*parts))


for _name in _TITLES:
    register(EventKind(name=_name, category="plan", present=_present, public=_name not in _PRIVATE))
name_category("plan", _l("Plans and promises"))
# What debtors and staff decide about plans and promises is also in the audit trail (who did what).
for _name in (PROPOSED, AGREED, COUNTERED, DECLINED, REJECTED, PROMISE_MADE, CALLBACK_REQUESTED, CALLBACK_HANDLED):
    keep_in_audit_trail(_name, _TITLES[_name])
