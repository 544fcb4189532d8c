"""The written payment arrangement: one plain text, shown on the page, stored as the debtor's consent, printed
in the PDF and e-mailed. So it is made in one place, from the choices alone, in the customer's language.

What it names follows what a Dutch arrangement must contain (DOMAIN.md): the claim (the invoices and what is
owed on each, the total), the instalments with their dates and amounts, how they are paid, what happens when
one is missed, whether interest keeps running, the acknowledgement of the debt, and the creditor.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.customers.models import Customer
from portal.i18n import _, _n, force_locale, format_day, format_money
from portal.plans import rules
from portal.plans.mandate import active_mandate
from portal.plans.models import PaymentPlan
from portal.plans.policy import plan_policy
from portal.settings.services import creditor_details


@dataclass(frozen=True)
class AgreementTerms:
    customer_name: str
    invoices: Sequence[tuple[str, int]]  # (number, cents owed on it)
    currency: str
    instalments: Sequence[rules.Instalment]
    method: str  # "portal" or "direct_debit"
    mandate_reference: str | None
    creditor: dict[str, str]  # creditor_details()
    grace_days: int
    interest: str  # "none" or "statutory"


def agreement_text(terms: AgreementTerms, locale: str) -> str:
    """The agreement in ``locale``: the same terms always give the same text, character for character."""
    with force_locale(locale):
        return "\n".join(_lines(terms)).strip() + "\n"


def text_seal(text: str, secret: str) -> str:
    """A keyed hash of the text as shown: the page carries it, the submit compares it with the text made again
    from the submitted choices, so the consent stored is exactly the text the debtor saw."""
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _lines(terms: AgreementTerms) -> list[str]:
    money = lambda cents: format_money(cents, terms.currency)  # noqa: E731
    total = sum(cents for _number, cents in terms.invoices)
    creditor = terms.creditor.get("name", "")
    lines = [
        _("Payment plan between %(creditor)s and %(customer)s", creditor=creditor, customer=terms.customer_name),
        "",
        _("1. What you owe"),
    ]
    lines += [
        _("- Invoice %(number)s: %(amount)s", number=number, amount=money(cents)) for number, cents in terms.invoices
    ]
    lines += [_("Total: %(amount)s", amount=money(total)), "", _("2. The instalments")]
    lines += [
        _(
            "- Instalment %(number)s: %(date)s, %(amount)s",
            number=number,
            date=format_day(item.due_on),
            amount=money(item.amount_cents),
        )
        for number, item in enumerate(terms.instalments, start=1)
    ]
    lines += ["", _("3. How you pay")]
    if terms.method == "direct_debit":
        lines.append(
            _(
                "We collect each instalment by direct debit on its date, under mandate %(mandate)s "
                "(creditor identifier %(identifier)s).",
                mandate=terms.mandate_reference or "",
                identifier=terms.creditor.get("identifier", ""),
            )
        )
    else:
        lines.append(_("You pay each instalment by its date on your personal page in our portal."))
    lines += [
        "",
        _("4. If an instalment is not paid"),
        _missed(terms.grace_days),
        "",
        _("5. Interest"),
    ]
    if terms.interest == "statutory":
        lines.append(_("Statutory interest keeps running on what is left to pay while the plan runs."))
    else:
        lines.append(_("No interest is added while you keep to this plan."))
    lines += [
        "",
        _("6. You agree that you owe this"),
        _(
            "You acknowledge that you owe %(creditor)s %(amount)s for the invoices above, and you agree to pay it "
            "as set out here.",
            creditor=creditor,
            amount=money(total),
        ),
        "",
        creditor,
    ]
    return lines


def _missed(grace_days: int) -> str:
    return _n(
        "We send you one reminder. If the instalment is still not paid %(num)s day after that, the plan ends and "
        "everything left to pay is due at once.",
        "We send you one reminder. If the instalment is still not paid %(num)s days after that, the plan ends and "
        "everything left to pay is due at once.",
        grace_days,
    )


def terms_for(
    session: Session,
    customer: Customer,
    invoices: Sequence[tuple[str, int]],
    currency: str,
    instalments: Sequence[rules.Instalment],
    method: str,
) -> AgreementTerms:
    """The terms as the settings in force and the customer's mandate make them."""
    policy = plan_policy(session)
    mandate_reference = None
    if method == "direct_debit":
        mandate = active_mandate(session, customer.id)
        mandate_reference = mandate.reference if mandate is not None else None
    return AgreementTerms(
        customer_name=customer.name,
        invoices=list(invoices),
        currency=currency,
        instalments=list(instalments),
        method=method,
        mandate_reference=mandate_reference,
        creditor=creditor_details(session),
        grace_days=policy.grace_days,
        interest=policy.interest,
    )


def plan_terms(session: Session, plan: PaymentPlan) -> AgreementTerms:
    """The terms of ``plan`` as it stands: a counter-proposal's schedule once staff have offered one."""
    invoices = [(covered.invoice.number, covered.outstanding_cents) for covered in plan.invoices]
    schedule = rules.schedule(plan.total_cents, plan.instalment_count, plan.every, plan.first_due_on)
    return terms_for(session, plan.customer, invoices, plan.currency, schedule, plan.method)
