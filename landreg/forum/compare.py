"""Compare 2–6 plots side by side for a purpose: every criterion, limits, facts, distances."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from landreg.errors import InvalidInput
from landreg.models import Plot
from landreg.registry.search import fetch_one
from landreg.scoring.service import Suitability
from landreg.scoring.zonal import zonal_stats

DISTANCES = ("dist_main_road", "dist_junction", "dist_rail", "dist_station", "dist_centre")
FACTS = ("name", "kommunenavn", "kommunenummer", "area_daa", "arealformal",
         "arealformal_name", "plan_status", "availability", "road_access", "water_sewer",
         "power_capacity_mw", "price_nok_m2")
MIN_PLOTS, MAX_PLOTS = 2, 6


def parse_ids(text: str | None) -> list[int]:
    """``"3,17,42"`` → ``[3, 17, 42]``, 2–6 distinct plot ids, or a clear error."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not all(p.isdigit() and len(p) < 19 for p in parts):
        raise InvalidInput("plots must be plot ids separated by commas, e.g. 3,17,42",
                           field="plots", value=text)
    ids = list(dict.fromkeys(int(p) for p in parts))
    if not MIN_PLOTS <= len(ids) <= MAX_PLOTS:
        raise InvalidInput(f"Compare {MIN_PLOTS} to {MAX_PLOTS} plots; got {len(ids)}.",
                           field="plots", value=text)
    return ids


def compare(session: Session, suitability: Suitability, profile_id: str, plot_ids: list[int],
            weights: dict[str, float] | None = None, *, public: bool = True,
            selection: list[int] | None = None) -> dict[str, Any]:
    """The comparison table.

    Ranks are THE ranking (:meth:`Suitability.rank`): ``rank`` within ``selection`` (the
    plots the filters on screen select; every visible plot when None) of ``count`` plots,
    ``region_rank`` among the ``region_count`` published plots on the market.

    Returns ``{"profile", "plots": [facts + score + rank + region_rank + excluded + reasons],
    "count", "region_count", "drive": [{destination, name_nb, name_en, values: [min], best}],
    "ranked_among": "published" (the public) | "all" (planners: internal ranks),
    "criteria": [{criterion, unit, values: [{raw, normalised, contribution}], best}],
    "distances": [{criterion, unit, values: [m], best}], "facts": [{field, values, differ}],
    "settlement_note": a row rests on settlement points (show ``criteria_settlements_note``)}``;
    ``best`` is the index of the best plot on that row (None on a tie), ``differ`` says
    whether the plots differ on a fact.
    """
    if not MIN_PLOTS <= len(plot_ids) <= MAX_PLOTS:
        raise InvalidInput(f"Compare {MIN_PLOTS} to {MAX_PLOTS} plots; got {len(plot_ids)}.",
                           field="plots")
    profile = suitability.profile(profile_id, weights)
    features = [fetch_one(session, pid, public=public) for pid in plot_ids]
    # the public see ranks among published plots; planners the internal ranking (labelled)
    ranked = suitability.rank(session, profile_id, weights, selection, public=public)
    ranking = {i["plot_id"]: i for i in ranked.items}
    if selection is not None:  # a compared plot outside the selection keeps its scores
        outside = [pid for pid in plot_ids if pid not in ranking]
        if outside:
            extra = suitability.rank(session, profile_id, weights, outside, public=public)
            ranking.update({i["plot_id"]: {**i, "rank": None} for i in extra.items})
    rows = session.execute(select(Plot.id, func.ST_AsBinary(Plot.geom))
                           .where(Plot.id.in_(plot_ids))).all()
    frame = gpd.GeoDataFrame({"id": [r[0] for r in rows]},
                             geometry=shapely.from_wkb([bytes(r[1]) for r in rows]), crs=25833)
    present = [c for c in DISTANCES if c in suitability.layer_paths]
    dist = zonal_stats(frame, {c: suitability.layer_paths[c] for c in present})
    plots = []
    for f in features:
        item = ranking.get(f["id"], {})
        plots.append({"id": f["id"], **{k: f["properties"].get(k) for k in FACTS},
                      "score": item.get("score"), "rank": item.get("rank"),
                      "region_rank": item.get("region_rank"),
                      "excluded": item.get("excluded"), "reasons": item.get("reasons", [])})
    criteria = []
    for cid, weight in profile.weights.items():
        values = []
        for f in features:
            b = next((b for b in ranking.get(f["id"], {}).get("breakdown", [])
                      if b["criterion"] == cid), {})
            values.append({k: b.get(k) for k in ("raw", "normalised", "contribution")})
        c = suitability.catalogue.criteria[cid]
        criteria.append({"criterion": cid, "name_nb": c.name_nb, "name_en": c.name_en,
                         "unit": c.unit, "weight": weight, "values": values,
                         "best": _best([v["contribution"] for v in values], higher=True)})
    distances = []
    for cid in present:
        vals = [None if dist.loc[pid, f"{cid}_min"] != dist.loc[pid, f"{cid}_min"]
                else round(float(dist.loc[pid, f"{cid}_min"]), 0) for pid in plot_ids]
        c = suitability.catalogue.criteria[cid]
        distances.append({"criterion": cid, "name_nb": c.name_nb, "name_en": c.name_en,
                          "unit": "m", "values": vals, "best": _best(vals, higher=False)})
    facts = [{"field": k, "values": [p[k] for p in plots],
              "differ": len({str(p[k]) for p in plots}) > 1} for k in FACTS if k != "name"]
    return {"profile": profile.id, "profile_name_nb": profile.name_nb,
            "profile_name_en": profile.name_en, "weights": profile.weights, "plots": plots,
            "ranked_among": "published" if public else "all",
            "count": ranked.count, "region_count": ranked.region_count,
            "criteria": criteria, "distances": distances,
            "settlement_note": any(suitability.catalogue.criteria[r["criterion"]]
                                   .settlement_points for r in criteria + distances),
            "drive": drive_rows(session, suitability, plot_ids), "facts": facts}


def drive_rows(session: Session, suitability: Suitability, plot_ids: list[int]
               ) -> list[dict[str, Any]]:
    """Drive minutes (issue 13) per destination for the plots, the fastest marked; empty
    without a road network in the layers folder."""
    from landreg.routing.db import plot_minutes
    from landreg.routing.network import destination_names

    folder = suitability.layers_dir
    if folder is None or not (folder / "road_network.yaml").exists():
        return []
    minutes = plot_minutes(session, plot_ids)
    rows = []
    for tid, (name_nb, name_en) in destination_names(folder).items():
        vals = [minutes.get(pid, {}).get(tid) for pid in plot_ids]
        rows.append({"destination": tid, "name_nb": name_nb, "name_en": name_en,
                     "unit": "min", "values": vals, "best": _best(vals, higher=False)})
    return rows


def _best(values: list[float | None], *, higher: bool) -> int | None:
    known = [(v, i) for i, v in enumerate(values) if v is not None]
    if not known:
        return None
    target = max(known)[0] if higher else min(known)[0]
    winners = [i for v, i in known if v == target]
    return winners[0] if len(winners) == 1 else None
