"""Versioned settings (append-only), and the payment-method choices moved into them.

The rows of payment_method_settings become the first version of the setting ``payments.methods``; the
old table is dropped. Nothing else is seeded: a setting nobody changed has its default from the registry
(portal/settings/registry.py).

Revision ID: f8b52d3e0c21
Revises: e7a41c2d9b10
Create Date: 2026-12-01 16:00:00+00:00
"""

import os
from datetime import UTC, datetime
from decimal import Decimal

from alembic import op
import sqlalchemy as sa

import portal.db


revision = 'f8b52d3e0c21'
down_revision = 'e7a41c2d9b10'
branch_labels = None
depends_on = None

METHODS_KEY = "payments.methods"
# The key's place in the registry's order of methods, so the first version reads like the staff page.
METHOD_ORDER = ("ideal", "creditcard", "bancontact", "paypal", "directdebit")

# Lightweight tables for the data migration: the models may have moved on by the time this runs.
_setting_versions = sa.table(
    "setting_versions",
    sa.column("key", sa.String),
    sa.column("version", sa.Integer),
    sa.column("value", sa.JSON),
    sa.column("valid_from", portal.db.UTCDateTime(timezone=True)),
    sa.column("changed_by", sa.String),
    sa.column("note", sa.String),
)
_method_settings = sa.table(
    "payment_method_settings",
    sa.column("method", sa.String),
    sa.column("provider", sa.String),
    sa.column("enabled", sa.Boolean),
    sa.column("updated_at", portal.db.UTCDateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table('setting_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('valid_from', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.String(length=254), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.CheckConstraint('version >= 1', name=op.f('ck_setting_versions_version_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_setting_versions')),
    sa.UniqueConstraint('key', 'version', name='uq_setting_versions_key_version')
    )
    with op.batch_alter_table('setting_versions', schema=None) as batch_op:
        batch_op.create_index('ix_setting_versions_key_valid_from', ['key', 'valid_from'], unique=False)

    _copy_payment_methods_into_a_first_version()
    _copy_former_variables_into_a_first_version()
    op.drop_table('payment_method_settings')
    _make_settings_append_only()


def downgrade() -> None:
    op.create_table('payment_method_settings',
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('method', name=op.f('pk_payment_method_settings'))
    )
    _copy_latest_payment_methods_back()

    _allow_settings_changes()
    with op.batch_alter_table('setting_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_setting_versions_key_valid_from')
    op.drop_table('setting_versions')


def _copy_payment_methods_into_a_first_version() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_method_settings.c.method, _method_settings.c.provider, _method_settings.c.enabled,
                  _method_settings.c.updated_at)
    ).all()
    if not rows:
        return
    order = {method: position for position, method in enumerate(METHOD_ORDER)}
    value = {
        row.method: {"provider": row.provider, "enabled": bool(row.enabled)}
        for row in sorted(rows, key=lambda row: (order.get(row.method, len(order)), row.method))
    }
    # In force since the staff last saved them, so asking for the value at an earlier moment stays honest.
    valid_from = max(row.updated_at for row in rows) or datetime.now(UTC)
    bind.execute(
        _setting_versions.insert().values(
            key=METHODS_KEY,
            version=1,
            value=value,
            valid_from=valid_from,
            changed_by="system",
            note="Copied from the former payment method settings",
        )
    )


# Before this revision the creditor's details and the part-payment minimum were environment variables. A
# deployment upgrading with them still set keeps them: they become the first version of each setting, so
# its debtors never see the demo creditor's account in the transfer details and the QR code.
_FORMER_VARIABLES = {
    "PORTAL_CREDITOR_NAME": "creditor.name",
    "PORTAL_CREDITOR_IBAN": "creditor.iban",
    "PORTAL_CREDITOR_BIC": "creditor.bic",
    "PORTAL_CREDITOR_IDENTIFIER": "creditor.identifier",
    "PORTAL_CREDITOR_EMAIL": "creditor.email",
    "PORTAL_CREDITOR_PHONE": "creditor.phone",
    "PORTAL_CREDITOR_ADDRESS": "creditor.address",
    "PORTAL_CREDITOR_VAT_NUMBER": "creditor.vat_number",
}


def _copy_former_variables_into_a_first_version() -> None:
    values = {key: " ".join(os.environ[name].split()) for name, key in _FORMER_VARIABLES.items() if os.environ.get(name)}
    if "creditor.iban" in values:
        values["creditor.iban"] = values["creditor.iban"].replace(" ", "").upper()
    minimum = os.environ.get("PORTAL_PARTIAL_PAYMENT_MINIMUM")
    if minimum is not None:
        # As config.py read it: an amount in euros, or empty for whole invoices only.
        values["payments.partial_payment_minimum"] = (
            {"EUR": int(Decimal(minimum.replace(",", ".")) * 100)} if minimum.strip() else {}
        )
    now = datetime.now(UTC)
    for key, value in values.items():
        op.get_bind().execute(
            _setting_versions.insert().values(
                key=key, version=1, value=value, valid_from=now, changed_by="system",
                note="Copied from the former PORTAL_ environment variable",
            )
        )


def _copy_latest_payment_methods_back() -> None:
    bind = op.get_bind()
    latest = bind.execute(
        sa.select(_setting_versions.c.value, _setting_versions.c.valid_from)
        .where(_setting_versions.c.key == METHODS_KEY)
        .order_by(_setting_versions.c.version.desc())
        .limit(1)
    ).first()
    if latest is None or not latest.value:
        return
    bind.execute(
        _method_settings.insert(),
        [
            {"method": method, "provider": choice["provider"], "enabled": bool(choice["enabled"]),
             "updated_at": latest.valid_from}
            for method, choice in latest.value.items()
        ],
    )


# Like the audit trail: history that can be rewritten is no history. UPDATE and DELETE on
# setting_versions fail for every client, the application included; a change is a new version.
_PG_FUNCTION = """
CREATE FUNCTION setting_versions_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'setting_versions is append-only';
END;
$$ LANGUAGE plpgsql
"""


def _make_settings_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER setting_versions_append_only BEFORE UPDATE OR DELETE ON setting_versions "
            "FOR EACH ROW EXECUTE FUNCTION setting_versions_append_only()"
        )
        op.execute(
            "CREATE TRIGGER setting_versions_no_truncate BEFORE TRUNCATE ON setting_versions "
            "FOR EACH STATEMENT EXECUTE FUNCTION setting_versions_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER setting_versions_no_{verb.lower()} BEFORE {verb} ON setting_versions "
                "BEGIN SELECT RAISE(ABORT, 'setting_versions is append-only'); END"
            )


def _allow_settings_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS setting_versions_no_truncate ON setting_versions")
        op.execute("DROP TRIGGER IF EXISTS setting_versions_append_only ON setting_versions")
        op.execute("DROP FUNCTION IF EXISTS setting_versions_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS setting_versions_no_update")
        op.execute("DROP TRIGGER IF EXISTS setting_versions_no_delete")
