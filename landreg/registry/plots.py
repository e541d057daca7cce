"""Create, read, update, withdraw and restore plots. Every change is kept (see ``history``).

The database bumps ``version`` and writes the history row in a trigger, so no path can change a
plot without a trace; this module adds the checks a planner needs: attributes, geometry (any
CRS in, EPSG:25833 stored), the kommune derived from the geometry, and optimistic locking.
Nothing here imports Flask.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from geoalchemy2.shape import from_shape
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from landreg.errors import InvalidInput, NotFound, StaleVersion
from landreg.ingest.crs import STORE_EPSG
from landreg.ingest.geometry import normalise_geometry
from landreg.models import Plot
from landreg.registry.changes import after_plot_write
from landreg.registry.fields import clean_attributes, parse_text
from landreg.registry.placement import place
from landreg.registry.search import PlotQuery, fetch_one


@dataclass
class SaveResult:
    """What a save did: the plot as stored, and anything the user should know."""

    plot: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def create_plot(
    session: Session,
    attributes: dict[str, Any],
    geometry: Any,
    crs: object,
    *,
    user: str,
    repair: bool = False,
    allowed: Collection[str] | None = None,
) -> SaveResult:
    """Add a plot to the register.

    Parameters
    ----------
    attributes:
        Editable fields (see ``landreg.registry.fields.EDITABLE_FIELDS``); ``name`` and
        ``arealformal`` are required. ``kommunenummer`` may be given and is then checked.
    geometry, crs:
        A polygon as GeoJSON/WKT/WKB/shapely and the CRS it is in (any; stored as 25833).
    user:
        Who makes the change (kept in the history).
    repair:
        Repair an invalid polygon (``make_valid``) instead of refusing it.
    allowed:
        The kommuner the editor keeps (None: any): every part of the plot must lie in them
        (see ``registry.placement.place``); checked before anything is written.
    """
    user = _user(user)
    values = clean_attributes(attributes, creating=True)
    geom = normalise_geometry(geometry, crs, repair=repair)
    placement = place(session, geom, values.get("kommunenummer"), allowed=allowed)
    values["kommunenummer"] = placement.kommunenummer
    stmt = insert(Plot).values(
        **values, geom=from_shape(geom, srid=STORE_EPSG), created_by=user, updated_by=user
    ).returning(Plot.id)
    plot_id = session.execute(stmt).scalar_one()
    after_plot_write(session, [plot_id])  # before the save answers
    return SaveResult(fetch_one(session, plot_id, public=False), placement.warnings)


def update_plot(
    session: Session,
    plot_id: int,
    changes: dict[str, Any],
    *,
    expected_version: int,
    user: str,
    geometry: Any = None,
    crs: object = None,
    repair: bool = False,
    allowed: Collection[str] | None = None,
    kept: dict[str, Any] | None = None,
) -> SaveResult:
    """Change a plot's attributes and/or geometry, if nobody else changed it first.

    ``allowed`` (the editor's kommuner; None: any) must hold every part of a new geometry.
    ``kept`` are values the registry itself keeps (``withdrawn_reason``), written as given.

    Raises
    ------
    StaleVersion
        when the plot's version is no longer ``expected_version``: someone saved in between.
        Nothing is written; the error's details hold the current version.
    """
    user = _user(user)
    current = _current(session, plot_id, lock=True)
    if current.version != expected_version:
        raise _stale(session, plot_id, expected_version, current.version)
    values = clean_attributes(changes, creating=False)
    warnings: list[str] = []
    if geometry is not None:
        geom = normalise_geometry(geometry, crs, repair=repair)
        placement = place(session, geom, values.get("kommunenummer"), allowed=allowed)
        values["kommunenummer"] = placement.kommunenummer
        values["geom"] = from_shape(geom, srid=STORE_EPSG)
        warnings = placement.warnings
    elif values.get("kommunenummer") and values["kommunenummer"] != current.kommunenummer:
        raise InvalidInput(
            f"kommunenummer {values['kommunenummer']} does not match the geometry: the plot lies "
            f"in {current.kommunenummer}. The kommune follows the geometry.",
            field="kommunenummer",
            value=values["kommunenummer"],
        )
    values.update(kept or {})
    if not values:
        raise InvalidInput("Nothing to change: give at least one field or a geometry.")
    result = session.execute(
        update(Plot)
        .where(Plot.id == plot_id, Plot.version == expected_version)
        .values(**values, updated_by=user)
    )
    if result.rowcount != 1:  # changed between our read and our write
        raise _stale(session, plot_id, expected_version, None)
    after_plot_write(session, [plot_id])  # withdraw and the restores come through here too
    return SaveResult(fetch_one(session, plot_id, public=False), warnings)


def withdraw_plot(
    session: Session, plot_id: int, *, expected_version: int, user: str, reason: str | None = None
) -> SaveResult:
    """Withdraw a plot (availability ``trukket``, unpublished). Plots are never deleted.

    The ``reason`` is kept in ``withdrawn_reason`` (and so in the version's history)."""
    current = _current(session, plot_id)
    if current.availability == "trukket":
        raise InvalidInput("The plot is already withdrawn.", field="availability", value="trukket")
    changes: dict[str, Any] = {"availability": "trukket", "published": False}
    reason = parse_text("reason", reason, max_length=500)
    return update_plot(session, plot_id, changes, expected_version=expected_version, user=user,
                       kept={"withdrawn_reason": reason})


def restore_plot(session: Session, plot_id: int, *, expected_version: int, user: str) -> SaveResult:
    """Undo a withdrawal: availability and published flag go back to what they were before."""
    from landreg.registry.history import plot_versions

    current = _current(session, plot_id)
    if current.availability != "trukket":
        raise InvalidInput("Only a withdrawn plot can be restored.", field="availability",
                           value=current.availability)
    before = next(
        (v for v in reversed(plot_versions(session, plot_id))
         if v["attributes"]["availability"] != "trukket"),
        None,
    )
    attrs = before["attributes"] if before else {"availability": "ledig", "published": False}
    changes = {"availability": attrs["availability"], "published": attrs["published"]}
    return update_plot(session, plot_id, changes, expected_version=expected_version, user=user,
                       kept={"withdrawn_reason": None})


def restore_version(session: Session, plot_id: int, version: int, *, expected_version: int,
                    user: str, allowed: Collection[str] | None = None) -> SaveResult:
    """Make an earlier version current again, as a new version (history is never rewritten).

    The earlier version's editable fields and outline come back; the kommune is derived from
    the outline again.
    """
    from landreg.registry.fields import EDITABLE_FIELDS
    from landreg.registry.history import plot_versions

    versions = {v["version"]: v for v in plot_versions(session, plot_id, srid=STORE_EPSG)}
    if version not in versions:
        raise NotFound(f"Plot {plot_id} has no version {version}.", field="version",
                       value=version)
    old = versions[version]
    attrs = {k: old["attributes"].get(k) for k in EDITABLE_FIELDS if k != "kommunenummer"}
    return update_plot(session, plot_id, attrs, expected_version=expected_version, user=user,
                       geometry=old["geometry"], crs=STORE_EPSG, allowed=allowed)


def get_plot(session: Session, plot_id: int, *, public: bool = True, srid: int = 4326) -> dict:
    """One plot as a GeoJSON-like dict; the public see published plots and public fields only."""
    return fetch_one(session, plot_id, public=public, srid=srid)


def _current(session: Session, plot_id: int, *, lock: bool = False) -> Plot:
    stmt = select(Plot).where(Plot.id == plot_id)
    if lock:
        stmt = stmt.with_for_update()
    plot = session.execute(stmt).scalar_one_or_none()
    if plot is None:
        raise NotFound(f"There is no plot with id {plot_id}.", field="id", value=plot_id)
    return plot


def _stale(session: Session, plot_id: int, expected: int, current: int | None) -> StaleVersion:
    if current is None:
        current = session.execute(select(Plot.version).where(Plot.id == plot_id)).scalar_one()
    return StaleVersion(
        f"Someone else saved plot {plot_id} after you opened it (you edited version {expected}, "
        f"it is now at version {current}). Your changes were not saved: reload, compare and "
        "save again.",
        field="version",
        value=expected,
        details={"expected_version": expected, "current_version": current},
    )


def _user(user: str) -> str:
    text = (user or "").strip()
    if not text:
        raise InvalidInput("Every change needs a user name for the history.", field="user")
    return text


__all__ = [
    "PlotQuery", "SaveResult", "create_plot", "get_plot", "restore_plot", "restore_version",
    "update_plot", "withdraw_plot",
]
