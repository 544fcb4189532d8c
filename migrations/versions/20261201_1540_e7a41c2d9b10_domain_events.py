"""Domain events: one append-only record of what happened, read by the timeline and (later) the API feed.

Revision ID: e7a41c2d9b10
Revises: c5afdb510ff1
Create Date: 2026-12-01 15:40:00+00:00
"""

revision = 'e7a41c2d9b10'
down_revision = 'c5afdb510ff1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
