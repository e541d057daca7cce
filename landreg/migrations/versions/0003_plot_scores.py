"""plot scores

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Suitability scores per plot and profile, with the geometry hash and the layer and profile
versions they were computed from, so stale scores can be found and recomputed.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('plot_score',
    sa.Column('plot_id', sa.BigInteger(), nullable=False),
    sa.Column('profile', sa.Text(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('incomplete', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('breakdown', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('geom_hash', sa.Text(), nullable=False),
    sa.Column('profile_version', sa.Text(), nullable=False),
    sa.Column('layers_version', sa.Text(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['plot_id'], ['plot.id'], name=op.f('fk_plot_score_plot_id_plot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plot_id', 'profile', name=op.f('pk_plot_score'))
    )



def downgrade():

    op.drop_table('plot_score')

