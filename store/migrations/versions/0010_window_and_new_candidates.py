"""the window of opportunity (contract §1.2) and alerts for new candidates (§5)

Screenings keep their ``eligible_until`` beside ``eligible_from`` (what the screening log and the
alerts page read without decoding results); screenings stored before this release did not compute
one, so theirs stays null. An alert for a child's first screening has no status it changed from, so
``alerts.from_status`` may be null. Confirmations record the keys their hash covers (§9): rows signed
before this release keep null, read as the keys of §3 as they were then.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('eligible_until', sa.Date(), nullable=True))
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.alter_column('from_status', existing_type=sa.String(length=16), nullable=True)
    # A plain ADD COLUMN: SQLite's batch mode would rebuild the table and drop the triggers that keep
    # confirmations unchangeable (migration 0005).
    op.add_column('confirmations', sa.Column('signed_keys', sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column('confirmations', 'signed_keys')
    alerts = sa.table('alerts', sa.column('from_status', sa.String))
    # A new candidate's alert had no previous status; the old schema needs one.
    op.get_bind().execute(alerts.update().where(alerts.c.from_status.is_(None)).values(from_status='none'))
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.alter_column('from_status', existing_type=sa.String(length=16), nullable=False)
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.drop_column('eligible_until')
