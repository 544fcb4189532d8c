"""Background work without a broker: job leases; import progress in the job row; messages waiting for the server.

``job_leases`` lets the web processes that run the in-process scheduler (no Celery broker) agree on who runs
a scheduled job, and when it is next due. ``import_jobs.progress_step`` keeps the step an import is in, with
``processed_rows``, in the database, so any web worker can show the progress. ``outbox_messages``
``waiting_for_transport`` marks a message whose last attempt found the mail server not answering: it is
tried again as soon as the server answers, instead of at the end of its retry delay.

Revision ID: a3c9d4e5f601
Revises: a3d9c6e1f4b7
Create Date: 2026-12-01 17:10:00+00:00
"""

from alembic import op
import sqlalchemy as sa

import portal.db


revision = 'a3c9d4e5f601'
down_revision = 'a3d9c6e1f4b7'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN (SQLite has both since 3.35): a batch copy of outbox_messages would reflect its
# foreign key to customers, whose expression index SQLAlchemy cannot reflect.


def upgrade() -> None:
    op.create_table(
        'job_leases',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('holder', sa.String(length=128), nullable=False),
        sa.Column('expires_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_job_leases')),
    )
    op.add_column('import_jobs', sa.Column('progress_step', sa.String(length=10), nullable=True))
    op.add_column(
        'outbox_messages', sa.Column('waiting_for_transport', sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column('outbox_messages', 'waiting_for_transport')
    op.drop_column('import_jobs', 'progress_step')
    op.drop_table('job_leases')
