"""The region's land accounts: free business land by kommune and purpose group, how much is
ready, reserved or sold, its overlap with farmland and flood-prone land, and how many years
of supply it is against the jobs target (``layers/land_demand.yaml``, assumptions marked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from landreg.errors import ConfigurationError
from landreg.i18n import LANGS, pick_lang, t
from landreg.models import PURPOSE_GROUPS, Municipality, Plot
from landreg.scoring.service import Suitability
from landreg.scoring.zonal import zonal_stats

STATES = ("ledig", "reservert", "under_forhandling", "solgt", "utbygd")


def load_demand(path: Path) -> dict[str, Any]:
    """The demand assumptions, checked: shares sum to 1, jobs per daa positive, every source
    note in Bokmål and English (``{nb: ..., en: ...}``: people read them on the pages)."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    shares = {k: float(v) for k, v in raw["job_shares"].items()}
    per_daa = {k: float(v) for k, v in raw["jobs_per_daa"].items()}
    unknown = sorted((set(shares) | set(per_daa)) - set(PURPOSE_GROUPS))
    if unknown:
        raise ConfigurationError(f"{path}: unknown purpose group {unknown[0]!r}")
    if abs(sum(shares.values()) - 1) > 1e-6:
        raise ConfigurationError(f"{path}: job_shares must sum to 1; they sum to "
                                 f"{sum(shares.values()):g}")
    if any(v <= 0 for v in per_daa.values()) or float(raw["target_jobs_per_year"]) < 0:
        raise ConfigurationError(f"{path}: jobs_per_daa must be > 0 and the target ≥ 0")
    missing = sorted(set(shares) - set(per_daa))
    if missing:
        raise ConfigurationError(f"{path}: jobs_per_daa lacks {missing[0]!r}")
    for key, note in raw.items():
        if key.endswith("source") and not (isinstance(note, dict) and all(
                isinstance(note.get(lang), str) and note[lang].strip() for lang in LANGS)):
            raise ConfigurationError(f"{path}: {key} needs its text in every language "
                                     f"({', '.join(LANGS)}: {{nb: ..., en: ...}})")
    return {**raw, "job_shares": shares, "jobs_per_daa": per_daa,
            "target_jobs_per_year": float(raw["target_jobs_per_year"])}


def land_accounts(session: Session, demand: dict[str, Any],
                  suitability: Suitability | None = None, *, public: bool = True,
                  lang: str = "nb") -> dict[str, Any]:
    """Per kommune and purpose group: daa by state, ready-to-build free daa, free daa on
    farmland and in flood-prone land (when ``suitability`` layers are given), and the years
    of supply against the yearly demand; the same for the region. The assumptions' sources
    and the per-kommune rule are in ``lang``."""
    conds = [Plot.availability != "trukket"]
    if public:
        conds.append(Plot.published.is_(True))
    rows = session.execute(
        select(Plot.id, Plot.kommunenummer, Plot.purpose_group, Plot.availability,
               Plot.area_daa, Plot.road_access, Plot.water_sewer,
               func.ST_AsBinary(Plot.geom)).where(*conds)).all()
    names = dict(session.execute(select(Municipality.kommunenummer, Municipality.name)).all())
    overlap = {}
    if suitability is not None and rows:
        frame = gpd.GeoDataFrame({"id": [r.id for r in rows]}, crs=25833,
                                 geometry=shapely.from_wkb([bytes(r[7]) for r in rows]))
        layers = {c: suitability.layer_paths[c] for c in ("farmland_share", "flood_share")
                  if c in suitability.layer_paths}
        stats = zonal_stats(frame, layers)
        overlap = {int(i): {c: float(stats.loc[i, f"{c}_share"]) for c in layers}
                   for i in stats.index}

    def blank() -> dict[str, Any]:
        return {**{s: 0.0 for s in STATES}, "byggeklar_free": 0.0, "farmland_free": 0.0,
                "flood_free": 0.0, "plots": 0}

    table: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        cell = table.setdefault(r.kommunenummer, {}).setdefault(r.purpose_group, blank())
        cell[r.availability] += r.area_daa
        cell["plots"] += 1
        if r.availability == "ledig":
            if r.road_access and r.water_sewer:
                cell["byggeklar_free"] += r.area_daa
            shares = overlap.get(r.id, {})
            for key, crit in (("farmland_free", "farmland_share"), ("flood_free", "flood_share")):
                share = shares.get(crit)
                if share is not None and share == share:
                    cell[key] += share * r.area_daa
    yearly = {g: demand["target_jobs_per_year"] * share / demand["jobs_per_daa"][g]
              for g, share in demand["job_shares"].items()}
    n_kommuner = max(len(names), 1)
    region: dict[str, dict[str, Any]] = {}
    kommuner = []
    for k in sorted(names):
        groups = {}
        for g, cell in sorted(table.get(k, {}).items()):
            groups[g] = _finish(cell, yearly.get(g, 0) / n_kommuner)
            agg = region.setdefault(g, blank())
            for key, value in cell.items():
                agg[key] += value
        kommuner.append({"kommunenummer": k, "name": names[k], "groups": groups,
                         "total_free_daa": round(sum(c["ledig"] for c in groups.values()), 1)})
    return {
        "target_jobs_per_year": demand["target_jobs_per_year"],
        "assumptions": {"job_shares": demand["job_shares"],
                        "jobs_per_daa": demand["jobs_per_daa"],
                        "sources": {k: v[pick_lang(lang)] for k, v in demand.items()
                                    if k.endswith("source")}},
        "yearly_demand_daa": {g: round(v, 2) for g, v in yearly.items()},
        "region": {g: _finish(c, yearly.get(g, 0)) for g, c in sorted(region.items())},
        "kommuner": kommuner,
        "per_kommune_rule": t("forum_acc_rule", lang),
    }


def _finish(cell: dict[str, Any], yearly_daa: float) -> dict[str, Any]:
    out = {k: (round(v, 1) if isinstance(v, float) else v) for k, v in cell.items()}
    out["yearly_demand_daa"] = round(yearly_daa, 2)
    out["years_of_supply"] = round(cell["ledig"] / yearly_daa, 1) if yearly_daa > 0 else None
    return out
