"""signing in through the hospital's OpenID provider (contract §14): group mappings, sign-ins under
way, and page sessions that name a person instead of a token

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:30:00

New tables, and new nullable columns on ui_sessions: the sessions stored before keep their token.
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
    op.create_table('oidc_logins',
                    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                              nullable=False),
                    sa.Column('state_hash', sa.String(length=64), nullable=False),
                    sa.Column('browser_hash', sa.String(length=64), nullable=False),
                    sa.Column('nonce', sa.String(length=64), nullable=False),
                    sa.Column('code_verifier', sa.String(length=128), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('purpose', sa.String(length=16), nullable=True),
                    sa.Column('session_hash', sa.String(length=64), nullable=True),
                    sa.Column('signing', sa.JSON(), nullable=True),
                    sa.PrimaryKeyConstraint('pk'),
                    sa.UniqueConstraint('state_hash'))
    with op.batch_alter_table('ui_sessions', schema=None) as batch_op:
        batch_op.alter_column('token_pk', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True)
        batch_op.add_column(sa.Column('issuer', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('subject', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('person_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('role', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('sites', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('mapping_pks', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('id_token', sa.Text(), nullable=True))
    _confirmations_signed_by_a_person()


IMMUTABLE = "a signed confirmation is never changed or deleted (21 CFR Part 11)"


def _confirmations_signed_by_a_person() -> None:
    """A confirmation names its signer by the provider's issuer, sub and auth_time when the provider
    re-authenticated them, and then has no token. SQLite changes a column's nullability only by
    rebuilding the table, which drops its triggers: they are made again, the same as 0005's."""
    bigint = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('confirmations', recreate='always') as batch_op:
            batch_op.alter_column('token_pk', existing_type=bigint, nullable=True)
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"""
                CREATE TRIGGER IF NOT EXISTS confirmations_no_{event.lower()} BEFORE {event} ON confirmations
                BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END""")
    else:
        op.alter_column('confirmations', 'token_pk', existing_type=bigint, nullable=True)
    op.add_column('confirmations', sa.Column('signer_issuer', sa.String(length=255), nullable=True))
    op.add_column('confirmations', sa.Column('signer_subject', sa.String(length=255), nullable=True))
    op.add_column('confirmations', sa.Column('auth_time', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Confirmations keep their new columns: a signature is never changed (21 CFR Part 11)."""
    op.execute("DELETE FROM ui_sessions WHERE token_pk IS NULL")
    with op.batch_alter_table('ui_sessions', schema=None) as batch_op:
        for column in ('id_token', 'mapping_pks', 'sites', 'role', 'person_name', 'subject', 'issuer'):
            batch_op.drop_column(column)
        batch_op.alter_column('token_pk', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False)
    op.drop_table('oidc_logins')
    op.drop_index('ix_access_mappings_group_name', table_name='access_mappings')
    op.drop_table('access_mappings')
