"""The "within N minutes of …" filter of plot searches (API, OGC, enquiries).

Its SQL lives here so the search's hot path (landreg.registry.search) only calls
:func:`reach_conditions`; minutes come from ``plot_reach``, kept current by
:func:`ensure_current` (the same refresh scores use).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import and_, column, exists, select, table
from sqlalchemy.orm import Session

from landreg.errors import InvalidInput

#: The longest drive a filter may ask for (minutes).
MAX_MINUTES = 600

PARAMS = {
    "within_min": "only plots within this many minutes' drive of `to` (assumed speeds on the "
                  "N1000 road network; see /api/destinations)",
    "to": "destination of within_min: gardermoen, oslo, alnabru, junction, station, border",
}

_reach = table("plot_reach", column("plot_id"), column("target"), column("minutes"))


def _layers_dir() -> Path:
    try:
        from flask import current_app

        return current_app.config["LANDREG_SETTINGS"].layers_dir
    except (RuntimeError, KeyError):
        from landreg.settings import Settings

        return Settings().layers_dir


def known_targets(layers_dir: Path | None = None) -> list[str]:
    """The destination ids of road_network.yaml (cheap: the YAML only)."""
    path = Path(layers_dir or _layers_dir()) / "road_network.yaml"
    if not path.exists():
        return []
    return list((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("targets", {}))


def check(to: str | None, within_min: float | None) -> None:
    """Both or neither; a known destination; minutes in range — else a 400 naming the field."""
    if (to is None) != (within_min is None):
        raise InvalidInput("within_min and to go together, e.g. within_min=60&to=gardermoen",
                           field="to" if to is None else "within_min")
    if to is None:
        return
    targets = known_targets()
    if to not in targets:
        raise InvalidInput(f"Unknown destination {to!r}; use one of {', '.join(targets)}",
                           field="to", value=to)
    if within_min != within_min or not 0 < within_min <= MAX_MINUTES:
        raise InvalidInput(f"within_min must be a number of minutes, 1–{MAX_MINUTES}",
                           field="within_min", value=within_min)


def parse(args: Mapping[str, str]) -> tuple[str | None, float | None]:
    """(to, within_min) from query parameters, checked."""
    to = (args.get("to") or "").strip() or None
    raw = (args.get("within_min") or "").strip() or None
    within = None
    if raw is not None:
        try:
            within = float(raw)
        except ValueError:
            raise InvalidInput(f"within_min must be a number of minutes; got {raw!r}",
                               field="within_min", value=raw) from None
    check(to, within)
    return to, within


def reach_conditions(query: Any, plot_id: Any) -> list:
    """SQL conditions for a query's ``reach_to`` / ``reach_within_min`` (none when unset)."""
    to, within = getattr(query, "reach_to", None), getattr(query, "reach_within_min", None)
    if to is None or within is None:
        return []
    return [exists(select(1).select_from(_reach).where(and_(
        _reach.c.plot_id == plot_id, _reach.c.target == to, _reach.c.minutes <= within)))]


def ensure_current(session: Session, layers_dir: Path | None = None) -> None:
    """Recompute stale plots' minutes (new or moved plots, a changed network or speeds)."""
    from landreg.routing.db import refresh_reach, served_network

    layers_dir = Path(layers_dir or _layers_dir())
    if (layers_dir / "road_network.yaml").exists():
        refresh_reach(session, served_network(session, layers_dir))
