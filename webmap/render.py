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

    def __init__(self, text: str, *, sticky: bool = True, class_name: str | None = None
                 ) -> None:
        super().__init__()
        self._name = "TextTooltip"
        self.text = "" if text is None else str(text)
        self.options = {"sticky": sticky, **({"className": class_name} if class_name else {})}


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
    """An empty map wired to the locally served Leaflet, with a scale bar in metres and
    kilometres only (Norway has no use for miles) and the attribution."""
    m = folium.Map(location=location, zoom_start=zoom, tiles=None, control_scale=False,
                   prefer_canvas=False)
    MetricScale().add_to(m)
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
                (lat, lon), interactive=False, keyboard=False,  # a label, not a control
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
         lambda f: {"color": styles.BUILT_UP_EDGE, "fillColor": styles.BUILT_UP_FILL,
                    "fillOpacity": 0.5, "weight": 1}),
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
        if key == "built_up":
            _add_settlements(group, reference.get("settlements"), lang)
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


def _add_settlements(group: folium.FeatureGroup, settlements: dict[str, Any] | None,
                     lang: str) -> None:
    """The settlement points of the built-up criteria, each labelled with its name; where the
    point stands in for a built-up shape N1000 lacks, the disc the criteria use (dashed),
    whose tooltip states that it is approximate and why."""
    from landreg.i18n import fmt_number, t, value_label

    for f in (settlements or {}).get("features", []):
        lon, lat = f["geometry"]["coordinates"][:2]
        p = f["properties"]
        name = str(p.get("name") or "")
        if p.get("stands_in"):
            disc = folium.Circle((lat, lon), radius=float(p["radius_m"]),
                                 color=styles.SETTLEMENT_EDGE, weight=1.5, dash_array="4 4",
                                 fill=True, fill_color=styles.SETTLEMENT_FILL,
                                 fill_opacity=0.35, class_name="landreg-settlement")
            TextTooltip(t("settlement_disc", lang, name=name,
                          kind=value_label("settlement_kind", p.get("kind"), lang),
                          radius=fmt_number(p["radius_m"], 0, lang)),
                        class_name="landreg-note-tooltip").add_to(disc)
            disc.add_to(group)
        folium.Marker(
            (lat, lon), interactive=False, keyboard=False,  # a label, not a control
            icon=folium.DivIcon(html=f'<div class="settlement-label">{escape(name)}</div>',
                                icon_size=(120, 16), icon_anchor=(60, 8)),
        ).add_to(group)


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
        ``built_up``, ``settlements`` (drawn with ``built_up``), ``power_lines`` (any may be
        missing).
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
    parts = {"header": _zoomable(root.header.render()), "html": root.html.render(),
             "script": root.script.render(), "name": m.get_name()}
    if "</script" in parts["script"].lower() or "<!--" in parts["script"]:
        raise RuntimeError("unescaped markup in the map's script")  # pragma: no cover - guard
    if "<script" in parts["html"].lower():
        raise RuntimeError("a script in the map's body part")  # pragma: no cover - guard
    return parts


def _zoomable(header: str) -> str:
    """Folium's head forbids pinch-zoom (``user-scalable=no, maximum-scale=1``), which locks
    out readers who enlarge the page (WCAG 1.4.4); the page may be zoomed like any other."""
    return re.sub(r'<meta name="viewport"[^>]*>',
                  '<meta name="viewport" content="width=device-width, initial-scale=1">', header)


class NumberLabel(MacroElement):
    """A plot's number on the map, made with its div icon from the start (folium's Marker
    first draws Leaflet's default image icon, which a file opened from disk may not load)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.marker({{ this.location|tojson }}, {interactive: false, keyboard: false,
            icon: L.divIcon({className: 'landreg-plot-no-icon', iconSize: [26, 26],
                             iconAnchor: [13, 13],
                             html: '<div class="landreg-plot-no">' + {{ this.number|tojson }}
                                   + '</div>'})}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, location: tuple[float, float], number: int) -> None:
        super().__init__()
        self._name = "NumberLabel"
        self.location = list(location)
        self.number = int(number)


class MetricScale(MacroElement):
    """A scale bar in metres and kilometres only (a Norwegian meeting has no use for miles).

    The bar (bottom left) and the attribution (bottom right) share the map's bottom edge: on
    a phone the attribution ran across the bar. The bar is at most a quarter of the map's
    width (80–160 px), what else sits bottom left (the offline note) wraps within that width,
    and the attribution's corner starts right of it, so the attribution wraps there and
    neither covers the other at any size."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function (map) {
            var width = Math.min(160, Math.max(80, Math.round(map.getSize().x / 4)));
            L.control.scale({imperial: false, metric: true, maxWidth: width}).addTo(map);
            var box = map.getContainer();
            var left = box.querySelector('.leaflet-bottom.leaflet-left');
            var right = box.querySelector('.leaflet-bottom.leaflet-right');
            if (left) { left.style.maxWidth = (width + 20) + 'px'; }  // the offline note wraps
            if (right) { right.style.left = (width + 36) + 'px'; }
        })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


#: Drive-time zone colours, nearest darkest (one hue: readable in colour-blind eyes and in
#: grey print).
ISOCHRONE_COLOURS = {15: "#08519c", 30: "#3182bd", 45: "#6baed6", 60: "#bdd7e7"}
PLOT_FILL, PLOT_EDGE = "#1a9850", "#0b4d2c"


def _iso_colour(minutes: int) -> str:
    return ISOCHRONE_COLOURS.get(minutes, "#9ecae1")


def plots_map(plots: list[dict[str, Any]], kommuner: dict[str, Any],
              lang: str = "nb", *, reference: dict[str, dict[str, Any]] | None = None,
              isochrones: dict[str, Any] | None = None,
              pad_left: int = 40) -> folium.Map:
    """A map of a few plots only (a comparison), numbered in the order given as in the list
    beside it; with ``reference`` layers (roads with E16/Rv2 emphasised, rail, stations) and
    drive-time zones (``isochrones``, a FeatureCollection of landreg.routing.db.isochrones).
    ``pad_left`` keeps the plots clear of a box over the map's left side."""
    m = base_map(lang)
    _add_background(m, kommuner, lang)
    if isochrones:
        t = catalogue()["text"][lang]
        group = folium.FeatureGroup(name=t["forum_iso_note"], show=True)
        for f in sorted(isochrones["features"], key=lambda f: -f["properties"]["minutes"]):
            colour = _iso_colour(int(f["properties"]["minutes"]))
            folium.GeoJson(f, interactive=False, style_function=lambda _f, c=colour: {
                "color": c, "weight": 1, "fillColor": c, "fillOpacity": 0.3,
                "className": "landreg-isochrone"}).add_to(group)
        group.add_to(m)
    if reference:
        _add_reference(m, {k: v for k, v in reference.items()
                           if k in ("roads", "rail", "stations")}, lang)
    _add_kommuner(m, kommuner, lang, labels=True)
    xs: list[list[float]] = []
    for n, plot in enumerate(plots, start=1):
        layer = folium.GeoJson(plot, name=f"{n}. {plot['properties'].get('name')}",
                               style_function=lambda f: {"color": PLOT_EDGE,
                                                         "fillColor": PLOT_FILL,
                                                         "fillOpacity": 0.6, "weight": 3,
                                                         "className": "landreg-plot"})
        TextTooltip(f"{n}. {plot['properties'].get('name')}").add_to(layer)
        layer.add_to(m)
        (south, west), (north, east) = _bounds(plot["geometry"])
        xs += [[south, west], [north, east]]
        NumberLabel(((south + north) / 2, (west + east) / 2), n).add_to(m)
    if xs:
        m.fit_bounds([[min(p[0] for p in xs), min(p[1] for p in xs)],
                      [max(p[0] for p in xs), max(p[1] for p in xs)]],
                     padding_top_left=(pad_left, 40), padding_bottom_right=(40, 40),
                     max_zoom=13)
    return m


def meeting_map(plots: list[dict[str, Any]], kommuner: dict[str, Any],
                reference: dict[str, dict[str, Any]], lang: str = "nb", *,
                isochrones: dict[str, Any] | None = None) -> folium.Map:
    """The meeting map (offline export): :func:`plots_map` with the reference layers and,
    if given, the drive-time zones. Legend, north arrow, date and the selection in words
    come with :func:`meeting_list` beside it."""
    return plots_map(plots, kommuner, lang, reference=reference, isochrones=isochrones,
                     pad_left=520)  # the list and legend cover the left of the map


def meeting_list(items: list[dict[str, Any]], count: int, summary: str, lang: str = "nb", *,
                 isochrones: dict[str, Any] | None = None) -> str:
    """The escaped markup beside the meeting map: the selection in words, the numbered list
    (numbers as on the map, each with its rank label), the legend, a north arrow, the date
    (``30.11.2026``) and the attribution."""
    from datetime import date

    from landreg.i18n import fmt_daa, fmt_date, fmt_number, t

    def e(v: Any) -> str:
        return escape(str(v))

    rows = "".join(
        f'<li><span class="no">{n}</span> <strong>{e(p["name"])}</strong> '
        f'({e(p.get("kommunenavn") or "")}, {e(fmt_daa(p.get("area_daa"), lang))}) · '
        f'{e(t("score", lang))} {e(fmt_number(p.get("score"), 1, lang))}'
        + (f' · {e(p["rank_text"])}' if p.get("rank_text") else "") + "</li>"
        for n, p in enumerate(items, start=1))

    def swatch(style: str, text: str) -> str:
        return f'<li><span class="sw" style="{style}"></span>{e(text)}</li>'

    legend = [swatch(f"background:{PLOT_FILL};border:2px solid {PLOT_EDGE}",
                     t("forum_legend_plot", lang)),
              swatch("height:4px;background:#c0392b", t("forum_legend_e16", lang)),
              swatch("height:3px;background:#e67e22", t("forum_legend_main_road", lang)),
              swatch("height:2px;background:#9e9e9e", t("forum_legend_other_road", lang)),
              swatch("height:3px;border:1px solid #1a1a1a;background:repeating-linear-gradient("
                     "90deg,#1a1a1a 0 8px,#fff 8px 16px)", t("rail", lang)),
              swatch("width:10px;height:10px;border-radius:50%;border:2px solid #222;"
                     "background:#fff", t("stations", lang)),
              swatch(f"height:0;border-top:2px dashed {styles.KOMMUNE_BORDER}",
                     t("kommuner", lang))]
    for f in sorted((isochrones or {}).get("features", []),
                    key=lambda f: f["properties"]["minutes"]):
        pr = f["properties"]
        legend.append(swatch(f"background:{_iso_colour(int(pr['minutes']))};opacity:.6",
                             t("forum_iso_legend", lang, min=pr["minutes"],
                               to=pr["name_nb"] if lang == "nb" else pr["name_en"])))
    note = f'<p class="small">{e(t("forum_iso_note", lang))}</p>' if isochrones else ""
    made = fmt_date(date.today(), lang)
    return (f'<p class="summary"><strong>{e(t("forum_selection", lang))}:</strong> '
            f'{e(summary)}</p><ol class="plots">{rows}</ol>'
            f'<div class="legend"><strong>{e(t("legend", lang))}</strong>'
            f'<ul>{"".join(legend)}</ul></div>{note}'
            f'<p class="small">{e(t("forum_meeting_made", lang, date=made))}'
            f' · {e(t("forum_attribution", lang))}</p>'
            f'<div class="north-arrow" aria-label="{e(t("forum_north", lang))}">'
            f'<span class="arrow">▲</span><span>{e(t("forum_north", lang))}</span></div>')


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
    style = ("body{margin:0;font:15px sans-serif}"
             ".export-head{position:absolute;z-index:1000;top:8px;left:60px;background:#fff;"
             "padding:6px 12px;border:1px solid #ccc;max-width:min(32rem,60%);"
             "max-height:calc(100vh - 40px);overflow:auto;box-shadow:0 1px 4px #0003}"
             ".export-head ol.plots{padding-left:0;list-style:none;margin:.4rem 0}"
             ".export-head ol.plots li{margin:.2rem 0}"
             ".export-head .no,.landreg-plot-no{display:inline-block;min-width:22px;height:22px;"
             "line-height:22px;text-align:center;border-radius:50%;background:#fff;"
             "border:2px solid #0b4d2c;font-weight:700;font-size:13px;color:#000}"
             ".export-head .legend ul{list-style:none;padding:0;margin:.2rem 0}"
             ".export-head .legend li{display:flex;align-items:center;gap:.5rem;margin:.15rem 0}"
             ".export-head .sw{display:inline-block;width:24px;height:12px;flex:none}"
             ".export-head .small{font-size:12px;color:#444;margin:.3rem 0}"
             ".north-arrow{position:fixed;z-index:1000;top:12px;right:12px;background:#fff;"
             "border:1px solid #ccc;padding:4px 8px;text-align:center;font-weight:700;"
             "display:flex;flex-direction:column;line-height:1.1}"
             ".north-arrow .arrow{font-size:20px}"
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
