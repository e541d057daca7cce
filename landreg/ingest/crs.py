"""Coordinate reference systems: parse what users give, and say what their numbers look like."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from landreg.errors import InvalidCRS

STORE_EPSG = 25833
#: CRSs a user may ask the web services to answer in.
OUTPUT_EPSG = (4326, 25832, 25833)
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

# Mainland Norway with a margin, in EPSG:25833 (x, y): anything outside is not Norwegian land.
NORWAY_25833 = (-120_000.0, 6_420_000.0, 1_150_000.0, 7_960_000.0)


@lru_cache(maxsize=64)
def parse_crs(value: object) -> CRS:
    """Return a pyproj CRS for an EPSG code, ``EPSG:n``, an OGC URI or a WKT/PROJ string.

    >>> parse_crs("EPSG:25832").to_epsg()
    25832
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidCRS(
            "No coordinate reference system was given. Say which one the coordinates are in, "
            "for example EPSG:25833 (UTM 33), EPSG:25832 (UTM 32) or EPSG:4326 "
            "(longitude/latitude).",
            field="crs",
        )
    text = str(value).strip()
    if text in (CRS84_URI, "OGC:CRS84", "CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84"):
        return CRS.from_epsg(4326)
    if text.isdigit():
        text = f"EPSG:{text}"
    for prefix in ("http://www.opengis.net/def/crs/EPSG/0/", "urn:ogc:def:crs:EPSG::"):
        if text.startswith(prefix):
            text = "EPSG:" + text[len(prefix):]
    try:
        crs = CRS.from_user_input(text)
    except CRSError:
        raise InvalidCRS(
            f"Unknown coordinate reference system {value!r}. Use an EPSG code such as "
            "EPSG:25833, EPSG:25832 or EPSG:4326.",
            field="crs",
            value=value,
        ) from None
    if not (crs.is_projected or crs.is_geographic):
        raise InvalidCRS(
            f"{value!r} is not a horizontal coordinate reference system.", field="crs", value=value
        )
    return crs


def crs_uri(epsg: int) -> str:
    """The OGC URI of a CRS (CRS84 for longitude/latitude, as OGC API Features says)."""
    if epsg == 4326:
        return CRS84_URI
    return f"http://www.opengis.net/def/crs/EPSG/0/{epsg}"


@lru_cache(maxsize=64)
def transformer(src: CRS, dst_epsg: int = STORE_EPSG) -> Transformer:
    """A cached, axis-order-safe (x=east/longitude) transformer, shared by every thread.

    pyproj rebuilds a transformer's PROJ object once in each thread that uses it; built with
    ``from_crs`` that rebuild searches PROJ's database again (10–40 ms, on every new thread of
    a threaded server). When the chosen operation is one plain PROJ pipeline (as between the
    Norwegian CRSs and longitude/latitude), the transformer is made from that pipeline
    instead, whose rebuild takes well under a millisecond; it computes the same numbers
    (checked here on sample points, else the ``from_crs`` transformer is kept)."""
    found = Transformer.from_crs(src, CRS.from_epsg(dst_epsg), always_xy=True)
    if found.to_json_dict().get("type") not in ("Conversion", "ConcatenatedOperation"):
        return found
    try:
        fast = Transformer.from_pipeline(found.definition)
    except Exception:  # noqa: BLE001 - no pipeline form: keep the operation PROJ found
        return found
    area = src.area_of_use
    if area is None:
        return found
    xs = np.linspace(area.west, area.east, 5)
    ys = np.linspace(area.south, area.north, 5)
    if src.is_projected:  # sample points in the source CRS's own units
        xs, ys = Transformer.from_crs(src.geodetic_crs, src, always_xy=True).transform(xs, ys)
    if not np.array_equal(np.asarray(found.transform(xs, ys)), np.asarray(fast.transform(xs, ys)),
                          equal_nan=True):
        return found
    return fast


@lru_cache(maxsize=64)
def store_transform(value: object) -> tuple[int | None, bool, Transformer]:
    """(EPSG code, whether geographic, :func:`transformer` to the storage CRS) of the CRS a
    user named, cached by what they wrote: a request on a new thread then touches no pyproj
    CRS object (each of which pyproj would rebuild for that thread), only the transformer."""
    crs = parse_crs(value)
    return crs.to_epsg(), crs.is_geographic, transformer(crs)


def in_norway(x: np.ndarray, y: np.ndarray) -> bool:
    """True when every point (EPSG:25833) lies in the mainland-Norway box."""
    minx, miny, maxx, maxy = NORWAY_25833
    return bool(np.all((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)))


def guess_crs(x: np.ndarray, y: np.ndarray) -> str | None:
    """Describe the CRS that raw coordinates look like, for an error message.

    Tries the systems Norwegian data comes in and returns the first in which every point falls
    in Norway, e.g. ``"EPSG:4326 (longitude/latitude)"``; None when none fits.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    candidates = [
        (4326, "EPSG:4326 (longitude/latitude)", x, y),
        (4326, "EPSG:4326 with latitude and longitude swapped", y, x),
        (25833, "EPSG:25833 (UTM zone 33)", x, y),
        (25832, "EPSG:25832 (UTM zone 32)", x, y),
        (25835, "EPSG:25835 (UTM zone 35)", x, y),
        (3857, "EPSG:3857 (web Mercator)", x, y),
    ]
    for epsg, label, cx, cy in candidates:
        if epsg == 4326 and not (np.all(np.abs(cx) <= 180) and np.all(np.abs(cy) <= 90)):
            continue
        tx, ty = transformer(CRS.from_epsg(epsg)).transform(cx, cy)
        if np.all(np.isfinite(tx)) and in_norway(np.asarray(tx), np.asarray(ty)):
            return label
    return None
