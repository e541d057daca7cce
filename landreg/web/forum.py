"""The planning forum's pages and API: compare plots side by side, the land accounts."""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, render_template, request

from landreg.errors import LandregError
from landreg.forum.accounts import land_accounts, load_demand
from landreg.forum.compare import compare, parse_ids
from landreg.forum.enquiries import (
    create_enquiry,
    list_enquiries,
    update_enquiry,
)
from landreg.registry.search import fetch_one
from landreg.scoring.catalogue import parse_weights
from landreg.web import params
from landreg.web.auth import current_principal, require_principal
from landreg.web.client import client_key
from landreg.web.db import engine, session, settings
from landreg.web.suitability import suitability

bp = Blueprint("forum", __name__)


#: The filter parameters of /api/plots a comparison or ranking export carries, so an export
#: shows exactly the selection on screen.
FILTER_PARAMS = set(params.PLOT_PARAMS) - {"sort", "limit", "offset", "crs"}


def filter_args(args: dict[str, str]) -> dict[str, str]:
    """The filters (and ``weights``) among ``args``, for links from a page to its exports."""
    return {k: v for k, v in args.items() if (k in FILTER_PARAMS or k == "weights") and v}


def _comparison(extra: set[str] = frozenset()) -> dict:
    """The comparison the query asks for, ranked within the selection its filters make."""
    from landreg.web.suitability import filtered_ids

    args = request.args.to_dict()
    params.check_known(args, {"profile", "plots", "weights", "lang"} | FILTER_PARAMS | extra)
    weights = parse_weights(args["weights"]) if args.get("weights") else None
    public = current_principal() is None
    filters = {k: v for k, v in args.items() if k in FILTER_PARAMS}
    selection = list(filtered_ids(filters, public=public)) if filters else None
    return compare(session(), suitability(), args.get("profile") or "logistics",
                   parse_ids(args.get("plots")), weights, public=public, selection=selection)


def _words(c: dict, lang: str) -> dict:
    """Labels of a comparison for people: rank labels, reasons, weights, the selection."""
    from landreg.forum.labels import filter_summary, rank_text, reasons_text, weights_text

    s = suitability()
    args = request.args.to_dict()
    return {"ranks": [rank_text(p, c["count"], lang) for p in c["plots"]],
            "reasons": [reasons_text(s, p["reasons"], lang) for p in c["plots"]],
            "weights": weights_text(s, c["weights"], lang),
            "summary": filter_summary(session(), s, args, c["profile"], lang),
            "profile": c["profile_name_nb"] if lang == "nb" else c["profile_name_en"]}


@bp.get("/api/compare")
def compare_api() -> Response:
    """2–6 plots side by side for a profile (``?profile=logistics&plots=3,17,42``)."""
    return jsonify(_comparison())


@bp.post("/api/comparisons")
def save_comparison() -> tuple[Response, int]:
    """Save a comparison under a name (planners): ``{name, profile, plots, weights?}``."""
    from landreg.models import Comparison
    from landreg.registry.fields import parse_text

    who = require_principal()
    body = request.get_json(silent=True) or {}
    plots = body.get("plots", [])
    if not isinstance(plots, list):
        from landreg.errors import InvalidInput

        raise InvalidInput("plots must be a list of plot ids, e.g. [3, 17, 42]", field="plots")
    ids = parse_ids(",".join(str(i) for i in plots))
    weights = _saved_weights(body.get("weights"))
    compare(session(), suitability(), body.get("profile") or "", ids, weights,
            public=False)  # the same checks as showing it
    saved = Comparison(name=parse_text("name", body.get("name"), max_length=200,
                                       required=True),
                       profile=body["profile"], weights=weights, plot_ids=ids,
                       created_by=who.username)
    session().add(saved)
    session().commit()
    from flask import url_for

    return jsonify({"id": saved.id, "name": saved.name,
                    "url": url_for("forum.saved_comparison", comparison_id=saved.id)}), 201


def _saved_weights(value: object) -> dict[str, float] | None:
    """Weights to save, read with the same parser as the ``weights`` query parameter (a
    ``"slope:30,dist_rail:70"`` text, or an object of the same pairs), so a saved comparison
    always reopens."""
    from landreg.errors import InvalidInput

    if value in (None, "", {}):
        return None
    if isinstance(value, dict):
        if not all(isinstance(v, int | float) and not isinstance(v, bool)
                   for v in value.values()):
            raise InvalidInput("weights must be numbers, e.g. {\"slope\": 30, "
                               "\"dist_rail\": 70}", field="weights", value=str(value)[:200])
        value = ",".join(f"{k}:{v}" for k, v in value.items())
    if not isinstance(value, str):
        raise InvalidInput("weights must look like slope:30,dist_rail:70", field="weights",
                           value=str(value)[:200])
    return parse_weights(value) or None


def _weights_text(weights: object) -> str | None:
    """Stored weights as the query parameter; anything malformed is passed on as text so that
    reopening gives the parser's 400 with its message, never a 500."""
    if not weights:
        return None
    if isinstance(weights, dict):
        return ",".join(f"{k}:{v:g}" if isinstance(v, int | float) else f"{k}:{v}"
                        for k, v in weights.items())
    return str(weights)


@bp.get("/api/comparisons")
def list_comparisons() -> Response:
    """Saved comparisons, newest first (planners only: names, authors and unpublished plots
    are internal)."""
    from flask import url_for
    from sqlalchemy import select

    from landreg.models import Comparison

    require_principal()
    rows = session().execute(select(Comparison).order_by(Comparison.id.desc())).scalars()
    return jsonify({"comparisons": [
        {"id": c.id, "name": c.name, "profile": c.profile, "plots": c.plot_ids,
         "created_by": c.created_by, "created_at": c.created_at.isoformat(),
         "url": url_for("forum.saved_comparison", comparison_id=c.id)} for c in rows]})


@bp.get("/compare/saved/<int:comparison_id>")
def saved_comparison(comparison_id: int) -> Response:
    """Reopen a saved comparison (planners only)."""
    from flask import redirect

    from landreg.errors import NotFound
    from landreg.models import Comparison
    from landreg.web.params import url_with_query

    require_principal()
    c = session().get(Comparison, comparison_id) if comparison_id < 2**31 else None
    if c is None:
        raise NotFound(key="err_no_comparison", params={"id": str(comparison_id)}, field="id",
                       value=comparison_id)
    args = {"profile": c.profile, "plots": ",".join(map(str, c.plot_ids or []))}
    weights = _weights_text(c.weights)
    if weights:
        args["weights"] = weights
    return redirect(url_with_query("forum.compare_page", args))


@bp.get("/compare")
def compare_page() -> str:
    """The comparison as a page: table with the best value per row marked, and a map."""
    from landreg.i18n import pick_lang
    from landreg.web.pages import _page_context, kommuner_collection
    from webmap.render import components, plots_map

    lang = pick_lang(request.args.get("lang"))
    table = _comparison()
    features = [fetch_one(session(), p["id"], public=current_principal() is None)
                for p in table["plots"]]
    parts = components(plots_map(features, kommuner_collection(), lang))
    links = {"profile": table["profile"],
             "plots": ",".join(str(p["id"]) for p in table["plots"]),
             **filter_args(request.args.to_dict()), **({"lang": lang} if lang != "nb" else {})}
    from landreg.web.params import url_with_query

    dests = _destinations(lang)
    return render_template("compare.html", c=table, parts=parts, json=json,
                           words=_words(table, lang), links=links, destinations=dests,
                           url_with_query=url_with_query,
                           user=current_principal(), **_page_context(lang))


def _export_html(features: list[dict], title: str, items: list[dict], name: str,
                 summary: str, count: int) -> Response:
    """A self-contained HTML meeting map: a file to hand out, so it holds public fields only,
    whoever is logged in when it is downloaded. Plots are numbered as in the list; the
    reference layers, legend, north arrow, metric scale, date and the selection in words are
    on it, and drive-time zones when ``isochrones=<destination>`` is asked for."""
    from landreg.i18n import pick_lang
    from landreg.registry.fields import public_feature
    from landreg.web.pages import NODE_MODULES, _reference, kommuner_collection
    from webmap.render import meeting_list, meeting_map, self_contained_html

    lang = pick_lang(request.args.get("lang"))
    iso = _isochrones(request.args.get("isochrones"))
    features = [public_feature(f) for f in features]
    m = meeting_map(features, kommuner_collection(), _reference(), lang, isochrones=iso)
    html = self_contained_html(m, NODE_MODULES, title,
                               meeting_list(items, count, summary, lang, isochrones=iso))
    return Response(html, mimetype="text/html",
                    headers={"Content-Disposition": f'attachment; filename="{name}.html"'})


def _isochrones(target: str | None) -> dict | None:
    """Drive-time zones (15/30/45/60 min) around ``target`` for a meeting map, or None; a
    computation counts against the caller's limit like /api/isochrones."""
    from landreg.web.reach import isochrones_for

    return isochrones_for(target, [15, 30, 45, 60]) if target else None


@bp.get("/compare/export.html")
def compare_export() -> Response:
    """The comparison's map as one self-contained HTML file for the meeting (works offline)."""
    from landreg.i18n import fmt_date, pick_lang, t

    lang = pick_lang(request.args.get("lang"))
    table = _comparison({"isochrones"})
    words = _words(table, lang)
    features = [fetch_one(session(), p["id"], public=current_principal() is None)
                for p in table["plots"]]
    items = [{**p, "rank_text": r} for p, r in zip(table["plots"], words["ranks"], strict=True)]
    title = f"{t('forum_comparison', lang)}: {words['profile']} — {fmt_date(_today(), lang)}"
    return _export_html(features, title, items, f"sammenligning-{table['profile']}",
                        words["summary"], table["count"])


def _today():  # noqa: ANN202 - a date
    from datetime import date

    return date.today()


@bp.get("/rankings/<profile>/export.html")
def ranking_export(profile: str) -> Response:
    """The ten best plots of a ranking as one self-contained HTML map (works offline)."""
    from landreg.i18n import fmt_date, pick_lang, t

    lang = pick_lang(request.args.get("lang"))
    body, p, summary = _public_ranking(profile, {"isochrones"})
    top = body["items"][:10]
    features = [fetch_one(session(), r["plot_id"], public=True) for r in top]
    name = p.name_nb if lang == "nb" else p.name_en
    title = f"{t('forum_ranking', lang)}: {name} — {fmt_date(_today(), lang)}"
    return _export_html(features, title, top, f"rangering-{profile}", summary, body["count"])


def _public_ranking(profile: str, extra: set[str] = frozenset()) -> tuple:
    """THE ranking (landreg.web.suitability.ranked) for an export, each item with its rank
    label, and the selection in words."""
    from landreg.forum.labels import filter_summary, rank_text, reason_text
    from landreg.i18n import pick_lang
    from landreg.web.suitability import ranked

    args = request.args.to_dict()
    params.check_known(args, {"weights", "top", "lang"} | FILTER_PARAMS | extra)
    lang = pick_lang(args.get("lang"))
    weights = parse_weights(args["weights"]) if args.get("weights") else None
    p = suitability().profile(profile, weights)
    body = ranked(profile, args)
    for item in body["items"]:
        item["rank_text"] = rank_text(item, body["count"], lang)
        item["reasons_text"] = [reason_text(suitability(), r, lang) for r in item["reasons"]]
    return body, p, filter_summary(session(), suitability(), args, profile, lang)


def _pdf(blob: bytes, name: str) -> Response:
    return Response(blob, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})


@bp.get("/compare/report.pdf")
def compare_pdf() -> Response:
    """The comparison as a printable report (table, map, attribution)."""
    from landreg.forum.report import comparison_pdf
    from landreg.i18n import pick_lang

    lang = pick_lang(request.args.get("lang"))
    c = _comparison()
    return _pdf(comparison_pdf(session(), c, _words(c, lang), lang),
                f"sammenligning-{c['profile']}")


@bp.get("/rankings/<profile>/report.pdf")
def ranking_pdf(profile: str) -> Response:
    """A profile's ranking of the published plots the filters select, as a printable report."""
    from landreg.forum.labels import weights_text
    from landreg.forum.report import ranking_pdf as make
    from landreg.i18n import pick_lang

    lang = pick_lang(request.args.get("lang"))
    body, p, summary = _public_ranking(profile)
    top = params.integer(request.args.to_dict(), "top", 20, minimum=1, maximum=200)
    name = p.name_nb if lang == "nb" else p.name_en
    return _pdf(make(session(), name, weights_text(suitability(), p.weights, lang),
                     body["items"], top, summary=summary, lang=lang), f"rangering-{profile}")


@bp.get("/accounts/report.pdf")
def accounts_pdf() -> Response:
    """The land accounts as a printable report with charts."""
    from landreg.forum.report import accounts_pdf as make
    from landreg.i18n import pick_lang

    params.check_known(request.args, {"lang"})
    return _pdf(make(_accounts(), pick_lang(request.args.get("lang"))), "arealregnskap")


@bp.get("/plots/<int:plot_id>/factsheet.pdf")
def factsheet(plot_id: int) -> Response:
    """A one-page factsheet of a published plot for investors."""
    from landreg.forum.compare import drive_rows
    from landreg.forum.report import factsheet_pdf
    from landreg.i18n import pick_lang
    from landreg.web.pages import weighs_settlements

    # public fields always (it is a handout); planners may print one of an unpublished plot
    plot = fetch_one(session(), plot_id, public=True,
                     published_only=current_principal() is None)
    scores = suitability().plot_scores(session(), plot_id)
    drive = drive_rows(session(), suitability(), [plot_id])
    session().commit()
    # the purposes shown (the best three) may rest on settlement points: say so, as the
    # plot page and the comparison do
    note = weighs_settlements([sc["profile"] for sc in scores[:3]])
    return _pdf(factsheet_pdf(session(), plot, scores, drive,
                              pick_lang(request.args.get("lang")), settlement_note=note),
                f"faktaark-{plot_id}")


def _accounts() -> dict:
    from landreg.web.text import current_lang

    s = settings()
    demand = load_demand(s.layers_dir / "land_demand.yaml")
    return land_accounts(session(), demand, suitability(), public=current_principal() is None,
                         lang=current_lang())


@bp.get("/api/accounts")
def accounts_api() -> Response:
    """Free land per kommune and purpose group, overlaps, demand and years of supply."""
    params.check_known(request.args, set())
    return jsonify(_accounts())


@bp.get("/accounts")
def accounts_page() -> str:
    """The regional dashboard."""
    from landreg.i18n import pick_lang
    from landreg.web.pages import _page_context

    lang = pick_lang(request.args.get("lang"))
    data = _accounts()
    top = max([c["ledig"] for k in data["kommuner"] for c in k["groups"].values()] + [1])
    return render_template("accounts.html", a=data, top=top, **_page_context(lang))


@bp.get("/enquiry")
def enquiry_form() -> str:
    """The public enquiry form (henvendelse)."""
    from landreg.i18n import pick_lang
    from landreg.web.pages import _page_context

    lang = pick_lang(request.args.get("lang"))
    return render_template("enquiry.html", profiles=_profiles(lang), error=None, form={},
                           destinations=_destinations(lang), **_page_context(lang))


def _profiles(lang: str) -> list[tuple[str, str]]:
    """(id, name in ``lang``) of the purpose profiles."""
    return [(p.id, p.name_nb if lang == "nb" else p.name_en)
            for p in suitability().profiles.values()]


def _destinations(lang: str) -> list[tuple[str, str]]:
    """(id, name in ``lang``) of the drive-time destinations (layers/road_network.yaml)."""
    from landreg.routing.network import destination_names

    return [(tid, nb if lang == "nb" else en)
            for tid, (nb, en) in destination_names(settings().layers_dir).items()]


@bp.post("/enquiry")
def enquiry_submit() -> tuple[str, int] | tuple[str, int, dict]:
    """Store, match and thank; a mistake re-shows the form with the message.

    At most ``MAX_PER_HOUR`` enquiries per sender (the address behind the trusted proxies),
    counted atomically in the shared limiter."""
    from landreg.i18n import pick_lang
    from landreg.web.errors import status_of
    from landreg.web.pages import _page_context

    lang = pick_lang(request.args.get("lang"))
    form = request.form.to_dict()
    try:
        enquiry = create_enquiry(session(), suitability(), form, engine=engine(),
                                 rate_key=client_key("enquiry"))
        session().commit()
    except LandregError as exc:
        session().rollback()
        retry = getattr(exc, "retry_after", None)
        return (render_template("enquiry.html", profiles=_profiles(lang),
                                error=exc.text(lang), error_field=exc.field, form=form,
                                destinations=_destinations(lang), **_page_context(lang)),
                status_of(exc),
                {"Retry-After": str(retry)} if retry else {})
    return render_template("enquiry_thanks.html", matches=enquiry.matches,
                           **_page_context(lang)), 201


@bp.get("/enquiries")
def enquiries_page() -> str:
    """Every enquiry with its matches and contact data (planners only)."""
    from flask import redirect, url_for

    from landreg.forum.labels import enquiry_needs
    from landreg.i18n import pick_lang
    from landreg.web.pages import _page_context

    if current_principal() is None:
        return redirect(url_for("auth.login_form", next=request.path))
    lang = pick_lang(request.args.get("lang"))
    enquiries = list_enquiries(session())
    needs = {e.id: enquiry_needs(e, suitability(), lang) for e in enquiries}
    return render_template("enquiries.html", enquiries=enquiries, needs=needs,
                           **_page_context(lang))


@bp.get("/api/enquiries")
def enquiries_api() -> Response:
    """Every enquiry (planners only: contains contact data)."""
    require_principal()
    cols = ("id", "company", "contact_name", "email", "phone", "profile", "min_daa",
            "max_daa", "timing", "rail_needed", "power_mw", "within_min", "within_to",
            "road_km", "junction_km", "rail_km", "station_km", "message", "status",
            "handled_by", "matches")
    return jsonify({"enquiries": [
        {**{c: getattr(e, c) for c in cols}, "created_at": e.created_at.isoformat()}
        for e in list_enquiries(session())]})


@bp.patch("/api/enquiries/<int:enquiry_id>")
def enquiry_update(enquiry_id: int) -> Response:
    """Set status and/or handler of an enquiry (planners only). The handler is the caller
    unless ``handled_by`` names another active user; it is never free text."""
    who = require_principal()
    body = request.get_json(silent=True) or {}
    e = update_enquiry(session(), enquiry_id, status=body.get("status"),
                       handled_by=body.get("handled_by", who.username))
    session().commit()
    return jsonify({"id": e.id, "status": e.status, "handled_by": e.handled_by})
