"""``landreg users``: accounts and API tokens (passwords and tokens are shown once)."""

from __future__ import annotations

from datetime import datetime

import click

from landreg.auth.throttle import forget_failures
from landreg.auth.users import (
    MAX_TOKEN_DAYS,
    TOKEN_DAYS,
    add_user,
    create_token,
    generate_password,
    list_tokens,
    list_users,
    revoke_token,
    set_active,
    set_password,
    user_exists,
)
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
@click.option("--days", type=click.IntRange(1, MAX_TOKEN_DAYS), default=TOKEN_DAYS,
              show_default=True, help="Days until the token expires.")
@click.pass_context
def token(ctx: click.Context, username: str, name: str, days: int) -> None:
    """Create an API token for scripts; printed once, stored hashed, expires after --days."""
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        value = create_token(session, username, name, days=days)
    click.echo(f"token (shown once, valid {days} days): {value}")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


@command.command("token-list")
@click.argument("username")
@click.pass_context
def token_list(ctx: click.Context, username: str) -> None:
    """List a user's API tokens: id, name, state, created, last used, expires."""
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        tokens = list_tokens(session, username)
    for t in tokens:
        click.echo(f"{t['id']:>6} {t['name']:20} {t['state']:8} created {_when(t['created_at'])}"
                   f"  used {_when(t['last_used_at'])}  expires {_when(t['expires_at'])}")
    if not tokens:
        click.echo(f"{username} has no tokens")


@command.command("token-revoke")
@click.argument("token_or_user")
@click.option("--name", help="Revoke the user's tokens of this name (TOKEN_OR_USER is then "
              "the username).")
@click.pass_context
def token_revoke(ctx: click.Context, token_or_user: str, name: str | None) -> None:
    """Revoke one API token by its id (see token-list), or USERNAME --name NAME."""
    from landreg.errors import InvalidInput

    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        if name:
            count = revoke_token(session, username=token_or_user, name=name)
        elif token_or_user.isdigit() and int(token_or_user) < 2**31:
            count = revoke_token(session, int(token_or_user))
        else:
            raise InvalidInput("Give a token id (see `landreg users token-list USERNAME`) or "
                               "USERNAME --name NAME.", field="token", value=token_or_user)
    click.echo(f"revoked {count} token(s)")


@command.command("unlock")
@click.argument("username")
@click.pass_context
def unlock(ctx: click.Context, username: str) -> None:
    """Clear a username's failed-login counters (from every address)."""
    engine = get_engine(settings_of(ctx).database_url)
    with session_scope(engine) as session:
        user_exists(session, username)
    cleared = forget_failures(engine, username)
    click.echo(f"cleared {cleared} failed-login counter(s) of {username}")


@command.command("passwd")
@click.argument("username")
@click.option("--generate", is_flag=True, help="Generate a password and print it once.")
@click.pass_context
def passwd(ctx: click.Context, username: str, generate: bool) -> None:
    """Set a new password (asked twice, at least 12 characters); the user's sessions end."""
    password = generate_password() if generate else click.prompt(
        "New password", hide_input=True, confirmation_prompt=True)
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        set_password(session, username, password)
    click.echo(f"new password set for {username}; their sessions have ended")
    if generate:
        click.echo(f"password (shown once): {password}")
