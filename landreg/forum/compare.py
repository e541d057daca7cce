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
            weights: dict[str, float] | None = None, *, public: bool = True) -> dict[str, Any]:
    """The comparison table.

    Returns ``{"profile", "plots": [facts + score + rank + excluded + reasons],
    "ranked_among": "published" (the public) | "all" (planners: internal ranks),
    "criteria": [{criterion, unit, values: [{raw, normalised, contribution}], best}],
    "distances": [{criterion, unit, values: [m], best}], "facts": [{field, values, differ}]}``;
    ``best`` is the index of the best plot on that row (None on a tie), ``differ`` says
    whether the plots differ on a fact.
    """
    if not MIN_PLOTS <= len(plot_ids) <= MAX_PLOTS:
        raise InvalidInput(f"Compare {MIN_PLOTS} to {MAX_PLOTS} plots; got {len(plot_ids)}.",
                           field="plots")
    profile = suitability.profile(profile_id, weights)
    features = [fetch_one(session, pid, public=public) for pid in plot_ids]
    # the public see ranks among published plots; planners the internal ranking (labelled)
    ranking = {i["plot_id"]: i for i in suitability.ranking(session, profile_id, weights,
                                                             public=public)}
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
            "criteria": criteria, "distances": distances, "facts": facts}


def _best(values: list[float | None], *, higher: bool) -> int | None:
    known = [(v, i) for i, v in enumerate(values) if v is not None]
    if not known:
        return None
    target = max(known)[0] if higher else min(known)[0]
    winners = [i for v, i in known if v == target]
    return winners[0] if len(winners) == 1 else None
