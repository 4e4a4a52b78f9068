"""a stored protocol activation keeps its criteria's names and sentences (criteria.yaml) with its files

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-03 14:00:00

Activations stored before criteria.yaml existed kept only protocol.yaml and the code lists: the loader
now refuses a version without it, so each gets the wording the shipped version 2026-11 gives (the
criterion ids are the contract's, the same in every version).
"""
from pathlib import Path

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None

WORDING = Path(__file__).resolve().parents[3] / "config" / "protocols" / "myocit-2026-11" / "criteria.yaml"


def upgrade() -> None:
    activations = sa.table('protocol_activations', sa.column('pk', sa.BigInteger), sa.column('files', sa.JSON))
    bind = op.get_bind()
    text = WORDING.read_text(encoding="utf-8")
    for pk, files in bind.execute(sa.select(activations.c.pk, activations.c.files)).all():
        if "criteria.yaml" not in (files or {}):
            bind.execute(activations.update().where(activations.c.pk == pk)
                         .values(files={**(files or {}), "criteria.yaml": text}))


def downgrade() -> None:
    """The wording file stays: older code reads only the files it knows."""
