"""data protection (contract §17): screening ids, tombstones, purges, and an audit trail that names a
child by its screening id only and can no longer be changed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 17:00:00

Every patient gets a random screening id. Audit rows written before name a child by the EHR's
Patient id (``Patient/{id}`` in ``target``): they are rewritten to its screening id *before* the
trigger that refuses UPDATE and DELETE on ``audit_log`` is created. The confirmations' trigger is
replaced by one that lets a confirmation go only while its child is being erased
(``erasures_under_way``, filled and emptied inside the erasing transaction).
"""
import re
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
AUDIT_IMMUTABLE = "audit rows are never changed or deleted (contract §17)"
CONFIRMATION_IMMUTABLE = "a signed confirmation is never changed or deleted (21 CFR Part 11)"
_PATIENT_TARGET = re.compile(r"^Patient/(?P<id>[^:]*)(?::\s*(?P<rest>.*))?$")


def new_screening_id() -> str:
    return "s-" + secrets.token_hex(6)


def _tables() -> None:
    op.create_table('purges',
    sa.Column('pk', BigId, autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('cutoff', sa.Date(), nullable=False),
    sa.Column('children', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('pk'),
    )
    op.create_table('erased_children',
    sa.Column('pk', BigId, autoincrement=True, nullable=False),
    sa.Column('screening_id', sa.String(length=24), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('erased_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('purge_pk', BigId, nullable=True),
    sa.Column('first_screened_month', sa.String(length=7), nullable=True),
    sa.Column('last_status', sa.String(length=16), nullable=True),
    sa.Column('failing', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['purge_pk'], ['purges.pk']),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('screening_id'),
    )
    op.create_index('ix_erased_children_site', 'erased_children', ['site'])
    op.create_index('ix_erased_children_purge_pk', 'erased_children', ['purge_pk'])
    op.create_table('tombstone_keys',
    sa.Column('pk', BigId, autoincrement=True, nullable=False),
    sa.Column('erased_pk', BigId, nullable=False),
    sa.Column('chain', sa.String(length=200), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['erased_pk'], ['erased_children.pk']),
    sa.PrimaryKeyConstraint('pk'),
    )
    op.create_index('ix_tombstone_keys_erased_pk', 'tombstone_keys', ['erased_pk'])
    op.create_index('ix_tombstone_keys_digest', 'tombstone_keys', ['digest', 'chain'])
    op.create_table('erasures_under_way',
    sa.Column('patient_pk', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('patient_pk'),
    )


def _screening_ids(bind) -> dict[str, str]:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screening_id', sa.String(length=24), nullable=True))
        batch_op.create_unique_constraint('uq_patients_screening_id', ['screening_id'])
    ids = {}
    for pk, pid in bind.execute(sa.text("SELECT pk, id FROM patients")).all():
        sid = new_screening_id()
        bind.execute(sa.text("UPDATE patients SET screening_id = :sid WHERE pk = :pk"), {"sid": sid, "pk": pk})
        ids[pid] = sid
    return ids


def _audit(bind, ids: dict[str, str]) -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('token_pk', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('screening_id', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_audit_log_screening_id', ['screening_id'])
    rows = bind.execute(sa.text("SELECT pk, target FROM audit_log WHERE target LIKE 'Patient/%'")).all()
    for pk, target in rows:
        found = _PATIENT_TARGET.match(target)
        rest = found.group("rest") if found else None
        bind.execute(sa.text("UPDATE audit_log SET screening_id = :sid, target = :target WHERE pk = :pk"),
                     {"sid": ids.get(found.group("id")) if found else None,
                      "target": f"site {rest}" if rest else None, "pk": pk})


def _triggers(dialect: str) -> None:
    if dialect == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION myocit_audit_immutable() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{AUDIT_IMMUTABLE}';
            END;
            $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER audit_immutable BEFORE UPDATE OR DELETE ON audit_log
                      FOR EACH ROW EXECUTE FUNCTION myocit_audit_immutable()""")
        op.execute("""CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_log
                      FOR EACH STATEMENT EXECUTE FUNCTION myocit_audit_immutable()""")
        op.execute(f"""
            CREATE OR REPLACE FUNCTION myocit_confirmations_immutable() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM erasures_under_way
                                                WHERE patient_pk = OLD.patient_pk) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION '{CONFIRMATION_IMMUTABLE}';
            END;
            $$ LANGUAGE plpgsql""")
    elif dialect == 'sqlite':
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"""CREATE TRIGGER audit_no_{event.lower()} BEFORE {event} ON audit_log
                           BEGIN SELECT RAISE(ABORT, '{AUDIT_IMMUTABLE}'); END""")
        op.execute("DROP TRIGGER IF EXISTS confirmations_no_delete")
        op.execute(f"""CREATE TRIGGER confirmations_no_delete BEFORE DELETE ON confirmations
                       WHEN NOT EXISTS (SELECT 1 FROM erasures_under_way WHERE patient_pk = OLD.patient_pk)
                       BEGIN SELECT RAISE(ABORT, '{CONFIRMATION_IMMUTABLE}'); END""")


def upgrade() -> None:
    bind = op.get_bind()
    _tables()
    ids = _screening_ids(bind)
    _audit(bind, ids)
    _triggers(bind.dialect.name)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_immutable ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS myocit_audit_immutable()")
        op.execute(f"""
            CREATE OR REPLACE FUNCTION myocit_confirmations_immutable() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{CONFIRMATION_IMMUTABLE}';
            END;
            $$ LANGUAGE plpgsql""")
    elif dialect == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS audit_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        op.execute("DROP TRIGGER IF EXISTS confirmations_no_delete")
        op.execute(f"""CREATE TRIGGER confirmations_no_delete BEFORE DELETE ON confirmations
                       BEGIN SELECT RAISE(ABORT, '{CONFIRMATION_IMMUTABLE}'); END""")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_screening_id')
        batch_op.drop_column('outcome')
        batch_op.drop_column('screening_id')
        batch_op.drop_column('token_pk')
        batch_op.drop_column('role')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_constraint('uq_patients_screening_id', type_='unique')
        batch_op.drop_column('screening_id')
    op.drop_table('erasures_under_way')
    op.drop_index('ix_tombstone_keys_digest', table_name='tombstone_keys')
    op.drop_index('ix_tombstone_keys_erased_pk', table_name='tombstone_keys')
    op.drop_table('tombstone_keys')
    op.drop_index('ix_erased_children_purge_pk', table_name='erased_children')
    op.drop_index('ix_erased_children_site', table_name='erased_children')
    op.drop_table('erased_children')
    op.drop_table('purges')
