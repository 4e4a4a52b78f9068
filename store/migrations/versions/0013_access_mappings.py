"""group mappings of the hospital's OpenID provider: a group, a role, sites (contract §14)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:30:00

A new table only: nothing stored before changes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_mappings',
                    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                              nullable=False),
                    sa.Column('group_name', sa.String(length=255), nullable=False),
                    sa.Column('role', sa.String(length=16), nullable=False),
                    sa.Column('sites', sa.JSON(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint('pk'))
    op.create_index('ix_access_mappings_group_name', 'access_mappings', ['group_name'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_access_mappings_group_name', table_name='access_mappings')
    op.drop_table('access_mappings')
