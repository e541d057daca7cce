"""Totals per kommune: plots and daa by availability and purpose group, in one query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from landreg.models import Municipality, Plot


def municipality_totals(session: Session, *, public: bool = True) -> list[dict[str, Any]]:
    """Each kommune with its plot count and daa, split by availability and by purpose group.

    Withdrawn plots are left out; the public count only published plots.
    """
    conds = [Plot.availability != "trukket"]
    if public:
        conds.append(Plot.published.is_(True))
    rows = session.execute(
        select(Plot.kommunenummer, Plot.availability, Plot.purpose_group,
               func.count(), func.sum(Plot.area_daa))
        .where(*conds)
        .group_by(Plot.kommunenummer, Plot.availability, Plot.purpose_group)
    ).all()
    kommuner = session.execute(
        select(Municipality.kommunenummer, Municipality.name, Municipality.kommunenummer_pre2020,
               (func.ST_Area(Municipality.geom) / 1e6).label("km2"))
        .order_by(Municipality.kommunenummer)
    ).all()
    out: dict[str, dict[str, Any]] = {
        k.kommunenummer: {
            "kommunenummer": k.kommunenummer, "name": k.name,
            "kommunenummer_pre2020": k.kommunenummer_pre2020, "area_km2": round(k.km2, 1),
            "plots": 0, "daa": 0.0, "by_availability": {}, "by_purpose_group": {},
        }
        for k in kommuner
    }
    for kommune, availability, group, n, daa in rows:
        entry = out[kommune]
        entry["plots"] += n
        entry["daa"] += daa
        for key, name in (("by_availability", availability), ("by_purpose_group", group)):
            bucket = entry[key].setdefault(name, {"plots": 0, "daa": 0.0})
            bucket["plots"] += n
            bucket["daa"] += daa
    for entry in out.values():
        entry["daa"] = round(entry["daa"], 1)
        for key in ("by_availability", "by_purpose_group"):
            for bucket in entry[key].values():
                bucket["daa"] = round(bucket["daa"], 1)
    return list(out.values())


def region_totals(per_kommune: list[dict[str, Any]]) -> dict[str, Any]:
    """The region's sums of :func:`municipality_totals`."""
    total: dict[str, Any] = {"plots": 0, "daa": 0.0, "by_availability": {},
                             "by_purpose_group": {}}
    for entry in per_kommune:
        total["plots"] += entry["plots"]
        total["daa"] += entry["daa"]
        for key in ("by_availability", "by_purpose_group"):
            for name, bucket in entry[key].items():
                agg = total[key].setdefault(name, {"plots": 0, "daa": 0.0})
                agg["plots"] += bucket["plots"]
                agg["daa"] = round(agg["daa"] + bucket["daa"], 1)
    total["daa"] = round(total["daa"], 1)
    return total
