"""Suitability for the register: keeps plot scores in PostGIS current and answers rankings.

Scores are stored per plot and profile with the geometry hash and the layer and profile
versions they came from. Whenever scores are read, stale ones are found in one query (new
plot, changed geometry, rebuilt layers, edited profile) and recomputed for all plots of that
profile together — ranks depend on every plot — so a planner never sees an out-of-date score.

Everything that reaches the public is computed from published plots only: public ranks are
1..N among published plots, and public candidate areas subtract only published plots (so an
unpublished plot's outline never shows as a hole). Planners may ask for the internal view
(``public=False``) — ranks among all plots, labelled as such by the caller.

Surfaces and candidate areas cost seconds of CPU: a profile's default surface is cached on disk
(bounded in bytes, least recently used removed first); one-off surfaces for custom weights are
computed in memory and never written; candidate areas are cached per process (LRU) by profile
version, threshold, layers version and the version of the plots they subtract.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from cachetools import LRUCache
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from landreg.errors import InvalidInput
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
from landreg.scoring.engine import ScoreResult, score_plots, statistics
from landreg.scoring.surface import candidate_areas, suitability_surface
from landreg.scoring.zonal import zonal_stats
from landreg.settings import Settings

GEOM_HASH = func.md5(func.ST_AsBinary(Plot.geom))

#: Bytes the cached default surfaces (GeoTIFF, PNG overlay, bounds) may take on disk together;
#: beyond it the least recently used are removed. Only the profiles' own weights are cached.
SURFACE_CACHE_BYTES = 1024 * 2**20
#: Candidate-area answers kept in memory per process (least recently used dropped first).
CANDIDATE_CACHE_ENTRIES = 32
#: Candidate areas are asked for above this score at least: below it nearly the whole region
#: qualifies, and the answer (one huge polygon with thousands of holes) costs seconds.
MIN_THRESHOLD = 50.0
#: At most this many candidate areas (the best first), so every answer is bounded.
MAX_CANDIDATES = 200

_PLOTS_VERSION = """
    SELECT md5(coalesce(string_agg(id || ':' || version, ',' ORDER BY id), ''))
    FROM plot WHERE availability <> 'trukket'{published}
"""


#: The statuses of plots still on the market: a ``region_rank`` counts among these.
REGION_STATUSES = ("ledig", "reservert", "under_forhandling")


@dataclass
class Ranking:
    """A ranked selection: ``items`` (each with ``rank`` and ``region_rank``), ``count`` (the
    selection's size) and ``region_count`` (published plots on the market)."""

    items: list[dict[str, Any]]
    count: int
    region_count: int


@dataclass
class Surface:
    """A suitability surface: scores per cell, their grid, the profile, and the cached file
    (None for one-off surfaces of custom weights, which are never written)."""

    data: np.ndarray
    grid: Any
    profile: Profile
    path: Path | None


@dataclass
class CandidateCache:
    """A small LRU of candidate answers with hit and miss counters (per process)."""

    entries: int = CANDIDATE_CACHE_ENTRIES
    hits: int = 0
    misses: int = 0
    _items: LRUCache = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._items = LRUCache(maxsize=self.entries)

    def get(self, key: tuple) -> gpd.GeoDataFrame | None:
        """The cached answer for ``key`` (counted as a hit), or None (counted as a miss)."""
        with self._lock:
            frame = self._items.get(key)
            if frame is None:
                self.misses += 1
                return None
            self.hits += 1
            return frame.copy()

    def put(self, key: tuple, frame: gpd.GeoDataFrame) -> None:
        """Keep ``frame`` under ``key``, dropping the least recently used beyond the bound."""
        with self._lock:
            self._items[key] = frame.copy()


@dataclass
class Suitability:
    """Catalogue, profiles and built layers of one configuration."""

    catalogue: Catalogue
    profiles: dict[str, Profile]
    layer_paths: dict[str, Path]
    layers_version: str
    cache_dir: Path
    surface_cache_bytes: int = SURFACE_CACHE_BYTES
    candidate_cache: CandidateCache = field(default_factory=CandidateCache)
    _surface_lock: threading.Lock = field(default_factory=threading.Lock)
    #: The folder of the YAML; with a road_network.yaml there, plots' drive times are kept
    #: current together with their scores (landreg.routing.db.refresh_reach).
    layers_dir: Path | None = None

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
    def _plots(self, session: Session, public: bool = False) -> gpd.GeoDataFrame:
        """Active plots; only the published ones when ``public``."""
        q = select(Plot.id, func.ST_AsBinary(Plot.geom), GEOM_HASH).where(
            Plot.availability != "trukket")
        if public:
            q = q.where(Plot.published.is_(True))
        rows = session.execute(q.order_by(Plot.id)).all()
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
        needed = self._needed(profiles)
        stats = zonal_stats(plots, {c: self.layer_paths[c] for c in needed},
                            statistics(self.catalogue, needed))
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
        if self.layers_dir is not None and (self.layers_dir / "road_network.yaml").exists():
            from landreg.routing.db import refresh_reach, served_network

            refresh_reach(session, served_network(session, self.layers_dir))  # and distances
        else:
            from landreg.registry import distances

            distances.refresh(session)
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
    def plot_scores(self, session: Session, plot_id: int, *,
                    public: bool = True) -> list[dict[str, Any]]:
        """Every profile's score for one plot, with breakdown (refreshing stale scores).

        ``rank`` is the plot's place among published plots (``public``, the default), or among
        all active plots for planners (``public=False``); ``ranked_among`` says which.
        """
        self.refresh(session)
        rows = session.execute(select(PlotScore).where(PlotScore.plot_id == plot_id)
                               .order_by(PlotScore.score.desc())).scalars().all()
        ranks = self._ranks_of(session, plot_id, public)
        out = []
        for r in rows:
            item = self._describe(r)
            item["rank"] = ranks.get(r.profile)
            item["ranked_among"] = "published" if public else "all"
            out.append(item)
        return out

    def _ranks_of(self, session: Session, plot_id: int, public: bool) -> dict[str, int]:
        """The plot's rank per profile among published (or all active) plots, in the order
        :meth:`ranking` uses: eligible first, then by score, then by id."""
        order = (PlotScore.excluded, PlotScore.score.desc(), PlotScore.plot_id)
        q = (select(PlotScore.plot_id, PlotScore.profile,
                    func.row_number().over(partition_by=PlotScore.profile, order_by=order)
                    .label("n"))
             .join(Plot, Plot.id == PlotScore.plot_id).where(Plot.availability != "trukket"))
        if public:
            q = q.where(Plot.published.is_(True))
        sub = q.subquery()
        return {p: int(n) for p, n in session.execute(
            select(sub.c.profile, sub.c.n).where(sub.c.plot_id == plot_id)).all()}

    def _describe(self, r: PlotScore) -> dict[str, Any]:
        p = self.profiles[r.profile]
        return {"profile": r.profile, "profile_name_nb": p.name_nb, "profile_name_en": p.name_en,
                "score": round(r.score, 2), "rank": r.rank, "excluded": r.excluded,
                "reasons": r.reasons, "incomplete": r.incomplete, "breakdown": r.breakdown,
                "profile_version": r.profile_version, "layers_version": r.layers_version}

    def ranking(self, session: Session, pid: str, weights: dict[str, float] | None = None,
                plot_ids: list[int] | None = None, *,
                public: bool = True) -> list[dict[str, Any]]:
        """Plots best first for a profile (custom weights are scored on the fly, not stored).

        ``plot_ids`` restricts the ranking to those plots (e.g. a public, filtered search).
        With ``public`` (the default) only published plots are ranked, so ranks run 1..N over
        what the public can see; planners pass ``public=False`` for the internal ranking.
        Each item also carries ``region_rank`` (see :meth:`rank`).
        """
        return self.rank(session, pid, weights, plot_ids, public=public).items

    def rank(self, session: Session, pid: str, weights: dict[str, float] | None = None,
             plot_ids: list[int] | None = None, *, public: bool = True) -> Ranking:
        """The one ranking (issue 12): ``rank`` within the selection (``plot_ids``, or every
        visible plot), best first with excluded plots after the others, and ``region_rank``
        with the same profile and weights among every published plot still on the market
        (:data:`REGION_STATUSES`) — None for a sold, built or withdrawn plot."""
        region = self.region_ids(session)
        scored = self._scored(session, pid, weights,
                              None if plot_ids is None else sorted(set(plot_ids) | set(region)),
                              public=public)
        chosen = scored if plot_ids is None else [i for i in scored
                                                   if i["plot_id"] in set(plot_ids)]
        region_set = set(region)
        region_ranks = {i["plot_id"]: n for n, i in enumerate(
            (i for i in scored if i["plot_id"] in region_set), start=1)}
        items = [{**i, "rank": n, "region_rank": region_ranks.get(i["plot_id"])}
                 for n, i in enumerate(chosen, start=1)]
        return Ranking(items, len(items), len(region_ranks))

    def region_ids(self, session: Session) -> list[int]:
        """Published plots on the market (ledig, reservert, under forhandling): the region a
        ``region_rank`` is counted in."""
        return list(session.execute(select(Plot.id).where(
            Plot.published.is_(True), Plot.availability.in_(REGION_STATUSES))).scalars())

    def _scored(self, session: Session, pid: str, weights: dict[str, float] | None,
                plot_ids: list[int] | None, *, public: bool) -> list[dict[str, Any]]:
        """Scores of the visible plots (of ``plot_ids`` if given) in ranking order."""
        profile = self.profile(pid, weights)
        if weights:
            plots = self._plots(session, public=public)
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
            if public:
                q = q.join(Plot, Plot.id == PlotScore.plot_id).where(Plot.published.is_(True))
            if plot_ids is not None:
                q = q.where(PlotScore.plot_id.in_(plot_ids))
            items = [{"plot_id": r.plot_id, "score": r.score, "excluded": r.excluded,
                      "reasons": r.reasons, "incomplete": r.incomplete,
                      "breakdown": r.breakdown} for r in session.execute(q).scalars()]
        items.sort(key=lambda i: (i["excluded"], -i["score"], i["plot_id"]))
        for item in items:
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

    def surface(self, pid: str, weights: dict[str, float] | None = None, *,
                on_miss: Callable[[], None] | None = None) -> Surface:
        """The profile's region surface.

        With the profile's own weights it is built once per profile and layers version into
        the cache (bounded, see :meth:`trim_surface_cache`); custom ``weights`` give a one-off
        surface computed in memory and never written, so no query can fill the disk.
        ``on_miss`` is called before any computation (the web's rate limit).
        """
        import rasterio

        profile = self.profile(pid, weights)
        grid = _grid_of(self.layer_paths[next(iter(self.layer_paths))])
        if weights:
            if on_miss is not None:
                on_miss()
            data, grid = suitability_surface(profile, self.catalogue, self.layer_paths,
                                             region=_region(self, grid))
            return Surface(data, grid, profile, None)
        path = self.surface_path(pid)
        with self._surface_lock:
            if not path.exists():
                if on_miss is not None:
                    on_miss()
                path.parent.mkdir(parents=True, exist_ok=True)
                suitability_surface(profile, self.catalogue, self.layer_paths, out=path,
                                    region=_region(self, grid))
                self.trim_surface_cache(keep=path)
            else:
                os.utime(path)  # recently used
        with rasterio.open(path) as ds:
            data = ds.read(1)
        return Surface(data, grid, profile, path)

    @property
    def surface_dir(self) -> Path:
        """Where the default surfaces (and their PNG overlays) are cached."""
        return self.cache_dir / "surfaces"

    def surface_path(self, pid: str) -> Path:
        """Where the default surface of profile ``pid`` is cached (``.tif``; its overlay
        shares the stem, which has no dots)."""
        stem = f"{self.profile(pid).version}-{self.layers_version}".replace(".", "_")
        return self.surface_dir / f"{stem}.tif"

    def trim_surface_cache(self, keep: Path | None = None) -> int:
        """Remove the least recently used surfaces until the folder holds at most
        ``surface_cache_bytes``; files sharing a stem (``.tif``, ``.png``, ``.bounds.json``)
        go together, ``keep``'s never. Returns the bytes removed."""
        folder = self.surface_dir
        if not folder.is_dir():
            return 0
        groups: dict[str, list[Path]] = {}
        for f in folder.iterdir():
            if f.is_file():
                groups.setdefault(f.name.split(".")[0], []).append(f)

        def stat(f: Path) -> tuple[int, float]:
            try:
                st = f.stat()
            except FileNotFoundError:
                return 0, 0.0
            return st.st_size, st.st_mtime

        sized = {k: (sum(stat(f)[0] for f in fs), max(stat(f)[1] for f in fs))
                 for k, fs in groups.items()}
        total = sum(size for size, _t in sized.values())
        removed = 0
        kept = keep.name.split(".")[0] if keep is not None else None
        for stem, (size, _t) in sorted(sized.items(), key=lambda kv: kv[1][1]):
            if total <= self.surface_cache_bytes:
                break
            if stem == kept:
                continue
            for f in groups[stem]:
                f.unlink(missing_ok=True)
            total -= size
            removed += size
        return removed

    def plots_version(self, session: Session, public: bool = True) -> str:
        """A hash of the ids and versions of the active (published, with ``public``) plots:
        it changes whenever a plot that candidate areas subtract appears, moves or goes."""
        sql = _PLOTS_VERSION.format(published=" AND published" if public else "")
        return session.execute(text(sql)).scalar_one()

    def candidates(self, session: Session, pid: str, threshold: float,
                   weights: dict[str, float] | None = None, *, public: bool = True,
                   on_miss: Callable[[], None] | None = None) -> gpd.GeoDataFrame:
        """Candidate areas for a profile above ``threshold`` (50–100), outside existing plots
        (published ones only with ``public``): at most ``MAX_CANDIDATES``, best first."""
        return self.cached_candidates(session, pid, threshold, weights, public=public,
                                      on_miss=on_miss)[0]

    def cached_candidates(self, session: Session, pid: str, threshold: float,
                          weights: dict[str, float] | None = None, *, public: bool = True,
                          on_miss: Callable[[], None] | None = None,
                          ) -> tuple[gpd.GeoDataFrame, bool]:
        """:meth:`candidates` and whether the answer came from the cache."""
        if not MIN_THRESHOLD <= threshold <= 100:
            raise InvalidInput(
                f"threshold must be between {MIN_THRESHOLD:g} and 100 (a score): below "
                f"{MIN_THRESHOLD:g} nearly the whole region qualifies.",
                field="threshold", value=threshold)
        profile = self.profile(pid, weights)
        key = (profile.version, float(threshold), self.layers_version,
               self.plots_version(session, public), public)
        hit = self.candidate_cache.get(key)
        if hit is not None:
            return hit, True
        if on_miss is not None:
            on_miss()
        surface = self.surface(pid, weights)
        frame = candidate_areas(surface.data, surface.grid, profile, threshold,
                                self._plots(session, public=public),
                                read_kommuner(self.catalogue, self.cache_dir),
                                max_features=MAX_CANDIDATES)
        self.candidate_cache.put(key, frame)
        return frame, False


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
    return Suitability(catalogue, profiles, built["paths"], built["version"], Path(cache_dir),
                       layers_dir=Path(layers_dir))


def _grid_of(path: Path):  # noqa: ANN202
    import rasterio

    from landreg.scoring.grid import Grid

    with rasterio.open(path) as ds:
        return Grid(ds.transform.c, ds.transform.f, ds.width, ds.height, ds.transform.a)


def _region(s: Suitability, grid: Any) -> np.ndarray:
    return region_mask(s.catalogue, grid, s.cache_dir)


def reset_cache() -> None:
    """Forget loaded configurations (tests change the YAML or layers between runs)."""
    _cached.cache_clear()


__all__ = ["Suitability", "breakdown_by_plot", "reset_cache"]
