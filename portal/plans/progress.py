"""How far a running plan has got: what has been paid towards it, and which instalment is due now.

Paid towards a plan is what has been paid on its invoices since it was agreed, whatever the route (an
instalment paid in the portal, a transfer, a direct debit); an invoice cancelled or credited meanwhile counts
as settled. Instalments are filled in order: the first is paid once that much has come in, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.plans.models import PaymentPlan, PlanInstalment


@dataclass(frozen=True)
class InstalmentStatus:
    instalment: PlanInstalment
    paid_cents: int  # of this instalment
    state: str  # "paid", "due" (due today or earlier and not paid in full), "upcoming"

    @property
    def left_cents(self) -> int:
        return self.instalment.amount_cents - self.paid_cents


@dataclass(frozen=True)
class PlanProgress:
    plan: PaymentPlan
    paid_cents: int  # towards the plan, never more than its total
    instalments: list[InstalmentStatus]

    @property
    def left_cents(self) -> int:
        return self.plan.total_cents - self.paid_cents

    @property
    def due_now(self) -> list[InstalmentStatus]:
        return [status for status in self.instalments if status.state == "due"]

    @property
    def due_now_cents(self) -> int:
        return sum(status.left_cents for status in self.due_now)

    @property
    def next_unpaid(self) -> InstalmentStatus | None:
        return next((status for status in self.instalments if status.state != "paid"), None)

    @property
    def complete(self) -> bool:
        return self.left_cents <= 0


def paid_towards(plan: PaymentPlan) -> int:
    paid = 0
    for covered in plan.invoices:
        invoice = covered.invoice
        if invoice.state != "open":  # paid, or cancelled: nothing of it is owed any more
            paid += covered.outstanding_cents
        else:
            paid += min(max(invoice.paid_cents - covered.paid_before_cents, 0), covered.outstanding_cents)
    return min(paid, plan.total_cents)


def progress_of(plan: PaymentPlan, today: date) -> PlanProgress:
    """Where ``plan`` stands on the customer's local date ``today``."""
    paid = paid_towards(plan)
    statuses = []
    remaining = paid
    for instalment in plan.instalments:
        covered = min(remaining, instalment.amount_cents)
        remaining -= covered
        if covered >= instalment.amount_cents:
            state = "paid"
        elif instalment.due_on <= today:
            state = "due"
        else:
            state = "upcoming"
        statuses.append(InstalmentStatus(instalment, covered, state))
    return PlanProgress(plan, paid, statuses)
