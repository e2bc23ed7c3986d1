"""audit trail: CloudTrail records

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_INDEXED = ("event_time", "account_id", "region", "event_name", "principal_arn", "endpoint_type", "error_code")


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_time', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('event_source', sa.String(length=64), nullable=False),
    sa.Column('event_name', sa.String(length=128), nullable=False),
    sa.Column('principal_arn', sa.String(length=2048), nullable=True),
    sa.Column('identity_type', sa.String(length=32), nullable=True),
    sa.Column('endpoint_type', sa.String(length=8), nullable=True),
    sa.Column('serving_region', sa.String(length=32), nullable=True),
    sa.Column('source_ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.Text(), nullable=True),
    sa.Column('error_code', sa.String(length=128), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('record', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        for column in _INDEXED:
            batch_op.create_index(batch_op.f(f'ix_audit_events_{column}'), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        for column in reversed(_INDEXED):
            batch_op.drop_index(batch_op.f(f'ix_audit_events_{column}'))
    op.drop_table('audit_events')
