"""audit trail: two indexes instead of seven

The audit writer inserts every record; each index costs every insert. What the queries
(stsd.audit.query) need is newest-first over one account (the admin API always names one) or
over all (CLI), within a time range: (account_id, event_time) and event_time. The single-column
indexes on region, event_name, principal_arn, endpoint_type and error_code only narrow those
scans further, and the one on account_id alone is covered by the composite index.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_DROPPED = ("account_id", "region", "event_name", "principal_arn", "endpoint_type", "error_code")


def upgrade() -> None:
    op.create_index("ix_audit_events_account_time", "audit_events", ["account_id", "event_time"], unique=False)
    for column in _DROPPED:
        op.drop_index(f"ix_audit_events_{column}", table_name="audit_events")


def downgrade() -> None:
    for column in reversed(_DROPPED):
        op.create_index(f"ix_audit_events_{column}", "audit_events", [column], unique=False)
    op.drop_index("ix_audit_events_account_time", table_name="audit_events")
