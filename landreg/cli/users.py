"""``landreg users``: accounts and API tokens (passwords and tokens are shown once)."""

from __future__ import annotations

import click

from landreg.auth.users import add_user, create_token, list_users, set_active
from landreg.cli import settings_of
from landreg.db import get_engine, session_scope


@click.group("users")
def command() -> None:
    """Accounts: planners (tied to kommuner) and regional admins."""


@command.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["planner", "admin"]), default="planner",
              show_default=True)
@click.option("-k", "--kommune", "kommuner", multiple=True,
              help="kommunenummer the planner keeps (repeatable).")
@click.option("--name", "display_name", help="Full name shown in the history.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin "
              "instead of generating one.")
@click.pass_context
def add(ctx: click.Context, username: str, role: str, kommuner: tuple[str, ...],
        display_name: str | None, password_stdin: bool) -> None:
    """Add a user; prints a generated password once."""
    password = click.get_text_stream("stdin").readline().strip() if password_stdin else None
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        user, password = add_user(session, username, role=role, kommuner=list(kommuner),
                                  password=password, display_name=display_name)
    scope = ", ".join(user.kommuner) or "all"
    click.echo(f"added {user.username} ({user.role}; kommuner: {scope})")
    if not password_stdin:
        click.echo(f"password (shown once): {password}")


@command.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List users."""
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        for u in list_users(session):
            state = "active" if u["active"] else "disabled"
            click.echo(f"{u['username']:24} {u['role']:8} {','.join(u['kommuner']) or '-':24} "
                       f"{state}")


@command.command("disable")
@click.argument("username")
@click.pass_context
def disable(ctx: click.Context, username: str) -> None:
    """Disable a user (their sessions and tokens stop working)."""
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        set_active(session, username, False)
    click.echo(f"disabled {username}")


@command.command("token")
@click.argument("username")
@click.option("--name", default="script", show_default=True, help="What the token is for.")
@click.pass_context
def token(ctx: click.Context, username: str, name: str) -> None:
    """Create an API token for scripts; printed once, stored hashed."""
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        value = create_token(session, username, name)
    click.echo(f"token (shown once): {value}")
