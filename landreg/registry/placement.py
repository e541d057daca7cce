"""Where a plot lies: the kommune it belongs to, and whether it is inside the region."""

from __future__ import annotations

from dataclasses import dataclass, field

from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from landreg.errors import InvalidInput, OutsideRegion
from landreg.ingest.crs import STORE_EPSG
from landreg.models import Municipality

#: Share of a plot's area that may fall outside the region's (generalised) border before the
#: plot is refused. N1000 borders are drawn for 1:1,000,000; real plot edges along the border
#: can cross them by a few metres.
OUTSIDE_TOLERANCE = 0.01


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


def place(session: Session, geom: BaseGeometry, given: str | None = None) -> Placement:
    """Derive the kommune of ``geom`` (EPSG:25833) and check it against ``given``.

    The kommune holding the larger part wins; a plot crossing a border is accepted and the split
    is reported in ``warnings``. A plot with more than 1 % of its area outside the seven kommuner
    is refused, as is a ``given`` kommunenummer that disagrees with the geometry.
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
