"""server-side sessions, API token expiry, no account lockout

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Security review (issue 9):
- ``user_session``: a login is a row (SHA-256 of the random id the signed cookie carries), so
  logout and disabling a user end it on the server, and idle/absolute limits are enforced.
- ``api_token.expires_at``: tokens expire (default 90 days); existing tokens get 90 days from
  now so no script breaks on the day of the upgrade.
- ``app_user.failed_logins`` / ``locked_until`` go: the per-account lockout let anyone lock
  anyone out; login failures are now throttled per source in ``rate_limit``.
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_session',
    sa.Column('id_hash', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'],
                            name=op.f('fk_user_session_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_user_session'))
    )
    op.create_index(op.f('ix_user_session_user_id'), 'user_session', ['user_id'])
    op.add_column('api_token', sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE api_token SET expires_at = now() + interval '90 days'")
    op.alter_column('api_token', 'expires_at', nullable=False)
    op.drop_column('app_user', 'locked_until')
    op.drop_column('app_user', 'failed_logins')
    op.drop_index('ix_enquiry_source_hash', table_name='enquiry')
    op.drop_column('enquiry', 'source_hash')


def downgrade():
    op.add_column('enquiry', sa.Column('source_hash', sa.Text(), nullable=True))
    op.create_index('ix_enquiry_source_hash', 'enquiry', ['source_hash'])
    op.add_column('app_user', sa.Column('failed_logins', sa.Integer(), server_default='0',
                                        nullable=False))
    op.add_column('app_user', sa.Column('locked_until', sa.DateTime(timezone=True),
                                        nullable=True))
    op.drop_column('api_token', 'expires_at')
    op.drop_index(op.f('ix_user_session_user_id'), table_name='user_session')
    op.drop_table('user_session')
