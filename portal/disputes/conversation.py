"""One turn of a dispute's conversation, with its files: written by the debtor or staff (or a note, staff only).

Files are put in the file store before their rows are written, under random keys. Until the transaction
commits they are remembered on the session: when it rolls back instead (the rows could not be written, or
anything later in the request failed), the stored files are deleted again, so nothing of a failed message
is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session

from portal import clock
from portal.disputes.errors import DisputeProblem
from portal.disputes.models import Dispute, DisputeFile, DisputeMessage
from portal.disputes.rules import EXPLANATION_LIMIT

if TYPE_CHECKING:
    from portal.disputes.uploads import CheckedUpload
    from portal.storage import FileStore

_STORED_UNCOMMITTED = "dispute_files_stored"


@event.listens_for(Session, "after_commit")
def _keep_stored_files(session: Session) -> None:
    session.info.pop(_STORED_UNCOMMITTED, None)


@event.listens_for(Session, "after_rollback")
def _forget_stored_files(session: Session) -> None:
    for store, key in session.info.pop(_STORED_UNCOMMITTED, []):
        store.delete(key)


# Three per message, and this many in a whole conversation, so one dispute cannot fill the store.
MAX_FILES_PER_DISPUTE = 12


def clean_text(raw: str | None, *, required: bool, code: str = "message_missing") -> str:
    """Text from a stranger as it is kept: line ends made one kind, trimmed, within the limit, without control
    or invisible formatting characters (a right-to-left override would make a message read backwards). Markup
    stays as typed: it is shown escaped everywhere (Jinja's autoescape), never as HTML."""
    text = (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    text = "".join(char for char in text if char in "\n\t" or char.isprintable())
    if required and not text:
        raise DisputeProblem(code)
    if len(text) > EXPLANATION_LIMIT:
        raise DisputeProblem("explanation_too_long", limit=EXPLANATION_LIMIT)
    return text


def add_message(
    session: Session,
    store: FileStore | None,
    dispute: Dispute,
    *,
    author: str,
    body: str,
    uploads: Sequence[CheckedUpload] = (),
    staff_id: int | None = None,
    internal: bool = False,
) -> DisputeMessage:
    """Add a turn with its (already checked) files, kept in ``store`` (None for a turn that carries none, as
    staff's replies and notes). ``body`` may be empty when files are added."""
    if not body and not uploads:
        raise DisputeProblem("message_missing")
    if internal and uploads:
        raise DisputeProblem("message_missing")  # notes carry no files: a file is for the customer to see too
    if len(dispute.files) + len(uploads) > MAX_FILES_PER_DISPUTE:
        raise DisputeProblem("too_many_files", limit=MAX_FILES_PER_DISPUTE)
    now = clock.now()
    message = DisputeMessage(
        dispute=dispute, author=author, body=body, staff_id=staff_id, internal=internal, created_at=now
    )
    session.add(message)
    if uploads and store is None:
        raise ValueError("files need a file store")
    for upload in uploads:
        assert store is not None  # checked above; for the type checker
        key = store.put(upload.data)
        session.info.setdefault(_STORED_UNCOMMITTED, []).append((store, key))
        file = DisputeFile(
            dispute_id=dispute.id,
            storage_key=key,
            filename=upload.filename,
            content_type=upload.content_type,
            size_bytes=len(upload.data),
            created_at=now,
        )
        message.files.append(file)
        dispute.files.append(file)
    session.flush()
    dispute.updated_at = now
    return message
