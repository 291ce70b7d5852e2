"""tasks (call, LinkedIn and other steps a person does), account stages, grades and owners,
prospects' buyer roles and invalid phones

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STAGES = (
    "opportunity",
    "target-identified",
    "demo",
    "key-people",
    "negotiation",
    "won",
    "paid",
    "lost",
)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "stage",
                _enum("accountstage", *_STAGES),
                nullable=False,
                server_default="opportunity",
            )
        )
        batch_op.add_column(sa.Column("grade", _enum("accountgrade", "A", "B", "C", "D")))
        batch_op.add_column(sa.Column("owner", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("deal_size", sa.Float(), nullable=True))
        batch_op.create_index("ix_account_stage", ["stage"], unique=False)
    with op.batch_alter_table("prospect", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone_invalid", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("buyer_role", _enum("buyerrole", "eb", "ub", "tb")))

    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("prospect_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("instructions", sa.String(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", _enum("taskstatus", "open", "done"), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("resume_on", sa.Date(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollment.id"], name="fk_task_enrollment_id_enrollment"
        ),
        sa.ForeignKeyConstraint(
            ["prospect_id"], ["prospect.id"], name="fk_task_prospect_id_prospect"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_task"),
        sa.UniqueConstraint("enrollment_id", "step_id", name="uq_task_enrollment_id_step_id"),
    )
    op.create_index("ix_task_due", "task", ["status", "due_at"], unique=False)
    op.create_index("ix_task_enrollment_id", "task", ["enrollment_id"], unique=False)
    op.create_index("ix_task_prospect_id", "task", ["prospect_id"], unique=False)
    op.create_index("ix_task_owner", "task", ["owner"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_task_owner", table_name="task")
    op.drop_index("ix_task_prospect_id", table_name="task")
    op.drop_index("ix_task_enrollment_id", table_name="task")
    op.drop_index("ix_task_due", table_name="task")
    op.drop_table("task")
    with op.batch_alter_table("prospect", schema=None) as batch_op:
        batch_op.drop_column("buyer_role")
        batch_op.drop_column("phone_invalid")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index("ix_account_stage")
        batch_op.drop_column("deal_size")
        batch_op.drop_column("owner")
        batch_op.drop_column("grade")
        batch_op.drop_column("stage")
