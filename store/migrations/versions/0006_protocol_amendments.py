"""protocol amendments (contract §10): the active protocol version in the database

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # No row means "the configured MYOCIT_PROTOCOL_VERSION": existing deployments keep what they run.
    op.create_table('protocol_activations',
    sa.Column('pk', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated_by', sa.String(length=120), nullable=False),
    sa.Column('patients', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('pk'),
    )
    op.create_table('shadow_reports',
    sa.Column('pk', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('pk'),
    )


def downgrade() -> None:
    op.drop_table('shadow_reports')
    op.drop_table('protocol_activations')
