"""Read helpers for the settings pages: who changed what, and when."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.settings.models import SettingVersion

HISTORY_LIMIT = 200


def list_versions(session: Session, key: str | None = None, *, limit: int = HISTORY_LIMIT) -> list[SettingVersion]:
    """The newest versions first, of one key or of all."""
    query = select(SettingVersion).order_by(SettingVersion.valid_from.desc(), SettingVersion.id.desc()).limit(limit)
    if key is not None:
        query = query.where(SettingVersion.key == key)
    return list(session.scalars(query))
