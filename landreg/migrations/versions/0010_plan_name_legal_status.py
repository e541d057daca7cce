"""plot.plan_name and plot.plan_legal_status from imported plans

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

Issue 11: a plan's ``planstatus`` (1 planlegging igangsatt, 2 planforslag, 3 endelig vedtatt …)
is its legal status, not nåværende/framtidig; investors ask whether a plot's plan is adopted,
so it gets a public field of its own. ``plannavn`` is kept beside ``plan_id``.
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_STATUSES = ("igangsatt", "forslag", "vedtatt", "opphevet", "erstattet",
             "utsatt_rettsvirkning", "overstyrt")


def upgrade():
    op.add_column('plot', sa.Column('plan_name', sa.Text(), nullable=True))
    op.add_column('plot', sa.Column('plan_legal_status', sa.Text(), nullable=True))
    listed = ", ".join(f"'{s}'" for s in _STATUSES)
    op.create_check_constraint(
        op.f('ck_plot_plan_legal_status'), 'plot',
        f"plan_legal_status IS NULL OR plan_legal_status IN ({listed})")


def downgrade():
    op.drop_constraint(op.f('ck_plot_plan_legal_status'), 'plot', type_='check')
    op.drop_column('plot', 'plan_legal_status')
    op.drop_column('plot', 'plan_name')
