"""FHIR subscriptions to eligibility changes (contract §16): what FHIR says of a subscription, and its
numbered events

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-03 17:00:00

New tables only: the email and webhook subscriptions stored before are unchanged.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('fhir_subscriptions',
                    sa.Column('pk', _ID, autoincrement=True, nullable=False),
                    sa.Column('subscription_pk', _ID, nullable=False),
                    sa.Column('status', sa.String(length=16), nullable=False),
                    sa.Column('sites', sa.JSON(), nullable=True),
                    sa.Column('statuses', sa.JSON(), nullable=True),
                    sa.Column('filters', sa.JSON(), nullable=False),
                    sa.Column('content', sa.String(length=16), nullable=False),
                    sa.Column('headers', sa.JSON(), nullable=False),
                    sa.Column('heartbeat_seconds', sa.Integer(), nullable=True),
                    sa.Column('reason', sa.String(length=200), nullable=False),
                    sa.Column('last_event_number', sa.BigInteger(), nullable=False),
                    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('error', sa.String(length=200), nullable=True),
                    sa.Column('created_by', sa.String(length=120), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['subscription_pk'], ['subscriptions.pk']),
                    sa.PrimaryKeyConstraint('pk'),
                    sa.UniqueConstraint('subscription_pk'))
    op.create_table('fhir_events',
                    sa.Column('pk', _ID, autoincrement=True, nullable=False),
                    sa.Column('subscription_pk', _ID, nullable=False),
                    sa.Column('event_number', sa.BigInteger(), nullable=False),
                    sa.Column('alert_pk', _ID, nullable=False),
                    sa.Column('focus', sa.String(length=100), nullable=False),
                    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('resource', sa.JSON(), nullable=False),
                    sa.ForeignKeyConstraint(['subscription_pk'], ['subscriptions.pk']),
                    sa.ForeignKeyConstraint(['alert_pk'], ['alerts.pk']),
                    sa.PrimaryKeyConstraint('pk'),
                    sa.UniqueConstraint('subscription_pk', 'event_number', name='uq_fhir_event_number'),
                    sa.UniqueConstraint('subscription_pk', 'alert_pk', name='uq_fhir_event_alert'))
    op.create_index('ix_fhir_events_alert_pk', 'fhir_events', ['alert_pk'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fhir_events_alert_pk', table_name='fhir_events')
    op.drop_table('fhir_events')
    op.drop_table('fhir_subscriptions')
