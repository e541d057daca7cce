"""Finding 9: a planner of kommune A put up to ~49 % of a plot inside kommune B (a MultiPolygon
part there, or a move that kept the larger part in A). Every part must now lie in the
planner's kommuner, beyond a 1 % border allowance; an admin may place anything."""

from __future__ import annotations

import shapely
from shapely.geometry import MultiPolygon, box, mapping
from sqlalchemy import func, select, text

from landreg.db import get_engine, session_scope
from landreg.models import Plot
from landreg.registry.placement import FOREIGN_TOLERANCE
from tests.helpers import INSIDE, square_25833

SIDE = 400.0


def _border_point(database_url) -> tuple[float, float]:
    """A point on the shared border of Kongsvinger (3401) and Sør-Odal (3415)."""
    sql = text("""
        SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_LineInterpolatePoint(ST_GeometryN(
            ST_LineMerge(ST_CollectionExtract(ST_Intersection(ST_Boundary(a.geom),
                                                              ST_Boundary(b.geom)), 2)), 1),
            0.5) AS p
        FROM municipality a, municipality b
        WHERE a.kommunenummer = '3401' AND b.kommunenummer = '3415') q""")
    with session_scope(get_engine(database_url)) as s:
        x, y = s.execute(sql).one()
    return x, y


def _square_with_share(database_url, share_lo: float, share_hi: float) -> shapely.Polygon:
    """A SIDE×SIDE square across the 3401/3415 border with its Sør-Odal share in range."""
    x, y = _border_point(database_url)
    sql = text("""
        SELECT dx, dy, ST_Area(ST_Intersection(m.geom, ST_MakeEnvelope(
                   :x + dx - :h, :y + dy - :h, :x + dx + :h, :y + dy + :h, 25833)))
               / (4 * :h * :h) AS share
        FROM generate_series(-260, 260, 2) dx, (VALUES (-260), (0), (260)) d(dy),
             municipality m
        WHERE m.kommunenummer = '3415'""")
    with session_scope(get_engine(database_url)) as s:
        rows = s.execute(sql, {"x": x, "y": y, "h": SIDE / 2}).all()
    mid = (share_lo + share_hi) / 2
    dx, dy, share = min((r for r in rows if share_lo < r.share < share_hi),
                        key=lambda r: abs(r.share - mid))
    return box(x + dx - SIDE / 2, y + dy - SIDE / 2, x + dx + SIDE / 2, y + dy + SIDE / 2)


def _feature(geom, name: str) -> dict:
    return {"properties": {"name": name, "arealformal": 1340, "availability": "ledig",
                           "published": False},
            "geometry": mapping(geom), "crs": 25833}


def _count(database_url, name: str) -> int:
    with session_scope(get_engine(database_url)) as s:
        return s.execute(select(func.count()).select_from(Plot).where(Plot.name == name)
                         ).scalar_one()


def test_multipolygon_with_a_part_in_grue_is_refused(logged_in, accounts, database_url):
    kv = logged_in(accounts["kv"])
    from tests.security.conftest import csrf_token

    token = csrf_token(kv)
    geom = MultiPolygon([square_25833(*INSIDE["3401"], 200),
                         square_25833(*INSIDE["3417"], 150)])  # 36 % of it in Grue
    res = kv.post("/api/plots", json=_feature(geom, "Kile inn i Grue"),
                  headers={"X-CSRFToken": token})
    assert res.status_code == 403, res.get_json()
    assert "3417" in str(res.get_json())
    assert _count(database_url, "Kile inn i Grue") == 0  # nothing written


def test_move_leaving_40_percent_in_sor_odal_is_refused(logged_in, accounts, database_url):
    from tests.security.conftest import csrf_token

    kv = logged_in(accounts["kv"])
    token = csrf_token(kv)
    created = kv.post("/api/plots", json=_feature(square_25833(*INSIDE["3401"], 100),
                                                  "Flyttes over grensa"),
                      headers={"X-CSRFToken": token})
    assert created.status_code == 201, created.get_json()
    plot = created.get_json()["plot"]
    moved = _square_with_share(database_url, 0.35, 0.45)
    res = kv.patch(f"/api/plots/{plot['id']}",
                   json={"version": plot["properties"]["version"], "geometry": mapping(moved),
                         "crs": 25833}, headers={"X-CSRFToken": token})
    assert res.status_code == 403, res.get_json()
    assert "3415" in str(res.get_json())
    with session_scope(get_engine(database_url)) as s:
        row = s.get(Plot, plot["id"])
        assert row.version == plot["properties"]["version"]  # unchanged
        assert row.kommunenummer == "3401"


def test_straddling_the_border_within_the_tolerance_is_allowed(logged_in, accounts,
                                                              database_url):
    from tests.security.conftest import csrf_token

    kv = logged_in(accounts["kv"])
    geom = _square_with_share(database_url, FOREIGN_TOLERANCE * 0.2, FOREIGN_TOLERANCE * 0.8)
    res = kv.post("/api/plots", json=_feature(geom, "Litt over grensa"),
                  headers={"X-CSRFToken": csrf_token(kv)})
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["plot"]["properties"]["kommunenummer"] == "3401"


def test_an_admin_may_place_across_the_border(logged_in, accounts, database_url):
    from tests.security.conftest import csrf_token

    admin = logged_in(accounts["admin"])
    geom = _square_with_share(database_url, 0.35, 0.45)
    res = admin.post("/api/plots", json=_feature(geom, "Regional over grensa"),
                     headers={"X-CSRFToken": csrf_token(admin)})
    assert res.status_code == 201, res.get_json()
    assert _count(database_url, "Regional over grensa") == 1
