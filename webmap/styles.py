"""Colours and line styles of the maps (one place, so legend and map always agree)."""

from __future__ import annotations

#: Status colours from the Okabe–Ito palette (safe for the common colour-vision deficiencies):
#: each status its own hue — solgt (reddish purple) and utbygd (dark grey) apart, reservert
#: (sky blue) and under forhandling (orange) apart; ledig the palette's bluish green.
AVAILABILITY_COLOURS = {
    "ledig": "#009e73", "reservert": "#56b4e9", "under_forhandling": "#e69f00",
    "solgt": "#cc79a7", "utbygd": "#4d4d4d", "trukket": "#bababa",
}
#: A plot a profile's hard limit excludes (suitability colouring).
EXCLUDED_COLOUR = "#9e9e9e"
PURPOSE_COLOURS = {
    "industri": "#7b3294", "lager_logistikk": "#2c7bb6", "kontor": "#d7191c",
    "handel": "#fdae61", "naering": "#1a9641", "kombinert": "#a6611a", "annen": "#737373",
}
LAND = "#f2efe6"
WATER = "#a6cee3"
#: Built-up areas: N1000's shapes solid; a settlement point's disc standing in for a missing
#: shape in the same colours, dashed (approximate).
BUILT_UP_EDGE = "#b0a08a"
BUILT_UP_FILL = "#d9cbb0"
SETTLEMENT_EDGE = "#8c7a5f"
SETTLEMENT_FILL = BUILT_UP_FILL
#: Kommune borders: purple dash-dot, never mistaken for the railway (black with white dashes).
KOMMUNE_BORDER = "#7b5aa6"
KOMMUNE_DASH = "12 4 2 4"
RAIL_CASING = {"color": "#1a1a1a", "weight": 5, "opacity": 0.95}
RAIL_DASHES = {"color": "#ffffff", "weight": 2.5, "dashArray": "8 8", "opacity": 1}


def road_style(feature: dict) -> dict:
    """E16 and Rv2 thick red, other E/R roads orange, the rest thin grey."""
    p = feature.get("properties", {})
    cat, num = p.get("vegkategori"), p.get("vegnummer")
    if (cat, num) in (("E", 16.0), ("R", 2.0)):
        return {"color": "#c0392b", "weight": 4, "opacity": 0.9}
    if cat in ("E", "R"):
        return {"color": "#e67e22", "weight": 3, "opacity": 0.8}
    return {"color": "#9e9e9e", "weight": 1.2, "opacity": 0.8}
