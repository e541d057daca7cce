"""Read the areas of a SOSI 4.x plan file (``.sos``) into a GeoDataFrame.

The GDAL in the wheels has no SOSI driver, so landreg reads the format itself. What a plan file
needs, and nothing more:

* ``.HODE``: ``..TEGNSETT`` (ISO8859-10, ISO8859-1, UTF-8, ANSI = Windows-1252) decides how the
  bytes are decoded; ``..TRANSPAR`` gives ``...KOORDSYS`` (22 → EPSG:25832, 23 → 25833,
  25 → 25835; the NTM zones 5–30 as ``1xx`` or ``51xx`` → EPSG:5105–5130; an EPSG code as such),
  ``...ORIGO-NØ`` and ``...ENHET`` (coordinates are integers × ENHET + origin).
* ``.KURVE``, ``.BUEP`` (an arc through three points, densified), ``.LINJE``, ``.GRENSE`` …:
  any group with ``..NØ``/``..NØH`` coordinates is a line others can refer to.
* ``.FLATE``: one feature. ``..REF :1 :-2 (:5 :-6)`` assembles its outer ring from the
  referenced lines (``-`` = reversed) and each parenthesised list is a hole.
* Attributes ``..NAME value`` at any depth (``..IDENT`` / ``...LOKALID``): a nested attribute
  becomes a column of its own name, lower case (``lokalid``, ``rparealformål``, ``feltnavn``).
  Without a ``lokalid`` an area gets ``<PLANID>-<SOSI object number>`` as its identity.

Security: the reader parses the bytes it is given and opens nothing else — a file name or URL
inside a SOSI file is only text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import geopandas as gpd
import shapely
from pyproj import CRS

from landreg.errors import InvalidCRS, InvalidInput

#: ..TEGNSETT value → Python codec.
CHARSETS: dict[str, str] = {
    "ISO8859-10": "iso8859_10", "ISO8859-1": "latin-1", "UTF-8": "utf-8", "UTF8": "utf-8",
    "ANSI": "cp1252", "WINDOWS-1252": "cp1252",
}
#: ...KOORDSYS (SOSI) → EPSG for EUREF89 UTM.
UTM_KOORDSYS: dict[int, int] = {21: 25831, 22: 25832, 23: 25833, 24: 25834, 25: 25835,
                                26: 25836, 84: 4258}
_GROUP = re.compile(r"^\.(?!\.)([A-ZÆØÅa-zæøå0-9_-]+)\s*(\d+)?\s*:?\s*(.*)$")
_ATTR = re.compile(r"^(\.{2,})([^\s.][^\s]*)\s*(.*)$")
_REF = re.compile(r"(\()|(\))|:(-?\d+)")


class SosiError(InvalidInput):
    """Raised for a SOSI file that cannot be read (naming what is wrong and where)."""

    code = "unreadable_file"


@dataclass
class _Group:
    kind: str
    number: int | None
    attrs: dict[str, str] = field(default_factory=dict)
    coords: list[tuple[float, float]] = field(default_factory=list)
    ref: str = ""


def _charset(data: bytes) -> str:
    m = re.search(rb"\.\.TEGNSETT\s+([A-Za-z0-9-]+)", data[:65536])
    if m is None:
        try:
            data.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            return "iso8859_10"  # the SOSI default
    name = m.group(1).decode("ascii").upper()
    if name not in CHARSETS:
        raise SosiError(f"..TEGNSETT {name} is not supported; use one of "
                        f"{', '.join(CHARSETS)}.", field="file", value=name)
    return CHARSETS[name]


def _unquote(value: str) -> str:
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return v[1:-1]
    return v


def _groups(text: str) -> list[_Group]:
    groups: list[_Group] = []
    current: _Group | None = None
    in_coords = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("!", 1)[0].strip() if "!" in raw and '"' not in raw else raw.strip()
        if not line:
            continue
        g = _GROUP.match(line)
        if g:
            kind = g.group(1).upper()
            if kind == "SLUTT":
                break
            current = _Group(kind, int(g.group(2)) if g.group(2) else None)
            groups.append(current)
            in_coords = False
            continue
        if current is None:
            raise SosiError(f"line {lineno}: data before the first group (.HODE).",
                            field="file")
        a = _ATTR.match(line)
        if a:
            name, value = a.group(2).upper(), a.group(3)
            in_coords = name in ("NØ", "NØH")
            if in_coords and value.strip():
                _coords(current, value, lineno)
            elif name == "REF":
                current.ref += " " + value
                in_coords = False
            else:
                current.attrs.setdefault(name.lower(), _unquote(value))
            continue
        if in_coords:
            _coords(current, line, lineno)
        elif current.ref and (line.startswith(":") or line.startswith("(")):
            current.ref += " " + line
    return groups


def _coords(group: _Group, line: str, lineno: int) -> None:
    parts = line.split("...", 1)[0].split()
    try:
        n, e = float(parts[0]), float(parts[1])
    except (IndexError, ValueError):
        raise SosiError(f"line {lineno}: {line!r} is not a coordinate pair (N Ø).",
                        field="file") from None
    group.coords.append((e, n))


def _epsg(head: _Group) -> int:
    raw = head.attrs.get("koordsys")
    if raw is None:
        raise InvalidCRS("The SOSI file has no ..TRANSPAR ...KOORDSYS in its .HODE, so its "
                         "coordinate system is unknown; give one with --crs.", field="crs")
    try:
        k = int(raw.split()[0])
    except ValueError:
        raise InvalidCRS(f"...KOORDSYS {raw!r} is not a number.", field="crs",
                         value=raw) from None
    if k in UTM_KOORDSYS:
        return UTM_KOORDSYS[k]
    if 105 <= k <= 130:  # NTM zone 5–30
        return 5000 + k
    if 5105 <= k <= 5130 or k >= 1000:
        return k
    raise InvalidCRS(f"...KOORDSYS {k} is not supported (use 22/23/25 for UTM 32/33/35 or an "
                     "NTM zone).", field="crs", value=k)


def _arc(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A BUEP's three points as a densified circular arc (the points themselves if straight)."""
    if len(points) != 3:
        return points
    (x1, y1), (x2, y2), (x3, y3) = points
    d = 2 * (x1 * (y2 - y3) + x2 * (y3 - y1) + x3 * (y1 - y2))
    if abs(d) < 1e-12:
        return points
    ux = ((x1**2 + y1**2) * (y2 - y3) + (x2**2 + y2**2) * (y3 - y1)
          + (x3**2 + y3**2) * (y1 - y2)) / d
    uy = ((x1**2 + y1**2) * (x3 - x2) + (x2**2 + y2**2) * (x1 - x3)
          + (x3**2 + y3**2) * (x2 - x1)) / d
    r = math.hypot(x1 - ux, y1 - uy)
    a1, a2, a3 = (math.atan2(y - uy, x - ux) for x, y in points)
    ccw = (x2 - x1) * (y3 - y1) - (y2 - y1) * (x3 - x1) > 0
    end = a3
    if ccw:
        while end <= a1:
            end += 2 * math.pi
    else:
        while end >= a1:
            end -= 2 * math.pi
    steps = max(4, int(abs(end - a1) / (math.pi / 36)))
    out = [(ux + r * math.cos(a1 + (end - a1) * i / steps),
            uy + r * math.sin(a1 + (end - a1) * i / steps)) for i in range(steps + 1)]
    out[0], out[-1] = points[0], points[2]
    return out


def _rings(ref: str) -> list[list[int]]:
    """``:1 :-2 (:5 :-6)`` → ``[[1, -2], [5, -6]]`` (the first is the outer ring)."""
    rings: list[list[int]] = [[]]
    depth = 0
    for m in _REF.finditer(ref):
        if m.group(1):
            depth += 1
            rings.append([])
        elif m.group(2):
            depth -= 1
        else:
            rings[-1 if depth else 0].append(int(m.group(3)))
    return [r for r in rings if r]


def _ring(refs: list[int], lines: dict[int, list[tuple[float, float]]],
          number: int | None) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for r in refs:
        line = lines.get(abs(r))
        if line is None:
            raise SosiError(f".FLATE {number} refers to :{abs(r)}, which is not in the file.",
                            field="file")
        pts = line[::-1] if r < 0 else line
        out.extend(pts[1:] if out and out[-1] == pts[0] else pts)
    if out and out[0] != out[-1]:
        out.append(out[0])
    return out


def read_sosi(data: bytes) -> gpd.GeoDataFrame:
    """The ``.FLATE`` areas of a SOSI file as a GeoDataFrame in the file's CRS.

    Raises
    ------
    SosiError
        for a file that is not SOSI or cannot be assembled; :class:`InvalidCRS` for an unknown
        ``KOORDSYS``.
    """
    text = data.removeprefix(b"\xef\xbb\xbf").decode(_charset(data), errors="replace")
    groups = _groups(text)
    if not groups or groups[0].kind != "HODE":
        raise SosiError("A SOSI file starts with .HODE.", field="file")
    head = groups[0]
    epsg = _epsg(head)
    try:
        unit = float(head.attrs.get("enhet", "1").replace(",", "."))
        origo = [float(v) for v in head.attrs.get("origo-nø", "0 0").split()[:2]]
    except ValueError:
        raise SosiError("..TRANSPAR ...ENHET or ...ORIGO-NØ is not a number.",
                        field="file") from None
    on, oe = (origo + [0.0, 0.0])[:2]
    lines: dict[int, list[tuple[float, float]]] = {}
    for g in groups[1:]:
        if g.kind != "FLATE" and g.number is not None and g.coords:
            pts = [(oe + e * unit, on + n * unit) for e, n in g.coords]
            lines[g.number] = _arc(pts) if g.kind in ("BUEP", "BUE") else pts
    rows, geoms = [], []
    plan_id = head.attrs.get("planid")
    for g in groups[1:]:
        if g.kind != "FLATE":
            continue
        rings = [_ring(r, lines, g.number) for r in _rings(g.ref)]
        if not rings:
            raise SosiError(f".FLATE {g.number} has no ..REF to its boundary.", field="file")
        geoms.append(shapely.Polygon(rings[0], rings[1:]) if len(rings[0]) >= 4
                     else shapely.Polygon())
        attrs = dict(g.attrs)
        if not attrs.get("lokalid"):
            pid = attrs.get("planid") or plan_id
            attrs["lokalid"] = f"{pid}-{g.number}" if pid else f"sosi-{g.number}"
        rows.append(attrs)
    frame = gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS.from_epsg(epsg))
    return frame


__all__ = ["CHARSETS", "SosiError", "UTM_KOORDSYS", "read_sosi"]
