"""Colours and line styles of the maps (one place, so legend and map always agree)."""

from __future__ import annotations

AVAILABILITY_COLOURS = {
    "ledig": "#1a9850", "reservert": "#fdae61", "under_forhandling": "#f46d43",
    "solgt": "#878787", "utbygd": "#4d4d4d", "trukket": "#bababa",
}
PURPOSE_COLOURS = {
    "industri": "#7b3294", "lager_logistikk": "#2c7bb6", "kontor": "#d7191c",
    "handel": "#fdae61", "naering": "#1a9641", "kombinert": "#a6611a", "annen": "#737373",
}
LAND = "#f2efe6"
WATER = "#a6cee3"
KOMMUNE_BORDER = "#5a5a5a"


def road_style(feature: dict) -> dict:
    """E16 and Rv2 thick red, other E/R roads orange, the rest thin grey."""
    p = feature.get("properties", {})
    cat, num = p.get("vegkategori"), p.get("vegnummer")
    if (cat, num) in (("E", 16.0), ("R", 2.0)):
        return {"color": "#c0392b", "weight": 4, "opacity": 0.9}
    if cat in ("E", "R"):
        return {"color": "#e67e22", "weight": 3, "opacity": 0.8}
    return {"color": "#9e9e9e", "weight": 1.2, "opacity": 0.8}
