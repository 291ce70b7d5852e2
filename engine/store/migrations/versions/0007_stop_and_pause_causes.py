"""stop and pause causes: codes beside the human text of enrollment.stop_reason and
mailbox_state.paused_reason, so that behaviour keys on the code and never parses the text

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STOP_CAUSES = (
    "replied",
    "auto-reply",
    "colleague-replied",
    "account-paused",
    "account-ruled-out",
    "bounced",
    "unsubscribed",
    "suppressed",
    "contact-state",
    "send-refused",
    "undeliverable",
    "plan-failed",
    "task-outcome",
    "undone",
)
PAUSE_CAUSES = ("by-hand", "smtp-refused", "imap-refused", "block-rate")
# What earlier versions wrote, as the start of the text (contact-state exclusions began with
# their code and a colon).
STOP_TEXTS = (
    ("account paused%", "account-paused"),
    ("replied:%", "replied"),
    ("colleague replied:%", "colleague-replied"),
    ("auto-reply", "auto-reply"),
    ("account is %", "account-ruled-out"),
    ("bounced", "bounced"),
    ("hard bounce", "bounced"),
    ("unsubscribed%", "unsubscribed"),
    ("suppressed:%", "suppressed"),
    ("forgotten:%", "contact-state"),
    ("bounced:%", "contact-state"),
    ("unsubscribed:%", "contact-state"),
    ("account-%:%", "contact-state"),
    ("in-this-cadence:%", "contact-state"),
    ("was-in-this-cadence:%", "contact-state"),
    ("send refused:%", "send-refused"),
    ("unsafe message:%", "send-refused"),
    ("step % could not be delivered", "undeliverable"),
    ("undone", "undone"),
)
PAUSE_TEXTS = (
    ("IMAP refused%", "imap-refused"),
    ("SMTP authentication failed%", "smtp-refused"),
    ("block rate %", "block-rate"),
)


def upgrade() -> None:
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stop_cause", _enum(STOP_CAUSES, "stopcause"), nullable=True))
    with op.batch_alter_table("mailbox_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pause_cause", _enum(PAUSE_CAUSES, "pausecause"), nullable=True)
        )
    enrollment = sa.table(
        "enrollment", *(sa.column(c, sa.String()) for c in ("status", "stop_reason", "stop_cause"))
    )
    _fill(enrollment, "stop_reason", "stop_cause", STOP_TEXTS)
    paused = sa.and_(enrollment.c.stop_cause.is_(None), enrollment.c.status == "paused")
    # A paused enrollment without a reason was paused by a colleague's reply (older versions
    # gave none); any other paused one was parked by the planner.
    op.execute(
        enrollment.update()
        .where(paused, enrollment.c.stop_reason.is_(None))
        .values(stop_cause="account-paused")
    )
    op.execute(enrollment.update().where(paused).values(stop_cause="plan-failed"))
    mailbox = sa.table(
        "mailbox_state", *(sa.column(c, sa.String()) for c in ("paused_reason", "pause_cause"))
    )
    _fill(mailbox, "paused_reason", "pause_cause", PAUSE_TEXTS)


def _fill(table: sa.TableClause, text: str, code: str, patterns: Sequence[tuple[str, str]]) -> None:
    """Give each row the code of the first pattern its text matches (most specific first)."""
    for pattern, value in patterns:
        op.execute(
            table.update()
            .where(table.c[code].is_(None), table.c[text].like(pattern))
            .values({code: value})
        )


def downgrade() -> None:
    with op.batch_alter_table("mailbox_state", schema=None) as batch_op:
        batch_op.drop_column("pause_cause")
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.drop_column("stop_cause")


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)
