"""Who or what made a personal link, in the staff member's words: a staff member's address as it is, and the
portal's own sources (the e-mail that carried the link, the demo, the command line) by name, not code."""

from __future__ import annotations

from typing import Any

from portal.i18n import _l
from portal.links.services import FRESH_LINK_CREATED_BY

# ``created_by`` of a link: a staff member's e-mail address, or one of these (an e-mail's template name when
# the link went out with that e-mail, see links.messages.queue_email_with_link).
_SOURCES: dict[str, Any] = {
    "cli": _l("Command line"),
    "demo": _l("Demo data"),
    "system": _l("The portal"),
    FRESH_LINK_CREATED_BY: _l("Asked for by the customer"),
    "failed-debit": _l("E-mail: a direct debit failed"),
    "debit_failed": _l("E-mail: a direct debit failed"),
    "prenotification": _l("E-mail: direct-debit notice"),
    "debit_prenotification": _l("E-mail: direct-debit notice"),
    "promise": _l("E-mail: promise to pay confirmed"),
    "promise_made": _l("E-mail: promise to pay confirmed"),
    "promise_broken": _l("E-mail: promise to pay not kept"),
    "dispute_received": _l("E-mail: question received"),
    "dispute_reply": _l("E-mail: answer to a question"),
    "dispute_resolved": _l("E-mail: question resolved"),
    "plan_proposed": _l("E-mail: payment plan proposal received"),
    "plan_countered": _l("E-mail: payment plan counter-proposal"),
    "plan_agreed": _l("E-mail: payment plan agreed"),
    "plan_rejected": _l("E-mail: payment plan declined"),
    "plan_completed": _l("E-mail: payment plan completed"),
    "plan_lapsed": _l("E-mail: payment plan ended"),
    "plan_instalment_reminder": _l("E-mail: instalment reminder"),
    "plan_instalment_missed": _l("E-mail: instalment missed"),
    "plan_debit_prenotification": _l("E-mail: instalment collection notice"),
    "payment_refunded": _l("E-mail: refund"),
}


def created_by_label(created_by: str) -> str:
    """A staff member's address as it is; a source of the portal's own by its name (an unknown one as it is)."""
    label = _SOURCES.get(created_by)
    return str(label) if label is not None else created_by
