"""``landreg serve``: the web application."""

from __future__ import annotations

import click

from landreg.cli import say, settings_of


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_context
def command(ctx: click.Context, host: str, port: int) -> None:
    """Serve the web application (threaded; put it behind gunicorn for production)."""
    from landreg.web import create_app

    app = create_app(settings=settings_of(ctx))
    say(ctx, f"landreg on http://{host}:{port}/  (health: /health)")
    app.run(host=host, port=port, threaded=True, use_reloader=False)
