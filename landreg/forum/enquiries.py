"""Enquiries (henvendelser): a company states its need; landreg stores it, matches it at once
against the plots of all seven kommuner, and lists it for the planners.

Matching = the profile's ranking over published, available plots within the area range,
within 1 km of the railway when rail is needed, and with enough power when a need is given
(unknown power capacity counts as a possible match). The ten best are kept with the enquiry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from landreg import ratelimit
from landreg.errors import InvalidInput, NotFound
from landreg.models import ENQUIRY_STATUS, Enquiry
from landreg.registry.fields import parse_bool, parse_number, parse_text
from landreg.registry.search import PlotQuery, search_plots
from landreg.scoring.service import Suitability

MAX_PER_HOUR = 5
RAIL_WITHIN_M = 1000.0
MATCHES = 10
FIELDS = ("company", "contact_name", "email", "phone", "profile", "min_daa", "max_daa",
          "timing", "rail_needed", "power_mw", "within_min", "within_to", "road_km",
          "junction_km", "rail_km", "station_km", "message", "consent")


def clean_enquiry(data: dict[str, Any], suitability: Suitability) -> dict[str, Any]:
    """Check a submitted form; raise :class:`InvalidInput` naming the first wrong field."""
    if (data.get("website") or "").strip():  # the honeypot a person never sees or fills
        raise InvalidInput(key="err_enquiry_robot", field="website")
    out = {
        "company": parse_text("company", data.get("company"), max_length=200, required=True),
        "contact_name": parse_text("contact_name", data.get("contact_name"), max_length=200),
        "email": parse_text("email", data.get("email"), max_length=200),
        "phone": parse_text("phone", data.get("phone"), max_length=40),
        "profile": parse_text("profile", data.get("profile"), max_length=40, required=True),
        "min_daa": parse_number("min_daa", data.get("min_daa"), minimum=0, maximum=100_000),
        "max_daa": parse_number("max_daa", data.get("max_daa"), minimum=0, maximum=100_000),
        "timing": parse_text("timing", data.get("timing"), max_length=200),
        "rail_needed": bool(parse_bool("rail_needed", data.get("rail_needed"))),
        "power_mw": parse_number("power_mw", data.get("power_mw"), minimum=0, maximum=10_000),
        "within_min": parse_number("within_min", data.get("within_min"), minimum=1,
                                   maximum=600),
        "within_to": parse_text("within_to", data.get("within_to"), max_length=40),
        "message": parse_text("message", data.get("message"), max_length=4000),
        "consent": bool(parse_bool("consent", data.get("consent"))),
    }
    from landreg.registry.distances import KINDS, MAX_KM

    for kind in KINDS:  # "at most N km from E16/Rv2, a junction, the railway, a station"
        out[f"{kind}_km"] = parse_number(f"{kind}_km", data.get(f"{kind}_km"), minimum=0,
                                         maximum=MAX_KM)
    if not (out["email"] or out["phone"]):
        raise InvalidInput(key="err_enquiry_contact", field="email")
    if out["email"] and ("@" not in out["email"] or "." not in out["email"].split("@")[-1]):
        raise InvalidInput(key="err_enquiry_email", params={"value": out["email"]},
                           field="email")
    if not out["consent"]:
        raise InvalidInput(key="err_enquiry_consent", field="consent")
    if out["min_daa"] is not None and out["max_daa"] is not None \
            and out["min_daa"] > out["max_daa"]:
        raise InvalidInput(key="err_enquiry_area_order", params={
            "minimum": out["min_daa"], "maximum": out["max_daa"]}, field="min_daa")
    suitability.profile(out["profile"])  # unknown profile → 404 naming the profiles
    if out["within_min"] is not None or out["within_to"] is not None:
        from landreg.routing.filter import check

        try:  # "within N minutes of …": both or neither, a known destination
            check(out["within_to"], out["within_min"])
        except InvalidInput as exc:
            exc.field = {"to": "within_to"}.get(exc.field, exc.field)
            raise
    return out


def match(session: Session, suitability: Suitability, need: dict[str, Any]) -> list[dict]:
    """The best published, available plots for a need, ranked by the profile."""
    query = PlotQuery(availability=["ledig"], min_daa=need.get("min_daa"),
                      max_daa=need.get("max_daa"), limit=1000,
                      reach_to=need.get("within_to"), reach_within_min=need.get("within_min"),
                      within_km={k[:-3]: v for k, v in need.items()
                                 if k.endswith("_km") and v is not None})
    if query.reach_to:
        from landreg.routing.filter import ensure_current

        ensure_current(session)
    page = search_plots(session, query, public=True)
    facts = {f["id"]: f["properties"] for f in page.features}
    if need.get("power_mw"):
        facts = {i: p for i, p in facts.items() if p["power_capacity_mw"] is None
                 or p["power_capacity_mw"] >= need["power_mw"]}
    if not facts:
        return []
    ranking = suitability.ranking(session, need["profile"], plot_ids=list(facts))
    if need.get("rail_needed"):
        rail = _rail_distance(session, suitability, list(facts))
        ranking = [i for i in ranking if rail.get(i["plot_id"], 1e12) <= RAIL_WITHIN_M]
    out = []
    for item in ranking:
        if item["excluded"]:
            continue
        p = facts[item["plot_id"]]
        out.append({"plot_id": item["plot_id"], "score": item["score"], "name": p["name"],
                    "kommunenummer": p["kommunenummer"], "kommunenavn": p["kommunenavn"],
                    "area_daa": p["area_daa"]})
        if len(out) == MATCHES:
            break
    return out


def _rail_distance(session: Session, suitability: Suitability, ids: list[int]) -> dict:
    import geopandas as gpd
    import shapely

    from landreg.models import Plot
    from landreg.scoring.zonal import zonal_stats

    rows = session.execute(select(Plot.id, func.ST_AsBinary(Plot.geom))
                           .where(Plot.id.in_(ids))).all()
    frame = gpd.GeoDataFrame({"id": [r[0] for r in rows]}, crs=25833,
                             geometry=shapely.from_wkb([bytes(r[1]) for r in rows]))
    stats = zonal_stats(frame, {"dist_rail": suitability.layer_paths["dist_rail"]})
    return {int(i): float(v) for i, v in stats["dist_rail_min"].items()}


def create_enquiry(session: Session, suitability: Suitability, data: dict[str, Any], *,
                   engine: Engine | None = None, rate_key: str | None = None,
                   now: float | None = None) -> Enquiry:
    """Check, rate-limit, match and store an enquiry (one transaction: all or nothing).

    With ``rate_key`` (e.g. ``client_key("enquiry")``) a well-formed enquiry counts against
    ``MAX_PER_HOUR`` for that sender in the shared limiter on ``engine`` *before* anything is
    stored: one atomic counter, so parallel posts cannot all pass a check that only five
    should pass. A form with mistakes does not count."""
    need = clean_enquiry(data, suitability)
    if rate_key is not None:
        if engine is None:
            raise ValueError("rate_key needs the engine of the shared limiter")
        ratelimit.enforce(engine, rate_key, limit=MAX_PER_HOUR, window=3600, now=now,
                          message_key="err_enquiry_rate")
    enquiry = Enquiry(**{k: v for k, v in need.items() if k in FIELDS},
                      matches=match(session, suitability, need))
    session.add(enquiry)
    session.flush()
    return enquiry


def update_enquiry(session: Session, enquiry_id: int, *, status: str | None = None,
                   handled_by: str | None = None) -> Enquiry:
    """Set an enquiry's status (ny, under_arbeid, besvart, avsluttet) and/or its handler.

    ``handled_by`` is the username of an active user (the web layer passes the logged-in
    planner unless another is named), never free text."""
    enquiry = session.get(Enquiry, enquiry_id) if 0 < enquiry_id < 2**31 else None
    if enquiry is None:
        raise NotFound(f"There is no enquiry {enquiry_id}.", field="id", value=enquiry_id)
    if status is not None:
        if status not in ENQUIRY_STATUS:
            raise InvalidInput(f"status must be one of {', '.join(ENQUIRY_STATUS)}",
                               field="status", value=status)
        enquiry.status = status
    if handled_by is not None:
        enquiry.handled_by = _active_username(session, handled_by)
    session.flush()
    return enquiry


def _active_username(session: Session, username: object) -> str:
    from landreg.models import User

    name = username.strip().lower() if isinstance(username, str) else ""
    found = session.execute(select(User.username).where(
        User.username == name, User.active.is_(True))).scalar_one_or_none() if name else None
    if found is None:
        raise InvalidInput("handled_by must be the username of an active planner or admin.",
                           field="handled_by", value=str(username)[:100])
    return found


def list_enquiries(session: Session) -> list[Enquiry]:
    """Newest first (planners only: this includes contact data)."""
    return list(session.execute(select(Enquiry).order_by(Enquiry.created_at.desc()))
                .scalars())
