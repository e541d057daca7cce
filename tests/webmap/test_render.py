"""Map rendering: local assets only, layers, legend colours, offline fallback."""

from __future__ import annotations

import re

from webmap import plot_map, regional_map
from webmap.render import KARTVERKET_TOPO, components
from webmap.styles import AVAILABILITY_COLOURS

KOMMUNER = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "id": "3401",
    "geometry": {"type": "Polygon", "coordinates": [[[11.9, 60.1], [12.1, 60.1], [12.1, 60.3],
                                                     [11.9, 60.1]]]},
    "properties": {"kommunenummer": "3401", "name": "Kongsvinger", "label_point": [60.2, 12.0]},
}]}
ROADS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[12, 60.1],
                                                                            [12.05, 60.2]]},
     "properties": {"vegkategori": "E", "vegnummer": 16.0}}]}


def _html(m) -> str:
    parts = components(m)
    return parts["header"] + parts["html"] + parts["script"]


def test_only_local_assets_and_the_optional_topo_tiles():
    html = _html(regional_map(KOMMUNER, {"roads": ROADS}, "nb"))
    urls = set(re.findall(r"""https?://[^\s"'<>)]+""", html))
    assert urls == {KARTVERKET_TOPO}  # tiles only; the tileerror fallback covers offline use
    srcs = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
    assert "/vendor/leaflet/dist/leaflet.js" in srcs
    assert all(s.startswith("/") for s in srcs)
    assert "tileerror" in html and "Uten nett" in html
    assert "Kartverket" in html


def test_layers_and_language():
    nb = _html(regional_map(KOMMUNER, {"roads": ROADS}, "nb"))
    en = _html(regional_map(KOMMUNER, {"roads": ROADS}, "en"))
    assert "Kongsvinger" in nb and "kommune-label" in nb
    assert "Veger (E16/Rv2 uthevet)" in nb and "Roads (E16/Rv2 highlighted)" in en
    assert "#c0392b" in nb  # E16 drawn in the main-road red


def test_plot_map_fits_the_plot():
    plot = {"type": "Feature", "id": 1, "geometry": {"type": "MultiPolygon", "coordinates": [
        [[[12.0, 60.2], [12.01, 60.2], [12.01, 60.21], [12.0, 60.2]]]]},
        "properties": {"name": "T", "availability": "ledig"}}
    html = _html(plot_map(plot, KOMMUNER, "nb"))
    assert "fitBounds" in html and "60.21" in html and AVAILABILITY_COLOURS["ledig"] in html
