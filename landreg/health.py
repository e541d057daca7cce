"""What the health page and ``landreg db status`` report."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url

from landreg.db import current_revision, get_engine, head_revision


def database_health(url: str) -> dict[str, object]:
    """Database name and server, PostGIS version, schema revision and plot count."""
    engine = get_engine(url)
    with engine.connect() as conn:
        postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
        server = conn.execute(text("SHOW server_version")).scalar_one()
        has_plot = conn.execute(text("SELECT to_regclass('public.plot') IS NOT NULL")).scalar_one()
        plots = conn.execute(text("SELECT count(*) FROM plot")).scalar_one() if has_plot else None
    parsed = make_url(url)
    return {
        "database": parsed.database,
        "host": f"{parsed.host or 'local socket'}:{parsed.port or 5432}",
        "postgresql": server,
        "postgis": postgis,
        "revision": current_revision(url),
        "head_revision": head_revision(url),
        "plots": plots,
    }
