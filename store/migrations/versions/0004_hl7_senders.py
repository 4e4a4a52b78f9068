"""HL7 v2 over MLLP (contract §6): registered senders, and what a repeated MSH-10 is matched on
(MSH-3, MSH-4 and the acknowledgement code kept with each message)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

NAME_LENGTH = 60


def _first_components(body: str) -> tuple[str | None, str | None]:
    """MSH-3.1 and MSH-4.1 of a stored message's text, by its own delimiters; None when unreadable."""
    text = body.lstrip("\ufeff\r\n\t \x0b")
    if not text.startswith("MSH") or len(text) < 8:
        return None, None
    field_sep, component = text[3], text[4]
    fields = text.split("\r", 1)[0].split("\n", 1)[0].split(field_sep)
    if len(fields) < 4:
        return None, None

    def first(value: str) -> str | None:
        part = value.split(component, 1)[0].strip()
        return part[:NAME_LENGTH] or None

    return first(fields[2]), first(fields[3])


def upgrade() -> None:
    op.create_table('hl7_senders',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('application', sa.String(length=NAME_LENGTH), nullable=False),
    sa.Column('facility', sa.String(length=NAME_LENGTH), nullable=False),
    sa.Column('sites', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    )
    op.create_index('ix_hl7_senders_name', 'hl7_senders', ['application', 'facility'], unique=False)

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hl7_application', sa.String(length=NAME_LENGTH), nullable=True))
        batch_op.add_column(sa.Column('hl7_facility', sa.String(length=NAME_LENGTH), nullable=True))
        batch_op.add_column(sa.Column('ack_code', sa.String(length=2), nullable=True))
    # HL7 messages stored before: their sender from their own MSH, and AA (only accepted messages were
    # ever stored), so a resend of one of them is recognised too.
    bind = op.get_bind()
    messages = sa.table('messages', sa.column('pk', sa.BigInteger), sa.column('channel', sa.String),
                        sa.column('body', sa.Text), sa.column('hl7_application', sa.String),
                        sa.column('hl7_facility', sa.String), sa.column('ack_code', sa.String))
    rows = bind.execute(sa.select(messages.c.pk, messages.c.body).where(messages.c.channel == 'hl7v2')).all()
    for pk, body in rows:
        application, facility = _first_components(body or "")
        bind.execute(messages.update().where(messages.c.pk == pk)
                     .values(hl7_application=application, hl7_facility=facility, ack_code='AA'))
    op.create_index('ix_messages_hl7_control', 'messages', ['hl7_application', 'hl7_facility', 'control_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_messages_hl7_control', table_name='messages')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('ack_code')
        batch_op.drop_column('hl7_facility')
        batch_op.drop_column('hl7_application')
    op.drop_index('ix_hl7_senders_name', table_name='hl7_senders')
    op.drop_table('hl7_senders')
