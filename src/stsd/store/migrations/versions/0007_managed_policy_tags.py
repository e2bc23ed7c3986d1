"""customer managed policies keep their tags

CreatePolicy's Tags, TagPolicy and UntagPolicy: a JSON list of {Key, Value} per policy, like
users, roles and OIDC providers have. Existing policies start with none ([]); the server
default only fills them and is dropped again, so the column matches the model.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("managed_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table("managed_policies", schema=None) as batch_op:
        batch_op.alter_column("tags", existing_type=sa.JSON(), existing_nullable=False, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("managed_policies", schema=None) as batch_op:
        batch_op.drop_column("tags")
