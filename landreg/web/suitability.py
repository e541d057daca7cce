"""Suitability over HTTP: profiles, a plot's scores, rankings, candidate areas, the overlay.

Surfaces and candidate areas cost seconds of CPU, so every computation an anonymous client
can start — custom weights always, default answers when not cached — counts against a
per-client limit (:func:`expensive`, 429 with Retry-After); cached answers are free.
All answers here are public: computed from, and ranked among, published plots only.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
from flask import Blueprint, Response, current_app, jsonify, request

from landreg.ratelimit import enforce
from landreg.registry.search import search_plots
from landreg.scoring.catalogue import parse_weights
from landreg.scoring.service import Suitability
from landreg.settings import Settings
from landreg.web import params
from landreg.web.api import geojson_response
from landreg.web.client import client_key
from landreg.web.db import engine, session, settings

bp = Blueprint("suitability", __name__)

RANK_PARAMS = set(params.PLOT_PARAMS) - {"sort", "limit", "offset", "crs"} | {
    "weights", "f", "top", "candidates", "threshold"}


def suitability() -> Suitability:
    """The app's suitability configuration (layers built on first use, then cached)."""
    s = settings()
    key = (str(s.layers_dir), str(s.cache_dir), s.scoring_res)
    if key not in _CHECKED:
        with _BUILD_LOCK:
            if key not in _CHECKED:
                build_outside(s)
                _CHECKED.add(key)
    return Suitability.from_settings(s, s.scoring_res)


_CHECKED: set[tuple[str, str, float]] = set()
_BUILD_LOCK = threading.Lock()


def build_outside(s: Settings) -> bool:
    """Build missing or outdated layers in a child process (``landreg layers build``), one
    process of the server at a time; True when it built. Issue 14: a worker that built the
    layers itself kept what the build loaded — GDAL's vector side, scipy, the build's freed
    arrays — for its life (4 of 5 workers under the browser suite, which starts with no
    layers); the child takes them with it. When the child fails, the caller's in-process
    build says why."""
    from landreg.scoring.build import layers_current
    from landreg.scoring.catalogue import load_catalogue

    cache, layers = Path(s.cache_dir), Path(s.layers_dir)
    try:
        catalogue = load_catalogue(layers / "criteria.yaml")
    except Exception:  # noqa: BLE001 - the in-process load names the problem
        return False
    if layers_current(catalogue, cache, s.scoring_res):
        return False
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".build.lock", "w") as lock:  # noqa: PTH123
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be building: wait for it
        if layers_current(catalogue, cache, s.scoring_res):
            return False
        env = dict(os.environ, LANDREG_LAYERS_DIR=str(layers), LANDREG_CACHE_DIR=str(cache))
        done = subprocess.run(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-c", "from landreg.cli import main; main()", "-q", "layers",
             "build", "--res", f"{s.scoring_res:g}"], env=env, capture_output=True,
            check=False)
        return done.returncode == 0


def _weights(args: dict[str, str]) -> dict[str, float] | None:
    return parse_weights(args["weights"]) if args.get("weights") else None


#: Expensive computations (surfaces, candidate areas, custom-weight rankings) one client may
#: start per window; ``LANDREG_EXPENSIVE_LIMIT`` = (count, seconds) in the app config.
EXPENSIVE_LIMIT = (30, 600)


def expensive() -> None:
    """Count one expensive computation for this client; 429 with Retry-After when over."""
    limit, window = current_app.config.get("LANDREG_EXPENSIVE_LIMIT", EXPENSIVE_LIMIT)
    enforce(engine(), client_key("expensive"), limit=limit, window=window,
            message="Too many suitability computations from your address (custom weights, "
                    "surfaces, candidate areas); try again later — the profiles' own "
                    "answers are cached and stay available.")


@bp.get("/profiles")
def profiles() -> Response:
    """Purpose profiles with weights and hard limits, and the criteria catalogue."""
    s = suitability()
    return jsonify({
        "profiles": [{"id": p.id, "name_nb": p.name_nb, "name_en": p.name_en,
                      "description": p.description, "weights": p.weights, "limits": p.limits,
                      "version": p.version} for p in s.profiles.values()],
        "criteria": [{"id": c.id, "name_nb": c.name_nb, "name_en": c.name_en, "unit": c.unit,
                      "statistic": c.statistic, "source": c.source,
                      "approximate": c.approximate} for c in s.catalogue.criteria.values()],
        "layers_version": s.layers_version, "catalogue_version": s.catalogue.version,
    })


@bp.get("/plots/<int:plot_id>/scores")
def plot_scores(plot_id: int) -> Response:
    """A plot's score for every profile, criterion by criterion: published plots for the
    public (ranked among published plots), every plot for planners (ranked among all)."""
    from landreg.registry.search import fetch_one
    from landreg.web.auth import current_principal

    public = current_principal() is None
    fetch_one(session(), plot_id, public=public, srid=4326)  # 404 unless visible to the caller
    sess = session()
    scores = suitability().plot_scores(sess, plot_id, public=public)
    sess.commit()  # keep refreshed scores
    return jsonify({"plot_id": plot_id, "scores": scores})


#: The facts each ranking item carries beside its scores.
RANK_FACTS = ("name", "kommunenummer", "kommunenavn", "area_daa", "availability", "arealformal",
              "arealformal_name", "byggeklar", "road_access", "water_sewer", "power_capacity_mw")


def filtered_ids(args: dict[str, str], *, public: bool = True) -> dict[int, dict]:
    """The plots the /api/plots filters in ``args`` select (every page): id → properties."""
    plot_args = {k: v for k, v in args.items() if k in params.PLOT_PARAMS
                 and k not in {"sort", "limit", "offset", "crs"}}
    query = params.plot_query({**plot_args, "limit": "1000"})
    sess = session()
    page = search_plots(sess, query, public=public)
    while len(page.features) < page.number_matched:  # every matching plot, not one page
        query.offset += query.limit
        page.features += search_plots(sess, query, public=public).features
    return {f["id"]: f["properties"] for f in page.features}


def ranked(profile: str, args: dict[str, str]) -> dict:
    """THE ranking every screen and export shows (issue 12): the public plots the filters in
    ``args`` select, best first, each with ``rank`` (within the selection) and ``region_rank``
    (among published plots on the market), the facts of :data:`RANK_FACTS`, and ``count`` /
    ``region_count``. ``weights`` in ``args`` rank with the user's own weights."""
    facts = filtered_ids(args, public=True)
    weights = _weights(args)
    if weights:  # scored on the fly over every plot
        expensive()
    sess = session()
    result = suitability().rank(sess, profile, weights, plot_ids=list(facts))
    sess.commit()
    for item in result.items:
        p = facts[item["plot_id"]]
        item.update({k: p.get(k) for k in RANK_FACTS})
    return {"profile": profile, "weights": weights, "count": result.count,
            "region_count": result.region_count, "items": result.items}


@bp.get("/rankings/<profile>")
def ranking(profile: str) -> Response:
    """Published plots best first for a profile; the plot filters of /api/plots apply.

    ``rank`` is the place within the filtered selection (``count`` plots), ``region_rank``
    the place among all published plots still on the market (``region_count``; null for a
    sold or built plot). ``weights=slope:30,dist_rail:70`` ranks with your own weights
    (summing to 100); ``f=csv`` gives a spreadsheet; ``top`` shortens the list.
    """
    args = request.args.to_dict()
    params.check_known(args, RANK_PARAMS | {"lang"})
    body = ranked(profile, args)
    top = params.integer(args, "top", 0, minimum=0, maximum=1000)
    if top:
        body["items"] = body["items"][:top]
    if args.get("f") == "csv":
        return _csv(profile, body, args)
    if params.boolean(args, "candidates"):  # unzoned land, kept apart from the plots
        threshold = params.number(args, "threshold")
        frame = suitability().candidates(session(), profile,
                                         90.0 if threshold is None else threshold,
                                         _weights(args), public=True, on_miss=expensive)
        body["candidates"] = [
            {"id": r.id, "score": round(r.score, 2), "area_daa": round(r.area_daa, 1),
             "kommunenummer": r.kommunenummer, "kommuner": r.kommuner}
            for r in frame.itertuples()]
    return jsonify(body)


def _csv(profile: str, body: dict, args: dict[str, str]) -> Response:
    """The ranking as a spreadsheet: machine columns, plus ``rank_label`` (the words every
    screen shows) and ``selection`` (the filters and profile in words)."""
    from landreg.csvcells import safe_cell
    from landreg.forum.labels import filter_summary, rank_text
    from landreg.i18n import pick_lang

    lang = pick_lang(args.get("lang"))
    summary = filter_summary(session(), suitability(), args, profile, lang)
    items = body["items"]
    out = io.StringIO()
    cols = ["rank", "region_rank", "score", "excluded", "reasons", "plot_id", "name",
            "kommunenummer", "kommunenavn", "area_daa", "availability", "arealformal",
            "byggeklar"]
    crits = [b["criterion"] for b in items[0]["breakdown"]] if items else []
    writer = csv.writer(out)
    writer.writerow(cols + ["rank_label", "selection"] + [f"{c}_raw" for c in crits]
                    + [f"{c}_points" for c in crits])
    for i in items:
        row = [i[c] if c != "reasons" else "; ".join(i["reasons"]) for c in cols]
        row += [rank_text(i, body["count"], lang), summary]
        bd = {b["criterion"]: b for b in i["breakdown"]}
        row += [bd[c]["raw"] for c in crits] + [bd[c]["contribution"] for c in crits]
        writer.writerow([safe_cell(v) for v in row])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="rangering-{profile}.csv"'})


@bp.get("/candidates/<profile>")
def candidates(profile: str) -> Response:
    """Candidate areas (GeoJSON, CRS84): connected land scoring ≥ ``threshold`` outside plots."""
    args = request.args.to_dict()
    params.check_known(args, {"threshold", "weights"})
    threshold = params.number(args, "threshold")
    threshold = 90.0 if threshold is None else threshold
    frame, hit = suitability().cached_candidates(session(), profile, threshold, _weights(args),
                                                 public=True, on_miss=expensive)
    body = json.loads(frame.to_crs(4326).to_json(drop_id=True))
    for f in body["features"]:
        f["id"] = f["properties"]["id"]
        f["properties"]["score"] = round(f["properties"]["score"], 2)
        f["properties"]["area_daa"] = round(f["properties"]["area_daa"], 1)
    body.update({"profile": profile, "threshold": threshold,
                 "numberReturned": len(body["features"])})
    resp = geojson_response(body, 4326)
    resp.headers["X-Cache"] = "hit" if hit else "miss"
    return resp


@bp.get("/surface/<profile>.png")
def surface_png(profile: str) -> Response:
    """The profile's suitability surface as a web-map overlay (PNG in EPSG:3857).

    The image's bounds (south, west, north, east in degrees) are in the ``X-Bounds`` header and
    in ``/api/surface/<profile>.json``.
    """
    png, bounds = _surface_png(profile, _weights(request.args.to_dict()))
    resp = Response(png, mimetype="image/png")
    resp.headers["X-Bounds"] = json.dumps(bounds)
    resp.headers["Cache-Control"] = "public, max-age=600"
    return resp


@bp.get("/surface/<profile>.json")
def surface_meta(profile: str) -> Response:
    """Bounds and legend of the overlay."""
    _png, bounds = _surface_png(profile, _weights(request.args.to_dict()))
    return jsonify({"profile": profile, "bounds": bounds, "legend": RAMP_LEGEND})


# viridis in six steps (dark purple = poor … yellow = best): readable with every common
# colour-vision deficiency and in greyscale, unlike a red→green ramp (issue 12)
RAMP = np.array([[68, 1, 84], [65, 68, 135], [42, 120, 142], [34, 168, 132],
                 [122, 209, 81], [253, 231, 37]], dtype=np.float64)
RAMP_LEGEND = [{"from": i * 100 / 6, "to": (i + 1) * 100 / 6,
                "colour": "#" + "".join(f"{int(v):02x}" for v in c)} for i, c in enumerate(RAMP)]


#: Rows coloured at a time: the overlay (~4 M cells at 100 m) in one go took ~36 bytes of
#: temporaries per cell (int64 indices, a float64 RGB copy) — 150 MB at the top of a request.
OVERLAY_ROWS = 256


def overlay_rgba(data: np.ndarray) -> np.ndarray:
    """Scores 0–100 (NaN: none) as RGBA bands (4, h, w) in :data:`RAMP`'s colours, NaN
    transparent; coloured :data:`OVERLAY_ROWS` rows at a time, so the temporaries stay a few
    MB whatever the size (the result itself is 4 bytes per cell)."""
    lut = RAMP.astype(np.uint8)
    h, w = data.shape
    rgba = np.empty((4, h, w), dtype=np.uint8)
    for r0 in range(0, h, OVERLAY_ROWS):
        block = data[r0:r0 + OVERLAY_ROWS]
        idx = np.clip((np.nan_to_num(block) / 100 * len(RAMP)).astype(np.intp), 0,
                      len(RAMP) - 1)
        rgba[:3, r0:r0 + OVERLAY_ROWS] = lut[idx].transpose(2, 0, 1)
        rgba[3, r0:r0 + OVERLAY_ROWS] = np.where(np.isnan(block), 0, 170)
    return rgba


def _surface_png(profile: str, weights: dict[str, float] | None) -> tuple[bytes, list]:
    """The overlay and its bounds: cached next to the default surface, in memory for custom
    weights (never written)."""
    from rasterio.io import MemoryFile
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    s = suitability()
    if not weights:
        cached = s.surface_path(profile)
        png, meta = cached.with_suffix(".png"), cached.with_suffix(".bounds.json")
        if png.exists() and meta.exists():
            return png.read_bytes(), json.loads(meta.read_text())
    surface = s.surface(profile, weights, on_miss=expensive)
    grid = surface.grid
    dst_t, w, h = calculate_default_transform("EPSG:25833", "EPSG:3857", grid.width,
                                              grid.height, *grid.bounds, resolution=100)
    data = np.full((h, w), np.nan, dtype=np.float32)
    reproject(surface.data, data, src_transform=grid.transform, src_crs="EPSG:25833",
              src_nodata=np.nan, dst_transform=dst_t, dst_crs="EPSG:3857",
              dst_nodata=np.nan, resampling=Resampling.average)
    rgba = overlay_rgba(data)
    del data
    with MemoryFile() as mem:
        with mem.open(driver="PNG", width=w, height=h, count=4, dtype="uint8") as ds:
            ds.write(rgba)
        blob = mem.read()
    west, south, east, north = transform_bounds("EPSG:3857", "EPSG:4326",
                                                dst_t.c, dst_t.f + h * dst_t.e,
                                                dst_t.c + w * dst_t.a, dst_t.f)
    bounds = [[south, west], [north, east]]
    if surface.path is not None:  # the profile's own weights: keep beside its GeoTIFF
        surface.path.with_suffix(".png").write_bytes(blob)
        surface.path.with_suffix(".bounds.json").write_text(json.dumps(bounds))
        s.trim_surface_cache(keep=surface.path)
    return blob, bounds
