"""cancel cause: a code beside the human text of a cancelled outbox row's error, so that
resuming an account brings back the rows its pause cancelled by their code, not their words

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CANCEL_CAUSES = (
    "enrollment-gone",
    "enrollment-paused",
    "enrollment-ended",
    "address-invalid",
    "suppressed",
    "account-paused",
    "account-ruled-out",
    "replied",
)
# What earlier versions wrote as the error of a cancelled row (most specific first).
CANCEL_TEXTS = (
    ("enrollment is paused", "enrollment-paused"),
    ("enrollment is gone", "enrollment-gone"),
    ("enrollment no longer exists", "enrollment-gone"),
    ("enrollment is %", "enrollment-ended"),
    ("account is paused", "account-paused"),
    ("address is invalid%", "address-invalid"),
    ("suppressed:%", "suppressed"),
    ("prospect replied or bounced%", "replied"),
    ("account is %", "account-ruled-out"),
)


def upgrade() -> None:
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cancel_cause",
                sa.Enum(*CANCEL_CAUSES, name="cancelcause", native_enum=False, length=32),
                nullable=True,
            )
        )
    outbox = sa.table(
        "outbound_message",
        *(sa.column(c, sa.String()) for c in ("status", "error", "cancel_cause")),
    )
    for pattern, cause in CANCEL_TEXTS:
        op.execute(
            outbox.update()
            .where(
                outbox.c.status == "cancelled",
                outbox.c.cancel_cause.is_(None),
                outbox.c.error.like(pattern),
            )
            .values(cancel_cause=cause)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.drop_column("cancel_cause")
