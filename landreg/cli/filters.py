"""The plot-search options shared by ``landreg plots list`` and ``landreg export``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from landreg.registry.search import PlotQuery


def split(values: tuple[str, ...]) -> list[str]:
    """Repeated and comma-separated option values as one list."""
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _bbox(ctx: click.Context, param: click.Parameter, value: str | None):  # noqa: ANN202
    if not value:
        return None
    try:
        parts = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter("give four numbers: minx,miny,maxx,maxy") from None
    if len(parts) != 4:
        raise click.BadParameter("give four numbers: minx,miny,maxx,maxy")
    return parts


_OPTIONS = [
    click.option("-k", "--kommune", multiple=True,
                 help="kommunenummer (repeat or comma-separate)."),
    click.option("-a", "--availability", multiple=True, help="ledig, reservert, … (repeatable)."),
    click.option("-p", "--purpose", multiple=True,
                 help="purpose group: industri, lager_logistikk, …"),
    click.option("--code", multiple=True, help="arealformål code (repeatable)."),
    click.option("--min-daa", type=float),
    click.option("--max-daa", type=float),
    click.option("--byggeklar/--not-byggeklar", default=None,
                 help="Road and water/sewer in place."),
    click.option("--min-power-mw", type=float),
    click.option("--bbox", callback=_bbox, help="minx,miny,maxx,maxy (in --bbox-crs)."),
    click.option("--bbox-crs", default="EPSG:4326", show_default=True),
    click.option("--near", help="A point or line as WKT or GeoJSON (in --near-crs)."),
    click.option("--near-crs", default="EPSG:4326", show_default=True),
    click.option("--within-m", type=float, help="Distance from --near in metres."),
    click.option("-q", "--text", "text", help="Free text in name, description, ref or plan id."),
    click.option("--include-withdrawn", is_flag=True),
    click.option("--sort", default="kommunenummer,name", show_default=True,
                 help="Comma-separated keys; prefix - for descending."),
]


def plot_filters(command: Callable) -> Callable:
    """Add every plot-search option to a click command."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def plot_query(o: dict[str, Any], **extra: Any) -> PlotQuery:
    """A :class:`PlotQuery` from the options of :func:`plot_filters` (plus ``extra``)."""
    try:
        codes = [int(c) for c in split(o["code"])]
    except ValueError:
        raise click.BadParameter("arealformål codes are numbers, e.g. 1340",
                                 param_hint="--code") from None
    return PlotQuery(
        kommuner=split(o["kommune"]), availability=split(o["availability"]),
        purpose_groups=split(o["purpose"]), arealformal=codes,
        min_daa=o["min_daa"], max_daa=o["max_daa"], byggeklar=o["byggeklar"],
        min_power_mw=o["min_power_mw"], bbox=o["bbox"], bbox_crs=o["bbox_crs"],
        near=o["near"], near_crs=o["near_crs"], near_distance_m=o["within_m"], q=o["text"],
        include_withdrawn=o["include_withdrawn"], sort=split((o["sort"],)), **extra,
    )
