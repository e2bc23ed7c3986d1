"""MFA device names and serial numbers as long as IAM allows them

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mfa_devices", schema=None) as batch_op:
        batch_op.alter_column("serial", existing_type=sa.String(length=256), type_=sa.String(length=1024))
        batch_op.alter_column("name", existing_type=sa.String(length=128), type_=sa.String(length=256))


def downgrade() -> None:
    with op.batch_alter_table("mfa_devices", schema=None) as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=256), type_=sa.String(length=128))
        batch_op.alter_column("serial", existing_type=sa.String(length=1024), type_=sa.String(length=256))
