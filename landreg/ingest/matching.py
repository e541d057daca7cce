"""Matching: which stored plot each feature is, and what changes.

By the plan's own identity (``external_ref`` in the kommune the feature lies in), by
``landreg_id`` for our own exports, else by an identical outline in the same plan
(:func:`classify`); then field by field and geometry within :data:`GEOMETRY_TOLERANCE_M`,
``update`` with the changed fields or ``unchanged``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy.orm import Session

from landreg.ingest.messages import Message
from landreg.ingest.readers import Source
from landreg.ingest.report import ImportReport, Notes, Reason
from landreg.models import Plot
from landreg.registry.fields import (
    EDITABLE_FIELDS,
    REQUIRED_ON_CREATE,
)

#: Largest vertex displacement (metres, EPSG:25833) that still counts as the same geometry.
GEOMETRY_TOLERANCE_M = 0.05

NOT_NULL = frozenset(c.name for c in Plot.__table__.c if not c.nullable)

_FLOAT_FIELDS = frozenset({"power_capacity_mw", "max_bya_pct", "max_height_m"})


def _existing(session: Session, keys: pd.DataFrame, ids: list[int],
              fields: list[str], same_outline: list[int] | None = None) -> pd.DataFrame:
    """The plots matched by (kommune, external_ref), by id and by outline: three queries,
    whatever the size."""
    names = ["id", "version", "kommunenummer", "external_ref", "wkb", *fields]
    # S608: ``fields`` come from EDITABLE_FIELDS (column names we define); values are bound
    select_ = ("SELECT p.id, p.version, p.kommunenummer, p.external_ref, ST_AsBinary(p.geom)"  # noqa: S608
               + "".join(f", p.{f}" for f in fields) + " FROM plot p ")
    rows: list[tuple] = []
    dbapi = session.connection().connection.driver_connection
    with dbapi.cursor() as cur:
        if len(keys):
            cur.execute(select_ + "JOIN unnest(%(k)s::text[], %(r)s::text[]) AS u(k, r) "
                        "ON p.kommunenummer = u.k AND p.external_ref = u.r",
                        {"k": keys["k"].tolist(), "r": keys["ref"].tolist()})
            rows += cur.fetchall()
        if ids:
            cur.execute(select_ + "WHERE p.id = ANY(%(ids)s::bigint[]) AND p.external_ref IS NULL",
                        {"ids": ids})
            rows += cur.fetchall()
        if same_outline:
            cur.execute(select_ + "WHERE p.id = ANY(%(ids)s::bigint[])", {"ids": same_outline})
            rows += cur.fetchall()
    return pd.DataFrame(rows, columns=names, dtype=object).drop_duplicates("id")


def _same_values(name: str, new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Element-wise: does the file's value equal the stored one? (None = empty)"""
    new_null, old_null = pd.isna(new), pd.isna(old)
    same = new_null & old_null
    both = np.flatnonzero(~new_null & ~old_null)
    if len(both):
        a, b = new[both], old[both]
        if name == "price_nok_m2":
            same[both] = np.round(a.astype(float), 2) == b.astype(float)
        elif name in _FLOAT_FIELDS:
            same[both] = np.isclose(a.astype(float), b.astype(float), rtol=1e-9, atol=1e-9)
        else:
            same[both] = (a == b).astype(bool)
    if name in NOT_NULL:
        same |= new_null  # an empty cell in a required field means "keep"
    return same


def _same_geometry(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    a, b = shapely.normalize(new), shapely.normalize(old)
    same = shapely.equals_exact(a, b, tolerance=GEOMETRY_TOLERANCE_M)
    for k in np.flatnonzero(~same):  # same shape, other vertex order or a split edge
        same[k] = shapely.hausdorff_distance(a[k], b[k], densify=0.25) <= GEOMETRY_TOLERANCE_M
    return same


def classify(session: Session, src: Source, kommune: str | None, columns: dict[str, str],
              ignored: list[str], geoms: np.ndarray, values: dict[str, np.ndarray],
              best: np.ndarray, reasons: Notes[Reason],
              warnings: Notes[str], skips: dict[int, str],
              outline: dict[int, int] | None = None) -> ImportReport:
    """Per feature: match it to a stored plot, decide its action and what changes, and
    make the report with the rows :func:`~landreg.ingest.writing.apply_import` writes."""
    n = len(geoms)
    skipped = np.zeros(n, dtype=bool)
    skipped[list(skips)] = True
    for i in skips:  # not business land: whatever else is wrong with it does not matter
        reasons.pop(i, None)
        warnings.pop(i, None)
    best = best.copy()
    best[skipped] = None
    nothing = np.full(n, None, dtype=object)
    refs = values.get("external_ref", nothing)
    ids = values.get("landreg_id", nothing)
    feat = pd.DataFrame({"k": best, "ref": refs, "lid": ids}, dtype=object)
    placed = feat["k"].notna().to_numpy()

    with_ref = feat[placed & feat["ref"].notna().to_numpy()]
    dups = with_ref[with_ref.duplicated(["k", "ref"], keep=False)]
    for (k, ref), group in dups.groupby(["k", "ref"]):
        listed = ", ".join(str(i + 1) for i in group.index)
        for i in group.index:
            reasons[i].append(Reason("duplicate_ref", "external_ref", Message(
                f"external_ref {ref!r} appears {len(group)} times in kommune {k} "
                f"(features {listed}).", "imp_r_duplicate_ref", ref=str(ref),
                count=len(group), kommune=k, rows=listed)))
    ok = np.ones(n, dtype=bool)
    ok[[i for i, r in reasons.items() if r]] = False
    ok[skipped] = False

    written = [f for f in EDITABLE_FIELDS if f in values and f != "kommunenummer"]
    compare = [f for f in written if f != "external_ref"]
    by_ref = feat[ok & placed & feat["ref"].notna().to_numpy()]
    by_id = feat[ok & placed & feat["ref"].isna().to_numpy() & feat["lid"].notna().to_numpy()]
    outline = {i: p for i, p in (outline or {}).items() if ok[i] and placed[i]}
    existing = _existing(session, by_ref.drop_duplicates(["k", "ref"]),
                         sorted(set(by_id["lid"].tolist())), compare,
                         sorted(set(outline.values())))

    # Row in `existing` that each feature matches (-1: none): by (kommune, ref), else by id.
    match = np.full(n, -1)
    ex = existing.reset_index(drop=True)
    if len(ex) and len(by_ref):
        pos = pd.Series(ex.index, index=pd.MultiIndex.from_arrays(
            [ex["kommunenummer"], ex["external_ref"]]))
        pos = pos[pos.index.get_level_values(1).notna()]
        hit = pos.reindex(pd.MultiIndex.from_arrays([by_ref["k"], by_ref["ref"]])).to_numpy()
        found = ~pd.isna(hit)
        match[by_ref.index[found]] = hit[found].astype(int)
    if len(ex) and len(by_id):
        idx_of = {(r.id, r.kommunenummer): i for i, r in enumerate(ex.itertuples())
                  if r.external_ref is None}
        for i, lid, k in zip(by_id.index, by_id["lid"], by_id["k"], strict=True):
            match[i] = idx_of.get((lid, k), -1)

    # No plot with its reference: the plot with the same outline in the same kommune and the
    # same plan (or without a reference of its own), if no other feature matched it already —
    # a plan re-imported under other references (SOSI object numbers are not stable).
    by_outline: list[int] = []
    if outline and len(ex):
        row_of = {(int(r.id), r.kommunenummer): j for j, r in enumerate(ex.itertuples())}
        taken = set(match[match >= 0].tolist())
        stored_ref = ex["external_ref"].to_numpy(dtype=object)
        stored_plan = (ex["plan_id"].to_numpy(dtype=object) if "plan_id" in ex
                       else np.full(len(ex), None, dtype=object))
        plan = values.get("plan_id", nothing)
        for i, pid in sorted(outline.items()):
            j = row_of.get((pid, best[i]), -1)
            same_plan = j >= 0 and (stored_ref[j] is None
                                    or (plan[i] is not None and plan[i] == stored_plan[j]))
            if match[i] < 0 and same_plan and j not in taken:
                match[i] = j
                taken.add(j)
                by_outline.append(i)

    # A new plot needs a name and an arealformål. Said also of a feature rejected for
    # something else when it can only be new (no reference, no id): every reason at once.
    new = (match < 0) & ~skipped & (ok | (feat["ref"].isna() & feat["lid"].isna()).to_numpy())
    for req in REQUIRED_ON_CREATE:
        missing = new & pd.isna(values.get(req, nothing))
        missing[[i for i, rs in reasons.items() if any(r.field == req for r in rs)]] = False
        for i in np.flatnonzero(missing):
            how = (f"column {columns[req]!r} is empty" if req in columns else
                   f"no column holds it: map one with --map {req}=COLUMN")
            reasons[i].append(Reason("missing_field", req, Message(
                f"{req} is required for a new plot ({how}).",
                "imp_r_missing_empty" if req in columns else "imp_r_missing_nocolumn",
                field=req, column=columns.get(req, ""))))
        ok &= ~missing

    action = np.where(ok, np.where(match >= 0, "update", "create"), "rejected").astype(object)
    action[skipped] = "skipped"
    upd = np.flatnonzero(action == "update")
    changes: dict[int, tuple[str, ...]] = {}
    if len(upd):
        rows = match[upd]
        changed = np.zeros((len(upd), len(compare) + 1), dtype=bool)
        for j, f in enumerate(compare):
            changed[:, j] = ~_same_values(f, values[f][upd], ex[f].to_numpy(dtype=object)[rows])
        old_geom = shapely.from_wkb(ex["wkb"].to_numpy(dtype=object)[rows])
        changed[:, -1] = ~_same_geometry(geoms[upd], old_geom)
        labels = np.array([*compare, "geometry"], dtype=object)
        if by_outline and "external_ref" in values:  # recognised by outline, new reference
            stored = ex["external_ref"].to_numpy(dtype=object)[rows]
            other_ref = np.array([i in set(by_outline) and values["external_ref"][i] is not None
                                  and values["external_ref"][i] != stored[k]
                                  for k, i in enumerate(upd)], dtype=bool)
            changed = np.column_stack([changed, other_ref])
            labels = np.array([*labels, "external_ref"], dtype=object)
        for k in np.flatnonzero(changed.any(axis=1)):
            changes[int(upd[k])] = tuple(labels[changed[k]])
        action[upd[~changed.any(axis=1)]] = "unchanged"

    plot_id = np.full(n, None, dtype=object)
    plot_id[match >= 0] = ex["id"].to_numpy(dtype=object)[match[match >= 0]]
    skip_label = np.full(n, None, dtype=object)
    for i, label in skips.items():
        skip_label[i] = label
    table = pd.DataFrame({"action": action, "external_ref": refs,
                          "name": values.get("name", nothing), "kommunenummer": best,
                          "plot_id": plot_id, "skip": skip_label}, dtype=object)
    rows = _payload(action, match, ex, changes, geoms, values, best)
    return ImportReport(
        source=src.name, format=src.format, layer=src.layer, crs=src.crs_label,
        kommune=kommune, mapping=dict(columns), ignored_columns=ignored,
        warnings=list(src.warnings), _table=table, _changes=changes,
        _reasons={int(i): r for i, r in reasons.items() if r},
        _notes={int(i): w for i, w in warnings.items() if w},
        _rows=rows, _fields=tuple(written),
    )


def _payload(action: np.ndarray, match: np.ndarray, ex: pd.DataFrame,
             changes: dict[int, tuple[str, ...]], geoms: np.ndarray,
             values: dict[str, np.ndarray], best: np.ndarray) -> pd.DataFrame:
    """The rows to write: every field for new plots, the mapped ones for updated plots."""
    todo = np.flatnonzero((action == "create") | (action == "update"))
    hit = match[todo]
    known = hit >= 0
    ids = np.full(len(todo), None, dtype=object)
    versions = np.full(len(todo), None, dtype=object)
    ids[known] = ex["id"].to_numpy(dtype=object)[hit[known]]
    versions[known] = ex["version"].to_numpy(dtype=object)[hit[known]]
    data: dict[str, Any] = {"ord": todo, "action": action[todo], "id": ids,
                            "version": versions, "kommunenummer": best[todo]}
    for f in [*EDITABLE_FIELDS, "purpose_group"]:
        if f != "kommunenummer":
            data[f] = values[f][todo] if f in values else np.full(len(todo), None, dtype=object)
    frame = pd.DataFrame(data, dtype=object)
    creates = (frame["action"] == "create").to_numpy()
    for f, default in (("plan_status", "nåværende"), ("availability", "ledig"),
                       ("published", False)):
        frame.loc[creates & frame[f].isna().to_numpy(), f] = default
    geom = geoms[todo].copy()
    keep = np.array([a == "update" and "geometry" not in changes.get(i, ())
                     for a, i in zip(action[todo], todo, strict=True)], dtype=bool)
    geom[keep] = None  # unchanged geometry: the UPDATE keeps the stored one
    frame["geom"] = geom
    return frame

