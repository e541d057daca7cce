"""``landreg plots list|show``: search the register from the shell."""

from __future__ import annotations

import json

import click

from landreg.cli import settings_of
from landreg.db import get_engine, session_scope
from landreg.errors import InvalidInput
from landreg.registry.search import PlotQuery, fetch_one, search_plots


@click.group("plots")
def command() -> None:
    """Look at the register's plots."""


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


@command.command("list")
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
@click.option("--public", is_flag=True, help="Show only what the public sees.")
@click.option("--sort", default="kommunenummer,name", show_default=True,
              help="Comma-separated keys; prefix - for descending.")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--offset", type=int, default=0)
@click.option("--format", "fmt", type=click.Choice(["table", "geojson"]), default="table")
@click.option("--crs", type=click.Choice(["4326", "25832", "25833"]), default="4326",
              help="CRS of GeoJSON output.")
@click.pass_context
def list_(ctx: click.Context, **o) -> None:
    """Search plots with filters; print a table or GeoJSON."""
    try:
        query = PlotQuery(
            kommuner=_split(o["kommune"]), availability=_split(o["availability"]),
            purpose_groups=_split(o["purpose"]), arealformal=[int(c) for c in _split(o["code"])],
            min_daa=o["min_daa"], max_daa=o["max_daa"], byggeklar=o["byggeklar"],
            min_power_mw=o["min_power_mw"], bbox=o["bbox"], bbox_crs=o["bbox_crs"],
            near=o["near"], near_crs=o["near_crs"], near_distance_m=o["within_m"], q=o["text"],
            include_withdrawn=o["include_withdrawn"], sort=_split((o["sort"],)),
            limit=o["limit"], offset=o["offset"],
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--code") from None
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        page = search_plots(session, query, public=o["public"], srid=int(o["crs"]))
    if o["fmt"] == "geojson":
        click.echo(json.dumps({"type": "FeatureCollection", "numberMatched": page.number_matched,
                               "features": page.features}, ensure_ascii=False))
        return
    _table(page.features)
    shown = f"{page.offset + 1}–{page.offset + len(page.features)}" if page.features else "0"
    click.echo(f"{shown} of {page.number_matched} plots")


def _table(features: list[dict]) -> None:
    cols = [("id", 5), ("kommunenummer", 4), ("name", 44), ("arealformal", 5),
            ("availability", 17), ("area_daa", 8), ("byggeklar", 5)]
    click.echo("  ".join(f"{n[:w]:<{w}}" for n, w in cols))
    for f in features:
        p = f["properties"]
        cells = []
        for name, width in cols:
            v = p.get(name)
            text = f"{v:.1f}" if name == "area_daa" else ("ja" if v is True else "nei" if v is False
                                                           else str(v))
            cells.append(f"{text[:width]:<{width}}" if name != "area_daa" else f"{text:>{width}}")
        click.echo("  ".join(cells))


@command.command("show")
@click.argument("plot_id", type=int)
@click.option("--public", is_flag=True, help="Show only what the public sees.")
@click.option("--format", "fmt", type=click.Choice(["text", "geojson"]), default="text")
@click.option("--crs", type=click.Choice(["4326", "25832", "25833"]), default="4326")
@click.pass_context
def show(ctx: click.Context, plot_id: int, public: bool, fmt: str, crs: str) -> None:
    """Show one plot."""
    if plot_id < 1:
        raise InvalidInput("A plot id is a positive whole number.", field="id", value=plot_id)
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        feature = fetch_one(session, plot_id, public=public, srid=int(crs))
    if fmt == "geojson":
        click.echo(json.dumps(feature, ensure_ascii=False))
        return
    for key, value in feature["properties"].items():
        click.echo(f"{key:18} {'' if value is None else value}")
