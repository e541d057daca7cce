"""A fictitious, deterministic set of business plots for the demo region.

Nothing here is a real plan: every name ends in "(fiktiv)", contacts use the ``.example``
domain. The plots are placed where business land really lies in Glåmdalen — around the real
town and village points of N1000 and along E16, Rv2 and the railways — inside their kommune,
clear of lakes and the Glomma, and not overlapping each other. The same seed always gives the
same plots (numpy's ``default_rng``; kommuner and towns are processed in sorted order).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.strtree import STRtree

#: Towns with business land per kommune (N1000 place names) and how many plots each gets.
TOWNS: dict[str, dict[str, int]] = {
    "3401": {"Kongsvinger": 12, "Roverud": 4, "Brandval": 3, "Lundersæter": 1},
    "3414": {"Sand": 8},
    "3415": {"Skarnes": 10, "Sander": 4, "Disenå": 3},
    "3416": {"Skotterud": 7, "Magnor": 5, "Matrand": 2},
    "3417": {"Kirkenær": 8},
    "3418": {"Flisa": 8, "Kjellmyra": 3},
    "3419": {"Våler": 7, "Braskereidfoss": 3},
}
#: Extra plots along E16 / Rv2 / the railway per kommune, away from the towns.
CORRIDOR_PLOTS = {"3401": 3, "3414": 1, "3415": 3, "3416": 1, "3417": 2, "3418": 1, "3419": 1}
CONTACTS = {
    "3401": "naering@kongsvinger.kommune.example", "3414": "naering@nord-odal.kommune.example",
    "3415": "naering@sor-odal.kommune.example", "3416": "naering@eidskog.kommune.example",
    "3417": "naering@grue.kommune.example", "3418": "naering@asnes.kommune.example",
    "3419": "naering@valer-i.kommune.example",
}
# (code, weight, kind) — kind steers size, place and readiness.
CODES = [
    (1300, 14, "naering"), (1340, 14, "industri"), (1350, 9, "lager"), (1826, 10, "industri"),
    (1811, 6, "kombinert"), (1825, 6, "lager"), (1310, 5, "kontor"), (1390, 4, "naering"),
    (1360, 3, "vegservice"), (1150, 3, "handel"), (1130, 2, "sentrum"), (130, 3, "naering"),
    (133, 3, "industri"), (134, 2, "lager"), (1800, 4, "kombinert"),
]
PREFIX = {"industri": "Industriområde", "lager": "Logistikkområde", "kontor": "Kontortomt",
          "handel": "Handelstomt", "sentrum": "Sentrumstomt", "kombinert": "Næringspark",
          "vegservice": "Vegservice", "naering": "Næringsområde"}
PURPOSE_WORDS = {"industri": "industri", "lager": "lager og logistikk", "kontor": "kontor",
                 "handel": "forretning", "sentrum": "sentrumsformål",
                 "kombinert": "kombinert formål", "vegservice": "vegservice",
                 "naering": "næringsbebyggelse"}
SUFFIX = ["nord", "sør", "øst", "vest", "I", "II", "III", "sentrum", "stasjon", "moen", "jordet",
          "haugen", "bakken", "sletta", "vangen", "tangen", "skogen", "dalen"]


def _read(gpkg: Path, layer: str) -> gpd.GeoDataFrame:
    return gpd.read_file(gpkg, layer=layer).to_crs(25833)


def _rect(cx: float, cy: float, area_m2: float, aspect: float, angle: float) -> Polygon:
    w = math.sqrt(area_m2 * aspect)
    h = area_m2 / w
    pts = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    c, s = math.cos(angle), math.sin(angle)
    rot = pts @ np.array([[c, s], [-s, c]])
    return Polygon(np.round(rot + [cx, cy], 1))


def _l_shape(cx: float, cy: float, area_m2: float, angle: float) -> Polygon:
    a = math.sqrt(area_m2 / 3.0)  # three a×a squares in an L
    pts = np.array([[0, 0], [2 * a, 0], [2 * a, a], [a, a], [a, 2 * a], [0, 2 * a]]) - a
    c, s = math.cos(angle), math.sin(angle)
    return Polygon(np.round(pts @ np.array([[c, s], [-s, c]]) + [cx, cy], 1))


def _size_daa(rng: np.random.Generator, kind: str) -> float:
    if kind in ("kontor", "handel", "sentrum", "vegservice"):
        return float(np.clip(rng.lognormal(math.log(8), 0.6), 2, 40))
    r = rng.random()
    if r < 0.6:
        return float(rng.uniform(5, 50))
    if r < 0.9:
        return float(rng.uniform(50, 150))
    return float(rng.uniform(150, 300))


def _road_angle(point: shapely.Point, roads: gpd.GeoDataFrame, tree: STRtree) -> float:
    idx = tree.nearest(point)
    line = roads.geometry.iloc[idx]
    d = line.project(point)
    p0 = line.interpolate(max(d - 50, 0))
    p1 = line.interpolate(min(d + 50, line.length))
    return math.atan2(p1.y - p0.y, p1.x - p0.x)


def generate_demo_plots(gpkg_path: Path, seed: int = 2020, n: int = 96) -> gpd.GeoDataFrame:
    """Generate ``n`` fictitious business plots (EPSG:25833) for the demo region.

    Parameters
    ----------
    gpkg_path:
        The N1000 GeoPackage of the region (layers Kommune, Stedsnavn, Veglenke, Bane, Elv,
        Innsjo).
    seed:
        Seed of the random generator; the same seed gives the same plots.
    n:
        Number of plots (at least 80); the towns' quotas are scaled to it.
    """
    if n < 80:
        raise ValueError("the demo needs at least 80 plots")
    rng = np.random.default_rng(seed)
    kommuner = _read(gpkg_path, "Kommune").set_index("kommunenummer").sort_index()
    places = _read(gpkg_path, "Stedsnavn")
    roads = _read(gpkg_path, "Veglenke")
    main = roads[((roads.vegkategori == "E") & (roads.vegnummer == 16))
                 | ((roads.vegkategori == "R") & (roads.vegnummer == 2))].reset_index(drop=True)
    rail = _read(gpkg_path, "Bane")
    water = shapely.union_all(list(_read(gpkg_path, "Innsjo").geometry)
                              + list(_read(gpkg_path, "Elv").geometry)).buffer(30)
    corridor = shapely.union_all(list(main.geometry) + list(rail.geometry))
    road_tree = STRtree(list(roads.geometry))
    inner = {k: g.buffer(-50) for k, g in kommuner.geometry.items()}

    quotas = {k: dict(v) for k, v in TOWNS.items()}
    base_total = sum(sum(v.values()) for v in quotas.values()) + sum(CORRIDOR_PLOTS.values())
    extra = n - base_total
    order = sorted(quotas)
    i = 0
    while extra > 0:  # spread extra plots over the kommuner' main towns
        k = order[i % len(order)]
        town = max(quotas[k], key=quotas[k].get)
        quotas[k][town] += 1
        extra -= 1
        i += 1
    while extra < 0:
        k = order[i % len(order)]
        town = max(quotas[k], key=quotas[k].get)
        quotas[k][town] -= 1
        extra += 1
        i += 1

    weights = np.array([w for _, w, _ in CODES], dtype=float)
    weights /= weights.sum()
    placed: list[Polygon] = []
    rows: list[dict] = []
    names: set[str] = set()
    for k in sorted(quotas):
        seq = 0
        anchors: list[tuple[str, shapely.Point, float, int]] = []
        for town in sorted(quotas[k]):
            pts = places[places.navn == town].geometry
            pts = [p for p in pts if inner[k].contains(p)] or [inner[k].point_on_surface()]
            anchors.append((town, pts[0], 3000.0, quotas[k][town]))
        # corridor anchors: points along E16/Rv2/rail inside the kommune, away from towns
        local = corridor.intersection(inner[k])
        for _ in range(CORRIDOR_PLOTS[k]):
            if local.is_empty:  # no main road or rail here: one more plot at the main town
                anchors.append((anchors[0][0], anchors[0][1], 3000.0, 1))
                continue
            p = shapely.line_interpolate_point(
                shapely.line_merge(local) if local.geom_type != "LineString" else local,
                float(rng.random()), normalized=True)
            if p.is_empty:
                p = local.representative_point()
            anchors.append(("", p, 1500.0, 1))
        for town, point, radius, count in anchors:
            for _ in range(count):
                code, kind = _pick_code(rng, weights)
                plot = None
                for _attempt in range(400):
                    r = radius * math.sqrt(rng.uniform(0.02, 1.0))
                    t = rng.uniform(0, 2 * math.pi)
                    cx, cy = point.x + r * math.cos(t), point.y + r * math.sin(t)
                    c = shapely.Point(cx, cy)
                    if kind in ("industri", "lager") and corridor.distance(c) > 1500 \
                            and _attempt < 200:
                        continue
                    area = _size_daa(rng, kind) * 1000
                    angle = _road_angle(c, roads, road_tree) + (
                        0 if rng.random() < 0.7 else math.pi / 2)
                    poly = (_l_shape(cx, cy, area, angle) if rng.random() < 0.15
                            else _rect(cx, cy, area, float(rng.uniform(1.0, 2.5)), angle))
                    if not (poly.is_valid and inner[k].contains(poly)):
                        continue
                    if poly.intersects(water):
                        continue
                    if any(poly.distance(q) < 20 for q in placed
                           if abs(q.centroid.x - cx) < 2000 and abs(q.centroid.y - cy) < 2000):
                        continue
                    plot = poly
                    break
                if plot is None:
                    raise RuntimeError(f"could not place a demo plot near {town or 'E16'} ({k})")
                placed.append(plot)
                seq += 1
                row = _attributes(rng, k, seq, town, code, kind, plot, corridor)
                base, extra_no = row["name"], 2
                while row["name"] in names:
                    row["name"] = base.replace(" (fiktiv)", f" {extra_no} (fiktiv)")
                    extra_no += 1
                names.add(row["name"])
                rows.append(row)
    frame = gpd.GeoDataFrame(rows, geometry=placed, crs=25833)
    return frame


def _pick_code(rng: np.random.Generator, weights: np.ndarray) -> tuple[int, str]:
    i = int(rng.choice(len(CODES), p=weights))
    return CODES[i][0], CODES[i][2]


def _attributes(rng: np.random.Generator, k: str, seq: int, town: str, code: int, kind: str,
                plot: Polygon, corridor: shapely.Geometry) -> dict:
    near_corridor = corridor.distance(plot) < 1000
    framtidig = code in (1300, 1800) and rng.random() < 0.35
    old_plan = code < 1000
    availability = str(rng.choice(
        ["ledig", "reservert", "under_forhandling", "solgt", "utbygd"],
        p=[0.58, 0.14, 0.1, 0.08, 0.1]))
    if framtidig:
        availability = "ledig"
    built = availability in ("solgt", "utbygd")
    road = True if built else bool(rng.random() < (0.55 if framtidig else 0.85))
    water = True if built else bool(rng.random() < (0.15 if framtidig else 0.7))
    power = None if rng.random() < 0.2 else float(round(rng.choice([0.5, 1, 2, 5, 10, 20]), 1))
    centre = kind in ("kontor", "handel", "sentrum")
    price = None if rng.random() < 0.15 else float(round(
        rng.uniform(350, 900) if centre else rng.uniform(100, 450), -1))
    place = town or "E16-korridoren"
    name = f"{PREFIX[kind]} {place} {SUFFIX[int(rng.integers(len(SUFFIX)))]} (fiktiv)"
    where = "nær E16/Rv2 og jernbanen" if near_corridor else f"ved {place}"
    return {
        "external_ref": f"DEMO-{k}-{seq:03d}",
        "name": name,
        "kommunenummer": k,
        "arealformal": code,
        "plan_status": "framtidig" if framtidig else "nåværende",
        "plan_id": f"{k}_{'1998' if old_plan else '20' + str(10 + seq % 15)}{seq:03d}",
        "availability": availability,
        "road_access": road,
        "water_sewer": water,
        "power_capacity_mw": power,
        "ownership": str(rng.choice(["kommunal", "privat", "statlig", "annen"],
                                    p=[0.5, 0.38, 0.07, 0.05])),
        "price_nok_m2": price,
        "max_bya_pct": int(rng.choice([40, 50, 60, 70, 80])) if rng.random() < 0.85 else None,
        "max_height_m": float(rng.choice([8, 10, 12, 15, 18, 20, 25])),
        "contact": CONTACTS[k],
        "description": f"Fiktivt næringsareal {where} i demo-regionen. "
                       f"Regulert til {PURPOSE_WORDS[kind]}.",
        "internal_notes": "Intern merknad (fiktiv): grunneier i dialog; ikke publiser pris.",
        "published": bool(rng.random() < 0.9),
    }
