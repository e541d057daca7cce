"""``landreg db``: the database's schema (Alembic) and the local cluster."""

from __future__ import annotations

import subprocess
from pathlib import Path

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
    # S603: the project's own script with fixed arguments, no shell
    subprocess.run([str(REPO_ROOT / "scripts" / "pg.sh"), "up"], check=True)  # noqa: S603
    subprocess.run([str(REPO_ROOT / "scripts" / "pg.sh"), "createdb", "landreg"],  # noqa: S603
                   check=True)
    say(ctx, "database is up")


@command.command("down")
@click.pass_context
def down(ctx: click.Context) -> None:
    """Stop the project-local cluster."""
    subprocess.run([str(REPO_ROOT / "scripts" / "pg.sh"), "down"], check=True)  # noqa: S603


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


@command.command("prepare")
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Load the demo region when the register is empty.")
@click.pass_context
def prepare(ctx: click.Context, demo: bool) -> None:
    """Everything `make run` needs, in one process: migrate, demo (if empty), layers, scores."""
    from landreg.db import get_engine, session_scope
    from landreg.scoring.service import Suitability

    settings = settings_of(ctx)
    dbmod.migrate(settings.database_url)
    if demo:
        from landreg.demo.load import load_demo

        with session_scope(get_engine(settings.database_url)) as session:
            result = load_demo(session, settings.demo_gpkg, if_empty=True)
        if not result.get("skipped"):
            say(ctx, f"loaded the demo region: {result['plots']} fictitious plots")
    suitability = Suitability.from_settings(settings, settings.scoring_res, progress=True)
    with session_scope(get_engine(settings.database_url)) as session:
        done = suitability.refresh(session)
    say(ctx, f"database at revision {dbmod.current_revision(settings.database_url)}; "
             f"layers {suitability.layers_version}; "
             + ("scores up to date" if not done else f"scored {', '.join(done)}"))


@command.command("backup")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, file: Path | None) -> None:
    """Dump the database to FILE (pg_dump custom format).

    Without FILE it goes to the backups folder (LANDREG_BACKUP_DIR, default .local/backups)
    as landreg-YYYYMMDD-HHMMSS.dump. The file appears only when the dump is complete."""
    from landreg.backup import backup_database

    settings = settings_of(ctx)
    target = backup_database(settings.database_url, file, folder=settings.backup_dir)
    say(ctx, f"backup written to {target} ({target.stat().st_size / 1e6:.1f} MB)")


@command.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--clean", "--force", "clean", is_flag=True,
              help="Replace what the database holds (default: refuse a non-empty database).")
@click.pass_context
def restore(ctx: click.Context, file: Path, clean: bool) -> None:
    """Restore a backup made by `landreg db backup` — all of it or nothing.

    The database must be empty unless --clean is given; with --clean its schema is replaced
    in the same transaction, so a failed restore leaves it as it was."""
    from landreg.backup import restore_database

    settings = settings_of(ctx)
    restore_database(settings.database_url, file, clean=clean)
    say(ctx, f"restored {file}; database at revision "
             f"{dbmod.current_revision(settings.database_url)}")
