"""Write small plan files the way planners get them: SOSI 4.x, NPAD plan GML and GeoPackage.

Every plan is a mixed plan: business areas (1340 Industri, 1826 Industri/lager) beside a road
(2011 Kjøreveg), a green area (3040 Friområde) and housing (1110). The areas are squares at
``tests.helpers.INSIDE`` (EPSG:25833), written in the CRS asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import Transformer

from tests.helpers import INSIDE


@dataclass
class Area:
    """One purpose area of a plan: code, field name, square (lower left, side) in 25833."""

    code: int
    feltnavn: str
    dx: float
    side: float = 60.0
    lokalid: str | None = None
    hole: bool = False


def mixed_plan(tag: str = "P") -> list[Area]:
    """Two business areas (one with a hole) and three others."""
    return [
        Area(1340, "BI1 Næringsområde Åsbø", 0, lokalid=f"{tag}-uuid-1", hole=True),
        Area(1826, "BKB2 Industri/lager", 100, lokalid=f"{tag}-uuid-2"),
        Area(2011, "o_SKV1", 200, lokalid=f"{tag}-uuid-3"),
        Area(3040, "o_GF1", 300, lokalid=f"{tag}-uuid-4"),
        Area(1110, "B1", 400, lokalid=f"{tag}-uuid-5"),
    ]


def _rings(area: Area, kommune: str) -> tuple[list, list | None]:
    x, y = INSIDE[kommune]
    x += area.dx
    y -= 1200
    s = area.side
    outer = [(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)]
    hole = ([(x + 20, y + 20), (x + 20, y + 30), (x + 30, y + 30), (x + 30, y + 20),
             (x + 20, y + 20)] if area.hole else None)
    return outer, hole


def sosi_plan(folder: Path, areas: list[Area], *, kommune: str = "3401", koordsys: int = 23,
              epsg: int = 25833, charset: str = "ISO8859-10", planid: str = "2021004",
              name: str = "plan.sos", with_lokalid: bool = True,
              plannavn: str = "Reguleringsplan for Åsbø næringsområde") -> Path:
    """A SOSI 4.5 file: each area a .FLATE whose outline is two .KURVE, the second referred to
    reversed (``:-n``); a hole is its own .KURVE in parentheses. ENHET 0.01, ORIGO-NØ 0 0."""
    to = Transformer.from_crs(25833, epsg, always_xy=True)
    codec = {"ISO8859-10": "iso8859_10", "ISO8859-1": "latin-1", "UTF-8": "utf-8",
             "ANSI": "cp1252"}[charset]
    out = [".HODE", f"..TEGNSETT {charset}", "..TRANSPAR", f"...KOORDSYS {koordsys}",
           "...ORIGO-NØ 0 0", "...ENHET 0.01", "..OMRÅDE", "...MIN-NØ 6600000 300000",
           "...MAX-NØ 6800000 400000", "..SOSI-VERSJON 4.5", "..SOSI-NIVÅ 4"]
    nr = 1

    def curve(points: list) -> int:
        nonlocal nr
        nr += 1
        out.extend([f".KURVE {nr}:", "..OBJTYPE RpFormålGrense", "..NØ"])
        for px, py in points:
            e, n = to.transform(px, py)
            out.append(f"{round(n * 100)} {round(e * 100)}")
        return nr

    flates = []
    for a in areas:
        outer, hole = _rings(a, kommune)
        first = curve(outer[:3])                  # lower left → lower right → upper right
        second = curve(list(reversed(outer[2:])))  # lower left → upper left → upper right
        ref = f"..REF :{first} :-{second}"
        if hole:
            ref += f" (:{curve(hole)})"
        flates.append((a, ref))
    for a, ref in flates:
        nr += 1
        out += [f".FLATE {nr}:", "..OBJTYPE RpArealformålOmråde", "..IDENT"]
        if with_lokalid and a.lokalid:
            out += [f"...LOKALID \"{a.lokalid}\"", "...NAVNEROM \"https://data.geonorge.no\""]
        out += [f"..RPAREALFORMÅL {a.code}", f"..FELTNAVN \"{a.feltnavn}\"", "..EIERFORM 3",
                f"..KOMM {kommune}", f"..PLANID {planid}", "..PLANSTAT 3",
                f"..PLANNAVN \"{plannavn}\"", ref, "..NØ"]
        e, n = to.transform(*_rings(a, kommune)[0][0])
        out.append(f"{round(n * 100) + 500} {round(e * 100) + 500}")
    out.append(".SLUTT")
    path = folder / name
    path.write_bytes(("\r\n".join(out) + "\r\n").encode(codec))
    return path


def gml_plan(folder: Path, areas: list[Area], *, kommune: str = "3401",
             name: str = "plan.gml", extra: str = "", planid: str = "2021004") -> Path:
    """An NPAD 5.0-style plan GML: RpArealformålOmråde features with identifikasjon/lokalId,
    arealformål, feltnavn, eierform, and the plan boundary (RpOmråde) as a first layer."""
    members = []
    x, y = INSIDE[kommune]
    corners = [(x - 10, y - 1210), (x + 480, y - 1210), (x + 480, y - 1130), (x - 10, y - 1130),
               (x - 10, y - 1210)]
    boundary = " ".join(f"{cx} {cy}" for cx, cy in corners)
    members.append(f"""<gml:featureMember><app:RpOmråde gml:id="b1"><app:område>
<gml:Polygon gml:id="bp1" srsName="urn:ogc:def:crs:EPSG::25833"><gml:exterior><gml:LinearRing>
<gml:posList>{boundary}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></app:område>
<app:planidentifikasjon>{planid}</app:planidentifikasjon></app:RpOmråde></gml:featureMember>""")
    for i, a in enumerate(areas):
        outer, hole = _rings(a, kommune)
        pos = " ".join(f"{px} {py}" for px, py in outer)
        inner = ""
        if hole:
            inner = ("<gml:interior><gml:LinearRing><gml:posList>"
                     + " ".join(f"{px} {py}" for px, py in hole)
                     + "</gml:posList></gml:LinearRing></gml:interior>")
        members.append(f"""<gml:featureMember><app:RpArealformålOmråde gml:id="a{i}">
<app:identifikasjon><app:Identifikasjon><app:lokalId>{a.lokalid}</app:lokalId>
<app:navnerom>https://data.geonorge.no/sosi/plan</app:navnerom></app:Identifikasjon></app:identifikasjon>
<app:område><gml:Polygon gml:id="p{i}" srsName="urn:ogc:def:crs:EPSG::25833"><gml:exterior>
<gml:LinearRing><gml:posList>{pos}</gml:posList></gml:LinearRing></gml:exterior>{inner}</gml:Polygon>
</app:område><app:arealformål>{a.code}</app:arealformål><app:feltnavn>{a.feltnavn}</app:feltnavn>
<app:eierform>3</app:eierform><app:planidentifikasjon>{planid}</app:planidentifikasjon>
<app:planstatus>2</app:planstatus>{extra}</app:RpArealformålOmråde></gml:featureMember>""")
    doc = f"""<?xml version="1.0" encoding="utf-8"?>
<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2"
 xmlns:app="https://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0"
 xmlns:xlink="http://www.w3.org/1999/xlink" gml:id="fc">
{chr(10).join(members)}
</gml:FeatureCollection>
"""
    path = folder / name
    path.write_text(doc, encoding="utf-8")
    return path


def gpkg_plan(folder: Path, areas: list[Area], *, kommune: str = "3401",
              name: str = "plan.gpkg") -> Path:
    """The same plan as a GeoPackage with the attribute names of the national plan data."""
    geoms, rows = [], []
    for a in areas:
        outer, hole = _rings(a, kommune)
        geoms.append(shapely.Polygon(outer, [hole] if hole else []))
        rows.append({"lokalId": a.lokalid, "arealformål": a.code, "feltnavn": a.feltnavn,
                     "eierform": 3, "planidentifikasjon": "2021004", "planstatus": 3,
                     "plannavn": "Åsbø næringsområde"})
    path = folder / name
    gpd.GeoDataFrame(rows, geometry=geoms, crs=25833).to_file(path, layer="RpArealformålOmråde")
    return path
