"""audit trail: a sequential integer key instead of the event id

``event_id`` (a random UUID, as CloudTrail's eventID) was the primary key, so every insert
landed on a random page of its index: as the table grew, each batch dirtied about as many
pages as it had records (and wrote each of them to the WAL), and the audit writer's CPU per
record grew with the table. Nothing looks records up by event id (queries scan by time and
account), so the key is now an integer in insertion order (SQLite's rowid) and the event id
an ordinary column. (Queries order by time, then event id, as before; the key orders nothing.)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COLUMNS = ("event_id", "event_time", "account_id", "region", "event_source", "event_name", "principal_arn",
            "identity_type", "endpoint_type", "serving_region", "source_ip", "user_agent", "error_code",
            "request_id", "record")


def _columns() -> list[sa.Column]:
    return [
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_time", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("event_source", sa.String(length=64), nullable=False),
        sa.Column("event_name", sa.String(length=128), nullable=False),
        sa.Column("principal_arn", sa.String(length=2048), nullable=True),
        sa.Column("identity_type", sa.String(length=32), nullable=True),
        sa.Column("endpoint_type", sa.String(length=8), nullable=True),
        sa.Column("serving_region", sa.String(length=32), nullable=True),
        sa.Column("source_ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=128), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
    ]


def _rebuild(key: sa.Column | None, order: str) -> None:
    """SQLite cannot change a primary key in place: a new table, the rows copied in order."""
    op.create_table("audit_events_new", *([key] if key is not None else []), *_columns(),
                    *([] if key is not None else [sa.PrimaryKeyConstraint("event_id")]))
    names = ", ".join(_COLUMNS)
    op.execute(f"INSERT INTO audit_events_new ({names}) SELECT {names} FROM audit_events ORDER BY {order}")  # noqa: S608
    op.drop_table("audit_events")
    op.rename_table("audit_events_new", "audit_events")
    op.create_index("ix_audit_events_event_time", "audit_events", ["event_time"], unique=False)
    op.create_index("ix_audit_events_account_time", "audit_events", ["account_id", "event_time"], unique=False)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(sa.Column("id", sa.Integer(), primary_key=True), "event_time, event_id")
        return
    op.drop_constraint("audit_events_pkey", "audit_events", type_="primary")
    op.add_column("audit_events", sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False))
    op.create_primary_key("audit_events_pkey", "audit_events", ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(None, "id")
        return
    op.drop_constraint("audit_events_pkey", "audit_events", type_="primary")
    op.drop_column("audit_events", "id")
    op.create_primary_key("audit_events_pkey", "audit_events", ["event_id"])
