"""Staff sessions kept on the server; TOTP secrets encrypted at rest; the pending set-up secret on the account.

- ``staff_sessions``: one row per log-in, so log-out, a password change or closing the account ends the
  session on the server (a copied cookie opens nothing afterwards). It replaces ``session_version``.
- ``totp_secret`` (plain text) becomes ``totp_secret_encrypted``: each secret is encrypted here with the
  first key of PORTAL_TOTP_KEYS (or, in development, the key derived from PORTAL_SECRET_KEY).
- ``totp_pending_encrypted`` / ``totp_pending_until``: the secret being set up, no longer in the cookie.

Columns are added and dropped with SQLite's own ALTER TABLE rather than a batch copy of the table: a copy
drops ``staff_users``, and with foreign keys on that would delete every row that cascades from it.

Revision ID: a3d9c6e1f4b7
Revises: a3c7e9d1f2b4
Create Date: 2026-12-01 17:10:00+00:00
"""

from alembic import op
import sqlalchemy as sa

import portal.db


revision = 'a3d9c6e1f4b7'
down_revision = 'a3c7e9d1f2b4'
branch_labels = None
depends_on = None

_staff = sa.table(
    "staff_users",
    sa.column("id", sa.Integer),
    sa.column("totp_secret", sa.String),
    sa.column("totp_secret_encrypted", sa.String),
)


def _keyring():
    """The keys of the app running the upgrade (`flask db upgrade`), else those the environment describes."""
    from flask import current_app, has_app_context

    from portal.staff.totp_keys import APP_KEY, keyring_from_config

    if has_app_context() and APP_KEY in current_app.extensions:
        return current_app.extensions[APP_KEY]
    from portal.config import load_config

    return keyring_from_config(load_config())


def upgrade() -> None:
    op.create_table('staff_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_staff_sessions_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_sessions_token_hash'))
    )
    op.create_index(op.f('ix_staff_sessions_staff_id'), 'staff_sessions', ['staff_id'], unique=False)

    op.add_column('staff_users', sa.Column('totp_secret_encrypted', sa.String(length=300), nullable=True))
    op.add_column('staff_users', sa.Column('totp_pending_encrypted', sa.String(length=300), nullable=True))
    op.add_column('staff_users', sa.Column('totp_pending_until', portal.db.UTCDateTime(timezone=True), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(sa.select(_staff.c.id, _staff.c.totp_secret).where(_staff.c.totp_secret.is_not(None))).all()
    if rows:  # only then are keys needed: a new database migrates without any
        keyring = _keyring()
        for staff_id, secret in rows:
            connection.execute(
                _staff.update().where(_staff.c.id == staff_id).values(totp_secret_encrypted=keyring.encrypt(secret))
            )

    # Every session made before this upgrade ends: it has no row, so the new loader refuses it.
    op.drop_column('staff_users', 'totp_secret')
    op.drop_column('staff_users', 'session_version')


def downgrade() -> None:
    op.add_column('staff_users', sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
    op.add_column('staff_users', sa.Column('totp_secret', sa.String(length=64), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_staff.c.id, _staff.c.totp_secret_encrypted).where(_staff.c.totp_secret_encrypted.is_not(None))
    ).all()
    if rows:
        keyring = _keyring()
        for staff_id, token in rows:
            connection.execute(
                _staff.update().where(_staff.c.id == staff_id).values(totp_secret=keyring.decrypt(token))
            )

    op.drop_column('staff_users', 'totp_pending_until')
    op.drop_column('staff_users', 'totp_pending_encrypted')
    op.drop_column('staff_users', 'totp_secret_encrypted')
    op.drop_index(op.f('ix_staff_sessions_staff_id'), table_name='staff_sessions')
    op.drop_table('staff_sessions')
