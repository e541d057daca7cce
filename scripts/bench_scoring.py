"""Benchmark suitability scoring at 10 m for the whole region, side by side with exactextract
(and rasterstats on a subset).

Builds every criterion layer at --res (10 m by default: the region's bounding grid is about
7,000 × 13,500 cells, 17 layers, 6 GB) into a separate cache folder — git-ignored
(layers/cache/), kept across runs: the first run takes about 5 minutes to build, later runs
reuse it in a fraction of a second. Then generates --plots synthetic plots (random rectangles of
2–300 daa inside the region) and prints, wall clock and CPU seconds of this process (the CPU
figure says what the machine's load did to the wall clock):
  - zonal statistics of all plots over one profile's layers, and that profile scored,
  - the same statistics by exactextract in the same run (same plots, same layers, all layers in
    one call, its fastest strategy) and how far the two agree,
  - rasterstats on a subset (extrapolated and labelled),
  - zonal statistics over every layer any profile uses and all five profiles scored from them,
  - the region-wide surface per profile.
Usage: .venv/bin/python scripts/bench_scoring.py [--res 10] [--plots 5000] [--cache DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from landreg.scoring.build import build_layers, read_kommuner, region_mask  # noqa: E402
from landreg.scoring.catalogue import LIMITS, load_catalogue, load_profiles  # noqa: E402
from landreg.scoring.engine import score_plots, statistics  # noqa: E402
from landreg.scoring.surface import suitability_surface  # noqa: E402
from landreg.scoring.zonal import zonal_stats  # noqa: E402


def synthetic_plots(kommuner: gpd.GeoDataFrame, n: int, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    region = kommuner.union_all()
    minx, miny, maxx, maxy = region.bounds
    geoms = []
    while len(geoms) < n:
        x = rng.uniform(minx, maxx, n)
        y = rng.uniform(miny, maxy, n)
        area = rng.uniform(2_000, 300_000, n)
        aspect = rng.uniform(0.5, 2.0, n)
        w = np.sqrt(area * aspect)
        h = area / w
        boxes = shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        geoms.extend(boxes[shapely.contains(region, boxes)].tolist())
    return gpd.GeoDataFrame({"id": np.arange(1, n + 1)}, geometry=geoms[:n], crs=25833)


CPU: dict[str, float] = {}  # CPU seconds of this process per timed label


def timed(label: str, fn, *args, **kw):  # noqa: ANN001, ANN201
    t, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    CPU[label] = dc
    print(f"  {label:58} {dt:9.2f} s  (CPU {dc:6.2f} s)")
    return out, dt


def load() -> str:
    """The load average (1, 5, 15 minutes) and the cores, as `uptime` reports them."""
    return (f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} on "
            f"{os.cpu_count()} cores")


def agreement(ours: pd.DataFrame, theirs: pd.DataFrame, layers: list[str]) -> None:
    """How far landreg's and exactextract's per-plot means, minima and maxima differ."""
    print(f"    {'layer':18} {'mean: median |Δ|':>17} {'p95 |Δ|':>10} {'within 1 %':>11} "
          f"{'min equal':>10} {'max equal':>10}")
    for c in layers:
        a, b = ours[f"{c}_mean"].to_numpy(), theirs[f"{c}_mean"].to_numpy()
        ok = ~np.isnan(a) & ~np.isnan(b)
        d = np.abs(a[ok] - b[ok])
        span = max(np.nanpercentile(b, 99) - np.nanpercentile(b, 1), 1e-9)
        same_min = np.isclose(ours[f"{c}_min"], theirs[f"{c}_min"], rtol=1e-6, atol=1e-9).mean()
        same_max = np.isclose(ours[f"{c}_max"], theirs[f"{c}_max"], rtol=1e-6, atol=1e-9).mean()
        print(f"    {c:18} {np.median(d):17.4g} {np.percentile(d, 95):10.4g} "
              f"{(d <= 0.01 * span).mean():10.1%} {same_min:10.1%} {same_max:10.1%}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--res", type=float, default=10.0)
    ap.add_argument("--plots", type=int, default=5000)
    ap.add_argument("--cache", type=Path, default=ROOT / "layers" / "cache" / "bench")
    ap.add_argument("--rasterstats-sample", type=int, default=250)
    args = ap.parse_args()

    cat = load_catalogue(ROOT / "layers" / "criteria.yaml")
    profiles = load_profiles(ROOT / "layers" / "profiles", cat)
    print(f"layers at {args.res:g} m, {args.plots} plots, {len(profiles)} profiles; {load()}")
    built, t_build = timed("layers build (first run or changed sources)", build_layers, cat,
                           args.cache, args.res, progress=False)
    g = built["grid"]
    print(f"    grid {g.width} × {g.height} = {g.width * g.height / 1e6:.1f} M cells per layer; "
          f"built {len(built['built'])}, cached {len(built['cached'])}")
    timed("layers build again (cache)", build_layers, cat, args.cache, args.res, progress=False)
    paths = built["paths"]
    plots = synthetic_plots(read_kommuner(cat), args.plots)

    lg = profiles["logistics"]
    lg_layers = sorted((set(lg.weights) | {LIMITS[k][0] for k in lg.limits}) - {"area_daa"})
    print(f"\nper-plot statistics (mean/min/max) over {len(lg_layers)} layers "
          f"({', '.join(lg_layers)}):")
    ours, t_ours = timed("landreg zonal_stats (all plots at once)", zonal_stats, plots,
                         {c: paths[c] for c in lg_layers})
    _res, t_one = timed("landreg score_plots, one profile (stats + scoring)", score_plots,
                        plots, lg, cat, paths, built["version"])
    c_one, c_ours = CPU["landreg score_plots, one profile (stats + scoring)"], \
        CPU["landreg zonal_stats (all plots at once)"]

    from exactextract import exact_extract

    def exact() -> pd.DataFrame:
        return exact_extract([str(paths[c]) for c in lg_layers], plots, ["mean", "min", "max"],
                             output="pandas", strategy="raster-sequential")

    ee, t_ee = timed("exactextract (all plots, same layers, one call)", exact)
    c_ee = CPU["exactextract (all plots, same layers, one call)"]
    ee.index = ours.index  # exactextract answers in the order of the plots
    print("    agreement (exactextract weights edge cells by the share the plot covers; landreg "
          "takes\n    the cells whose centre is inside, as GDAL and rasterstats do):")
    agreement(ours, ee, lg_layers)

    from rasterstats import zonal_stats as rs

    k = min(args.rasterstats_sample, len(plots))
    sub = plots.iloc[:k]

    def rasterstats_subset() -> list:
        return [rs(list(sub.geometry), str(paths[c]), stats=["mean", "min", "max"],
                   nodata=np.nan) for c in lg_layers]

    ref, t_rs_sub = timed(f"rasterstats on {k} plots", rasterstats_subset)
    t_rs = t_rs_sub * len(plots) / k
    print(f"  {'rasterstats, extrapolated to all plots':58} {t_rs:9.2f} s  (extrapolated)")
    worst = 0.0
    for layer, rows in zip(lg_layers, ref, strict=True):
        for pid, r in zip(sub["id"], rows, strict=True):
            if r["mean"] is not None and ours.loc[pid, "method"] == "cells":
                worst = max(worst, abs(ours.loc[pid, f"{layer}_mean"] - r["mean"])
                            / max(abs(r["mean"]), 1e-9))
    print(f"    largest relative difference of means vs rasterstats: {worst:.2e}")

    print("\nall profiles:")
    needed = sorted({c for p in profiles.values() for c in p.weights}
                    | {LIMITS[k][0] for p in profiles.values() for k in p.limits} - {"area_daa"})
    stats, t_all_stats = timed(f"zonal_stats over {len(needed)} layers (what profiles read)",
                               zonal_stats, plots, {c: paths[c] for c in needed},
                               statistics(cat, needed))

    def all_profiles() -> None:
        for p in profiles.values():
            score_plots(plots, p, cat, paths, built["version"], stats)

    _x, t_all_score = timed("scoring all plots for all profiles (from those stats)",
                            all_profiles)
    c_all = (CPU[f"zonal_stats over {len(needed)} layers (what profiles read)"]
             + CPU["scoring all plots for all profiles (from those stats)"])

    print("\nregion surface per profile:")
    region = region_mask(cat, built["grid"])
    t_surf = {}
    for p in profiles.values():
        _s, t_surf[p.id] = timed(f"suitability_surface {p.id}", suitability_surface, p, cat,
                                 paths, region=region)

    print(f"\nsummary (wall clock, and CPU seconds of this process: the CPU figure holds on a "
          f"busy machine; {load()})")
    print(f"  {'layers build':40} {t_build:8.2f} s")
    print(f"  {'one profile, all plots':40} {t_one:8.2f} s   CPU {c_one:5.2f} s   (aim < 1 s)")
    print(f"  {'all profiles, all plots':40} {t_all_stats + t_all_score:8.2f} s   "
          f"CPU {c_all:5.2f} s   (aim < 2 s)")
    print(f"  {'zonal stats ' + str(len(lg_layers)) + ' layers: landreg':40} {t_ours:8.2f} s   "
          f"CPU {c_ours:5.2f} s")
    print(f"  {'  exactextract':40} {t_ee:8.2f} s   CPU {c_ee:5.2f} s   "
          f"({t_ee / t_ours:.1f}× landreg wall, {c_ee / c_ours:.1f}× CPU)")
    print(f"  {'  rasterstats (extrapolated)':40} {t_rs:8.2f} s   ({t_rs / t_ours:.1f}× landreg)")
    print(f"  {'surface per profile (max)':40} {max(t_surf.values()):8.2f} s   (aim < 2 s)")


if __name__ == "__main__":
    main()
