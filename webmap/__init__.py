"""Everything the maps need: folium rendering (styles, legends, layers) that takes data and
returns a map, the templates and the static JS/CSS. No database access here."""

from webmap.render import plot_map, regional_map

__all__ = ["plot_map", "regional_map"]
