"""Job leases: which process runs a scheduled job, and until when nobody else may.

Several web processes (gunicorn workers, ``flask run`` with its reloader) each run the in-process
scheduler; a lease row per job makes them agree. Taking it is one conditional UPDATE (``expires_at <= now``),
or an INSERT the first time, where a unique-key error means another process was first. The holder renews it
while the job runs, however long that takes, and then moves ``expires_at`` to when the job is next due, so a
job runs once per interval across all processes; a holder that dies stops renewing and frees the job when its
lease runs out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db import Base, UTCDateTime


class JobLease(Base):
    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def take(session: Session, name: str, holder: str, *, now: datetime, until: datetime) -> bool:
    """Take the lease on ``name`` until ``until`` if it is free at ``now``; commits. True when taken."""
    result = session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.expires_at <= now)
        .values(holder=holder, expires_at=until)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0):
        session.commit()
        return True
    if session.get(JobLease, name) is not None:
        session.rollback()
        return False
    session.add(JobLease(name=name, holder=holder, expires_at=until))
    try:
        session.commit()
    except IntegrityError:  # another process inserted it between our read and our insert
        session.rollback()
        return False
    return True


def renew(session: Session, name: str, holder: str, *, until: datetime) -> bool:
    """Hold the lease on ``name`` until ``until``, only while ``holder`` still holds it; commits. False when
    another holder has it: ours ran out (this process was paused for longer than the lease) and it was taken."""
    # Not "expires_at > now": a lease that ran out but that nobody took is still ours to keep.
    result = session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(expires_at=until)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(getattr(result, "rowcount", 0))


def hand_back(session: Session, name: str, holder: str, *, next_due: datetime) -> None:
    """The job has run: the lease ends at ``next_due``, when any process may run it again; commits."""
    session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(expires_at=next_due)
        .execution_options(synchronize_session=False)
    )
    session.commit()
