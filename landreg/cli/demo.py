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


@command.command("users")
@click.pass_context
def users(ctx: click.Context) -> None:
    """Create demo accounts (one planner per kommune and an admin); passwords printed once.

    Nothing is created unless you run this: the demo has no default passwords.
    """
    from landreg.auth.users import add_user
    from landreg.registry.codes import REGION_KOMMUNER

    settings = settings_of(ctx)
    created = []
    with session_scope(get_engine(settings.database_url)) as session:
        created.append(add_user(session, "admin", role="admin"))
        for number, name in REGION_KOMMUNER.items():
            slug = name.lower().replace("ø", "o").replace("å", "a").replace("-", "")
            created.append(add_user(session, f"planlegger.{slug}", role="planner",
                                    kommuner=[number]))
    click.echo("Demo accounts (passwords are shown this once):")
    for user, password in created:
        click.echo(f"  {user.username:28} {password}")
