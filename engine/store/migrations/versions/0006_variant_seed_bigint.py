"""enrollment.variant_seed as a 64-bit integer: the seeds are unsigned 32-bit values

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # On PostgreSQL INTEGER is signed 32-bit, and half of all seeds (4 bytes of a hash, unsigned)
    # did not fit. SQLite's INTEGER was always 64-bit; the batch keeps the two schemas alike.
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.alter_column(
            "variant_seed",
            existing_type=sa.Integer(),
            type_=sa.BigInteger(),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.alter_column(
            "variant_seed",
            existing_type=sa.BigInteger(),
            type_=sa.Integer(),
            existing_nullable=False,
        )
