"""enquiries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

Enquiries (henvendelser) from companies: their needs, their contact data (planners only),
the plots they matched when they were stored, and who handles them.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('enquiry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('company', sa.Text(), nullable=False),
    sa.Column('contact_name', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('profile', sa.Text(), nullable=False),
    sa.Column('min_daa', sa.Float(), nullable=True),
    sa.Column('max_daa', sa.Float(), nullable=True),
    sa.Column('timing', sa.Text(), nullable=True),
    sa.Column('rail_needed', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('power_mw', sa.Float(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Text(), server_default='ny', nullable=False),
    sa.Column('handled_by', sa.Text(), nullable=True),
    sa.Column('matches', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('source_hash', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('ny', 'under_arbeid', 'besvart', 'avsluttet')", name=op.f('ck_enquiry_status')),
    sa.CheckConstraint('consent', name=op.f('ck_enquiry_consent_given')),
    sa.CheckConstraint('email IS NOT NULL OR phone IS NOT NULL', name=op.f('ck_enquiry_has_contact')),
    sa.CheckConstraint('min_daa IS NULL OR max_daa IS NULL OR min_daa <= max_daa', name=op.f('ck_enquiry_area_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enquiry'))
    )
    op.create_index(op.f('ix_enquiry_source_hash'), 'enquiry', ['source_hash'], unique=False)



def downgrade():

    op.drop_index(op.f('ix_enquiry_source_hash'), table_name='enquiry')
    op.drop_table('enquiry')

