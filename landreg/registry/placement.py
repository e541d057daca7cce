"""Where a plot lies: the kommune it belongs to, and whether it is inside the region."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from landreg.errors import InvalidInput, OutsideRegion, PermissionDenied
from landreg.ingest.crs import STORE_EPSG
from landreg.models import Municipality

#: Share of a plot's area that may fall outside the region's (generalised) border before the
#: plot is refused. N1000 borders are drawn for 1:1,000,000; real plot edges along the border
#: can cross them by a few metres.
OUTSIDE_TOLERANCE = 0.01

#: Share of a plot's area inside the region that may fall in kommuner its editor does not keep
#: (1 %, the same allowance for the generalised N1000 borders). Beyond it the save is refused:
#: the larger part deciding the kommune must not let a planner place land in a neighbour's.
FOREIGN_TOLERANCE = 0.01


@dataclass
class Placement:
    """The kommune a plot is filed under, and how its area splits over the kommuner."""

    kommunenummer: str
    kommunenavn: str
    area_daa: float
    shares_daa: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def straddles(self) -> bool:
        """True when more than one kommune holds part of the plot."""
        return len([v for v in self.shares_daa.values() if v > 0.0005]) > 1


def place(session: Session, geom: BaseGeometry, given: str | None = None, *,
          allowed: Collection[str] | None = None) -> Placement:
    """Derive the kommune of ``geom`` (EPSG:25833) and check it against ``given``.

    The kommune holding the larger part wins; a plot crossing a border is accepted and the split
    is reported in ``warnings``. A plot with more than 1 % of its area outside the seven kommuner
    is refused, as is a ``given`` kommunenummer that disagrees with the geometry.

    ``allowed`` (the kommuner of the editing planner; None for an admin or the system) refuses
    with :class:`PermissionDenied` a plot with more than ``FOREIGN_TOLERANCE`` of its in-region
    area — any part of a MultiPolygon counts — in other kommuner.
    """
    g = from_shape(geom, srid=STORE_EPSG)
    area = func.ST_Area(func.ST_Intersection(Municipality.geom, g))
    rows = session.execute(
        select(Municipality.kommunenummer, Municipality.name, area.label("a"))
        .where(func.ST_Intersects(Municipality.geom, g))
        .order_by(area.desc())
    ).all()
    total = geom.area
    inside = sum(r.a for r in rows)
    outside = total - inside
    if not rows or outside > OUTSIDE_TOLERANCE * total:
        raise OutsideRegion(
            f"{outside / 1000:.1f} of the plot's {total / 1000:.1f} daa lie outside the seven "
            "Glåmdalen kommuner. A plot must lie inside the region.",
            field="geometry",
            details={"outside_daa": round(outside / 1000, 3), "area_daa": round(total / 1000, 3)},
        )
    if allowed is not None:
        check_allowed({r.kommunenummer: r.a for r in rows}, allowed)
    best = rows[0]
    placement = Placement(
        kommunenummer=best.kommunenummer,
        kommunenavn=best.name,
        area_daa=total / 1000,
        shares_daa={r.kommunenummer: round(r.a / 1000, 3) for r in rows},
    )
    if placement.straddles:
        split = ", ".join(f"{k}: {v:.1f} daa" for k, v in placement.shares_daa.items())
        placement.warnings.append(
            f"The plot crosses a kommune border ({split}); it is filed under "
            f"{best.kommunenummer} {best.name}, which holds the larger part."
        )
    if given and given != best.kommunenummer:
        raise InvalidInput(
            f"kommunenummer {given} does not match the geometry: the plot lies in "
            f"{best.kommunenummer} {best.name}"
            + (" (the larger part)." if placement.straddles else "."),
            field="kommunenummer",
            value=given,
            details={"shares_daa": placement.shares_daa},
        )
    return placement


def check_allowed(shares_m2: dict[str, float], allowed: Collection[str]) -> None:
    """Refuse (:class:`PermissionDenied`) when more than ``FOREIGN_TOLERANCE`` of the area in
    ``shares_m2`` (m² per kommunenummer) lies in kommuner not in ``allowed``."""
    inside = sum(shares_m2.values())
    foreign = {k: a for k, a in shares_m2.items() if k not in set(allowed)}
    if inside > 0 and sum(foreign.values()) > FOREIGN_TOLERANCE * inside:
        where = ", ".join(sorted(foreign))
        share = ", ".join(f"{k}: {a / 1000:.1f} daa" for k, a in sorted(foreign.items()))
        raise PermissionDenied(
            f"You may not edit plots in kommune {where}: {sum(foreign.values()) / inside:.0%} "
            f"of the plot lies there ({share}); your kommuner: "
            f"{', '.join(sorted(allowed)) or 'none'}. Every part of a plot must lie in your "
            f"kommuner (up to {FOREIGN_TOLERANCE:.0%} across a border is allowed for the "
            "generalised borders).",
            field="geometry", details={"foreign_daa": {k: round(a / 1000, 3)
                                                       for k, a in foreign.items()}})
