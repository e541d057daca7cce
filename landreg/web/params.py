"""Query parameters → domain queries, with a 400 that names the parameter when one is wrong."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from landreg.errors import InvalidInput, Label
from landreg.ingest.crs import OUTPUT_EPSG, parse_crs
from landreg.registry.distances import KINDS as DISTANCE_KINDS
from landreg.registry.distances import PARAMS as DISTANCE_PARAMS
from landreg.registry.search import MAX_LIMIT, MAX_OFFSET, PlotQuery
from landreg.routing.filter import PARAMS as REACH_PARAMS
from landreg.routing.filter import parse as parse_reach

#: Parameters of /api/plots, with a one-line description (also used by the OpenAPI document).
PLOT_PARAMS: dict[str, str] = {
    "kommune": "kommunenummer, comma-separated (e.g. 3401,3415; pre-2020 numbers accepted)",
    "availability": "ledig, reservert, under_forhandling, solgt, utbygd (comma-separated)",
    "purpose_group": "industri, lager_logistikk, kontor, handel, naering, kombinert, annen",
    "arealformal": "arealformål codes, comma-separated (e.g. 1340,1826)",
    "min_daa": "smallest area in dekar",
    "max_daa": "largest area in dekar",
    "byggeklar": "true: road and water/sewer in place; false: not",
    "road_access": "true/false",
    "water_sewer": "true/false",
    "min_power_mw": "at least this power capacity (MW)",
    "bbox": "minx,miny,maxx,maxy in bbox-crs (default longitude/latitude)",
    "bbox-crs": "CRS of bbox: EPSG code or URI (default CRS84)",
    "near": "a point or line as WKT, in near-crs",
    "near-crs": "CRS of near (default CRS84)",
    "distance": "metres from near",
    "q": "free text in name, description, reference and plan id",
    "sort": "comma-separated keys, - for descending: name, area_daa, kommunenummer, "
            "price_nok_m2, updated_at, availability, id",
    "limit": f"page size, 1–{MAX_LIMIT} (default 100)",
    "offset": "how many to skip (default 0)",
    "crs": "output CRS: 4326 (default, CRS84 order), 25832 or 25833",
    **REACH_PARAMS,
    **DISTANCE_PARAMS,
    "published": "logged-in planners only: false for unpublished plots, true for published "
                 "ones (planners see both by default, and trukket plots with "
                 "availability=trukket)",
}


def _one(args: Mapping[str, str], name: str) -> str | None:
    value = args.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def text_list(args: Mapping[str, str], name: str) -> list[str]:
    """A comma-separated list of non-empty strings."""
    value = _one(args, name)
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def number(args: Mapping[str, str], name: str) -> float | None:
    """A finite number, or None when absent."""
    value = _one(args, name)
    if value is None:
        return None
    try:
        out = float(value)
    except ValueError:
        raise InvalidInput(key="err_param_number", params={"name": Label(name), "value": value},
                           field=name, value=value) from None
    if out != out or out in (float("inf"), float("-inf")):
        raise InvalidInput(key="err_param_finite", params={"name": Label(name), "value": value},
                           field=name, value=value)
    return out


#: The largest whole number a query parameter may carry unless a smaller bound is given.
SQL_INT_MAX = 2**31 - 1


def integer(args: Mapping[str, str], name: str, default: int, *, minimum: int = 0,
            maximum: int | None = None) -> int:
    """A whole number in a range (default when absent).

    Without ``maximum`` the bound is PostgreSQL's ``integer`` (2³¹−1): a query-string number
    must never reach SQL as one the database cannot hold (that was a 500, not a 400).
    """
    maximum = SQL_INT_MAX if maximum is None else maximum
    value = _one(args, name)
    if value is None:
        return default
    try:
        out = int(value)
    except ValueError:
        raise InvalidInput(key="err_param_whole", params={"name": Label(name), "value": value},
                           field=name, value=value) from None
    if out < minimum or out > maximum:
        raise InvalidInput(key="err_param_range", params={
            "name": Label(name), "minimum": minimum, "maximum": maximum, "value": out},
            field=name, value=out)
    return out


def page_limit(args: Mapping[str, str], default: int, maximum: int = MAX_LIMIT) -> int:
    """OGC API ``limit``: a whole number of at least 1; above ``maximum`` it is clamped to it.

    OGC API – Features (17-069r4, Requirement 22 C) says a limit above the server's maximum
    SHALL NOT result in an error: clients such as OWSLib ask for ``limit=10000`` and page on.
    The page's ``next`` link then continues where the clamped page ended.
    """
    value = _one(args, "limit")
    if value is None:
        return min(default, maximum)
    try:
        out = int(value)
    except ValueError:
        raise InvalidInput(key="err_param_whole", params={"name": Label("limit"),
                           "value": value}, field="limit", value=value) from None
    if out < 1:
        raise InvalidInput(key="err_param_at_least", params={
            "name": Label("limit"), "minimum": 1, "value": out}, field="limit", value=out)
    return min(out, maximum)


def page_offset(args: Mapping[str, str]) -> int:
    """``offset``: a whole number from 0 to :data:`MAX_OFFSET` (larger is a 400, not a
    database overflow)."""
    return integer(args, "offset", 0, maximum=MAX_OFFSET)


def boolean(args: Mapping[str, str], name: str) -> bool | None:
    """true/false (also 1/0, ja/nei), None when absent."""
    value = _one(args, name)
    if value is None:
        return None
    low = value.lower()
    if low in ("true", "1", "yes", "ja"):
        return True
    if low in ("false", "0", "no", "nei"):
        return False
    raise InvalidInput(key="err_param_boolean", params={"name": Label(name), "value": value},
                       field=name, value=value)


def bbox(args: Mapping[str, str], name: str = "bbox") -> tuple[float, float, float, float] | None:
    """Four numbers minx,miny,maxx,maxy (six-number 3-D boxes are refused)."""
    value = _one(args, name)
    if value is None:
        return None
    parts = value.split(",")
    try:
        nums = tuple(float(p) for p in parts)
    except ValueError:
        raise InvalidInput(key="err_param_bbox", params={"name": Label(name), "value": value},
                           field=name, value=value) from None
    if len(nums) != 4 or any(n != n or n in (float("inf"), float("-inf")) for n in nums):
        raise InvalidInput(key="err_param_bbox", params={"name": Label(name), "value": value},
                           field=name, value=value)
    if not (nums[0] < nums[2] and nums[1] < nums[3]):
        raise InvalidInput(key="err_param_bbox_order", params={"name": Label(name),
                           "value": value}, field=name, value=value)
    return nums  # type: ignore[return-value]


def output_srid(args: Mapping[str, str], name: str = "crs", *, ogc: bool = False) -> int:
    """The EPSG code of an output CRS parameter (4326, longitude first, when absent).

    On the OGC API (``ogc=True``) only CRS84 means longitude/latitude: EPSG:4326 itself has
    latitude first there, which this service does not produce, so it is refused clearly.
    """
    value = _one(args, name)
    if value is None:
        return 4326
    if ogc and value.rstrip("/").endswith(("EPSG/0/4326", "EPSG::4326", "EPSG:4326")):
        raise InvalidInput(key="err_param_crs84", params={"name": Label(name), "value": value},
                           field=name, value=value)
    try:
        epsg = parse_crs(value).to_epsg()
    except InvalidInput:
        epsg = None
    if epsg not in OUTPUT_EPSG:
        raise InvalidInput(key="err_param_crs", params={"name": Label(name), "value": value},
                           field=name, value=value)
    return int(epsg)


def input_crs(args: Mapping[str, str], name: str, *, ogc: bool = False) -> int:
    """The EPSG code of a CRS given for input coordinates (4326 when absent)."""
    return output_srid(args, name, ogc=ogc)


def check_known(args: Iterable[str], known: Iterable[str]) -> None:
    """Refuse parameters the endpoint does not know (a typo must not silently widen a search)."""
    known = set(known) | {"lang"}  # every answer, errors too, is given in ?lang=
    unknown = sorted(set(args) - known)
    if unknown:
        raise InvalidInput(key="err_param_unknown", params={
            "unknown": unknown, "known": sorted(known - {"lang"})}, field=unknown[0])


def codes(args: Mapping[str, str], name: str) -> list[int]:
    """A comma-separated list of whole-number codes."""
    out = []
    for v in text_list(args, name):
        if not v.isdigit():
            raise InvalidInput(key="err_param_codes", params={"name": Label(name), "value": v},
                               field=name, value=v)
        out.append(int(v))
    return out


#: Domain field names → the query parameter a caller typed (so a 400 names their parameter).
PARAM_OF_FIELD = {"kommunenummer": "kommune", "near_distance_m": "distance",
                  "geometry": "near", "crs": "bbox-crs"}


def plot_query(args: Mapping[str, str], *, default_limit: int = 100) -> PlotQuery:
    """Build a validated :class:`PlotQuery` from /api/plots parameters; errors name the
    parameter as the caller wrote it."""
    try:
        return _plot_query(args, default_limit)
    except InvalidInput as exc:
        if exc.field in PARAM_OF_FIELD:
            exc.field = PARAM_OF_FIELD[exc.field]
        raise


def _plot_query(args: Mapping[str, str], default_limit: int) -> PlotQuery:
    query = PlotQuery(
        kommuner=text_list(args, "kommune"),
        availability=text_list(args, "availability"),
        purpose_groups=text_list(args, "purpose_group"),
        arealformal=codes(args, "arealformal"),
        min_daa=number(args, "min_daa"),
        max_daa=number(args, "max_daa"),
        byggeklar=boolean(args, "byggeklar"),
        road_access=boolean(args, "road_access"),
        water_sewer=boolean(args, "water_sewer"),
        min_power_mw=number(args, "min_power_mw"),
        bbox=bbox(args),
        bbox_crs=input_crs(args, "bbox-crs"),
        near=_one(args, "near"),
        near_crs=input_crs(args, "near-crs"),
        near_distance_m=number(args, "distance"),
        q=_one(args, "q"),
        sort=text_list(args, "sort") or ["kommunenummer", "name"],
        limit=integer(args, "limit", default_limit, minimum=1, maximum=MAX_LIMIT),
        offset=integer(args, "offset", 0, maximum=MAX_OFFSET),
    )
    query.published = boolean(args, "published")
    query.within_km = distance_limits(args)
    if query.q and len(query.q) > 200:
        raise InvalidInput(key="err_param_too_long", params={"name": Label("q"),
                           "maximum": 200}, field="q")
    query.validate()
    query.reach_to, query.reach_within_min = parse_reach(args)
    return query


def distance_limits(args: Mapping[str, str]) -> dict[str, float]:
    """The straight-line distance filters (``road_km`` …) given, in km by kind."""
    return {k: v for k in DISTANCE_KINDS if (v := number(args, f"{k}_km")) is not None}


def datetime_interval(value: str | None) -> tuple[datetime | None, datetime | None]:
    """OGC ``datetime``: an instant, ``a/b``, ``../b`` or ``a/..`` (RFC 3339)."""
    if value is None or not value.strip():
        return None, None

    def parse(text: str) -> datetime | None:
        if text in ("..", ""):
            return None
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(key="err_param_datetime", params={"value": value},
                               field="datetime", value=value) from None

    if "/" in value:
        start_text, end_text = value.split("/", 1)
        start, end = parse(start_text), parse(end_text)
        if start and end and start > end:
            raise InvalidInput(key="err_param_datetime_order", field="datetime", value=value)
        return start, end
    instant = parse(value)
    if instant is None:
        raise InvalidInput(key="err_param_datetime_open", field="datetime", value=value)
    return instant, instant


def url_with_query(endpoint: str, query: Mapping[str, str] | Iterable[tuple[str, str]],
                   **view_args: object) -> str:
    """``url_for(endpoint, **view_args)`` plus ``query`` as the query string.

    Never pass a request's parameters to ``url_for`` as keywords: names such as ``_method``,
    ``_external`` or ``_anchor`` are instructions to ``url_for`` itself (``/?_method=POST``
    asked it to build a POST URL and failed with a 500). Here they are only text.
    """
    from urllib.parse import urlencode

    from flask import url_for

    items = list(query.items(multi=True) if hasattr(query, "getlist")  # type: ignore[union-attr]
                 else query.items() if isinstance(query, Mapping) else query)
    base = url_for(endpoint, **view_args)  # type: ignore[arg-type]
    return base + ("?" + urlencode(items) if items else "")
