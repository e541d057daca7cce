"""The upload behind ``POST /api/import`` (the route is in ``landreg.web.edit``): a file for a
kommune, a dry run or a write, and the answer the upload page shows.

The answer speaks the page's language (form field ``lang``: ``nb`` or ``en``; without it, as
the command line does, in English): every reason, warning and skipped area, and every error
about the file, naming the user's file — never the temporary one on the server — and never a
command-line flag
(:mod:`landreg.ingest.messages`). After a write it also lists, per action, the plots with their
name, whether they are published and a link to their page, unpublished ones included (only a
planner who may edit the kommune gets here).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import Response, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.orm import Session

from landreg.errors import InvalidInput, LandregError
from landreg.i18n import pick_lang, t
from landreg.ingest.importer import ImportReport, apply_import, plan_import
from landreg.ingest.messages import render_error
from landreg.ingest.readers import ReadLimits
from landreg.registry.codes import normalise_kommunenummer
from landreg.registry.fields import parse_bool

#: Features listed in the answer: in file order, and per action after a write.
MAX_FEATURES = 200
MAX_PER_ACTION = 500


def upload(session: Session, who: Any) -> tuple[Response, int]:
    """Plan (and unless ``dry_run``, apply) the uploaded file; errors in the page's language."""
    # Messages in the page's language when it says which; an API client that does not gets
    # them as made (English, as the command line prints them).
    lang = pick_lang(request.form["lang"]) if request.form.get("lang") else None
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput(t("imp_choose_file", lang) if lang else
                           "Choose a file to import (field 'file').", field="file")
    kommune = normalise_kommunenummer(request.form.get("kommune"))
    who.require_edit(kommune)
    mapping = {}
    for item in request.form.getlist("map"):
        field, sep, column = item.partition("=")
        if not sep:
            raise InvalidInput("map must look like field=column", field="map", value=item)
        mapping[field.strip()] = column.strip()
    dry_run = parse_bool("dry_run", request.form.get("dry_run", "true")) is not False
    allow_partial = parse_bool("allow_partial", request.form.get("allow_partial")) is True
    suffix = "".join(Path(upload.filename).suffixes[-2:]) or ".dat"
    # An upload may be as large as the request limit; a zip may unpack to four times that
    # (a Shapefile compresses about 3:1), not to the command line's gigabytes.
    max_bytes = current_app.config.get("MAX_CONTENT_LENGTH") or 50 * 2**20
    limits = ReadLimits(max_bytes=max_bytes, max_unzipped_bytes=4 * max_bytes)
    try:
        with tempfile.TemporaryDirectory(prefix="landreg-import-") as folder:
            path = Path(folder) / f"upload{suffix}"
            upload.save(path)
            # name=: messages name the user's file, never the temporary one on the server.
            report = plan_import(session, path, kommune=kommune, mapping=mapping,
                                 crs=request.form.get("crs") or None, user=who.username,
                                 limits=limits, name=upload.filename)
            if not dry_run:
                apply_import(session, report, who.username, allow_partial=allow_partial)
                session.commit()
    except LandregError as exc:
        if lang is not None:
            exc.message = render_error(exc, lang, upload.filename)
            exc.args = (exc.message,)
        raise
    body = report.to_dict(max_features=MAX_FEATURES, lang=lang)
    body.update(dry_run=dry_run, file=upload.filename,
                rejected=[f.to_dict(lang) for f in report.rejected[:MAX_PER_ACTION]])
    if not dry_run:
        body["plots"] = _plots(session, report, lang)
    return jsonify(body), 200 if dry_run else 201


def _plots(session: Session, report: ImportReport,
           lang: str | None) -> dict[str, list[dict]]:
    """Per action, the features with their plot's stored name, published flag and page."""
    groups = {a: report.by_action(a)[:MAX_PER_ACTION]
              for a in ("create", "update", "unchanged", "skipped")}
    ids = sorted({f.plot_id for fs in groups.values() for f in fs if f.plot_id is not None})
    stored = {row.id: row for row in session.execute(
        text("SELECT id, name, published FROM plot WHERE id = ANY(:ids)"), {"ids": ids})}
    suffix = "?lang=en" if lang == "en" else ""
    out: dict[str, list[dict]] = {}
    for action, features in groups.items():
        out[action] = []
        for f in features:
            item = f.to_dict(lang)
            row = stored.get(f.plot_id)
            if row is not None:
                item.update(name=row.name, published=bool(row.published),
                            url=f"/plots/{row.id}{suffix}")
            out[action].append(item)
    return out
