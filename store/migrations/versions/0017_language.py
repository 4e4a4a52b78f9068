"""the coordinators' language (contract §18): each screening's reasons as messages, a subscription's
language, and the language of the screening a confirmation signed

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-03 17:00:00

New nullable columns only. Screenings stored before keep their English reasons (``reasons`` null: shown
as stored, translated when the catalog knows the text); subscriptions without a language write in
``MYOCIT_LANGUAGE``; confirmations without one signed the English screening, as they always did.
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


# Plain ADD COLUMN on both databases: a batch on SQLite would copy ``confirmations`` into a new table
# and lose the triggers that keep it unchanged (migration 0005).


def upgrade() -> None:
    op.add_column('screenings', sa.Column('reasons', sa.JSON(), nullable=True))
    op.add_column('subscriptions', sa.Column('language', sa.String(length=8), nullable=True))
    op.add_column('confirmations', sa.Column('language', sa.String(length=8), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE confirmations DROP COLUMN language")
    with op.batch_alter_table('subscriptions') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('screenings') as batch:
        batch.drop_column('reasons')
