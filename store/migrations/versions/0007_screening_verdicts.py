"""screenings keep their verdicts compactly, and eligible_from, for the screening log and funnel

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:00:00
"""
from datetime import date

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

LETTERS = {"pass": "p", "fail": "f", "unknown": "u", "review": "r"}


def upgrade() -> None:
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verdicts', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('eligible_from', sa.Date(), nullable=True))
    bind = op.get_bind()
    screenings = sa.table('screenings', sa.column('pk', sa.Integer), sa.column('result', sa.JSON),
                          sa.column('verdicts', sa.String), sa.column('eligible_from', sa.Date))
    last = 0
    while True:
        rows = bind.execute(sa.select(screenings.c.pk, screenings.c.result).where(screenings.c.pk > last)
                            .order_by(screenings.c.pk).limit(1000)).all()
        if not rows:
            break
        for pk, result in rows:
            eligible = result.get("eligible_from")
            bind.execute(screenings.update().where(screenings.c.pk == pk).values(
                verdicts="".join(LETTERS[c["verdict"]] for c in result.get("criteria", [])),
                eligible_from=date.fromisoformat(eligible) if eligible else None))
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.drop_column('eligible_from')
        batch_op.drop_column('verdicts')
