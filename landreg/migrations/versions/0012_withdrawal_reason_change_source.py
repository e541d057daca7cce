"""plot.withdrawn_reason and plot_version.source

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

Issue 12 (planners):
- ``plot.withdrawn_reason``: why a plot was withdrawn, asked for when withdrawing and cleared
  when the withdrawal is undone. A column of its own (not a line appended to the internal
  notes) so it can be shown, and the history trigger keeps it in every version.
- ``plot_version.source``: what made a version (``import`` for the importer; NULL for an
  edit). The importer sets the transaction-local setting ``landreg.change_source``; the
  history trigger records it, so "Mine tomter" can list what an import brought in, whoever
  ran it and however it was run (web or command line).
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _record_version(with_source: bool) -> str:
    """The history trigger's function (of 0001), with or without ``source``."""
    column = ", source" if with_source else ""
    value = ", NULLIF(current_setting('landreg.change_source', true), '')" if with_source else ""
    return (
        "CREATE OR REPLACE FUNCTION plot_record_version() "  # noqa: S608 - constant SQL
        "RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "    INSERT INTO plot_version (plot_id, version, operation, changed_by, changed_at, "
        f"attributes, geom{column})\n"
        "    VALUES (NEW.id, NEW.version, lower(TG_OP), NEW.updated_by, NEW.updated_at, "
        f"to_jsonb(NEW) - 'geom', NEW.geom{value});\n"
        "    RETURN NULL;\n"
        "END $$;")


def upgrade():
    op.add_column('plot', sa.Column('withdrawn_reason', sa.Text(), nullable=True))
    op.add_column('plot_version', sa.Column('source', sa.Text(), nullable=True))
    op.create_index('ix_plot_version_import', 'plot_version', ['plot_id', 'changed_at'],
                    postgresql_where=sa.text("source = 'import'"))
    op.execute(_record_version(with_source=True))


def downgrade():
    op.execute(_record_version(with_source=False))
    op.drop_index('ix_plot_version_import', table_name='plot_version')
    op.drop_column('plot_version', 'source')
    op.drop_column('plot', 'withdrawn_reason')
