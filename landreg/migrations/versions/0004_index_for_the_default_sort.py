"""index for the default sort

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

The default listing order (kommune, name) served from an index, so a page of 100 plots
stops reading after about 100 matching rows instead of sorting every match.
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():

    op.create_index('ix_plot_kommune_name', 'plot', ['kommunenummer', 'name', 'id'], unique=False)



def downgrade():

    op.drop_index('ix_plot_kommune_name', table_name='plot')

