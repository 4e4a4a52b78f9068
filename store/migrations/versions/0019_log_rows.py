"""the screening log's maintained rows: one line per child (contract §8), kept by the store in the
transaction that stores a screening, an outcome or a confirmation

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 18:00:00

The table is filled from the screenings, outcomes and confirmations stored before, a thousand children
at a time.
"""
from datetime import timezone

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
CHUNK = 1000


def upgrade() -> None:
    op.create_table('log_rows',
                    sa.Column('patient_pk', BIG_ID, autoincrement=False, nullable=False),
                    sa.Column('first_screened', sa.Date(), nullable=True),
                    sa.Column('last_screening_pk', sa.BigInteger(), nullable=True),
                    sa.Column('status', sa.String(length=16), nullable=True),
                    sa.Column('status_since', sa.Date(), nullable=True),
                    sa.Column('failing', sa.Text(), nullable=True),
                    sa.Column('missing', sa.Text(), nullable=True),
                    sa.Column('review', sa.Text(), nullable=True),
                    sa.Column('eligible_from', sa.Date(), nullable=True),
                    sa.Column('eligible_until', sa.Date(), nullable=True),
                    sa.Column('protocol_version', sa.String(length=32), nullable=True),
                    sa.Column('outcome', sa.String(length=16), nullable=True),
                    sa.Column('outcome_date', sa.Date(), nullable=True),
                    sa.Column('confirmed_at', sa.String(length=40), nullable=True),
                    sa.ForeignKeyConstraint(['patient_pk'], ['patients.pk']),
                    sa.PrimaryKeyConstraint('patient_pk'))
    op.create_index('ix_log_rows_first_screened', 'log_rows', ['first_screened'], unique=False)
    _fill(op.get_bind())


def _tables():
    meta = sa.MetaData()
    screenings = sa.Table('screenings', meta, sa.Column('pk', sa.BigInteger), sa.Column('patient_pk', sa.BigInteger),
                          sa.Column('as_of', sa.Date), sa.Column('status', sa.String),
                          sa.Column('result', sa.JSON), sa.Column('eligible_from', sa.Date),
                          sa.Column('eligible_until', sa.Date), sa.Column('protocol_version', sa.String))
    outcomes = sa.Table('screening_outcomes', meta, sa.Column('pk', sa.BigInteger),
                        sa.Column('patient_pk', sa.BigInteger), sa.Column('outcome', sa.String),
                        sa.Column('recorded_on', sa.Date))
    confirmations = sa.Table('confirmations', meta, sa.Column('pk', sa.BigInteger),
                             sa.Column('patient_pk', sa.BigInteger), sa.Column('screening_pk', sa.BigInteger),
                             sa.Column('signed_at', sa.DateTime(timezone=True)))
    log_rows = sa.Table('log_rows', meta, *(sa.Column(name) for name in (
        'patient_pk', 'first_screened', 'last_screening_pk', 'status', 'status_since', 'failing', 'missing', 'review',
        'eligible_from',
        'eligible_until', 'protocol_version', 'outcome', 'outcome_date', 'confirmed_at')))
    return screenings, outcomes, confirmations, log_rows


def _blank(patient_pk):
    return {'patient_pk': patient_pk, 'first_screened': None, 'last_screening_pk': None, 'status': None,
            'status_since': None, 'failing': None, 'missing': None, 'review': None, 'eligible_from': None, 'eligible_until': None,
            'protocol_version': None, 'outcome': None, 'outcome_date': None, 'confirmed_at': None}


def _shown(moment):
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def _chunk(bind, tables, low, high):
    """The rows of the children whose pk is in [low, high)."""
    screenings, outcomes, confirmations, _ = tables
    rows, history = {}, {}
    columns = [c for c in screenings.c if c.name != 'result']
    for s in bind.execute(sa.select(*columns).where(screenings.c.patient_pk >= low, screenings.c.patient_pk < high)
                          .order_by(screenings.c.pk)):
        history.setdefault(s.patient_pk, []).append((s.pk, s.as_of, s.status))
        row = rows.setdefault(s.patient_pk, _blank(s.patient_pk) | {'first_screened': s.as_of})
        if row['status'] != s.status:
            row['status_since'] = s.as_of
        row.update(last_screening_pk=s.pk, status=s.status, eligible_from=s.eligible_from,
                   eligible_until=s.eligible_until, protocol_version=s.protocol_version)
    latest = {row['last_screening_pk']: row for row in rows.values() if row['last_screening_pk'] is not None}
    for pk, result in bind.execute(sa.select(screenings.c.pk, screenings.c.result)
                                   .where(screenings.c.pk.in_(sorted(latest)))):
        criteria = (result or {}).get('criteria', [])
        latest[pk].update({column: ';'.join(c.get('id', '') for c in criteria if c.get('verdict') == kind)
                           for column, kind in (('failing', 'fail'), ('missing', 'unknown'), ('review', 'review'))})
    for o in bind.execute(sa.select(outcomes).where(outcomes.c.patient_pk >= low, outcomes.c.patient_pk < high)
                          .order_by(outcomes.c.pk)):
        rows.setdefault(o.patient_pk, _blank(o.patient_pk)).update(outcome=o.outcome, outcome_date=o.recorded_on)
    for c in bind.execute(sa.select(confirmations).where(confirmations.c.patient_pk >= low,
                                                         confirmations.c.patient_pk < high)
                          .order_by(confirmations.c.pk)):
        overturned = any(pk > c.screening_pk and status != 'eligible' for pk, _, status in history.get(c.patient_pk, []))
        if not overturned:
            rows.setdefault(c.patient_pk, _blank(c.patient_pk))['confirmed_at'] = _shown(c.signed_at)
    return list(rows.values())


def _fill(bind) -> None:
    tables = _tables()
    top = bind.execute(sa.text('SELECT max(pk) FROM patients')).scalar() or 0
    for low in range(0, top + 1, CHUNK):
        rows = _chunk(bind, tables, low, low + CHUNK)
        if rows:
            bind.execute(tables[3].insert(), rows)


def downgrade() -> None:
    op.drop_index('ix_log_rows_first_screened', table_name='log_rows')
    op.drop_table('log_rows')
