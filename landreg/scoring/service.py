"""Suitability for the register: keeps plot scores in PostGIS current and answers rankings.

Scores are stored per plot and profile with the geometry hash and the layer and profile
versions they came from. Whenever scores are read, stale ones are found in one query (new
plot, changed geometry, rebuilt layers, edited profile) and recomputed for all plots of that
profile together — ranks depend on every plot — so a planner never sees an out-of-date score.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from landreg.models import Plot, PlotScore
from landreg.scoring.build import build_layers, read_kommuner, region_mask
from landreg.scoring.catalogue import (
    LIMITS,
    Catalogue,
    Profile,
    get_profile,
    load_catalogue,
    load_profiles,
    with_weights,
)
from landreg.scoring.engine import ScoreResult, score_plots
from landreg.scoring.surface import candidate_areas, suitability_surface
from landreg.scoring.zonal import zonal_stats
from landreg.settings import Settings

GEOM_HASH = func.md5(func.ST_AsBinary(Plot.geom))


@dataclass
class Suitability:
    """Catalogue, profiles and built layers of one configuration."""

    catalogue: Catalogue
    profiles: dict[str, Profile]
    layer_paths: dict[str, Path]
    layers_version: str
    cache_dir: Path

    @classmethod
    def from_settings(cls, settings: Settings, res: float = 25.0,
                      progress: bool = False) -> Suitability:
        """Load the YAML and build (or reuse) the layers at ``res`` metres."""
        return _cached(str(settings.layers_dir), str(settings.cache_dir), res, progress)

    def profile(self, pid: str, weights: dict[str, float] | None = None) -> Profile:
        """A profile by id, optionally with the user's own weights."""
        p = get_profile(self.profiles, pid)
        return with_weights(p, weights, self.catalogue) if weights else p

    # ---- plots ------------------------------------------------------------------------------
    def _plots(self, session: Session) -> gpd.GeoDataFrame:
        rows = session.execute(select(Plot.id, func.ST_AsBinary(Plot.geom), GEOM_HASH)
                               .where(Plot.availability != "trukket").order_by(Plot.id)).all()
        return gpd.GeoDataFrame(
            {"id": [r[0] for r in rows], "geom_hash": [r[2] for r in rows]},
            geometry=gpd.GeoSeries.from_wkb([bytes(r[1]) for r in rows], crs=25833),
        )

    def _needed(self, profiles: list[Profile]) -> list[str]:
        needed = set()
        for p in profiles:
            needed |= set(p.weights) | {LIMITS[k][0] for k in p.limits}
        return sorted(needed & set(self.catalogue.criteria))

    def score(self, plots: gpd.GeoDataFrame, profiles: list[Profile]) -> dict[str, ScoreResult]:
        """Score ``plots`` for several profiles from one zonal pass."""
        stats = zonal_stats(plots, {c: self.layer_paths[c] for c in self._needed(profiles)})
        return {p.id: score_plots(plots, p, self.catalogue, self.layer_paths,
                                  self.layers_version, stats) for p in profiles}

    def stale_profiles(self, session: Session) -> list[str]:
        """Profiles with any missing or out-of-date score."""
        stale = []
        active = select(Plot.id, GEOM_HASH.label("h")).where(Plot.availability != "trukket"
                                                             ).subquery()
        for p in self.profiles.values():
            n = session.execute(
                select(func.count()).select_from(active).outerjoin(
                    PlotScore, (PlotScore.plot_id == active.c.id) & (PlotScore.profile == p.id))
                .where((PlotScore.plot_id.is_(None)) | (PlotScore.geom_hash != active.c.h)
                       | (PlotScore.profile_version != p.version)
                       | (PlotScore.layers_version != self.layers_version))
            ).scalar_one()
            if n:
                stale.append(p.id)
        return stale

    def refresh(self, session: Session, force: bool = False) -> dict[str, int]:
        """Recompute the scores of every stale profile (all of them with ``force``)."""
        todo = list(self.profiles) if force else self.stale_profiles(session)
        if not todo:
            return {}
        plots = self._plots(session)
        results = self.score(plots, [self.profiles[p] for p in todo])
        hashes = dict(zip(plots["id"], plots["geom_hash"], strict=True))
        for pid, res in results.items():
            session.execute(delete(PlotScore).where(PlotScore.profile == pid))
            rows = self._rows(res, hashes)
            if rows:
                session.execute(insert(PlotScore), rows)
        return {pid: len(plots) for pid in results}

    def _rows(self, res: ScoreResult, hashes: dict[int, str]) -> list[dict[str, Any]]:
        breakdown = breakdown_by_plot(res, self.catalogue)
        rows = []
        for pid, s in res.summary.iterrows():
            rows.append({
                "plot_id": int(pid), "profile": res.profile.id, "score": float(s["score"]),
                "rank": int(s["rank"]), "excluded": bool(s["excluded"]),
                "reasons": list(s["reasons"]), "incomplete": bool(s["incomplete"]),
                "breakdown": breakdown[int(pid)], "geom_hash": hashes[int(pid)],
                "profile_version": res.profile.version, "layers_version": res.layers_version,
            })
        return rows

    # ---- reading ----------------------------------------------------------------------------
    def plot_scores(self, session: Session, plot_id: int) -> list[dict[str, Any]]:
        """Every profile's score for one plot, with breakdown (refreshing stale scores)."""
        self.refresh(session)
        rows = session.execute(select(PlotScore).where(PlotScore.plot_id == plot_id)
                               .order_by(PlotScore.score.desc())).scalars().all()
        return [self._describe(r) for r in rows]

    def _describe(self, r: PlotScore) -> dict[str, Any]:
        p = self.profiles[r.profile]
        return {"profile": r.profile, "profile_name_nb": p.name_nb, "profile_name_en": p.name_en,
                "score": round(r.score, 2), "rank": r.rank, "excluded": r.excluded,
                "reasons": r.reasons, "incomplete": r.incomplete, "breakdown": r.breakdown,
                "profile_version": r.profile_version, "layers_version": r.layers_version}

    def ranking(self, session: Session, pid: str, weights: dict[str, float] | None = None,
                plot_ids: list[int] | None = None) -> list[dict[str, Any]]:
        """Plots best first for a profile (custom weights are scored on the fly, not stored).

        ``plot_ids`` restricts the ranking to those plots (e.g. a public, filtered search).
        """
        profile = self.profile(pid, weights)
        if weights:
            plots = self._plots(session)
            if plot_ids is not None:
                plots = plots[plots["id"].isin(plot_ids)]
            res = self.score(plots, [profile])[profile.id]
            bd = breakdown_by_plot(res, self.catalogue)
            items = [{"plot_id": int(i), "score": float(s["score"]),
                      "excluded": bool(s["excluded"]), "reasons": list(s["reasons"]),
                      "incomplete": bool(s["incomplete"]), "breakdown": bd[int(i)]}
                     for i, s in res.summary.iterrows()]
        else:
            self.refresh(session)
            q = select(PlotScore).where(PlotScore.profile == pid)
            if plot_ids is not None:
                q = q.where(PlotScore.plot_id.in_(plot_ids))
            items = [{"plot_id": r.plot_id, "score": r.score, "excluded": r.excluded,
                      "reasons": r.reasons, "incomplete": r.incomplete,
                      "breakdown": r.breakdown} for r in session.execute(q).scalars()]
        items.sort(key=lambda i: (i["excluded"], -i["score"], i["plot_id"]))
        for n, item in enumerate(items, start=1):
            item["rank"] = n
            item["score"] = round(item["score"], 2)
        return items

    def sensitivity(self, session: Session, pid: str, step: float = 10.0) -> dict[int, dict]:
        """How far each plot's rank moves when any weight moves ±``step`` points."""
        from landreg.scoring.engine import sensitivity

        plots = self._plots(session)
        res = self.score(plots, [self.profile(pid)])[pid]
        table = sensitivity(res, step)
        return {int(i): {"max_shift": int(r["max_shift"]), "worst_move": r["worst_move"]}
                for i, r in table.iterrows()}

    def surface(self, pid: str, weights: dict[str, float] | None = None) -> tuple[Path, Any]:
        """The profile's region surface as a GeoTIFF in the cache (built once per version)."""
        profile = self.profile(pid, weights)
        path = self.cache_dir / "surfaces" / f"{profile.version}-{self.layers_version}.tif"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            grid = _grid_of(self.layer_paths[next(iter(self.layer_paths))])
            suitability_surface(profile, self.catalogue, self.layer_paths, out=path,
                                region=_region(self, grid))
        return path, profile

    def candidates(self, session: Session, pid: str, threshold: float,
                   weights: dict[str, float] | None = None) -> gpd.GeoDataFrame:
        """Candidate areas for a profile above ``threshold`` (0–100), outside existing plots."""
        import rasterio

        from landreg.scoring.grid import Grid

        path, profile = self.surface(pid, weights)
        with rasterio.open(path) as ds:
            surface = ds.read(1)
            grid = Grid(ds.transform.c, ds.transform.f, ds.width, ds.height, ds.transform.a)
        plots = self._plots(session)
        return candidate_areas(surface, grid, profile, threshold, plots,
                               read_kommuner(self.catalogue))


def breakdown_by_plot(res: ScoreResult, catalogue: Catalogue) -> dict[int, list[dict]]:
    """The long breakdown table as JSON-ready lists per plot."""
    out: dict[int, list[dict]] = {}
    for row in res.breakdown.itertuples(index=False):
        c = catalogue.criteria[row.criterion]
        out.setdefault(int(row.id), []).append({
            "criterion": row.criterion, "name_nb": c.name_nb, "name_en": c.name_en,
            "raw": None if np.isnan(row.raw) else round(float(row.raw), 4), "unit": row.unit,
            "statistic": row.statistic,
            "normalised": None if np.isnan(row.normalised) else round(float(row.normalised), 4),
            "weight": float(row.weight), "contribution": round(float(row.contribution), 4),
            "approximate": c.approximate})
    return out


@lru_cache(maxsize=4)
def _cached(layers_dir: str, cache_dir: str, res: float, progress: bool) -> Suitability:
    catalogue = load_catalogue(Path(layers_dir) / "criteria.yaml")
    profiles = load_profiles(Path(layers_dir) / "profiles", catalogue)
    built = build_layers(catalogue, Path(cache_dir), res, progress=progress)
    return Suitability(catalogue, profiles, built["paths"], built["version"], Path(cache_dir))


def _grid_of(path: Path):  # noqa: ANN202
    import rasterio

    from landreg.scoring.grid import Grid

    with rasterio.open(path) as ds:
        return Grid(ds.transform.c, ds.transform.f, ds.width, ds.height, ds.transform.a)


def _region(s: Suitability, grid: Any) -> np.ndarray:
    return region_mask(s.catalogue, grid)


def reset_cache() -> None:
    """Forget loaded configurations (tests change the YAML or layers between runs)."""
    _cached.cache_clear()


__all__ = ["Suitability", "breakdown_by_plot", "reset_cache"]
