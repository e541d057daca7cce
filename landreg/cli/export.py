"""``landreg export OUT``: the (filtered) register as GeoPackage, GeoJSON, FlatGeobuf or CSV."""

from __future__ import annotations

from pathlib import Path

import click

from landreg.cli import say, settings_of
from landreg.cli.filters import plot_filters, plot_query
from landreg.db import get_engine, session_scope
from landreg.ingest.export import export_plots


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
@plot_filters
@click.pass_context
def command(ctx: click.Context, out: Path, crs: int, public: bool, overwrite: bool,
            **o: object) -> None:
    """Export plots to OUT (.gpkg, .geojson, .fgb or .csv) with the fixed export columns.

    The filters are those of `landreg plots list`. A GeoPackage opens in QGIS styled by
    availability. Without --public the file holds internal fields: keep it inside.
    """
    query = plot_query(o)
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        result = export_plots(session, out, query, srid=crs, public=public, overwrite=overwrite)
    kind = "public" if public else "internal — keep it inside the kommune"
    say(ctx, f"Wrote {result.count} plots to {result.path} ({result.format}, EPSG:{result.srid}, "
             f"{len(result.columns)} columns, {kind}).")
