"""The database schema as SQLAlchemy 2 typed models.

The schema itself is created only by Alembic migrations (``landreg/migrations``); these models
describe it for queries. Geometries are stored in EPSG:25833 (EUREF89 / UTM 33N); ``area_daa``
is a generated column computed by PostGIS from that geometry, so it can never disagree with it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 25833
#: The columns plot_feature_parts() (migration 0014) writes the public feature from.
FEATURE_PARTS_ARGS = (
    "id, external_ref, name, kommunenummer, geom, arealformal, plan_status, plan_id, "
    "plan_name, plan_legal_status, purpose_group, availability, road_access, water_sewer, "
    "power_capacity_mw, ownership, price_nok_m2, max_bya_pct, max_height_m, contact, "
    "description")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

AVAILABILITY = ("ledig", "reservert", "under_forhandling", "solgt", "utbygd", "trukket")
PLAN_STATUS = ("nåværende", "framtidig")
#: The plan's legal status (SOSI planstatus 1–8): proposal, adopted, repealed …
PLAN_LEGAL_STATUS = ("igangsatt", "forslag", "vedtatt", "opphevet", "erstattet",
                     "utsatt_rettsvirkning", "overstyrt")
OWNERSHIP = ("kommunal", "privat", "statlig", "annen")
PURPOSE_GROUPS = (
    "industri", "lager_logistikk", "kontor", "handel", "naering", "kombinert", "annen",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join("'" + v + "'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base with the project's constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Municipality(Base):
    """A kommune, keyed by its 2020– kommunenummer."""

    __tablename__ = "municipality"

    kommunenummer: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kommunenummer_pre2020: Mapped[str | None] = mapped_column(String(4))
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True))

    __table_args__ = (CheckConstraint("kommunenummer ~ '^[0-9]{4}$'", name="kommunenummer_4"),)


class Arealformal(Base):
    """A land-use purpose code (arealformål) and the purpose group it belongs to."""

    __tablename__ = "arealformal"

    code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name_nb: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    system: Mapped[str] = mapped_column(Text)
    purpose_group: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_in("purpose_group", PURPOSE_GROUPS), name="purpose_group"),
        CheckConstraint("system IN ('rp', 'kp', 'rp+kp', 'pbl1985')", name="system"),
    )


class Plot(Base):
    """A business plot (næringsareal): the register's main object."""

    __tablename__ = "plot"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_ref: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    kommunenummer: Mapped[str] = mapped_column(ForeignKey("municipality.kommunenummer"))
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True))
    area_daa: Mapped[float] = mapped_column(
        Float, Computed("ST_Area(geom) / 1000.0", persisted=True)
    )
    arealformal: Mapped[int] = mapped_column(ForeignKey("arealformal.code"))
    plan_status: Mapped[str] = mapped_column(Text)
    plan_id: Mapped[str | None] = mapped_column(Text)
    plan_name: Mapped[str | None] = mapped_column(Text)
    plan_legal_status: Mapped[str | None] = mapped_column(Text)
    purpose_group: Mapped[str] = mapped_column(Text)
    availability: Mapped[str] = mapped_column(Text, server_default="ledig")
    road_access: Mapped[bool | None] = mapped_column(Boolean)
    water_sewer: Mapped[bool | None] = mapped_column(Boolean)
    power_capacity_mw: Mapped[float | None] = mapped_column(Float)
    ownership: Mapped[str | None] = mapped_column(Text)
    price_nok_m2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    max_bya_pct: Mapped[float | None] = mapped_column(Float)
    max_height_m: Mapped[float | None] = mapped_column(Float)
    contact: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    internal_notes: Mapped[str | None] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(Boolean, server_default="false")
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    #: The public feature as the API writes it, kept by PostgreSQL with the row (migration
    #: 0014; read by registry/search.py only, never loaded with the object)
    feature_parts: Mapped[list[str] | None] = mapped_column(
        ARRAY(Text), Computed(f"plot_feature_parts({FEATURE_PARTS_ARGS})", persisted=True),
        deferred=True)
    feature_geojson: Mapped[str | None] = mapped_column(
        Text, Computed("ST_AsGeoJSON(ST_Transform(geom, 4326), 7, 0)", persisted=True),
        deferred=True)

    __table_args__ = (
        CheckConstraint(_in("availability", AVAILABILITY), name="availability"),
        CheckConstraint(_in("plan_status", PLAN_STATUS), name="plan_status"),
        CheckConstraint(
            f"plan_legal_status IS NULL OR {_in('plan_legal_status', PLAN_LEGAL_STATUS)}",
            name="plan_legal_status"),
        CheckConstraint(f"ownership IS NULL OR {_in('ownership', OWNERSHIP)}", name="ownership"),
        CheckConstraint(_in("purpose_group", PURPOSE_GROUPS), name="purpose_group"),
        CheckConstraint("price_nok_m2 IS NULL OR price_nok_m2 >= 0", name="price_nonneg"),
        CheckConstraint(
            "max_bya_pct IS NULL OR (max_bya_pct >= 0 AND max_bya_pct <= 100)", name="bya_pct"
        ),
        CheckConstraint("max_height_m IS NULL OR max_height_m > 0", name="height_pos"),
        CheckConstraint(
            "power_capacity_mw IS NULL OR power_capacity_mw >= 0", name="power_nonneg"
        ),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        CheckConstraint("version >= 1", name="version_pos"),
        Index("ix_plot_kommunenummer", "kommunenummer"),
        Index("ix_plot_availability", "availability"),
        Index("ix_plot_purpose_group", "purpose_group"),
        Index("ix_plot_kommune_name", "kommunenummer", "name", "id"),
        Index("ix_plot_public_purpose_area", "purpose_group", "area_daa",
              postgresql_where=text("published AND availability <> 'trukket'")),
        Index("uq_plot_kommune_external_ref", "kommunenummer", "external_ref", unique=True,
              postgresql_where=text("external_ref IS NOT NULL")),
    )


class PlotVersion(Base):
    """Every version of every plot, written by a trigger on each insert and update."""

    __tablename__ = "plot_version"

    plot_id: Mapped[int] = mapped_column(
        ForeignKey("plot.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attributes: Mapped[dict] = mapped_column(JSONB)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False))
    #: what made the version: "import" (set by the importer), else NULL (an edit)
    source: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_plot_version_import", "plot_id", "changed_at",
              postgresql_where=text("source = 'import'")),
    )


class ReferenceFeature(Base):
    """A feature of a reference layer (roads, rail, stations, rivers …) shown on the maps."""

    __tablename__ = "reference_feature"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    layer: Mapped[str] = mapped_column(Text, index=True)
    name: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    geom: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=True))


ROLES = ("planner", "admin")


class User(Base):
    """A person who logs in: a planner tied to kommuner, or a regional admin."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(Text, unique=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    kommuner: Mapped[list[str]] = mapped_column(ARRAY(String(4)), server_default="{}")
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)


class ApiToken(Base):
    """A token for scripts; only its SHA-256 hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, server_default="false")
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    """A login in a browser: the signed cookie carries a random id, only its SHA-256 is
    stored. Logout, disabling the user or a new password revoke it; idle and absolute
    limits are checked on every request (``landreg/auth/sessions.py``)."""

    __tablename__ = "user_session"

    id_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PlotScore(Base):
    """A plot's suitability for one profile, with its breakdown and what it was made from."""

    __tablename__ = "plot_score"

    plot_id: Mapped[int] = mapped_column(
        ForeignKey("plot.id", ondelete="CASCADE"), primary_key=True
    )
    profile: Mapped[str] = mapped_column(Text, primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    excluded: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list] = mapped_column(JSONB, server_default="[]")
    incomplete: Mapped[bool] = mapped_column(Boolean, server_default="false")
    breakdown: Mapped[list] = mapped_column(JSONB)
    geom_hash: Mapped[str] = mapped_column(Text)
    profile_version: Mapped[str] = mapped_column(Text)
    layers_version: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


ENQUIRY_STATUS = ("ny", "under_arbeid", "besvart", "avsluttet")


class Enquiry(Base):
    """A company's request for land (henvendelse); contact data is for planners only."""

    __tablename__ = "enquiry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    company: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    profile: Mapped[str] = mapped_column(Text)
    min_daa: Mapped[float | None] = mapped_column(Float)
    max_daa: Mapped[float | None] = mapped_column(Float)
    timing: Mapped[str | None] = mapped_column(Text)
    rail_needed: Mapped[bool] = mapped_column(Boolean, server_default="false")
    power_mw: Mapped[float | None] = mapped_column(Float)
    #: "within N minutes' drive of …" (issue 13; a destination of layers/road_network.yaml)
    within_min: Mapped[float | None] = mapped_column(Float)
    within_to: Mapped[str | None] = mapped_column(Text)
    #: "at most N km (straight line) from …" (issue 12; registry/distances.py KINDS)
    road_km: Mapped[float | None] = mapped_column(Float)
    junction_km: Mapped[float | None] = mapped_column(Float)
    rail_km: Mapped[float | None] = mapped_column(Float)
    station_km: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text)
    consent: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(Text, server_default="ny")
    handled_by: Mapped[str | None] = mapped_column(Text)
    matches: Mapped[list] = mapped_column(JSONB, server_default="[]")

    __table_args__ = (
        CheckConstraint(_in("status", ENQUIRY_STATUS), name="status"),
        CheckConstraint("consent", name="consent_given"),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_contact"),
        CheckConstraint("min_daa IS NULL OR max_daa IS NULL OR min_daa <= max_daa",
                        name="area_range"),
    )


class Comparison(Base):
    """A named comparison the planning forum can reopen by its link."""

    __tablename__ = "comparison"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    profile: Mapped[str] = mapped_column(Text)
    weights: Mapped[dict | None] = mapped_column(JSONB)
    plot_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint("cardinality(plot_ids) BETWEEN 2 AND 6", name="two_to_six"),
    )


class RateLimit(Base):
    """A fixed-window hit counter shared by all workers (see ``landreg/ratelimit.py``)."""

    __tablename__ = "rate_limit"
    __table_args__ = (Index("ix_rate_limit_expires_at", "expires_at"),
                      {"prefixes": ["UNLOGGED"]})

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegisterChange(Base):
    """The register's change counter (``registry/changes.py``): one row, bumped at the commit
    of every transaction that wrote ``plot``, ``reference_feature`` or ``route_target``
    (statement triggers, migration 0015)."""

    __tablename__ = "register_change"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default="1")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class RegisterChangePending(Base):
    """A transaction that wrote the register and has not committed yet (migration 0015)."""

    __tablename__ = "register_change_pending"

    txid: Mapped[int] = mapped_column(BigInteger, primary_key=True)


# --- drive times on the road network (issue 13; landreg/routing, migration 0010) -------------
class DistanceSource(Base):
    """The version of the reference data plot distances are measured to: one row, bumped by
    a trigger on every change to ``reference_feature`` or ``route_target`` (migration 0013)."""

    __tablename__ = "distance_source"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default="1")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class PlotDistance(Base):
    """A plot's metres to E16/Rv2, junction, railway and station (registry/distances.py),
    valid while ``plot_version`` and ``source_version`` are the plot's and the reference
    data's current versions."""

    __tablename__ = "plot_distance"

    plot_id: Mapped[int] = mapped_column(ForeignKey("plot.id", ondelete="CASCADE"),
                                         primary_key=True)
    plot_version: Mapped[int] = mapped_column(Integer)
    source_version: Mapped[int] = mapped_column(BigInteger)
    road: Mapped[float | None] = mapped_column(Float)
    junction: Mapped[float | None] = mapped_column(Float)
    rail: Mapped[float | None] = mapped_column(Float)
    station: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())


class RoadNetworkMeta(Base):
    """The version (content hash of YAML + source) of the loaded road network: one row."""

    __tablename__ = "road_network_meta"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                server_default=func.now())


class RoadVertex(Base):
    """A junction of the road network; ``main``: in its largest connected component."""

    __tablename__ = "road_vertex"
    __table_args__ = (Index("ix_road_vertex_main_geom", "geom", postgresql_using="gist",
                            postgresql_where=text("main")),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    main: Mapped[bool] = mapped_column(Boolean)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))


class RoadEdge(Base):
    """A road link: ``cost`` in seconds; ``through`` false for private roads (not routed)."""

    __tablename__ = "road_edge"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[int] = mapped_column(BigInteger)
    target: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[float] = mapped_column(Float)
    length_m: Mapped[float] = mapped_column(Float)
    through: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str] = mapped_column(Text)
    number: Mapped[str] = mapped_column(Text)
    road_type: Mapped[str] = mapped_column(Text)
    motorway: Mapped[str] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("LINESTRING", srid=SRID, spatial_index=False))


class RouteTarget(Base):
    """A point of a drive-time destination, with its vertex and access leg (seconds)."""

    __tablename__ = "route_target"

    target: Mapped[str] = mapped_column(Text, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    vertex_id: Mapped[int] = mapped_column(BigInteger)
    access_s: Mapped[float] = mapped_column(Float)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))


class PlotReach(Base):
    """Minutes from a plot to a destination, with the geometry hash and network version."""

    __tablename__ = "plot_reach"
    __table_args__ = (Index("ix_plot_reach_target_minutes", "target", "minutes"),)

    plot_id: Mapped[int] = mapped_column(ForeignKey("plot.id", ondelete="CASCADE"),
                                         primary_key=True)
    target: Mapped[str] = mapped_column(Text, primary_key=True)
    minutes: Mapped[float | None] = mapped_column(Float)
    geom_hash: Mapped[str] = mapped_column(Text)
    network_version: Mapped[str] = mapped_column(Text)
