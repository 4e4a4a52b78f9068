"""inside the EHR (contract §15): registered EHRs, the JWT ids they used, the cards shown and the
clinicians' feedback

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-03 16:40:00

New tables only.
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _pk() -> sa.Column:
    return sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table('ehr_registrations', _pk(),
                    sa.Column('issuer', sa.String(length=255), nullable=False),
                    sa.Column('jwks_url', sa.String(length=1000), nullable=False),
                    sa.Column('fhir_server', sa.String(length=1000), nullable=True),
                    sa.Column('sites', sa.JSON(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint('pk'))
    op.create_index('ix_ehr_registrations_issuer', 'ehr_registrations', ['issuer'], unique=False)
    op.create_table('cds_jtis', _pk(),
                    sa.Column('issuer', sa.String(length=255), nullable=False),
                    sa.Column('jti', sa.String(length=255), nullable=False),
                    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('pk'),
                    sa.UniqueConstraint('issuer', 'jti', name='uq_cds_jtis_issuer_jti'))
    op.create_index('ix_cds_jtis_expires_at', 'cds_jtis', ['expires_at'], unique=False)
    op.create_table('cds_cards', _pk(),
                    sa.Column('uuid', sa.String(length=36), nullable=False),
                    sa.Column('ehr_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
                    sa.Column('patient_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
                    sa.Column('screening_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
                    sa.Column('status', sa.String(length=16), nullable=False),
                    sa.Column('shown_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['ehr_pk'], ['ehr_registrations.pk']),
                    sa.ForeignKeyConstraint(['patient_pk'], ['patients.pk']),
                    sa.PrimaryKeyConstraint('pk'),
                    sa.UniqueConstraint('uuid'))
    op.create_index('ix_cds_cards_patient_pk', 'cds_cards', ['patient_pk'], unique=False)
    op.create_table('cds_feedback', _pk(),
                    sa.Column('card_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
                    sa.Column('outcome', sa.String(length=16), nullable=False),
                    sa.Column('reason', sa.String(length=64), nullable=True),
                    sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['card_pk'], ['cds_cards.pk']),
                    sa.PrimaryKeyConstraint('pk'))
    op.create_index('ix_cds_feedback_card_pk', 'cds_feedback', ['card_pk'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cds_feedback_card_pk', table_name='cds_feedback')
    op.drop_table('cds_feedback')
    op.drop_index('ix_cds_cards_patient_pk', table_name='cds_cards')
    op.drop_table('cds_cards')
    op.drop_index('ix_cds_jtis_expires_at', table_name='cds_jtis')
    op.drop_table('cds_jtis')
    op.drop_index('ix_ehr_registrations_issuer', table_name='ehr_registrations')
    op.drop_table('ehr_registrations')
