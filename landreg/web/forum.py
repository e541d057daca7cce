"""The planning forum's pages and API: compare plots side by side, the land accounts."""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, render_template, request

from landreg.forum.accounts import land_accounts, load_demand
from landreg.forum.compare import compare, parse_ids
from landreg.registry.search import fetch_one
from landreg.scoring.catalogue import parse_weights
from landreg.web import params
from landreg.web.auth import current_principal
from landreg.web.db import session, settings
from landreg.web.suitability import suitability

bp = Blueprint("forum", __name__)


def _comparison() -> dict:
    args = request.args.to_dict()
    params.check_known(args, {"profile", "plots", "weights", "lang"})
    weights = parse_weights(args["weights"]) if args.get("weights") else None
    public = current_principal() is None
    return compare(session(), suitability(), args.get("profile") or "logistics",
                   parse_ids(args.get("plots")), weights, public=public)


@bp.get("/api/compare")
def compare_api() -> Response:
    """2–6 plots side by side for a profile (``?profile=logistics&plots=3,17,42``)."""
    return jsonify(_comparison())


@bp.get("/compare")
def compare_page() -> str:
    """The comparison as a page: table with the best value per row marked, and a map."""
    from landreg.web.pages import _page_context, kommuner_collection
    from webmap.i18n import pick_lang
    from webmap.render import components, plots_map

    lang = pick_lang(request.args.get("lang"))
    table = _comparison()
    features = [fetch_one(session(), p["id"], public=current_principal() is None)
                for p in table["plots"]]
    parts = components(plots_map(features, kommuner_collection(), lang))
    return render_template("compare.html", c=table, parts=parts, json=json,
                           **_page_context(lang))


def _accounts() -> dict:
    s = settings()
    demand = load_demand(s.layers_dir / "land_demand.yaml")
    return land_accounts(session(), demand, suitability(), public=current_principal() is None)


@bp.get("/api/accounts")
def accounts_api() -> Response:
    """Free land per kommune and purpose group, overlaps, demand and years of supply."""
    params.check_known(request.args, set())
    return jsonify(_accounts())


@bp.get("/accounts")
def accounts_page() -> str:
    """The regional dashboard."""
    from landreg.web.pages import _page_context
    from webmap.i18n import pick_lang

    lang = pick_lang(request.args.get("lang"))
    data = _accounts()
    top = max([c["ledig"] for k in data["kommuner"] for c in k["groups"].values()] + [1])
    return render_template("accounts.html", a=data, top=top, **_page_context(lang))
