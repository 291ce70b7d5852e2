"""suppression source: a code (reply, mailto, one-click, ...) instead of free text

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = (
    "reply",
    "mailto",
    "one-click",
    "provider-request",
    "complaint",
    "bounce",
    "manual",
    "import",
    "forget",
)


def upgrade() -> None:
    # What earlier versions wrote: "reply:<inbound id>" (an unsubscribe, a complaint or a bounce
    # read from a reply, told apart by the reason), "smtp" (refused at RCPT), "forget", "import"
    # and "manual". Anything else was typed by hand.
    suppression = sa.table(
        "suppression", sa.column("source", sa.String()), sa.column("reason", sa.String())
    )
    from_reply = suppression.c.source.like("reply:%")
    bounced = sa.or_(
        suppression.c.reason.like("hard bounce%"), suppression.c.reason.like("% soft bounces %")
    )
    for condition, source in (
        (sa.and_(from_reply, suppression.c.reason == "complaint"), "complaint"),
        (sa.and_(from_reply, bounced), "bounce"),
        (from_reply, "reply"),
        (suppression.c.source == "smtp", "bounce"),
        (suppression.c.source.not_in(SOURCES), "manual"),
    ):
        op.execute(suppression.update().where(condition).values(source=source))
    with op.batch_alter_table("suppression", schema=None) as batch_op:
        batch_op.alter_column(
            "source",
            existing_type=sa.String(),
            type_=sa.Enum(*SOURCES, name="suppressionsource", native_enum=False, length=32),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("suppression", schema=None) as batch_op:
        batch_op.alter_column(
            "source",
            existing_type=sa.Enum(*SOURCES, name="suppressionsource", native_enum=False, length=32),
            type_=sa.String(),
            existing_nullable=False,
        )
