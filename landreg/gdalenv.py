"""GDAL without network access, for the whole process.

landreg never reads data over the network through GDAL: every file it opens is on local disk
(an upload, a file named on the command line, the configured layers). But GDAL follows names
it finds *inside* files — a GeoJSON ``crs`` of type ``link`` is fetched over HTTP, and any
``/vsicurl/``, ``/vsis3/`` … name reaching GDAL is fetched — so a crafted file could make the
server send requests to internal addresses (SSRF). :func:`switch_off_network` closes both
paths with GDAL configuration options set as environment variables, the documented way that
reaches every copy of GDAL in the process (pyogrio and rasterio each bundle their own):

``CPL_VSIL_CURL_ALLOWED_FILENAME``
    The one name the ``/vsicurl/`` family (and ``/vsis3/``, ``/vsigs/``, ``/vsiaz/`` … built on
    it) may open; set to a name that is never used, so they refuse every other name *before*
    connecting.
``GDAL_HTTP_PROXY``
    Direct HTTP requests (``CPLHTTPFetch``: a GeoJSON ``crs`` link, a driver fetching a schema)
    go to a closed local port and fail without leaving the machine. (curl honours a
    ``NO_PROXY`` environment variable for the hosts it lists; the import readers therefore also
    refuse a GeoJSON ``crs`` that is a link, see ``landreg.ingest.readers``.)
``PROJ_NETWORK``
    No PROJ grid downloads either.
``GML_SKIP_RESOLVE_ELEMS``, ``GML_DOWNLOAD_WFS_SCHEMA``
    The GML driver (plan GML uploads) resolves no ``xlink:href`` and downloads no schema.

It runs when :mod:`landreg` is imported, before any GDAL is loaded; a deployment cannot switch
it back on through the environment.
"""

from __future__ import annotations

import os

#: The configuration options that keep GDAL off the network.
NETWORK_OFF: dict[str, str] = {
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/vsicurl/landreg-gdal-network-access-is-disabled",
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_MAX_RETRY": "0",
    "PROJ_NETWORK": "OFF",
    # GML: never resolve xlink:href (it can name local files or URLs), never fetch a schema.
    "GML_SKIP_RESOLVE_ELEMS": "ALL",
    "GML_DOWNLOAD_WFS_SCHEMA": "NO",
}


def switch_off_network() -> None:
    """Set :data:`NETWORK_OFF` for every GDAL in this process (and its child processes)."""
    os.environ.update(NETWORK_OFF)


__all__ = ["NETWORK_OFF", "switch_off_network"]
