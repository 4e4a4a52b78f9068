"""what the database guarantees at intake: one stored message per body and per HL7 sender and MSH-10,
identifier systems bound to sites, HL7 senders bound to addresses and certificates (contract §6, §13)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SEPARATOR = "\x1f"
"""Must equal ``store.intake.CONTROL_KEY_SEPARATOR``."""


def _keep_first_copies() -> None:
    """The earliest message of each body, and of each HL7 sender and MSH-10, takes the key; copies
    stored by the races this migration closes keep theirs empty (they stay, with their facts)."""
    messages = sa.table('messages', sa.column('pk', sa.BigInteger), sa.column('sha256', sa.String),
                        sa.column('body_key', sa.String), sa.column('control_key', sa.String),
                        sa.column('sender', sa.String), sa.column('hl7_application', sa.String),
                        sa.column('hl7_facility', sa.String), sa.column('control_id', sa.String))
    bind = op.get_bind()
    first_of_body = sa.select(sa.func.min(messages.c.pk)).group_by(messages.c.sha256)
    bind.execute(messages.update().where(messages.c.pk.in_(first_of_body)).values(body_key=messages.c.sha256))
    sent = sa.and_(messages.c.sender.is_not(None), messages.c.hl7_application.is_not(None),
                   messages.c.hl7_facility.is_not(None), messages.c.control_id.is_not(None),
                   messages.c.control_id != "")
    first_of_control = (sa.select(sa.func.min(messages.c.pk)).where(sent)
                        .group_by(messages.c.sender, messages.c.hl7_application, messages.c.hl7_facility,
                                  messages.c.control_id))
    sep = sa.literal(SEPARATOR)
    key = (messages.c.sender + sep + messages.c.hl7_application + sep + messages.c.hl7_facility + sep
           + messages.c.control_id)
    bind.execute(messages.update().where(messages.c.pk.in_(first_of_control)).values(control_key=key))


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('control_key', sa.String(length=400), nullable=True))
    _keep_first_copies()
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('uq_messages_body_key', ['body_key'], unique=True)
        batch_op.create_index('uq_messages_control_key', ['control_key'], unique=True)
    with op.batch_alter_table('hl7_senders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('addresses', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('certificates', sa.JSON(), nullable=True))
    op.create_table('site_identifier_systems',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('system', sa.String(length=255), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('system', 'site', name='uq_site_identifier_system'),
    )
    op.create_index('ix_site_identifier_systems_system', 'site_identifier_systems', ['system'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_site_identifier_systems_system', table_name='site_identifier_systems')
    op.drop_table('site_identifier_systems')
    with op.batch_alter_table('hl7_senders', schema=None) as batch_op:
        batch_op.drop_column('certificates')
        batch_op.drop_column('addresses')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('uq_messages_control_key')
        batch_op.drop_index('uq_messages_body_key')
        batch_op.drop_column('control_key')
        batch_op.drop_column('body_key')
