"""``landreg plots list|show``: search the register from the shell."""

from __future__ import annotations

import json

import click

from landreg.cli import settings_of
from landreg.cli.filters import plot_filters, plot_query
from landreg.db import get_engine, session_scope
from landreg.errors import InvalidInput
from landreg.registry.search import fetch_one, search_plots


@click.group("plots")
def command() -> None:
    """Look at the register's plots."""


@command.command("list")
@plot_filters
@click.option("--public", is_flag=True, help="Show only what the public sees.")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--offset", type=int, default=0)
@click.option("--format", "fmt", type=click.Choice(["table", "geojson"]), default="table")
@click.option("--crs", type=click.Choice(["4326", "25832", "25833"]), default="4326",
              help="CRS of GeoJSON output.")
@click.pass_context
def list_(ctx: click.Context, **o) -> None:
    """Search plots with filters; print a table or GeoJSON."""
    query = plot_query(o, limit=o["limit"], offset=o["offset"])
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
