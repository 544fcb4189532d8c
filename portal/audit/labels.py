"""What each action code in the audit trail is called on the staff page, in the reader's language.

The trail stores codes (``customer.viewed``): stable, searchable and the same in every export. People read
names. A feature that records a new action adds its name here or with ``register_action_label`` from its own
package; a code without a name is shown as the code, so nothing ever disappears from the page.
"""

from __future__ import annotations

from typing import Any

from portal.i18n import _l

_LABELS: dict[str, Any] = {
    "audit.exported": _l("Audit trail exported"),
    "customer.viewed": _l("Customer page viewed"),
    "import.completed": _l("Import completed"),
    "import.failed": _l("Import failed"),
    "import.previewed": _l("Import checked (preview)"),
    "invoice.pdf_downloaded": _l("Invoice PDF downloaded"),
    "invoice.viewed": _l("Invoice viewed"),
    "link.created": _l("Personal link created"),
    "link.opened": _l("Personal link opened"),
    # i18n: someone opened a personal link that no longer works (unknown, expired or revoked).
    "link.rejected": _l("Personal link refused"),
    "link.requested": _l("New link asked for"),
    "link.revoked": _l("Personal link revoked"),
    "message.queued": _l("Message written"),
    "message.retried": _l("Message sent again"),
    "note.added": _l("Note added"),
    "overview.viewed": _l("Overview viewed by the customer"),
    "setting.changed": _l("Setting changed"),
    "staff.created": _l("Staff account created"),
    "staff.deactivated": _l("Staff account deactivated"),
    "staff.reactivated": _l("Staff account reactivated"),
    "staff.role_changed": _l("Staff role changed"),
    "staff.logged_in": _l("Logged in"),
    "staff.logged_out": _l("Logged out"),
    "staff.logged_out_everywhere": _l("Logged out everywhere"),
    "staff.login_failed": _l("Log-in failed"),
    "staff.login_throttled": _l("Log-in attempts slowed down"),
    "staff.password_changed": _l("Password changed"),
    "staff.password_reset": _l("Password reset"),
    "staff.recovery_code_used": _l("Recovery code used"),
    "staff.second_factor_enabled": _l("Second factor set up"),
    "staff.second_factor_failed": _l("Wrong second-factor code"),
    "staff.second_factor_reset": _l("Second factor reset"),
}


def register_action_label(code: str, label: Any) -> None:
    """Name a feature's own action code (a lazy string, so it is translated when the page is read)."""
    _LABELS[code] = label


def action_label(code: str) -> str:
    """The action's name in the current language; the code itself when it has no name."""
    label = _LABELS.get(code)
    return str(label) if label is not None else code
