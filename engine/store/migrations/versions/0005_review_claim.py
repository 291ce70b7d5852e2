"""review claims: a reviewer's lease on a queued reply; the queue's order as an index

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 03:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_claim",
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inbound_message.id"],
            name=op.f("fk_review_claim_inbound_id_inbound_message"),
        ),
        sa.PrimaryKeyConstraint("inbound_id", name=op.f("pk_review_claim")),
    )
    with op.batch_alter_table("review_claim", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_claim_expires_at"), ["expires_at"], unique=False
        )
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbound_message_queue", ["status", "received_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_message_queue")
    with op.batch_alter_table("review_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_claim_expires_at"))
    op.drop_table("review_claim")
