"""Backups of the register: ``pg_dump`` (custom format) and an all-or-nothing restore.

The PostgreSQL client programs come from the server's own version folder
(``/usr/lib/postgresql/15/bin``, Debian's postgresql-client-15) so dump and server agree; the
first ``pg_dump`` on the PATH is the fallback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from landreg.db import get_engine
from landreg.errors import ConfigurationError, InvalidInput, LandregError

PG_VERSION = "15"
PG_BIN = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")


class RestoreRefused(LandregError):
    """Raised when a restore would overwrite a database that holds data."""

    code = "restore_refused"


def pg_program(name: str) -> str:
    """The path of a PostgreSQL client program (``pg_dump``, ``pg_restore``, ``psql``)."""
    candidate = PG_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise ConfigurationError(f"{name} is missing: install Debian's postgresql-client-"
                                 f"{PG_VERSION}", field="PATH", value=name)
    return found


def libpq_env(url: str) -> dict[str, str]:
    """The environment that points libpq programs at the database of a SQLAlchemy URL (the
    password goes in PGPASSWORD, never on a command line that ``ps`` shows)."""
    u = make_url(url)
    env = dict(os.environ)
    pairs = {"PGHOST": u.host or u.query.get("host"), "PGPORT": u.port,
             "PGUSER": u.username, "PGPASSWORD": u.password, "PGDATABASE": u.database,
             "PGSSLMODE": u.query.get("sslmode")}
    for key, value in pairs.items():
        if value:
            env[key] = str(value if not isinstance(value, tuple) else value[0])
    return env


def default_backup_path(folder: Path) -> Path:
    """``folder/landreg-YYYYMMDD-HHMMSS.dump``."""
    return folder / f"landreg-{datetime.now():%Y%m%d-%H%M%S}.dump"


def backup_database(url: str, target: Path | None = None, *, folder: Path) -> Path:
    """Dump the database at ``url`` to ``target`` (default: a dated file in ``folder``).

    The dump is written next to the target and renamed when pg_dump succeeds, so a file with
    the final name is always a complete backup. Mode 0600: it holds password hashes."""
    target = target or default_backup_path(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    # S603: a fixed PostgreSQL program and our own arguments, no shell
    result = subprocess.run([pg_program("pg_dump"), "--format=custom", "--no-owner",  # noqa: S603
                             f"--file={partial}"], env=libpq_env(url),
                            capture_output=True, text=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise ConfigurationError(f"pg_dump failed: {result.stderr.strip()}")
    partial.replace(target)
    return target


def user_tables(url: str) -> list[str]:
    """Tables in the database other than PostGIS's own ``spatial_ref_sys``."""
    with get_engine(url).connect() as conn:
        return list(conn.execute(text(
            "SELECT schemaname || '.' || tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
            "AND tablename <> 'spatial_ref_sys' ORDER BY 1")).scalars())


# Drops landreg's own objects in the public schema (never those of an extension such as PostGIS,
# which a non-superuser could not recreate), in the caller's transaction.
CLEAN_PUBLIC = """
DO $clean$
DECLARE
  item text;
BEGIN
  FOREACH item IN ARRAY coalesce((
    SELECT array_agg(format('DROP %s IF EXISTS %I.%I CASCADE',
                            CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                           WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                            n.nspname, c.relname))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')), '{}')
  LOOP EXECUTE item; END LOOP;
  FOREACH item IN ARRAY coalesce((
    SELECT array_agg(format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                      AND d.objid = p.oid AND d.deptype = 'e')), '{}')
  LOOP EXECUTE item; END LOOP;
  FOREACH item IN ARRAY coalesce((
    SELECT array_agg(format('DROP TYPE IF EXISTS %s CASCADE', t.oid::regtype))
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                      AND d.objid = t.oid AND d.deptype = 'e')), '{}')
  LOOP EXECUTE item; END LOOP;
END
$clean$;
"""


def restore_database(url: str, source: Path, *, clean: bool = False) -> None:
    """Restore a custom-format dump into the database at ``url``, in one transaction.

    Without ``clean`` the database must hold no tables (else :class:`RestoreRefused`). With
    ``clean`` every landreg object in it is dropped first, in the same transaction as the
    restore: tables the backup does not know (from a newer migration) go too, and if anything
    fails the database is left exactly as it was. Extensions (PostGIS) are not part of the
    restore — they are created when missing and otherwise kept, with PostGIS's own
    ``spatial_ref_sys`` — so the database's owner can restore without being a superuser."""
    listing = subprocess.run([pg_program("pg_restore"), "--list", str(source)],  # noqa: S603
                             capture_output=True, text=True)
    if listing.returncode != 0:
        raise InvalidInput(f"{source} is not a backup made by `landreg db backup` "
                           f"(pg_restore: {listing.stderr.strip()})", field="FILE",
                           value=str(source))
    tables = user_tables(url)
    if tables and not clean:
        raise RestoreRefused(
            f"The database {make_url(url).database!r} is not empty ({len(tables)} tables, e.g. "
            f"{', '.join(tables[:3])}). Restore into an empty database, or pass --clean to "
            "replace everything it holds.", field="database", value=make_url(url).database)
    get_engine(url).dispose()  # our own pooled connections must not hold locks on the tables
    entries = [line for line in listing.stdout.splitlines()
               if not re.search(r"\bEXTENSION\b|\bspatial_ref_sys\b", line)]
    prologue = "CREATE EXTENSION IF NOT EXISTS postgis;\n" + (CLEAN_PUBLIC if clean else "")
    with tempfile.NamedTemporaryFile("w", suffix=".list") as toc:
        toc.write("\n".join(entries) + "\n")
        toc.flush()
        script = subprocess.Popen([pg_program("pg_restore"), "--no-owner",  # noqa: S603
                                   "--no-privileges",
                                   f"--use-list={toc.name}", "--file=-", str(source)],
                                  stdout=subprocess.PIPE)
        psql = subprocess.Popen([pg_program("psql"), "-X", "-q",  # noqa: S603
                                 "--set=ON_ERROR_STOP=1",
                                 "--single-transaction", "-f", "-"],
                                env={**libpq_env(url),
                                     "PGOPTIONS": "-c client_min_messages=warning"},
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        if psql.stdin is None or script.stdout is None:  # PIPE was asked for: never None
            raise RuntimeError("pg_restore/psql pipes are missing")
        try:
            psql.stdin.write(prologue.encode())
            shutil.copyfileobj(script.stdout, psql.stdin, 1 << 20)
            psql.stdin.close()
        except BrokenPipeError:
            pass  # psql stopped at an error; its message follows
        script.wait()
        err = psql.stderr.read().decode(errors="replace") if psql.stderr else ""
        if psql.wait() != 0 or script.returncode != 0:
            raise ConfigurationError(f"The restore failed and changed nothing: {err.strip()}")
