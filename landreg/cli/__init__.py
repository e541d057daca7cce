"""The ``landreg`` command line: one module per command group, errors as messages."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from landreg.errors import LandregError
from landreg.settings import Settings


class LandregGroup(click.Group):
    """A click group that prints a :class:`LandregError` as a one-line message, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LandregError as exc:
            where = f" [{exc.field}]" if exc.field else ""
            click.echo(f"Error{where}: {exc.message}", err=True)
            sys.exit(2 if isinstance(exc, ValueError) else 1)


@click.group(cls=LandregGroup)
@click.option("-v", "--verbose", count=True, help="More output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.version_option(package_name="landreg")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """landreg — the shared business-land register of Glåmdalen."""
    levels = (logging.WARNING, logging.INFO, logging.DEBUG)
    level = logging.ERROR if quiet else levels[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = {"settings": Settings.from_env(), "quiet": quiet, "verbose": verbose}


def settings_of(ctx: click.Context) -> Settings:
    """The settings the group read from the environment."""
    return ctx.find_root().obj["settings"]


def say(ctx: click.Context, message: str) -> None:
    """Print unless -q was given."""
    if not ctx.find_root().obj.get("quiet"):
        click.echo(message)


def _register() -> None:
    from landreg.cli import db, demo, export, importcmd, layers, plots, score, serve, users

    for module in (db, demo, layers, plots, serve, users, importcmd, export):
        main.add_command(module.command)
    main.add_command(score.score)
    main.add_command(score.candidates)


_register()
