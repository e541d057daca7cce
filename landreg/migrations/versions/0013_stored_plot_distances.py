"""stored plot distances; enquiry distance needs

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

Issues 10 and 12:
- ``plot_distance``: each plot's metres to E16/Rv2, the nearest E16/Rv2 junction, the railway
  and the nearest station (registry/distances.py), with the plot version and the reference
  data version they were computed from. Searches read these instead of four nearest-neighbour
  lookups per plot; a row whose versions are not current is ignored (the distance is then
  computed as before), so a stored distance can be late, never wrong.
- ``distance_source``: one row, the version of the reference data distances are measured to.
  A statement trigger on ``reference_feature`` and ``route_target`` bumps it in the same
  transaction as any change to them (reload, edit, TRUNCATE), so every stored row becomes
  stale by the database's own doing, whoever changes the layers.
- ``enquiry.road_km`` / ``junction_km`` / ``rail_km`` / ``station_km``: an enquiry's distance
  needs ("at most N km from …"), stored with it so planners see what was asked.
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

KINDS = ("road", "junction", "rail", "station")


def upgrade():
    op.create_table(
        'distance_source',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('version', sa.BigInteger(), nullable=False, server_default='1'),
        sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint('id = 1', name='distance_source_single_row'),
    )
    op.execute("INSERT INTO distance_source (id, version) VALUES (1, 1)")
    op.create_table(
        'plot_distance',
        sa.Column('plot_id', sa.BigInteger(), sa.ForeignKey('plot.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('plot_version', sa.Integer(), nullable=False),
        sa.Column('source_version', sa.BigInteger(), nullable=False),
        *[sa.Column(k, sa.Float(), nullable=True) for k in KINDS],
        sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
    )
    op.execute("""
CREATE FUNCTION distance_source_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE distance_source SET version = version + 1, changed_at = now() WHERE id = 1;
    RETURN NULL;
END $$;
CREATE TRIGGER reference_feature_distance_source
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON reference_feature
    FOR EACH STATEMENT EXECUTE FUNCTION distance_source_bump();
CREATE TRIGGER route_target_distance_source
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON route_target
    FOR EACH STATEMENT EXECUTE FUNCTION distance_source_bump();
""")
    for k in KINDS:
        op.add_column('enquiry', sa.Column(f'{k}_km', sa.Float(), nullable=True))


def downgrade():
    for k in KINDS:
        op.drop_column('enquiry', f'{k}_km')
    op.execute("DROP TRIGGER IF EXISTS route_target_distance_source ON route_target")
    op.execute("DROP TRIGGER IF EXISTS reference_feature_distance_source ON reference_feature")
    op.execute("DROP FUNCTION IF EXISTS distance_source_bump()")
    op.drop_table('plot_distance')
    op.drop_table('distance_source')
