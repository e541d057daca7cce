"""Score plots for a purpose profile: raw statistic → value function → weighted sum.

For each plot and criterion of the profile: the raw statistic the catalogue names (e.g. the
mean slope, the minimum distance to rail, the share in flood-prone land), the normalised value
(0–1) from the profile's value function, the weight (%) and the contribution in points
(weight × normalised). The score is the sum of contributions, 0–100.

Rules a planner can rely on:
- A plot that breaks a hard limit keeps its score and is marked ``excluded`` with the reasons.
- A criterion with no valid cells under the plot (nodata) contributes nothing and the plot is
  marked ``incomplete`` naming the criterion — never a silent zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from landreg.scoring.catalogue import LIMITS, Catalogue, Profile
from landreg.scoring.zonal import zonal_stats


@dataclass
class ScoreResult:
    """Scores of many plots for one profile."""

    profile: Profile
    layers_version: str
    summary: pd.DataFrame  # index id: score, excluded, reasons, incomplete, missing, rank
    breakdown: pd.DataFrame  # long: id, criterion, raw, unit, statistic, normalised, weight,
    #                          contribution
    normalised: pd.DataFrame  # wide: id × criterion (for sensitivity)


def _limit_reasons(profile: Profile, raw: pd.DataFrame, area: pd.Series) -> list[list[str]]:
    reasons: list[list[str]] = [[] for _ in range(len(raw))]
    for name, bound in profile.limits.items():
        what, kind = LIMITS[name]
        values = area if what == "area_daa" else raw.get(what)
        if values is None:
            continue
        v = values.to_numpy(dtype=float)
        broken = np.flatnonzero((v > bound if kind == "max" else v < bound) & ~np.isnan(v))
        tail = f" {'>' if kind == 'max' else '<'} {bound:g} ({name})"
        for i, x in zip(broken.tolist(), v[broken].tolist(), strict=True):
            reasons[i].append(f"{what} {x:.3g}{tail}")
    return reasons


def score_plots(plots: gpd.GeoDataFrame, profile: Profile, catalogue: Catalogue,
                layer_paths: dict[str, Path], layers_version: str = "",
                stats: pd.DataFrame | None = None) -> ScoreResult:
    """Score every plot (GeoDataFrame in EPSG:25833 with ``id``) for ``profile``.

    ``stats`` may carry precomputed :func:`zonal_stats` (to score many profiles from one pass).
    """
    needed = set(profile.weights) | {LIMITS[k][0] for k in profile.limits} - {"area_daa"}
    needed &= set(catalogue.criteria)
    if stats is None:
        stats = zonal_stats(plots, {c: layer_paths[c] for c in sorted(needed)},
                            statistics(catalogue, needed))
    ids = plots["id"].to_numpy()
    stats = stats.reindex(ids)
    area = pd.Series(plots.geometry.area.to_numpy() / 1000.0, index=ids)
    # whole columns at once: a DataFrame grown column by column (or concatenated from one frame
    # per criterion) costs more than the arithmetic for thousands of plots
    raw = pd.DataFrame({cid: stats[f"{cid}_{catalogue.criteria[cid].statistic}"].to_numpy()
                        for cid in sorted(needed)}, index=ids)
    cids = list(profile.weights)
    weights = np.array([profile.weights[cid] for cid in cids])
    normalised = {cid: profile.value_function(catalogue.criteria[cid])(raw[cid].to_numpy())
                  for cid in cids}
    norm = pd.DataFrame(normalised, index=ids)
    total = np.zeros(len(ids))
    contributions = []
    missing: list[list[str]] = [[] for _ in ids]
    for cid, weight in zip(cids, weights, strict=True):
        n = normalised[cid]
        contribution = weight * np.nan_to_num(n, nan=0.0)
        contributions.append(contribution)
        total += contribution
        for i in np.flatnonzero(np.isnan(n)):
            missing[i].append(cid)
    k = len(ids)
    crit = [catalogue.criteria[cid] for cid in cids]
    breakdown = pd.DataFrame({
        "id": np.tile(ids, len(cids)),
        "criterion": np.repeat(np.array(cids, dtype=object), k),
        "raw": np.concatenate([raw[cid].to_numpy() for cid in cids]),
        "unit": np.repeat(np.array([c.unit for c in crit], dtype=object), k),
        "statistic": np.repeat(np.array([c.statistic for c in crit], dtype=object), k),
        "normalised": np.concatenate([normalised[cid] for cid in cids]),
        "weight": np.repeat(weights, k),
        "contribution": np.concatenate(contributions),
    }) if cids else pd.DataFrame()
    reasons = _limit_reasons(profile, raw, area)
    summary = pd.DataFrame({
        "score": np.round(total, 6),
        "excluded": [bool(r) for r in reasons],
        "reasons": reasons,
        "incomplete": [bool(m) for m in missing],
        "missing": missing,
        "area_daa": area.to_numpy(),
        "method": stats["method"].to_numpy() if "method" in stats else "cells",
    }, index=pd.Index(ids, name="id"))
    summary["rank"] = rank(summary)
    return ScoreResult(profile, layers_version, summary, breakdown, norm)


def statistics(catalogue: Catalogue, criteria: Iterable[str]) -> dict[str, list[str]]:
    """The one statistic scoring reads of each criterion (for :func:`zonal_stats`)."""
    return {c: [catalogue.criteria[c].statistic] for c in criteria}


def rank(summary: pd.DataFrame) -> np.ndarray:
    """1 = best: eligible plots first by score, then excluded plots by score (ties keep the
    order of ``summary``)."""
    order = np.lexsort((-summary["score"].to_numpy(dtype=float),
                        summary["excluded"].to_numpy(dtype=bool)))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def sensitivity(result: ScoreResult, step: float = 10.0) -> pd.DataFrame:
    """One-at-a-time sensitivity: move each weight ±``step`` points (the others rescaled to keep
    100) and report how far each plot's rank moves.

    Returns a DataFrame indexed by plot id with ``max_shift`` (largest absolute rank change over
    all moves), ``worst_move`` (which move caused it) and one column per move.
    """
    weights = result.profile.weights
    norm = result.normalised.fillna(0.0)
    base_rank = result.summary["rank"]
    excluded = result.summary["excluded"].to_numpy()
    cols = {}
    for cid in weights:
        for delta in (+step, -step):
            w = dict(weights)
            new = min(max(w[cid] + delta, 0.0), 100.0)
            rest = 100.0 - new
            others = sum(v for k, v in w.items() if k != cid)
            for k in w:
                w[k] = new if k == cid else (w[k] * rest / others if others else 0.0)
            score = norm[list(w)].to_numpy() @ np.array(list(w.values()))
            s = pd.DataFrame({"score": score, "excluded": excluded}, index=norm.index)
            cols[f"{cid}{'+' if delta > 0 else '-'}{step:g}"] = rank(s) - base_rank.to_numpy()
    shifts = pd.DataFrame(cols, index=norm.index)
    out = pd.DataFrame(index=norm.index)
    out["max_shift"] = shifts.abs().max(axis=1).astype(int)
    out["worst_move"] = shifts.abs().idxmax(axis=1)
    return out.join(shifts)
