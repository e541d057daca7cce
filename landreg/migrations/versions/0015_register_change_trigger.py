"""the register's change counter, moved by the database on every write

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30

The tile caches are keyed by the register's change counter (registry/changes.py). It was a
row of ``rate_limit`` bumped by the registry's and the import's Python code, so a write made
any other way (raw SQL, a future write path that forgets the call) reached a cached tile only
when it expired (60 s). Now the database moves it, in the writing transaction:

- ``register_change``: one row, ``version`` (the counter) and when it last moved.
- A STATEMENT-level trigger on every table whose rows decide what a cached tile shows —
  ``plot`` (outline, name, availability, published flag, the filtered attributes) and the
  reference data the distance filters measure to (``reference_feature``, ``route_target``) —
  on INSERT, UPDATE, DELETE and TRUNCATE notes the transaction in
  ``register_change_pending`` (once: ``ON CONFLICT DO NOTHING`` on the transaction id).
- A deferred constraint trigger on that note bumps ``version`` and removes the note at
  COMMIT. So the counter's row is locked only while the transaction commits, not from its
  first write on (an import that writes for seconds does not hold up every save), and a
  write undone by a rolled-back savepoint takes its note with it.

Readers see the new value exactly when they can see the new rows. The old ``rate_limit`` row
is removed.
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

#: The tables whose changes move the counter.
WATCHED = ("plot", "reference_feature", "route_target")


def upgrade():
    op.create_table(
        'register_change',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('version', sa.BigInteger(), nullable=False, server_default='1'),
        sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint('id = 1', name='register_change_single_row'),
    )
    op.execute("INSERT INTO register_change (id, version) VALUES (1, 1)")
    op.create_table(
        'register_change_pending',
        sa.Column('txid', sa.BigInteger(), primary_key=True),
    )
    op.execute("""
CREATE FUNCTION register_change_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO register_change_pending (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE FUNCTION register_change_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE register_change SET version = version + 1, changed_at = now() WHERE id = 1;
    DELETE FROM register_change_pending WHERE txid = NEW.txid;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER register_change_at_commit
    AFTER INSERT ON register_change_pending DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION register_change_bump();
""")
    for table in WATCHED:
        op.execute(f"CREATE TRIGGER {table}_register_change "
                   f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION register_change_note()")
    op.execute("DELETE FROM rate_limit WHERE key = 'register:changes'")


def downgrade():
    for table in WATCHED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_register_change ON {table}")
    op.execute("DROP TRIGGER IF EXISTS register_change_at_commit ON register_change_pending")
    op.execute("DROP FUNCTION IF EXISTS register_change_bump()")
    op.execute("DROP FUNCTION IF EXISTS register_change_note()")
    op.drop_table('register_change_pending')
    op.drop_table('register_change')
