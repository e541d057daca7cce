"""HTML pages: the interactive map, plot pages, and the locally served front-end libraries."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from landreg.errors import NotFound
from landreg.i18n import bundle, catalogue, fmt_quantity, labels, pick_lang
from landreg.i18n import t as text_of
from landreg.models import Municipality
from landreg.registry.reference import reference_collection
from landreg.registry.search import fetch_one
from landreg.web.db import session, settings
from webmap import plot_map, regional_map
from webmap.render import components
from webmap.styles import AVAILABILITY_COLOURS, EXCLUDED_COLOUR, PURPOSE_COLOURS

bp = Blueprint("pages", __name__)

NODE_MODULES = Path(__file__).resolve().parents[2] / "webmap" / "node_modules"
#: The npm packages the app serves under /vendor/ (see webmap/package.json).
VENDOR_PACKAGES = ("leaflet", "@geoman-io", "swagger-ui-dist", "leaflet.vectorgrid",
                   "leaflet.markercluster")

#: Matching plots above which the map draws vector tiles instead of fetching GeoJSON.
TILE_THRESHOLD = 5000


def kommuner_collection() -> dict[str, Any]:
    """The kommuner in CRS84 (simplified 25 m) with a label point for each."""
    rows = session().execute(
        select(Municipality.kommunenummer, Municipality.name,
               func.ST_AsGeoJSON(func.ST_Transform(
                   func.ST_SimplifyPreserveTopology(Municipality.geom, 25), 4326), 5, 0),
               func.ST_Y(func.ST_Transform(func.ST_PointOnSurface(Municipality.geom), 4326)),
               func.ST_X(func.ST_Transform(func.ST_PointOnSurface(Municipality.geom), 4326)))
        .order_by(Municipality.kommunenummer)).all()
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": k, "geometry": json.loads(g),
         "properties": {"kommunenummer": k, "name": n, "label_point": [lat, lon]}}
        for k, n, g, lat, lon in rows]}


def _reference() -> dict[str, dict[str, Any]]:
    sess = session()
    water = reference_collection(sess, "rivers", simplify_m=20)
    water["features"] += reference_collection(sess, "lakes", simplify_m=20)["features"]
    return {"water": water, "settlements": settlement_collection(),
            **{k: reference_collection(sess, k, simplify_m=20)
               for k in ("roads", "rail", "stations", "built_up", "power_lines")}}


def settlement_collection() -> dict[str, Any]:
    """The settlement points the centre, built-up and farmland criteria use (CRS84): name,
    kind, disc radius and whether the disc stands in for a built-up shape N1000 lacks
    (``stands_in``). Read from the criteria's own source and rule
    (:func:`landreg.scoring.build.settlement_points`), so the map shows what the scores
    assume; the same for every request, so kept per process."""
    cache = current_app.extensions.setdefault("landreg_map_cache", {})
    if "settlements" not in cache:
        from landreg.scoring.build import settlement_features
        from landreg.web.suitability import suitability

        s = suitability()  # the catalogue the scores were built from
        cache["settlements"] = {"type": "FeatureCollection",
                                "features": settlement_features(s.catalogue, s.cache_dir),
                                "attribution": "© Kartverket (N1000, CC BY 4.0)"}
    return cache["settlements"]


def _regional_components(lang: str) -> dict[str, str]:
    # The regional map holds only data that never changes at run time (kommuner, N1000
    # layers), so it is rendered once per language and process.
    cache = current_app.extensions.setdefault("landreg_map_cache", {})
    if lang not in cache:
        cache[lang] = components(regional_map(kommuner_collection(), _reference(), lang))
    return cache[lang]


def region_bounds() -> list[list[float]]:
    """[[south, west], [north, east]] of the seven kommuner (the map's first view)."""
    cache = current_app.extensions.setdefault("landreg_map_cache", {})
    if "bounds" not in cache:
        ext = func.ST_Extent(func.ST_Transform(Municipality.geom, 4326))
        box = session().execute(select(func.ST_XMin(ext), func.ST_YMin(ext), func.ST_XMax(ext),
                                       func.ST_YMax(ext))).one()
        cache["bounds"] = [[round(box[1], 5), round(box[0], 5)],
                           [round(box[3], 5), round(box[2], 5)]]
    return cache["bounds"]


def place_names() -> list[dict[str, Any]]:
    """The N1000 place names (Stedsnavn) of the region with a point each, for the map's
    search box; the same for every request, so kept per process."""
    cache = current_app.extensions.setdefault("landreg_map_cache", {})
    if "places" not in cache:
        feats = reference_collection(session(), "places")["features"]
        names: dict[str, dict[str, Any]] = {}
        for f in feats:
            name = f["properties"].get("name")
            if name and f["geometry"]["type"] == "Point" and name not in names:
                lon, lat = f["geometry"]["coordinates"][:2]
                names[name] = {"name": name, "lat": round(lat, 5), "lon": round(lon, 5)}
        cache["places"] = sorted(names.values(), key=lambda p: p["name"])
    return cache["places"]


def _page_context(lang: str) -> dict[str, Any]:
    return {"lang": lang, "t": catalogue()["text"][lang],
            "other_lang": "en" if lang == "nb" else "nb",
            "availability_labels": labels("availability", lang),
            "purpose_labels": labels("purpose_group", lang)}


@bp.get("/")
def index() -> Response:
    """The map is the front page."""
    from landreg.web.params import url_with_query

    return redirect(url_with_query("pages.map_page", request.args))


@bp.get("/map")
def map_page() -> str:
    """The interactive regional map with the filter panel."""
    lang = pick_lang(request.args.get("lang"))
    parts = _regional_components(lang)
    kommuner = [(f["id"], f["properties"]["name"]) for f in kommuner_collection()["features"]]
    from landreg.web.suitability import RAMP_LEGEND, suitability

    profiles = [(p.id, p.name_nb if lang == "nb" else p.name_en)
                for p in suitability().profiles.values()]
    config = {"mapName": parts["name"], "api": url_for("api.plots"), "lang": lang,
              "rankings": url_for("suitability.ranking", profile="PROFILE"),
              "surface": url_for("suitability.surface_meta", profile="PROFILE"),
              "surfacePng": url_for("suitability.surface_png", profile="PROFILE"),
              "ramp": RAMP_LEGEND, "compare": url_for("forum.compare_page"),
              "colours": {"availability": AVAILABILITY_COLOURS, "purpose": PURPOSE_COLOURS,
                          "excluded": EXCLUDED_COLOUR},
              "criteria": {cid: [c.name_nb if lang == "nb" else c.name_en, c.unit]
                           for cid, c in suitability().catalogue.criteria.items()},
              "places": place_names(), "regionBounds": region_bounds(),
              "defaultProfile": profiles[0][0] if profiles else "",
              "i18n": bundle(lang), "plotUrl": url_for("pages.plot_page", plot_id=0),
              "isochrones": url_for("reach.isochrones", destination="DEST"),
              # above this many matching plots the map draws vector tiles, not GeoJSON
              "tiles": "/tiles/plots/{z}/{x}/{y}.mvt", "tileThreshold": TILE_THRESHOLD}
    from landreg.routing.network import destination_names

    destinations = [(tid, nb if lang == "nb" else en)
                    for tid, (nb, en) in destination_names(settings().layers_dir).items()]
    from landreg.registry.codes import arealformal_codes
    from landreg.web.auth import current_principal

    who = current_principal()
    if who is not None:
        config["user"] = {"username": who.username, "role": who.role,
                          "kommuner": list(who.kommuner)}
        config["edit"] = {"create": url_for("edit.create"),
                          "update": url_for("edit.edit", plot_id=0),
                          "history": url_for("pages.history_page", plot_id=0),
                          "scores": url_for("suitability.plot_scores", plot_id=0)}
    codes = [(c.code, c.nb) for c in sorted(arealformal_codes().values(), key=lambda c: c.code)]
    return render_template("map.html", parts=parts, config=config, kommuner=kommuner,
                           profiles=profiles, user=who, codes=codes, destinations=destinations,
                           places=config["places"],
                           **_page_context(lang))


@bp.get("/plots/<int:plot_id>")
def plot_page(plot_id: int) -> str | tuple[str, int]:
    """A plot's facts and a small map: public facts of published plots for everyone; planners
    also see unpublished plots (the page shows public fields only, as a handout would)."""
    from landreg.web.auth import current_principal

    lang = pick_lang(request.args.get("lang"))
    try:
        plot = fetch_one(session(), plot_id, public=True,
                         published_only=current_principal() is None)
    except NotFound:
        return render_template("not_found.html", **_page_context(lang)), 404
    parts = components(plot_map(plot, kommuner_collection(), lang, _reference()))
    from landreg.web.reach import attach_minutes

    attach_minutes([plot])
    scores = _plot_scores(plot_id, lang)
    return render_template("plot.html", plot=plot, p=plot["properties"], parts=parts,
                           drive_min=plot["properties"]["drive_min"],
                           dist_m=plot_distances(plot_id), scores=scores,
                           settlement_note=bool(scores) and weighs_settlements(),
                           **_page_context(lang))


def weighs_settlements(profiles: Iterable[str] | None = None) -> bool:
    """Whether a profile (of ``profiles``, default all) weighs a criterion resting on
    settlement points (the plot page and the factsheet then state that limitation)."""
    from landreg.web.suitability import suitability

    s = suitability()
    chosen = s.profiles.values() if profiles is None else [s.profiles[p] for p in profiles]
    return any(w > 0 and s.catalogue.criteria[cid].settlement_points
               for p in chosen for cid, w in p.weights.items())


def plot_distances(plot_id: int) -> dict[str, float | None]:
    """Metres from a plot to E16/Rv2, the nearest junction, the railway and the nearest
    station (registry/distances.py: stored, the same measure as the map's distance filters)."""
    from landreg.registry import distances

    return distances.plot_distances(session(), plot_id)


_REASON = re.compile(r"^(\w+) (\S+) ([<>]) (\S+) \((\w+)\)$")


def reason_text(reason: str, lang: str) -> str:
    """A hard-limit breach as a person reads it: the engine's ``dist_main_road 6.2e+03 >
    5000 (max_dist_main_road)`` becomes "Avstand til E16/Rv2 6,2 km (grense 5,0 km)"."""
    from landreg.web.suitability import suitability

    m = _REASON.match(reason or "")
    if m is None:
        return reason
    what, value, _op, bound, _limit = m.groups()
    if what == "area_daa":
        name, unit = text_of("area", lang), "daa"
    else:
        crit = suitability().catalogue.criteria.get(what)
        if crit is None:
            return reason
        name, unit = (crit.name_nb if lang == "nb" else crit.name_en), crit.unit
    try:
        return text_of("map_reason", lang, what=name,
                       value=fmt_quantity(float(value), unit, lang),
                       bound=fmt_quantity(float(bound), unit, lang))
    except ValueError:
        return reason


def _plot_scores(plot_id: int, lang: str) -> list[dict[str, Any]]:
    """The plot's points for every purpose profile, best first (public scores)."""
    from landreg.scoring.errors import LayerError
    from landreg.web.suitability import suitability

    sess = session()
    try:
        scores = suitability().plot_scores(sess, plot_id, public=True)
    except LayerError:  # layers not built: the page still shows the facts
        current_app.logger.exception("scores of plot %s", plot_id)
        sess.rollback()
        return []
    sess.commit()  # keep refreshed scores
    return [{"name": s["profile_name_nb"] if lang == "nb" else s["profile_name_en"],
             "score": s["score"], "excluded": s["excluded"],
             "reasons": [reason_text(r, lang) for r in s["reasons"]]}
            for s in scores]


@bp.get("/plots/<int:plot_id>/history")
def history_page(plot_id: int) -> str | Response:
    """Every version of a plot, field by field, with the outlines on a map (planners only)."""
    from landreg.registry.history import plot_versions
    from landreg.web.auth import current_principal

    if current_principal() is None:
        return redirect(url_for("auth.login_form", next=request.path))
    lang = pick_lang(request.args.get("lang"))
    versions = plot_versions(session(), plot_id)
    current = fetch_one(session(), plot_id, public=False)
    m = plot_map(current, kommuner_collection(), lang)
    import folium

    for v in versions[:-1]:
        folium.GeoJson({"type": "Feature", "geometry": v["geometry"], "properties": {}},
                       name=f"v{v['version']}",
                       style_function=lambda f: {"color": "#888", "fill": False,
                                                 "dashArray": "4 4", "weight": 2}).add_to(m)
    return render_template("history.html", versions=list(reversed(versions)),
                           p=current["properties"], parts=components(m), **_page_context(lang))


@bp.get("/import")
def import_page() -> str | Response:
    """Upload a file of plots: a dry run first, then import all of it or nothing."""
    from landreg.web.auth import current_principal

    who = current_principal()
    if who is None:
        return redirect(url_for("auth.login_form", next=request.path))
    lang = pick_lang(request.args.get("lang"))
    kommuner = [(f["id"], f["properties"]["name"]) for f in kommuner_collection()["features"]
                if who.may_edit(f["id"])]
    return render_template("import.html", kommuner=kommuner, **_page_context(lang))


@bp.get("/vendor/<path:filename>")
def vendor(filename: str) -> Response:
    """Leaflet, its plugins and Swagger UI, installed from npm into webmap/node_modules by
    `make`."""
    path = vendor_path(filename)
    if path is None:
        abort(404)
    if not NODE_MODULES.is_dir():
        abort(503, description="The map libraries are not installed: run `make run` once "
                               "(it installs them from the npm registry).")
    return send_from_directory(NODE_MODULES, path, max_age=86400)


def vendor_path(filename: str) -> str | None:
    """``filename`` normalised inside node_modules, or None unless it lies in an allowed
    package.

    The allowlist is judged on the normalised path (``leaflet/../rbush/x`` is ``rbush/x``):
    werkzeug's ``safe_join`` refuses absolute paths, backslashes and anything leaving the
    folder, then the first segment (two for a scoped ``@org/pkg``) must be a package of
    ``VENDOR_PACKAGES`` (a scope allows all of its packages).
    """
    from werkzeug.security import safe_join

    joined = safe_join("/", filename)  # "/" + a clean relative path, or None
    if joined is None or "\\" in filename:
        return None
    rel = joined.lstrip("/")
    parts = rel.split("/")
    if len(parts) < 2 or any(p in ("", ".", "..") for p in parts):
        return None
    depth = 3 if parts[0].startswith("@") else 2  # scope/package/file or package/file
    return rel if parts[0] in VENDOR_PACKAGES and len(parts) >= depth else None
