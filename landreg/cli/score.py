"""``landreg score`` and ``landreg candidates``: suitability from the command line."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from landreg.cli import say, settings_of
from landreg.db import get_engine, session_scope
from landreg.models import Plot


def _suitability(ctx: click.Context, res: float):  # noqa: ANN202
    from landreg.scoring.service import Suitability

    return Suitability.from_settings(settings_of(ctx), res,
                                     progress=not ctx.find_root().obj.get("quiet"))


@click.command("score")
@click.option("-p", "--profile", "pid", help="Rank the plots for this profile.")
@click.option("--weights", help="Own weights, e.g. slope:30,dist_rail:70 (must sum to 100).")
@click.option("--force", is_flag=True, help="Recompute every stored score.")
@click.option("--top", type=int, default=15, show_default=True)
@click.option("--sensitivity", is_flag=True, help="Show how far ranks move at ±10 weight.")
@click.option("--res", type=float, default=25.0, show_default=True)
@click.pass_context
def score(ctx: click.Context, pid: str | None, weights: str | None, force: bool, top: int,
          sensitivity: bool, res: float) -> None:
    """Bring stored scores up to date; with -p print the ranking for a profile."""
    from landreg.scoring.catalogue import parse_weights

    s = _suitability(ctx, res)
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        done = s.refresh(session, force=force)
        say(ctx, "scores up to date" if not done else
            "recomputed " + ", ".join(f"{k} ({n} plots)" for k, n in done.items()))
        if not pid:
            return
        ranking = s.ranking(session, pid, parse_weights(weights) if weights else None,
                            public=False)  # the operator's internal view: every plot
        shifts = s.sensitivity(session, pid) if sensitivity else {}
        names = dict(session.execute(select(Plot.id, Plot.name)).all())
    click.echo(f"{'rank':>4}  {'score':>6}  {'plot':>5}  name")
    for item in ranking[:top]:
        flag = "  EXCLUDED: " + "; ".join(item["reasons"]) if item["excluded"] else ""
        moves = ""
        if item["plot_id"] in shifts:
            sh = shifts[item["plot_id"]]
            moves = f"  (±10: rank moves ≤ {sh['max_shift']}, most by {sh['worst_move']})"
        click.echo(f"{item['rank']:>4}  {item['score']:6.1f}  {item['plot_id']:>5}  "
                   f"{names.get(item['plot_id'], '')}{flag}{moves}")


@click.command("candidates")
@click.option("-p", "--profile", "pid", required=True)
@click.option("--threshold", type=click.FloatRange(50, 100), default=90.0, show_default=True)
@click.option("--weights", help="Own weights, e.g. slope:30,dist_rail:70.")
@click.option("--format", "fmt", type=click.Choice(["table", "geojson"]), default="table")
@click.option("--res", type=float, default=25.0, show_default=True)
@click.pass_context
def candidates(ctx: click.Context, pid: str, threshold: float, weights: str | None, fmt: str,
               res: float) -> None:
    """Best-suited land for a profile regardless of borders, outside existing plots."""
    from landreg.scoring.catalogue import parse_weights

    s = _suitability(ctx, res)
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        frame = s.candidates(session, pid, threshold, parse_weights(weights) if weights else None,
                             public=False)
    if fmt == "geojson":
        click.echo(json.dumps(json.loads(frame.to_crs(4326).to_json()), ensure_ascii=False))
        return
    click.echo(f"{'id':16} {'score':>6} {'daa':>9}  kommune (touches)")
    for r in frame.itertuples():
        click.echo(f"{r.id:16} {r.score:6.1f} {r.area_daa:9.1f}  {r.kommunenummer} ({r.kommuner})")
    say(ctx, f"{len(frame)} candidate areas ≥ {threshold:g} for {pid}")

