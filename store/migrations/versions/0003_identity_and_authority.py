"""identity and authority (contract §13): sites of a token, fact scope, storage-ordered revisions,
identifiers without a system, failed evaluations, server-side page sessions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 13:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

REVISION_STRIDE = 1 << 24
"""Must equal ``store.intake.REVISION_STRIDE``: a fact's revision is its message pk times this, plus
its place in the message."""


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sites', sa.JSON(), nullable=True))
    tokens = sa.table('api_tokens', sa.column('pk', sa.Integer), sa.column('site', sa.String),
                      sa.column('sites', sa.JSON))
    for pk, site in bind.execute(sa.select(tokens.c.pk, tokens.c.site)).all():
        bind.execute(tokens.update().where(tokens.c.pk == pk).values(sites=[site] if site else []))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('sites', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('site')

    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('failure', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('patient_identifiers', schema=None) as batch_op:
        batch_op.alter_column('system', existing_type=sa.String(length=255), nullable=True)
    op.execute("UPDATE patient_identifiers SET system = NULL WHERE system = ''")

    with op.batch_alter_table('facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=500), nullable=True))
    # Revisions were a host's clock plus the sender's meta.versionId; they become storage order. The
    # place of a fact within its message was the last three digits.
    op.execute(f"UPDATE facts SET revision = message_pk * {REVISION_STRIDE} + (revision % 1000)")

    op.create_table('ui_sessions',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('token_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['token_pk'], ['api_tokens.pk'], ),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('id_hash')
    )
    with op.batch_alter_table('ui_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ui_sessions_token_pk'), ['token_pk'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ui_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ui_sessions_token_pk'))
    op.drop_table('ui_sessions')
    with op.batch_alter_table('facts', schema=None) as batch_op:
        batch_op.drop_column('scope')
    op.execute("UPDATE patient_identifiers SET system = '' WHERE system IS NULL")
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('failed_at')
        batch_op.drop_column('failure')
        batch_op.drop_column('failed_seq')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site', sa.String(length=64), nullable=True))
        batch_op.drop_column('sites')
