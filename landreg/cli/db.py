"""``landreg db``: the database's schema (Alembic) and the local cluster."""

from __future__ import annotations

import subprocess

import click

from landreg import db as dbmod
from landreg.cli import say, settings_of
from landreg.settings import REPO_ROOT


@click.group("db")
def command() -> None:
    """Database: start/stop the local cluster, migrate, status."""


@command.command("up")
@click.pass_context
def up(ctx: click.Context) -> None:
    """Start the project-local PostgreSQL/PostGIS cluster (installs it when missing)."""
    subprocess.run([str(REPO_ROOT / "scripts" / "pg.sh"), "up"], check=True)
    subprocess.run([str(REPO_ROOT / "scripts" / "pg.sh"), "createdb", "landreg"], check=True)
    say(ctx, "database is up")


@command.command("down")
@click.pass_context
def down(ctx: click.Context) -> None:
    """Stop the project-local cluster."""
    subprocess.run([str(REPO_ROOT / "scripts" / "pg.sh"), "down"], check=True)


@command.command("migrate")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_context
def migrate(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION and sync the arealformål code list."""
    url = settings_of(ctx).database_url
    dbmod.migrate(url, revision)
    say(ctx, f"database at revision {dbmod.current_revision(url)}")


@command.command("downgrade")
@click.option("--revision", default="base", show_default=True,
              help="Target revision (base removes every landreg table).")
@click.confirmation_option(prompt="This drops landreg tables and their data. Continue?")
@click.pass_context
def downgrade(ctx: click.Context, revision: str) -> None:
    """Undo migrations down to REVISION."""
    url = settings_of(ctx).database_url
    dbmod.downgrade(url, revision)
    say(ctx, f"database at revision {dbmod.current_revision(url) or 'base'}")


@command.command("status")
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show the database, its PostGIS version, revision and plot count."""
    from landreg.health import database_health

    info = database_health(settings_of(ctx).database_url)
    for key, value in info.items():
        click.echo(f"{key:18} {value}")
