"""``landreg demo load``: the demo region (real N1000 layers, fictitious plots)."""

from __future__ import annotations

import click

from landreg.cli import say, settings_of
from landreg.db import get_engine, session_scope


@click.group("demo")
def command() -> None:
    """The demo region of Glåmdalen."""


@command.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the register already has plots.")
@click.pass_context
def load(ctx: click.Context, if_empty: bool) -> None:
    """Load the seven kommuner, the N1000 reference layers and the fictitious demo plots.

    Replaces what is there (in one transaction) unless --if-empty is given.
    """
    from landreg.demo.load import load_demo

    settings = settings_of(ctx)
    with session_scope(get_engine(settings.database_url)) as session:
        result = load_demo(session, settings.demo_gpkg, if_empty=if_empty)
    if result.get("skipped"):
        say(ctx, "the register already has plots: demo not loaded")
        return
    ref = result["reference"]
    say(ctx, f"loaded {result['municipalities']} kommuner, "
             f"{sum(ref.values())} reference features, {result['plots']} fictitious plots")
