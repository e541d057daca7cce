"""rate limit counters

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

Fixed-window counters shared by all worker processes (landreg/ratelimit.py): login throttling,
enquiries and the expensive public endpoints. UNLOGGED: they are worth nothing after a crash.
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        CREATE UNLOGGED TABLE rate_limit (
            key text NOT NULL,
            window_start timestamptz NOT NULL,
            hits integer NOT NULL,
            expires_at timestamptz NOT NULL,
            CONSTRAINT pk_rate_limit PRIMARY KEY (key, window_start)
        )
    """)
    op.execute("CREATE INDEX ix_rate_limit_expires_at ON rate_limit (expires_at)")


def downgrade():
    op.drop_table('rate_limit')
