"""``landreg export OUT``: the (filtered) register as GeoPackage, GeoJSON, FlatGeobuf or CSV."""

from __future__ import annotations

from pathlib import Path

import click

from landreg.cli import say, settings_of
from landreg.db import get_engine, session_scope
from landreg.ingest.export import export_plots
from landreg.registry.search import PlotQuery


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _bbox(ctx: click.Context, param: click.Parameter, value: str | None):
    if not value:
        return None
    try:
        parts = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter("give four numbers: minx,miny,maxx,maxy") from None
    if len(parts) != 4:
        raise click.BadParameter("give four numbers: minx,miny,maxx,maxy")
    return parts


def _srid(ctx: click.Context, param: click.Parameter, value: str) -> int:
    text = value.strip().upper().removeprefix("EPSG:")
    if text not in ("25833", "25832", "4326"):
        raise click.BadParameter(f"{value!r}: exports are in 25833, 25832 or 4326")
    return int(text)


@click.command("export")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--crs", default="25833", callback=_srid, show_default=True,
              help="25833 (stored), 25832 or 4326; EPSG: prefix allowed.")
@click.option("--public", is_flag=True,
              help="Only published plots and public columns (what investors may see).")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@click.option("-k", "--kommune", multiple=True, help="kommunenummer (repeat or comma-separate).")
@click.option("-a", "--availability", multiple=True, help="ledig, reservert, … (repeatable).")
@click.option("-p", "--purpose", multiple=True, help="purpose group: industri, lager_logistikk, …")
@click.option("--code", multiple=True, help="arealformål code (repeatable).")
@click.option("--min-daa", type=float)
@click.option("--max-daa", type=float)
@click.option("--byggeklar/--not-byggeklar", default=None, help="Road and water/sewer in place.")
@click.option("--min-power-mw", type=float)
@click.option("--bbox", callback=_bbox, help="minx,miny,maxx,maxy (in --bbox-crs).")
@click.option("--bbox-crs", default="EPSG:4326", show_default=True)
@click.option("--near", help="A point or line as WKT or GeoJSON (in --near-crs).")
@click.option("--near-crs", default="EPSG:4326", show_default=True)
@click.option("--within-m", type=float, help="Distance from --near in metres.")
@click.option("-q", "--text", "text", help="Free text in name, description, ref or plan id.")
@click.option("--include-withdrawn", is_flag=True)
@click.option("--sort", default="kommunenummer,name", show_default=True,
              help="Comma-separated keys; prefix - for descending.")
@click.pass_context
def command(ctx: click.Context, out: Path, crs: int, public: bool, overwrite: bool,
            **o: object) -> None:
    """Export plots to OUT (.gpkg, .geojson, .fgb or .csv) with the fixed export columns.

    The filters are those of `landreg plots list`. A GeoPackage opens in QGIS styled by
    availability. Without --public the file holds internal fields: keep it inside.
    """
    try:
        codes = [int(c) for c in _split(o["code"])]
    except ValueError:
        raise click.BadParameter("arealformål codes are numbers, e.g. 1340",
                                 param_hint="--code") from None
    query = PlotQuery(
        kommuner=_split(o["kommune"]), availability=_split(o["availability"]),
        purpose_groups=_split(o["purpose"]), arealformal=codes,
        min_daa=o["min_daa"], max_daa=o["max_daa"], byggeklar=o["byggeklar"],
        min_power_mw=o["min_power_mw"], bbox=o["bbox"], bbox_crs=o["bbox_crs"],
        near=o["near"], near_crs=o["near_crs"], near_distance_m=o["within_m"], q=o["text"],
        include_withdrawn=o["include_withdrawn"], sort=_split((o["sort"],)),
    )
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        result = export_plots(session, out, query, srid=crs, public=public, overwrite=overwrite)
    kind = "public" if public else "internal — keep it inside the kommune"
    say(ctx, f"Wrote {result.count} plots to {result.path} ({result.format}, EPSG:{result.srid}, "
             f"{len(result.columns)} columns, {kind}).")
