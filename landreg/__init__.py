"""landreg — the shared business-land registry of the seven Glåmdalen municipalities."""

from landreg.gdalenv import switch_off_network

__version__ = "0.1.0"

# Before any GDAL (pyogrio, rasterio) is loaded: no GDAL network access, see landreg.gdalenv.
switch_off_network()
