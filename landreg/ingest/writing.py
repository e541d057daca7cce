"""Writing: a planned import into the register, all of it or none of it.

Rows go to PostgreSQL with COPY into a temporary table, then one ``INSERT … SELECT`` /
``UPDATE … FROM`` per chunk of :data:`CHUNK` rows, in one SAVEPOINT of the caller's
transaction; the history triggers fire for every row as for any other write.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import shapely
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from landreg.errors import InvalidInput, StaleVersion
from landreg.ingest.checking import check_user
from landreg.ingest.crs import STORE_EPSG
from landreg.ingest.matching import NOT_NULL
from landreg.ingest.report import ImportConflict, ImportRejected, ImportReport, Progress
from landreg.models import Plot
from landreg.registry.changes import after_plot_write
from landreg.registry.fields import (
    EDITABLE_FIELDS,
)

#: Rows written per COPY + INSERT/UPDATE round (and per progress step).
CHUNK = 10_000
_STAGE_ROWS = "landreg_import_rows"


def apply_import(
    session: Session,
    report: ImportReport,
    user: str,
    *,
    allow_partial: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Write a planned import: every create and update, or nothing.

    Parameters
    ----------
    session:
        The session to write in. The writes happen in a SAVEPOINT: if anything fails, none of
        them remain, and the caller's transaction is as it was. The caller commits.
    report:
        What :func:`plan_import` returned.
    user:
        Who makes the change (``created_by``/``updated_by`` and the history).
    allow_partial:
        Write the good features even though some were rejected. Without it a report with a
        rejected feature raises :class:`ImportRejected` and writes nothing.
    progress:
        Called as ``progress("write", done, total)`` after each chunk.

    Returns
    -------
    ImportReport
        The same report, ``applied`` and with the new plots' ids filled in.

    Raises
    ------
    ImportRejected
        when features were rejected and ``allow_partial`` is False.
    StaleVersion, ImportConflict
        when someone changed a matched plot, or added one with the same external_ref, after
        the plan was made. Nothing is written; plan again.
    """
    user = check_user(user)
    if report.applied:
        raise InvalidInput("This import has already been applied; plan it again to re-run it.")
    if report.rejected and not allow_partial:
        raise ImportRejected(report)
    rows = report._rows if report._rows is not None else pd.DataFrame()
    total = len(rows)
    notify = progress or (lambda stage, done, total: None)
    if total == 0:
        report.applied = True
        notify("write", 0, 0)
        return report
    creates = rows[rows["action"] == "create"].copy()
    updates = rows[rows["action"] == "update"]
    if len(creates):
        creates["id"] = session.execute(
            text("SELECT nextval(pg_get_serial_sequence('plot', 'id')) "
                 "FROM generate_series(1, :n)"), {"n": len(creates)}).scalars().all()
    chunks = [(kind, part.iloc[start:start + CHUNK])
              for part, kind in ((creates, "create"), (updates, "update"))
              for start in range(0, len(part), CHUNK)]
    try:
        with session.begin_nested():  # all or nothing, even inside the caller's transaction
            # the history trigger marks these versions as made by an import (migration 0012)
            session.execute(text("SELECT set_config('landreg.change_source', 'import', true)"))
            _write(session, chunks, user, report._fields,
                   lambda done: notify("write", done, total))
            session.execute(text("SELECT set_config('landreg.change_source', '', true)"))
    except (IntegrityError, psycopg.errors.UniqueViolation):
        raise ImportConflict(
            "The register changed while the import was planned (a plot with the same "
            "external_ref was added). Nothing was written: plan the import again.",
        ) from None
    after_plot_write(session)  # every imported plot at once (one statement)
    if len(creates):
        report._table.loc[creates["ord"].to_numpy(), "plot_id"] = creates["id"].to_numpy()
    report.applied = True
    return report


def _write(session: Session, chunks: list[tuple[str, pd.DataFrame]], user: str,
           fields: tuple[str, ...], notify: Callable[[int], None]) -> None:
    """COPY each chunk into the staging table, then INSERT … SELECT or UPDATE … FROM it.

    A worker thread encodes the next chunks while PostgreSQL works on the current one.
    """
    dbapi = session.connection().connection.driver_connection
    with ThreadPoolExecutor(max_workers=1) as pool, dbapi.cursor() as cur:
        encoded = [pool.submit(_encode, chunk) for _, chunk in chunks]
        try:
            _create_stage(cur)
            done = 0
            for (kind, chunk), payload in zip(chunks, encoded, strict=True):
                columns, data = payload.result()
                with cur.copy(f"COPY {_STAGE_ROWS} ({', '.join(columns)}) "
                              "FROM STDIN (FORMAT csv)") as copy:
                    copy.write(data)
                if kind == "create":
                    _insert(cur, user)
                else:
                    _update(cur, user, fields, len(chunk))
                cur.execute(f"TRUNCATE {_STAGE_ROWS}")
                done += len(chunk)
                notify(done)
            cur.execute(f"DROP TABLE {_STAGE_ROWS}")
        finally:
            for future in encoded:
                future.cancel()


def _stage_columns() -> list[tuple[str, str]]:
    dialect = postgresql.dialect()
    cols = [("ord", "integer"), ("id", "bigint"), ("version", "integer"),
            ("kommunenummer", "varchar(4)")]
    for f in [*EDITABLE_FIELDS, "purpose_group"]:
        if f != "kommunenummer":
            cols.append((f, Plot.__table__.c[f].type.compile(dialect=dialect)))
    cols.append(("geom", f"geometry(MultiPolygon, {STORE_EPSG})"))
    return cols


def _create_stage(cur: Any) -> None:
    cols = ", ".join(f"{n} {t}" for n, t in _stage_columns())
    cur.execute(f"DROP TABLE IF EXISTS {_STAGE_ROWS}")
    cur.execute(f"CREATE TEMP TABLE {_STAGE_ROWS} ({cols}) ON COMMIT DROP")


def _encode(chunk: pd.DataFrame) -> tuple[list[str], str]:
    """A chunk as CSV for COPY, with only the columns that hold a value (the rest stay NULL)."""
    names = [n for n, _ in _stage_columns()]
    out = chunk.reindex(columns=names).copy()
    geom = out["geom"].to_numpy(dtype=object)
    has = ~shapely.is_missing(geom)
    hexes = np.full(len(geom), None, dtype=object)
    if has.any():
        hexes[has] = shapely.to_wkb(shapely.set_srid(geom[has], STORE_EPSG), hex=True,
                                    include_srid=True)
    out["geom"] = hexes
    out = out[[n for n in names if out[n].notna().any()]]
    buf = io.StringIO()
    out.to_csv(buf, header=False, index=False, na_rep="")
    return list(out.columns), buf.getvalue()


def _insert(cur: Any, user: str) -> None:
    fields = [n for n, _ in _stage_columns() if n not in ("ord", "version")]
    cols = ", ".join(fields)
    cur.execute(
        f"INSERT INTO plot ({cols}, created_by, updated_by) "  # noqa: S608 - our column names
        f"SELECT {cols}, %(u)s, %(u)s FROM {_STAGE_ROWS} ORDER BY ord", {"u": user})


def _update(cur: Any, user: str, fields: tuple[str, ...], expected: int) -> None:
    sets = []
    for f in fields:
        sets.append(f"{f} = COALESCE(s.{f}, p.{f})" if f in NOT_NULL else f"{f} = s.{f}")
    if "arealformal" in fields:
        sets.append("purpose_group = COALESCE(s.purpose_group, p.purpose_group)")
    sets.append("geom = COALESCE(s.geom, p.geom)")
    cur.execute(
        f"UPDATE plot p SET {', '.join(sets)}, updated_by = %(u)s FROM {_STAGE_ROWS} s "  # noqa: S608 - EDITABLE_FIELDS only, values bound
        "WHERE p.id = s.id AND p.version = s.version", {"u": user})
    if cur.rowcount != expected:
        raise StaleVersion(
            f"{expected - cur.rowcount} of the plots this import updates were changed by someone "
            "else after the import was planned. Nothing was written: plan the import again.",
            details={"expected": expected, "updated": cur.rowcount},
        )

