"""screening log and the investigator's confirmation (contract §8, §9)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
IMMUTABLE = "a signed confirmation is never changed or deleted (21 CFR Part 11)"


def upgrade() -> None:
    op.create_table('screening_outcomes',
    sa.Column('pk', BigId, autoincrement=True, nullable=False),
    sa.Column('patient_pk', BigId, nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['patient_pk'], ['patients.pk']),
    sa.PrimaryKeyConstraint('pk'),
    )
    op.create_index('ix_screening_outcomes_patient_pk', 'screening_outcomes', ['patient_pk'], unique=False)

    op.create_table('confirmations',
    sa.Column('pk', BigId, autoincrement=True, nullable=False),
    sa.Column('patient_pk', BigId, nullable=False),
    sa.Column('screening_pk', BigId, nullable=False),
    sa.Column('token_pk', BigId, nullable=False),
    sa.Column('signer_name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('meaning', sa.Text(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('protocol_version', sa.String(length=32), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['patient_pk'], ['patients.pk']),
    sa.ForeignKeyConstraint(['screening_pk'], ['screenings.pk']),
    sa.ForeignKeyConstraint(['token_pk'], ['api_tokens.pk']),
    sa.PrimaryKeyConstraint('pk'),
    )
    op.create_index('ix_confirmations_patient_pk', 'confirmations', ['patient_pk'], unique=False)

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed', sa.Boolean(), nullable=False, server_default=sa.false()))

    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION myocit_confirmations_immutable() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{IMMUTABLE}';
            END;
            $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER confirmations_immutable BEFORE UPDATE OR DELETE ON confirmations
            FOR EACH ROW EXECUTE FUNCTION myocit_confirmations_immutable()""")
        op.execute("""
            CREATE TRIGGER confirmations_no_truncate BEFORE TRUNCATE ON confirmations
            FOR EACH STATEMENT EXECUTE FUNCTION myocit_confirmations_immutable()""")
    elif dialect == 'sqlite':
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"""
                CREATE TRIGGER confirmations_no_{event.lower()} BEFORE {event} ON confirmations
                BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END""")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS confirmations_no_truncate ON confirmations")
        op.execute("DROP TRIGGER IF EXISTS confirmations_immutable ON confirmations")
        op.execute("DROP FUNCTION IF EXISTS myocit_confirmations_immutable()")
    elif dialect == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS confirmations_no_update")
        op.execute("DROP TRIGGER IF EXISTS confirmations_no_delete")
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('confirmed')
    op.drop_index('ix_confirmations_patient_pk', table_name='confirmations')
    op.drop_table('confirmations')
    op.drop_index('ix_screening_outcomes_patient_pk', table_name='screening_outcomes')
    op.drop_table('screening_outcomes')
