"""Benchmark the bulk import: plots/s for 100,000 plots, next to one-by-one ``create_plot``.

Writes a GeoPackage of synthetic plots (EPSG:25832, as municipal data often is) spread over the
seven kommuner: random rotated rectangles of 2–300 daa, each wholly inside its kommune, with
valid arealformål codes and the usual attributes. Creates a scratch database on the test server
(LANDREG_TEST_SERVER_URL, default the local cluster on port 5433), migrates it and loads the
kommuner, then times

  bulk          plan_import + apply_import of the whole file in one transaction (read,
                transform, validate, place, match, COPY + INSERT … SELECT with the history
                triggers firing per row), and commit
  re-import     plan_import of the same file again: every plot found ``unchanged``
  alternative   ``landreg.registry.plots.create_plot`` called once per plot for a sample
                (default 2,000 plots), extrapolated to the full count — labelled as such

  sosi          a SOSI 4.5 plan file of --sosi areas (default 5,000; EPSG:25832, ISO8859-10,
                each FLATE from a KURVE), a fifth of them roads (2011) that are skipped:
                read + plan + apply end to end, into a fresh register

and checks the figures (plot and history row counts, total area). The database is dropped at the
end.  Usage:  .venv/bin/python scripts/bench_import.py [--plots N] [--sample N] [--sosi N]
[--seed S]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from landreg.db import get_engine, migrate, session_scope  # noqa: E402
from landreg.demo.load import load_municipalities  # noqa: E402
from landreg.ingest.importer import apply_import, plan_import  # noqa: E402
from landreg.registry.codes import arealformal_codes  # noqa: E402
from landreg.registry.plots import create_plot  # noqa: E402
from landreg.settings import Settings, normalise_database_url  # noqa: E402

AVAIL = ["ledig", "ledig", "ledig", "reservert", "under_forhandling", "solgt"]


def synthetic_plots(n: int, seed: int) -> gpd.GeoDataFrame:
    """``n`` rotated rectangles of 2–300 daa, each inside one of the seven kommuner (25833)."""
    rng = np.random.default_rng(seed)
    kommuner = gpd.read_file(Settings().demo_gpkg, layer="Kommune").to_crs(25833)
    weights = kommuner.area / kommuner.area.sum()
    parts: list[gpd.GeoDataFrame] = []
    for k, geom, w in zip(kommuner["kommunenummer"].astype(str), kommuner.geometry, weights,
                          strict=True):
        want = int(round(n * w)) if k != kommuner["kommunenummer"].astype(str).iloc[-1] else (
            n - sum(len(p) for p in parts))
        shapely.prepare(geom)
        got: list[shapely.Geometry] = []
        minx, miny, maxx, maxy = geom.bounds
        while len(got) < want:
            m = (want - len(got)) * 2
            cx, cy = rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)
            area = rng.uniform(2, 300, m) * 1000.0
            aspect = rng.uniform(0.5, 2.0, m)
            angle = rng.uniform(0, math.pi, m)
            w_ = np.sqrt(area * aspect)
            h_ = area / w_
            corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
            xs = corners[:, 0][None, :] * w_[:, None]
            ys = corners[:, 1][None, :] * h_[:, None]
            c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
            px, py = cx[:, None] + xs * c - ys * s, cy[:, None] + xs * s + ys * c
            coords = np.round(np.stack([px, py], axis=-1), 2)
            rects = shapely.polygons(np.concatenate([coords, coords[:, :1]], axis=1))
            inside = shapely.contains(geom, rects)
            got.extend(rects[inside][: want - len(got)])
        parts.append(gpd.GeoDataFrame({"kommune": [k] * len(got)}, geometry=got, crs=25833))
    frame = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=25833)
    codes = sorted(arealformal_codes())
    frame["ref"] = [f"BENCH-{k}-{i:06d}" for i, k in enumerate(frame["kommune"])]
    frame["navn"] = [f"Syntetisk tomt {i}" for i in range(len(frame))]
    frame["arealformal"] = rng.choice(codes, len(frame))
    frame["status"] = rng.choice(["nåværende", "framtidig"], len(frame))
    frame["availability"] = rng.choice(AVAIL, len(frame))
    frame["road_access"] = rng.random(len(frame)) < 0.7
    frame["water_sewer"] = rng.random(len(frame)) < 0.6
    frame["pris_kr_m2"] = np.round(rng.uniform(100, 1500, len(frame)), 2)
    frame["published"] = True
    return frame.drop(columns="kommune")


def write_sosi(frame: gpd.GeoDataFrame, path: Path) -> int:
    """``frame`` as a SOSI 4.5 plan (UTM 32, ENHET 0.01); every fifth area a road (2011).
    Returns the number of business areas."""
    lines = [".HODE", "..TEGNSETT ISO8859-10", "..TRANSPAR", "...KOORDSYS 22",
             "...ORIGO-NØ 0 0", "...ENHET 0.01", "..SOSI-VERSJON 4.5"]
    moved = frame.to_crs(25832)
    flater = []
    for i, geom in enumerate(moved.geometry):
        lines += [f".KURVE {i + 1}:", "..OBJTYPE RpFormålGrense", "..NØ"]
        lines += [f"{round(y * 100)} {round(x * 100)}" for x, y in geom.exterior.coords]
        flater.append(i + 1)
    business = 0
    for i, ref in enumerate(flater):
        code = 2011 if i % 5 == 4 else int(frame["arealformal"].iloc[i])
        business += code != 2011
        lines += [f".FLATE {len(flater) + ref}:", "..OBJTYPE RpArealformålOmråde", "..IDENT",
                  f"...LOKALID \"sosi-bench-{i}\"", f"..RPAREALFORMÅL {code}",
                  f"..FELTNAVN \"Område {i} på Åsbø\"", "..PLANID 2024001", "..PLANSTAT 3",
                  f"..REF :{ref}"]
    lines.append(".SLUTT")
    path.write_bytes("\n".join(lines).encode("iso8859_10"))
    return business


def create_db(server: str, name: str) -> str:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_db(server: str, name: str) -> None:
    get_engine.cache_clear()
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=2_000)
    ap.add_argument("--sosi", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    server = normalise_database_url(os.environ.get(
        "LANDREG_TEST_SERVER_URL", "postgresql+psycopg://postgres@127.0.0.1:5433/postgres"))
    name = f"landreg_bench_import_{uuid.uuid4().hex[:6]}"

    t = time.perf_counter()
    frame = synthetic_plots(args.plots, args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    gpkg = tmp / "plots.gpkg"
    frame.to_crs(25832).to_file(gpkg, layer="tomter", engine="pyogrio")
    print(f"synthetic GeoPackage: {len(frame):,} plots, {gpkg.stat().st_size / 2**20:.1f} MiB, "
          f"EPSG:25832, {time.perf_counter() - t:.1f} s to make")

    url = create_db(server, name)
    try:
        migrate(url)
        engine = get_engine(url)
        with session_scope(engine) as s:
            load_municipalities(s, Settings().demo_gpkg)

        # --- bulk import ---------------------------------------------------------------
        stages: dict[str, float] = {}
        last = [time.perf_counter()]

        def tick(stage: str, done: int, total: int) -> None:
            now = time.perf_counter()
            stages[stage] = stages.get(stage, 0.0) + now - last[0]
            last[0] = now

        t0 = time.perf_counter()
        with session_scope(engine) as s:
            report = plan_import(s, gpkg, user="bench", progress=tick)
            t_plan = time.perf_counter() - t0
            last[0] = time.perf_counter()
            apply_import(s, report, "bench", progress=tick)
            t_apply = time.perf_counter() - t0 - t_plan
        t_bulk = time.perf_counter() - t0
        counts = report.counts
        assert counts["create"] == len(frame) and counts["rejected"] == 0, counts

        with engine.connect() as c:
            n_plot, area = c.execute(text("SELECT count(*), sum(area_daa) FROM plot")).one()
            n_hist = c.execute(text("SELECT count(*) FROM plot_version")).scalar_one()
            per_k = dict(c.execute(text(
                "SELECT kommunenummer, count(*) FROM plot GROUP BY 1 ORDER BY 1")).all())
        expected_area = frame.area.sum() / 1000
        assert n_plot == n_hist == len(frame), (n_plot, n_hist)
        assert abs(area - expected_area) / expected_area < 1e-4, (area, expected_area)

        # --- re-import of the same file: all unchanged --------------------------------
        t0 = time.perf_counter()
        with session_scope(engine) as s:
            again = plan_import(s, gpkg, user="bench")
        t_again = time.perf_counter() - t0
        assert again.counts["unchanged"] == len(frame), again.counts

        # --- alternative: create_plot one by one on a sample ------------------------------
        sample = frame.iloc[: args.sample]
        t0 = time.perf_counter()
        with session_scope(engine) as s:
            for i, row in enumerate(sample.itertuples()):
                create_plot(s, {"external_ref": f"ALT-{i}", "name": row.navn,
                                "arealformal": int(row.arealformal),
                                "plan_status": row.status, "availability": row.availability,
                                "road_access": bool(row.road_access),
                                "water_sewer": bool(row.water_sewer),
                                "price_nok_m2": float(row.pris_kr_m2), "published": True},
                            row.geometry, 25833, user="bench")
        t_alt = time.perf_counter() - t0

        # --- a SOSI plan end to end into an empty register -------------------------------
        sos = tmp / "plan.sos"
        business = write_sosi(frame.iloc[: args.sosi], sos)
        with engine.begin() as c:
            c.execute(text("TRUNCATE plot, plot_version CASCADE"))
        t0 = time.perf_counter()
        with session_scope(engine) as s:
            sosi_report = plan_import(s, sos, user="bench")
            apply_import(s, sosi_report, "bench")
        t_sosi = time.perf_counter() - t0
        n_sosi = min(args.sosi, len(frame))
        assert sosi_report.counts["create"] == business, sosi_report.counts
        assert sosi_report.counts["skipped"] == n_sosi - business, sosi_report.counts
    finally:
        drop_db(server, name)

    n = len(frame)
    print(f"database: {n_plot:,} plots, {n_hist:,} history rows, {area:,.0f} daa "
          f"(expected {expected_area:,.0f}); per kommune {per_k}")
    print("stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    print()
    print(f"{'method':<48}{'plots':>9}{'seconds':>10}{'plots/s':>10}")
    print(f"{'bulk: plan_import + apply_import (+ commit)':<48}{n:>9,}{t_bulk:>10.1f}"
          f"{n / t_bulk:>10,.0f}")
    print(f"{'  of which plan (read, check, place, match)':<48}{n:>9,}{t_plan:>10.1f}"
          f"{n / t_plan:>10,.0f}")
    print(f"{'  of which apply (COPY, INSERT, triggers)':<48}{n:>9,}{t_apply:>10.1f}"
          f"{n / t_apply:>10,.0f}")
    print(f"{'re-import, all unchanged (plan only)':<48}{n:>9,}{t_again:>10.1f}"
          f"{n / t_again:>10,.0f}")
    print(f"{'alternative: create_plot one by one (measured)':<48}{len(sample):>9,}"
          f"{t_alt:>10.1f}{len(sample) / t_alt:>10,.0f}")
    print(f"{'  extrapolated to all plots (not measured)':<48}{n:>9,}"
          f"{t_alt / len(sample) * n:>10.0f}{len(sample) / t_alt:>10,.0f}")
    print(f"{'SOSI plan: read + plan + apply (end to end)':<48}{n_sosi:>9,}{t_sosi:>10.1f}"
          f"{n_sosi / t_sosi:>10,.0f}   ({sos.stat().st_size / 2**20:.1f} MiB, "
          f"{business:,} created, {n_sosi - business:,} skipped)")
    print(f"\nbulk is {(n / t_bulk) / (len(sample) / t_alt):.0f}× the one-by-one path")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} at the end (other processes "
          "share the CPUs with PostgreSQL: figures drop under load)")


if __name__ == "__main__":
    main()
