"""population work as worker tasks: a shadow run's chunks (contract §10), taken by the workers and
gathered by the command that started the run

Revision ID: 0018
Revises: 0013
Create Date: 2026-12-03 16:40:00

New tables only: nothing stored before changes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('shadow_runs',
                    sa.Column('pk', BIG_ID, autoincrement=True, nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('actor', sa.String(length=120), nullable=False),
                    sa.Column('site', sa.String(length=64), nullable=True),
                    sa.Column('as_of', sa.Date(), nullable=False),
                    sa.Column('active_name', sa.String(length=200), nullable=False),
                    sa.Column('active_files', sa.JSON(), nullable=False),
                    sa.Column('candidate_name', sa.String(length=200), nullable=False),
                    sa.Column('candidate_files', sa.JSON(), nullable=False),
                    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint('pk'))
    op.create_table('shadow_chunks',
                    sa.Column('pk', BIG_ID, autoincrement=True, nullable=False),
                    sa.Column('run_pk', BIG_ID, nullable=False),
                    sa.Column('first_pk', sa.BigInteger(), nullable=False),
                    sa.Column('last_pk', sa.BigInteger(), nullable=False),
                    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('attempts', sa.Integer(), nullable=False),
                    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('screened', sa.Integer(), nullable=False),
                    sa.Column('result', sa.JSON(), nullable=True),
                    sa.ForeignKeyConstraint(['run_pk'], ['shadow_runs.pk'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('pk'))
    op.create_index('ix_shadow_chunks_run_pk', 'shadow_chunks', ['run_pk'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_shadow_chunks_run_pk', table_name='shadow_chunks')
    op.drop_table('shadow_chunks')
    op.drop_table('shadow_runs')
