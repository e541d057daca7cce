"""``landreg import FILE``: check a file of plots (dry run), then write it all or nothing."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

import click
from tqdm import tqdm

from landreg.cli import say, settings_of
from landreg.db import get_engine, session_scope
from landreg.ingest.importer import ImportRejected, ImportReport, apply_import, plan_import
from landreg.ingest.readers import MiB, ReadLimits

PLAN_STEPS = ("read", "geometry", "attributes", "kommune", "match")


def _mapping(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict:
    out: dict[str, str] = {}
    for item in values:
        field, sep, column = item.partition("=")
        if not sep or not field.strip():
            raise click.BadParameter(f"{item!r}: write FIELD=COLUMN, e.g. name=NAVN "
                                     "(FIELD= with nothing after it switches a field off)")
        out[field.strip()] = column.strip()
    return out


def _default_user() -> str:
    try:
        return os.environ.get("LANDREG_USER") or getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return ""


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-k", "--kommune", help="The kommune the file is for; every plot must lie in it.")
@click.option("--map", "mapping", multiple=True, callback=_mapping, metavar="FIELD=COLUMN",
              help="Which column holds a field, e.g. --map name=NAVN --map arealformal=FORMAL "
                   "(repeatable). Same-named and common Norwegian columns are found anyway.")
@click.option("--crs", help="CRS of the coordinates, e.g. EPSG:25832. Required for CSV and "
                            "files without a CRS; overrides the file's own.")
@click.option("--layer", help="GeoPackage layer (or Shapefile name in a zip). "
                              "Default: the first polygon layer.")
@click.option("--wkt-column", help="CSV: the column holding WKT (default wkt or geometry).")
@click.option("--dry-run", is_flag=True, help="Only report what would happen; write nothing.")
@click.option("--user", default=_default_user, show_default="your login name",
              help="Who imports (kept in the history).")
@click.option("--allow-partial", is_flag=True,
              help="Write the good features even if some are rejected.")
@click.option("--repair", is_flag=True, help="Repair invalid polygons instead of rejecting.")
@click.option("--max-mb", type=click.FloatRange(min=0, min_open=True), default=512.0,
              show_default=True, help="Refuse larger files (and zips unpacking to 4× more).")
@click.option("--show", type=click.IntRange(min=0), default=20, show_default=True,
              help="How many rejected and updated features to list.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the full report, feature by feature, as JSON to this file.")
@click.pass_context
def command(ctx: click.Context, file: Path, kommune: str | None, mapping: dict, crs: str | None,
            layer: str | None, wkt_column: str | None, dry_run: bool, user: str,
            allow_partial: bool, repair: bool, max_mb: float, show: int,
            report_path: Path | None) -> None:
    """Import plots from FILE: GeoPackage, zipped Shapefile, GeoJSON, FlatGeobuf, CSV+WKT,
    SOSI (.sos) or plan GML (.gml).

    Every feature is checked first (geometry, kommune, codes, values) and matched to the
    register by external_ref within its kommune: it is created, updated, unchanged or
    rejected. A whole plan can be given as it is: areas that are not business land (roads,
    green, housing …) are skipped and counted per arealformål. Then all of it is written in
    one transaction — or, if anything is rejected, nothing (unless --allow-partial).
    """
    if not user.strip():
        raise click.BadParameter("give a user name for the history", param_hint="--user")
    quiet = ctx.find_root().obj.get("quiet")
    limits = ReadLimits(max_bytes=int(max_mb * MiB), max_unzipped_bytes=int(4 * max_mb * MiB))
    with session_scope(get_engine(settings_of(ctx).database_url)) as session:
        with tqdm(total=len(PLAN_STEPS), desc="checking", unit="step", leave=False,
                  disable=quiet or None) as bar:
            report = plan_import(
                session, file, kommune=kommune, mapping=mapping, crs=crs, user=user, layer=layer,
                wkt_column=wkt_column, limits=limits, repair=repair,
                progress=lambda stage, done, total: (bar.set_postfix_str(stage), bar.update(1)),
            )
        _summary(ctx, report, show)
        todo = report.counts["create"] + report.counts["update"]
        if dry_run:
            _write_report(report, report_path)
            say(ctx, "Dry run: nothing was written.")
            return
        # --allow-partial writes the good features; with none good it is still a failure.
        if report.rejected and (not allow_partial or todo == 0):
            _write_report(report, report_path)
            raise ImportRejected(report)
        with tqdm(total=todo, desc="writing", unit="plot", leave=False,
                  disable=quiet or None) as bar:
            apply_import(session, report, user, allow_partial=allow_partial,
                         progress=lambda stage, done, total: bar.update(done - bar.n))
    _write_report(report, report_path)  # after the write: with the new plots' ids
    counts = report.counts
    skipped = f", {counts['rejected']} rejected features skipped" if counts["rejected"] else ""
    other = (f", {counts['skipped']} areas that are not business land left out"
             if counts["skipped"] else "")
    say(ctx, f"Written: {counts['create']} created, {counts['update']} updated, "
             f"{counts['unchanged']} unchanged{skipped}{other}.")


def _write_report(report: ImportReport, path: Path | None) -> None:
    if path is not None:
        path.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1),
                        encoding="utf-8")


def _summary(ctx: click.Context, report: ImportReport, show: int) -> None:
    where = ", ".join(p for p in (report.format, report.layer and f"layer {report.layer}",
                                  report.crs) if p)
    say(ctx, f"{Path(report.source).name} ({where})"
             + (f" → kommune {report.kommune}" if report.kommune else ""))
    say(ctx, "columns: " + (", ".join(f"{f} ← {c}" for f, c in report.mapping.items())
                            or "none matched"))
    if report.ignored_columns:
        say(ctx, "ignored: " + ", ".join(report.ignored_columns))
    for note in report.warnings:
        say(ctx, f"note: {note}")
    counts = report.counts
    width = max(len(str(v)) for v in counts.values())
    for action, n in counts.items():
        say(ctx, f"  {action:<10} {n:>{width}}")
    for label, n in report.skipped_by_code.items():  # "2011 Kjøreveg: ikke næringsareal"
        say(ctx, f"    {n:>{width}} × {label}")
    rejected = report.rejected
    if rejected and show:
        # Rejections go to stderr as well as the table: they are why nothing was written.
        click.echo(f"Rejected (first {min(show, len(rejected))} of {len(rejected)}):", err=True)
        for f in rejected[:show]:
            ref = f" {f.external_ref}" if f.external_ref else ""
            for r in f.reasons:
                field = f" [{r.field}]" if r.field else ""
                click.echo(f"  #{f.row}{ref}{field} {r.message}", err=True)
    updates = report.by_action("update") if show else []
    if updates:
        say(ctx, f"Updated (first {min(show, len(updates))} of {len(updates)}):")
        for f in updates[:show]:
            say(ctx, f"  #{f.row} {f.external_ref or f'plot {f.plot_id}'}: "
                     + ", ".join(f.changes))
    for f in report.with_warnings()[:show]:
        for w in f.warnings:
            say(ctx, f"  #{f.row} note: {w}")
