"""What the audit trail refuses, in the staff member's words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from portal.errors import DomainError, Message
from portal.i18n import _l


class AuditFilterProblem(DomainError):
    """A filter the trail cannot be searched with."""

    area = "audit"
    messages: ClassVar[Mapping[str, Message]] = {
        "date_out_of_range": _l("This date is out of range. Please choose a date closer to today."),
    }
