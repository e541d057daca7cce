"""Build folium maps from data. Leaflet comes from the app (``/vendor/``), never a CDN.

The background is layered so the map is never blank: the kommune polygons, filled in a land
colour, are always drawn; Kartverket's topographic tiles go on top when the network reaches
them, and on the first tile error that layer is dropped and a small note says the map is
showing its offline background.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape
from pathlib import Path
from typing import Any

import folium
from branca.element import MacroElement
from jinja2 import Template

from landreg.i18n import catalogue
from webmap import styles

VENDOR = "/vendor"
KARTVERKET_TOPO = ("https://cache.kartverket.no/v1/wmts/1.0.0/topo/default/webmercator/"
                   "{z}/{y}/{x}.png")
ATTRIBUTION = "Topografisk kart © Kartverket"
REGION_CENTER = (60.32, 11.98)


class OfflineFallback(MacroElement):
    """Drop a tile layer at its first error and show a note instead of broken tiles."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var layer = {{ this.layer.get_name() }}, map = {{ this._parent.get_name() }};
            var failed = false;
            layer.on('tileerror', function () {
                if (failed) { return; }
                failed = true;
                map.removeLayer(layer);
                var note = L.control({position: 'bottomleft'});
                note.onAdd = function () {
                    var div = L.DomUtil.create('div', 'landreg-offline-note');
                    div.textContent = {{ this.text|tojson }};
                    return div;
                };
                note.addTo(map);
                map.getContainer().setAttribute('data-offline', 'true');
            });
        })();
        {% endmacro %}
    """)

    def __init__(self, layer: folium.TileLayer, text: str) -> None:
        super().__init__()
        self._name = "OfflineFallback"
        self.layer = layer
        self.text = text


class TextTooltip(MacroElement):
    """A tooltip whose text is data, never markup or code.

    folium's own ``Tooltip`` pastes its text into a JavaScript template literal, so a plot
    name with ``${…}``, a backtick or ``</script>`` would run as script. Here the text goes
    into the page as a JSON string literal (``tojson`` escapes ``<``, ``>``, ``&`` and ``'``)
    and reaches the DOM through ``textContent``.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindTooltip(function () {
            var div = document.createElement('div');
            div.textContent = {{ this.text|tojson }};
            return div;
        }, {{ this.options|tojson }});
        {% endmacro %}
    """)

    def __init__(self, text: str, *, sticky: bool = True) -> None:
        super().__init__()
        self._name = "TextTooltip"
        self.text = "" if text is None else str(text)
        self.options = {"sticky": sticky}


class Attribution(MacroElement):
    """A permanent attribution line (the N1000 layers need "© Kartverket" even offline)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
    """)

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = text


def base_map(lang: str, *, location: tuple[float, float] = REGION_CENTER,
             zoom: int = 9) -> folium.Map:
    """An empty map wired to the locally served Leaflet, with scale bar and attribution."""
    m = folium.Map(location=location, zoom_start=zoom, tiles=None, control_scale=True,
                   prefer_canvas=False)
    m.default_js = [("leaflet", f"{VENDOR}/leaflet/dist/leaflet.js")]
    m.default_css = [("leaflet_css", f"{VENDOR}/leaflet/dist/leaflet.css")]
    Attribution("© Kartverket (N1000) CC BY 4.0").add_to(m)
    return m


def _add_background(m: folium.Map, kommuner: dict[str, Any], lang: str) -> None:
    folium.GeoJson(
        kommuner, name=catalogue()["text"][lang]["background"], control=False,
        style_function=lambda f: {"fillColor": styles.LAND, "fillOpacity": 1.0,
                                  "color": styles.LAND, "weight": 0},
        interactive=False,
    ).add_to(m)
    topo = folium.TileLayer(KARTVERKET_TOPO, name=catalogue()["text"][lang]["topo"],
                            attr=ATTRIBUTION,
                            max_zoom=18, overlay=False, control=False)
    topo.add_to(m)
    OfflineFallback(topo, catalogue()["text"][lang]["offline"]).add_to(m)


def _add_kommuner(m: folium.Map, kommuner: dict[str, Any], lang: str,
                  labels: bool = True) -> None:
    group = folium.FeatureGroup(name=catalogue()["text"][lang]["kommuner"], show=True)
    folium.GeoJson(
        kommuner,
        style_function=lambda f: {"fill": False, "color": styles.KOMMUNE_BORDER, "weight": 2,
                                  "dashArray": styles.KOMMUNE_DASH},
        interactive=False,
    ).add_to(group)
    if labels:
        for f in kommuner["features"]:
            lat, lon = f["properties"]["label_point"]
            folium.Marker(
                (lat, lon), interactive=False,
                icon=folium.DivIcon(html=f'<div class="kommune-label">'
                                         f'{escape(str(f["properties"]["name"]))}</div>',
                                    icon_size=(120, 20), icon_anchor=(60, 10)),
            ).add_to(group)
    group.add_to(m)


def _add_reference(m: folium.Map, reference: dict[str, dict[str, Any]], lang: str) -> None:
    t = catalogue()["text"][lang]
    specs = [
        ("water", t["water_layer"], True,
         lambda f: {"color": styles.WATER, "fillColor": styles.WATER, "fillOpacity": 0.8,
                    "weight": 1}),
        ("built_up", t["built_up"], False,
         lambda f: {"color": "#b0a08a", "fillColor": "#d9cbb0", "fillOpacity": 0.5, "weight": 1}),
        ("roads", t["roads"], True, styles.road_style),
        ("rail", t["rail"], True, lambda f: dict(styles.RAIL_CASING)),
        ("power_lines", t["power_lines"], False,
         lambda f: {"color": "#8e44ad", "weight": 1.5, "dashArray": "2 4"}),
    ]
    for key, name, show, style in specs:
        if key not in reference:
            continue
        group = folium.FeatureGroup(name=name, show=show)
        folium.GeoJson(reference[key], style_function=style, interactive=False).add_to(group)
        if key == "rail":  # the railway symbol: white dashes on a black line
            folium.GeoJson(reference[key], style_function=lambda f: dict(styles.RAIL_DASHES),
                           interactive=False).add_to(group)
        group.add_to(m)
    if "stations" in reference:
        group = folium.FeatureGroup(name=t["stations"], show=True)
        for f in reference["stations"]["features"]:
            lon, lat = f["geometry"]["coordinates"][:2]
            marker = folium.CircleMarker((lat, lon), radius=5, color="#222", fill=True,
                                         fill_color="#fff", fill_opacity=1, weight=2)
            if f["properties"].get("name"):
                TextTooltip(f["properties"]["name"]).add_to(marker)
            marker.add_to(group)
        group.add_to(m)


def regional_map(kommuner: dict[str, Any], reference: dict[str, dict[str, Any]],
                 lang: str = "nb") -> folium.Map:
    """The regional map: offline background, kommuner, reference layers, layer switcher.

    The plots themselves are drawn by ``landreg-map.js`` from ``/api/plots`` so filters can
    change them without a reload.

    Parameters
    ----------
    kommuner:
        FeatureCollection (CRS84) of the kommuner; each feature's properties hold ``name`` and
        ``label_point`` (lat, lon).
    reference:
        FeatureCollections (CRS84) keyed ``water``, ``roads``, ``rail``, ``stations``,
        ``built_up``, ``power_lines`` (any may be missing).
    """
    m = base_map(lang)
    _add_background(m, kommuner, lang)
    _add_reference(m, reference, lang)
    _add_kommuner(m, kommuner, lang)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    return m


def plot_map(plot: dict[str, Any], kommuner: dict[str, Any], lang: str = "nb",
             reference: dict[str, dict[str, Any]] | None = None) -> folium.Map:
    """A small map of one plot (a GeoJSON Feature in CRS84) and its surroundings."""
    m = base_map(lang)
    _add_background(m, kommuner, lang)
    _add_reference(m, reference or {}, lang)
    _add_kommuner(m, kommuner, lang, labels=False)
    colour = styles.AVAILABILITY_COLOURS.get(plot["properties"].get("availability"), "#333")
    layer = folium.GeoJson(plot, name=plot["properties"].get("name"),
                           style_function=lambda f: {"color": colour, "fillColor": colour,
                                                     "fillOpacity": 0.5, "weight": 3,
                                                     "className": "landreg-plot"})
    layer.add_to(m)
    m.fit_bounds(_bounds(plot["geometry"]), padding=(40, 40), max_zoom=15)
    return m


def _bounds(geometry: dict[str, Any]) -> list[list[float]]:
    xs, ys = [], []

    def walk(c: Any) -> None:
        if isinstance(c[0], int | float):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for part in c:
                walk(part)

    walk(geometry["coordinates"])
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


def components(m: folium.Map) -> dict[str, str]:
    """The map's head, body and script parts, for embedding in a page template.

    The script part goes inside one ``<script nonce=…>`` of the page and the body part is
    pasted as markup, so both are checked here: user text reaches them only as escaped
    JSON, and a ``</script`` in the script or a ``<script`` in the body means some value
    was not escaped — refused rather than sent.
    """
    root = m.get_root()
    root.render()
    parts = {"header": root.header.render(), "html": root.html.render(),
             "script": root.script.render(), "name": m.get_name()}
    if "</script" in parts["script"].lower() or "<!--" in parts["script"]:
        raise RuntimeError("unescaped markup in the map's script")  # pragma: no cover - guard
    if "<script" in parts["html"].lower():
        raise RuntimeError("a script in the map's body part")  # pragma: no cover - guard
    return parts


def plots_map(plots: list[dict[str, Any]], kommuner: dict[str, Any],
              lang: str = "nb") -> folium.Map:
    """A map of a few plots only (a comparison), numbered in the order given."""
    m = base_map(lang)
    _add_background(m, kommuner, lang)
    _add_kommuner(m, kommuner, lang, labels=True)
    xs: list[list[float]] = []
    for n, plot in enumerate(plots, start=1):
        layer = folium.GeoJson(plot, name=f"{n}. {plot['properties'].get('name')}",
                               style_function=lambda f: {"color": "#1a6b52",
                                                         "fillColor": "#1a9850",
                                                         "fillOpacity": 0.5, "weight": 3,
                                                         "className": "landreg-plot"})
        TextTooltip(f"{n}. {plot['properties'].get('name')}").add_to(layer)
        layer.add_to(m)
        (south, west), (north, east) = _bounds(plot["geometry"])
        xs += [[south, west], [north, east]]
    if xs:
        m.fit_bounds([[min(p[0] for p in xs), min(p[1] for p in xs)],
                      [max(p[0] for p in xs), max(p[1] for p in xs)]], padding=(30, 30))
    return m


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def self_contained_html(m: folium.Map, node_modules: Path, title: str,
                        table_html: str = "") -> str:
    """The map as one HTML file that works from a USB stick with no network: Leaflet's script
    and stylesheet are inlined from the installed npm package, the data is inline already
    (folium), and the kommune background shows when the tiles cannot load.

    Opened from disk, the file gets no HTTP headers, so it carries its own
    Content-Security-Policy in a ``<meta>`` tag: only the scripts written here (by their
    SHA-256) run. ``table_html`` must be escaped markup.
    """
    parts = components(m)
    leaflet = node_modules / "leaflet" / "dist"
    js = (leaflet / "leaflet.js").read_text(encoding="utf-8")
    css = (leaflet / "leaflet.css").read_text(encoding="utf-8")
    header = parts["header"]
    header = header.replace(f'<script src="{VENDOR}/leaflet/dist/leaflet.js"></script>', "")
    header = header.replace(f'<link rel="stylesheet" href="{VENDOR}/leaflet/dist/leaflet.css"/>',
                            "")
    if f"{VENDOR}/" in header:
        raise RuntimeError("a map asset was not inlined")  # pragma: no cover - guard
    head_scripts = re.findall(r"<script>(.*?)</script>", header, flags=re.S)
    header = re.sub(r"<script>.*?</script>", "", header, flags=re.S)
    scripts = [js, *head_scripts, parts["script"]]
    policy = "; ".join([
        "default-src 'none'",
        "script-src " + " ".join(_sha256(s) for s in scripts),
        "style-src 'unsafe-inline'",
        "img-src data: " + KARTVERKET_TOPO.split("/v1/")[0],
        "object-src 'none'", "base-uri 'none'", "form-action 'none'",
    ])
    style = ("body{margin:0;font:14px sans-serif}"
             ".export-head{position:absolute;z-index:1000;top:8px;left:60px;background:#fff;"
             "padding:6px 10px;border:1px solid #ccc;max-width:60%}"
             ".landreg-offline-note{background:#fffbe6;border:1px solid #e0c96b;"
             "padding:2px 6px;font-size:12px}")
    return "".join([
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">\n',
        f"<title>{escape(title)}</title>\n<style>{css}</style>\n<style>{style}</style>\n",
        header,
        "".join(f"<script>{s}</script>\n" for s in [js, *head_scripts]),
        "</head>\n<body>\n",
        f'<div class="export-head"><strong>{escape(title)}</strong>{table_html}</div>\n',
        parts["html"],
        f"\n<script>{parts['script']}</script>\n</body>\n</html>\n",
    ])
