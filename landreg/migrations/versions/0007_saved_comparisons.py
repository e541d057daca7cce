"""saved comparisons

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

Named comparisons the planning forum saves and reopens by link.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('comparison',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('profile', sa.Text(), nullable=False),
    sa.Column('weights', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('plot_ids', postgresql.ARRAY(sa.BigInteger()), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('cardinality(plot_ids) BETWEEN 2 AND 6', name=op.f('ck_comparison_two_to_six')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comparison'))
    )



def downgrade():

    op.drop_table('comparison')

