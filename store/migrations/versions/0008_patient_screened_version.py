"""patients keep the protocol version of their latest screening, read under the row lock

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screened_version', sa.String(length=64), nullable=True))
    patients = sa.table('patients', sa.column('pk', sa.BigInteger), sa.column('screened_version', sa.String))
    screenings = sa.table('screenings', sa.column('pk', sa.BigInteger), sa.column('patient_pk', sa.BigInteger),
                          sa.column('protocol_version', sa.String))
    latest = (sa.select(screenings.c.protocol_version).where(screenings.c.patient_pk == patients.c.pk)
              .order_by(screenings.c.pk.desc()).limit(1).scalar_subquery())
    op.get_bind().execute(patients.update().values(screened_version=latest))


def downgrade() -> None:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('screened_version')
