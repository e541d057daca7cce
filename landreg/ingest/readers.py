"""Read a planner's file of plots into a GeoDataFrame, or say clearly why it cannot be read.

Formats, chosen by the file's suffix:

========================  ===========================================================
``.gpkg``                 GeoPackage; ``layer`` picks a layer, else the first polygon layer
``.zip``                  a zipped Shapefile (``.shp`` + ``.dbf`` + ``.shx``, ``.prj`` for
                          the CRS); ``layer`` picks one ``.shp`` by name when there are several
``.shp``                  an unzipped Shapefile (its ``.dbf``/``.shx``/``.prj`` beside it)
``.geojson``, ``.json``   GeoJSON (always longitude/latitude unless it names another CRS)
``.fgb``                  FlatGeobuf
``.csv``                  a table with the geometry as WKT in one column (``wkt_column``,
                          default the first of ``wkt``, ``geometry``, ``geom``, ``the_geom``).
                          **A CSV carries no CRS: give one** (``--crs`` on the command line),
                          unless it has a ``crs`` column with one value (landreg's export)
``.sos``                  SOSI 4.x, read by landreg itself (``landreg.ingest.sosi``): the
                          plan's ``.FLATE`` areas; the file must start with ``.HODE``
``.gml``                  plan GML (NPAD ``RpArealformålOmråde`` …), GDAL's GML driver only;
                          the purpose-area layer is chosen over the plan boundary
========================  ===========================================================

The file's own CRS is used; ``crs`` overrides it, and is required when the file has none.
Every spatial format is read by GDAL through pyogrio; CSV is read by pandas (delimiter sniffed,
UTF-8 or Windows-1252 as Excel writes it) so that a row with unreadable WKT is reported as a
bad row instead of silently losing its geometry.

**A file is opened by its declared type only.** GDAL chooses its driver by a file's content, not
its name: an OGR VRT document named ``plan.gpkg`` would read ``/etc/passwd`` or fetch a URL named
inside it. So each suffix has exactly one GDAL driver (:data:`DRIVERS`); before GDAL sees the
file its first bytes must carry that format's signature (SQLite header, FlatGeobuf magic,
Shapefile file code, a JSON object), GeoJSON is opened with the ``GeoJSON:`` prefix that forces
its driver, and after opening the driver GDAL actually used must be the expected one. A GeoJSON
``crs`` that links to a URL is refused (GDAL would fetch it); GDAL's network access is off for
the whole process anyway (``landreg.gdalenv``). Every message names the user's file
(``name``), never a server path: :func:`read_source` is the one place reader errors leave.

Zip archives are opened defensively (``landreg.ingest.archives``); CSV with WKT is read by
``landreg.ingest.csvwkt``; the limits and the errors are in ``landreg.ingest.limits``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pyogrio
import pyogrio.errors
from pyproj import CRS

from landreg.errors import InvalidInput, LandregError
from landreg.ingest.archives import ARCHIVE_SUFFIXES, unzipped
from landreg.ingest.crs import parse_crs
from landreg.ingest.csvwkt import WKT_COLUMNS, read_csv
from landreg.ingest.limits import (
    DEFAULT_LIMITS,
    FileTooLarge,
    MiB,
    MissingCRS,
    NotSpatial,
    ReadLimits,
    UnreadableFile,
    UnsafeArchive,
)
from landreg.ingest.messages import Message, keyed

#: Suffix → format name. The order is the one listed in messages.
FORMATS: dict[str, str] = {
    ".gpkg": "GeoPackage",
    ".zip": "zipped Shapefile",
    ".shp": "Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".csv": "CSV with WKT",
    ".sos": "SOSI",
    ".gml": "plan GML",
}
#: Format → the only GDAL driver that may open it (CSV is read by pandas, a zip by Python).
DRIVERS: dict[str, str] = {
    "GeoPackage": "GPKG",
    "zipped Shapefile": "ESRI Shapefile",
    "Shapefile": "ESRI Shapefile",
    "GeoJSON": "GeoJSON",
    "FlatGeobuf": "FlatGeobuf",
    "plan GML": "GML",
}
_SHP_PARTS = (".dbf", ".shx")




@dataclass
class Source:
    """A file read into memory, with what it said about itself.

    Attributes
    ----------
    frame:
        The features; the geometry column is ``geometry`` and its CRS is set (``crs``).
    path, format, layer:
        Where they came from (``layer`` is the GeoPackage layer or Shapefile name).
    crs:
        The CRS the coordinates are read in: the file's own, or the one the caller gave.
    declared_crs:
        What the file itself declares (None when it declares nothing).
    warnings:
        Things the user should know (e.g. ``crs`` overrode a different declared CRS).
    name:
        The file's name as the user knows it (for messages); default ``path.name``.
    """

    frame: gpd.GeoDataFrame
    path: Path
    format: str
    layer: str | None
    crs: CRS
    declared_crs: CRS | None
    warnings: list[str] = field(default_factory=list)
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or self.path.name

    @property
    def crs_label(self) -> str:
        """The CRS as ``EPSG:n`` when it has a code, else its name."""
        return crs_label(self.crs)


def crs_label(crs: CRS | None) -> str:
    """``EPSG:n`` for a CRS with an EPSG code, else its name; ``"none"`` for None."""
    if crs is None:
        return "none"
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg}" if epsg else crs.name


def read_source(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: object = None,
    wkt_column: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    name: str | None = None,
) -> Source:
    """Read a file of plots (GeoPackage, zipped Shapefile, GeoJSON, FlatGeobuf, CSV+WKT).

    Parameters
    ----------
    path:
        The file; its suffix says the format (see the module docstring).
    layer:
        GeoPackage layer, or Shapefile name inside a zip. Default: the first polygon layer.
    crs:
        The CRS of the coordinates (``EPSG:25832``, ``25833``, ``4326`` …). Overrides the
        file's own; required when the file has none (always for CSV).
    wkt_column:
        For CSV: the column holding WKT geometries (default: the first of ``WKT_COLUMNS``).
    limits:
        Size limits (:class:`ReadLimits`).
    name:
        The file's name as the user knows it (an upload's own name), used in every message
        instead of ``path`` (e.g. a temporary file). Default: ``path`` as given.

    Returns
    -------
    Source
        The features with their CRS set, and where they came from.

    Raises
    ------
    UnreadableFile
        for a missing, corrupt or unsupported file (naming it).
    NotSpatial
        for a file or layer without geometries, e.g. a CSV without a WKT column.
    MissingCRS
        when neither the file nor ``crs`` gives a CRS.
    FileTooLarge, UnsafeArchive
        for files beyond ``limits`` and zip archives that try to escape their folder or
        hold links or other archives.

    Every error names ``name`` (or the path as given), never another path on the server.

    Examples
    --------
    >>> src = read_source("kongsvinger.gpkg", layer="naering")          # doctest: +SKIP
    >>> src = read_source("tomter.csv", crs="EPSG:25832")               # doctest: +SKIP
    """
    path = Path(path)
    shown = _shown_name(name) if name else path.name
    try:
        src = _read_source(path, layer, crs, wkt_column, limits)
    except LandregError as exc:
        raise _for_user(exc, path, shown) from None
    src.name = shown
    return src


def _read_source(path: Path, layer: str | None, crs: object, wkt_column: str | None,
                 limits: ReadLimits) -> Source:
    fmt = _format_of(path)
    if not path.is_file():
        raise UnreadableFile(f"There is no file {path}.", field="file", value=str(path))
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise keyed(FileTooLarge(
            f"{path.name} is {size / MiB:.1f} MiB; the limit is {limits.max_bytes / MiB:.1f} MiB.",
            field="file", value=str(path),
            details={"bytes": size, "max_bytes": limits.max_bytes},
        ), "imp_e_too_large", size=size / MiB, limit=limits.max_bytes / MiB)
    given = parse_crs(crs) if crs is not None and str(crs).strip() else None
    if fmt == "CSV with WKT":
        frame, used_layer = read_csv(path, wkt_column), None
        if given is None:
            given = _crs_column(frame, path)
    elif fmt == "SOSI":
        frame, used_layer = _read_sosi(path), None
    elif fmt == "zipped Shapefile":
        with unzipped(path, limits) as folder:
            shp = _pick_shapefile(path, folder, layer)
            frame, used_layer = _read_ogr(path, shp, None, fmt)
            used_layer = shp.stem
    else:
        frame, used_layer = _read_ogr(path, path, layer, fmt)
    return _with_crs(frame, path, fmt, used_layer, given)


def _shown_name(name: str) -> str:
    """The last part of a name a browser sent (which may carry a client-side folder)."""
    return re.split(r"[\\/]", name.strip())[-1] or "the file"


#: An absolute POSIX path of two or more parts, as GDAL and the OS put into their messages.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:])/(?:[^\s/'\"(),;:]+/)+([^\s/'\"(),;:]*)")


def _for_user(exc: LandregError, path: Path, shown: str) -> LandregError:
    """``exc`` with every mention of the server-side file replaced by the user's name for it.

    The readers name ``path`` (or, for a zip, the folder it was unpacked into) in messages;
    any absolute path left after that is cut to its last part, so no message or ``value``
    shows where on the server a file lives."""
    known = re.compile("|".join(re.escape(k) for k in (str(path), path.name)))

    def clean(text: str) -> str:
        text = known.sub(lambda _: shown, text)
        return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or shown, text)

    message = exc.message
    exc.message = clean(message)
    if isinstance(message, Message):  # keep what the page needs to say it in Norwegian
        exc.message = Message(exc.message, message.key, **message.params)
    exc.args = (exc.message,)
    if isinstance(exc.value, str | Path) and (str(exc.value) == str(path) or "/" in str(exc.value)):
        exc.value = shown if str(exc.value) == str(path) else clean(str(exc.value))
    exc.details = {k: clean(v) if isinstance(v, str) else v for k, v in exc.details.items()}
    return exc


def _format_of(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(set(FORMATS)))
        raise keyed(UnreadableFile(
            f"{path.name}: unknown file type {path.suffix or '(no suffix)'!r}. Supported: {known}.",
            field="file", value=str(path),
        ), "imp_e_unknown_type", suffix=path.suffix or "–", types=known)
    return fmt


def _with_crs(frame: gpd.GeoDataFrame, path: Path, fmt: str, layer: str | None,
              given: CRS | None) -> Source:
    declared = frame.crs
    warnings: list[str] = []
    if given is None and declared is None:
        if fmt == "CSV with WKT":
            msg = (f"{path.name}: a CSV file carries no coordinate reference system. Say which "
                   "one its WKT is in with --crs, e.g. --crs EPSG:25833 (UTM 33), EPSG:25832 "
                   "(UTM 32) or EPSG:4326 (longitude/latitude).")
        else:
            msg = (f"{path.name} does not say which coordinate reference system it is in"
                   + (" (the zip has no .prj file)" if fmt == "zipped Shapefile" else "")
                   + ". Give one with --crs, e.g. --crs EPSG:25833, EPSG:25832 or EPSG:4326.")
        raise MissingCRS(msg, field="crs", value=str(path))
    if given is not None:
        if declared is not None and not CRS(declared).equals(given):
            warnings.append(Message(
                f"The file declares {crs_label(CRS(declared))}; its coordinates were read as "
                f"{crs_label(given)} because that CRS was given.", "imp_w_crs_override",
                declared=crs_label(CRS(declared)), given=crs_label(given)))
        frame = frame.set_crs(given, allow_override=True)
    return Source(frame=frame, path=path, format=fmt, layer=layer, crs=CRS(frame.crs),
                  declared_crs=CRS(declared) if declared is not None else None,
                  warnings=warnings)


# --- GDAL formats -------------------------------------------------------------------------


def _read_ogr(shown: Path, path: Path, layer: str | None,
              fmt: str) -> tuple[gpd.GeoDataFrame, str]:
    """Read ``path`` with pyogrio as ``fmt`` and nothing else; ``shown`` is the name the user
    knows (e.g. the zip)."""
    source = _gdal_source(shown, path, fmt)
    try:
        layers = _list_layers(source, fmt)
    except pyogrio.errors.DataSourceError as exc:
        raise _unreadable(shown, exc, path) from None
    if len(layers) == 0:
        raise NotSpatial(f"{shown.name} holds no layers.", field="file", value=str(shown))
    names = [str(n) for n, _ in layers]
    if layer is not None:
        if layer not in names:
            raise InvalidInput(
                f"{shown.name} has no layer {layer!r}; its layers are: {', '.join(names)}.",
                field="layer", value=layer,
            )
        gtype = dict((str(n), t) for n, t in layers)[layer]
        if gtype is None:
            raise NotSpatial(f"Layer {layer!r} of {shown.name} is a table without geometries.",
                             field="layer", value=layer)
    else:
        polygonal = [str(n) for n, t in layers if t is not None and _maybe_polygons(t)]
        if fmt == "plan GML":  # the plan's purpose areas, not its boundary or zones
            polygonal.sort(key=lambda n: not any(w in n.lower() for w in _PURPOSE_LAYERS))
        if not polygonal:
            listed = ", ".join(f"{n} ({t or 'no geometry'})" for n, t in layers)
            raise keyed(NotSpatial(
                f"{shown.name} has no polygon layer to import plots from (layers: {listed}).",
                field="file", value=str(shown),
            ), "imp_e_no_polygon_layer", layers=listed)
        layer = polygonal[0]
    try:
        frame = pyogrio.read_dataframe(source, layer=layer, **_OPEN_OPTIONS.get(fmt, {}))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise _unreadable(shown, exc, path) from None
    if not isinstance(frame, gpd.GeoDataFrame) or (len(frame) and frame.geometry.isna().all()):
        raise NotSpatial(f"{shown.name} (layer {layer}) holds no geometries.", field="file",
                         value=str(shown))
    return frame, layer


#: Layer names of plan GML that hold purpose areas (RpArealformålOmråde, KpArealformålOmråde).
_PURPOSE_LAYERS = ("arealformål", "arealformal", "arealbruk")
#: GDAL open options per format: GML writes no .gfs beside the file and fetches no schema
#: (xlink resolution is off for the whole process: ``landreg.gdalenv``).
_OPEN_OPTIONS: dict[str, dict[str, str]] = {
    "plan GML": {"WRITE_GFS": "NO", "DOWNLOAD_SCHEMA": "NO"},
}


def _list_layers(source: str, fmt: str) -> list[tuple[str, str | None]]:
    """``(name, geometry type)`` of every layer, opened with ``fmt``'s open options (plain
    ``list_layers`` takes none, and the GML driver would write a .gfs beside the file)."""
    options = _OPEN_OPTIONS.get(fmt)
    if not options:
        return [(str(n), t) for n, t in pyogrio.list_layers(source)]
    out: list[tuple[str, str | None]] = []
    while len(out) < 1000:
        try:
            info = pyogrio.read_info(source, layer=len(out), **options)
        except pyogrio.errors.DataLayerError:
            break
        out.append((str(info["layer_name"]), info["geometry_type"]))
    return out


def _gdal_source(shown: Path, path: Path, fmt: str) -> str:
    """The name to give GDAL for ``path``, after checking that its content is ``fmt`` and that
    GDAL opens it with ``fmt``'s driver (:data:`DRIVERS`) and no other."""
    head = _head(path)
    if not _SIGNATURES[fmt](head):
        raise _not_a(shown, fmt, "its content is of another kind")
    if fmt == "GeoJSON":
        _check_geojson_crs(shown, path)
    # The GeoJSON driver has a prefix that forces it; for the others the signature above
    # already rules out every driver that follows names inside a file (VRT, GDALG, WFS …).
    source = f"GeoJSON:{path}" if fmt == "GeoJSON" else str(path)
    try:
        driver = pyogrio.read_info(source, layer=0, **_OPEN_OPTIONS.get(fmt, {}))["driver"]
    except pyogrio.errors.DataLayerError:
        return source  # no layer at all: nothing to read, _read_ogr says so
    except pyogrio.errors.DataSourceError as exc:
        raise _unreadable(shown, exc, path) from None
    if driver != DRIVERS[fmt]:
        raise _not_a(shown, fmt, f"GDAL reads it as {driver}")
    return source


def _head(path: Path, n: int = 4096) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def _json_object(head: bytes) -> bool:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return text.startswith(b"{")


#: Format → a test of the file's first bytes (the format's magic number or syntax).
_SIGNATURES = {
    "GeoPackage": lambda head: head.startswith(b"SQLite format 3\x00"),
    "zipped Shapefile": lambda head: head.startswith(b"\x00\x00\x27\x0a"),
    "Shapefile": lambda head: head.startswith(b"\x00\x00\x27\x0a"),
    "FlatGeobuf": lambda head: head[:3] == b"fgb" and head[4:7] == b"fgb",
    "GeoJSON": _json_object,
    "plan GML": lambda head: _xml_with(head, b"http://www.opengis.net/gml"),
}


_XML_PROLOG = re.compile(rb"\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<([A-Za-z_][\w.:-]*)", re.S)


def _xml_with(head: bytes, namespace: bytes) -> bool:
    """A GML feature collection: XML whose root element is a ``…FeatureCollection`` declaring
    ``namespace``, without a DOCTYPE (no entities to expand). The root decides which GDAL
    driver would take the file, so an OGR VRT (``<OGRVRTDataSource>``, which reads the files
    and URLs it names) never passes, whatever namespaces it mentions."""
    text = head.removeprefix(b"\xef\xbb\xbf")
    m = _XML_PROLOG.match(text)
    if m is None or not m.group(1).split(b":")[-1].endswith(b"FeatureCollection"):
        return False
    return namespace in head and b"<!DOCTYPE" not in head.upper()


def _crs_column(frame: gpd.GeoDataFrame, path: Path) -> CRS | None:
    """The CRS a ``crs`` column names, when it names one for every row (landreg's CSV export
    does); None when there is no such column."""
    column = next((c for c in frame.columns if str(c).lower() == "crs"), None)
    if column is None:
        return None
    values = {str(v).strip() for v in frame[column].dropna()} - {""}
    if len(values) != 1:
        return None
    try:
        return parse_crs(values.pop())
    except LandregError:
        return None


def _read_sosi(path: Path) -> gpd.GeoDataFrame:
    """A SOSI file, read by landreg's own reader (``landreg.ingest.sosi``) after checking that
    it starts with ``.HODE``."""
    from landreg.ingest.sosi import read_sosi

    head = _head(path).removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head.startswith(b".HODE"):
        raise _not_a(path, "SOSI", "it does not start with .HODE")
    frame = read_sosi(path.read_bytes())
    if not len(frame):
        raise NotSpatial(f"{path.name} holds no areas (.FLATE) to import.", field="file",
                         value=str(path))
    return frame


def _not_a(shown: Path, fmt: str, why: str) -> UnreadableFile:
    kind = "Shapefile" if fmt == "zipped Shapefile" else fmt
    return keyed(UnreadableFile(
        f"{shown.name} could not be read: it is not a {kind} file ({why}). Save it from "
        f"your GIS as {kind} and try again.", field="file", value=str(shown)),
        "imp_e_not_a", kind=kind)


_CRS_MEMBER = re.compile(rb'"crs"\s*:\s*')


def _check_geojson_crs(shown: Path, path: Path) -> None:
    """Refuse a GeoJSON ``crs`` that is a link: GDAL would fetch its URL while opening."""
    raw = path.read_bytes()
    decoder = json.JSONDecoder()
    for m in _CRS_MEMBER.finditer(raw):
        try:
            value, _ = decoder.raw_decode(raw[m.end():m.end() + 65536].decode("utf-8", "replace"))
        except ValueError:
            continue
        if isinstance(value, dict) and str(value.get("type", "name")).lower() != "name":
            raise keyed(UnreadableFile(
                f"{shown.name} names its coordinate reference system by a link "
                f"({value.get('type')!r}), which is not read. Use a named CRS such as "
                '"urn:ogc:def:crs:EPSG::25833", or none (longitude/latitude).',
                field="file", value=str(shown)), "imp_e_crs_link")


def _maybe_polygons(geometry_type: str) -> bool:
    t = geometry_type.lower()
    return "polygon" in t or t in ("unknown", "geometry", "geometrycollection")


def _unreadable(path: Path, exc: Exception, inner: Path | None = None) -> UnreadableFile:
    # GDAL names the file it opened: show the user's file name, never a temporary folder.
    detail = str(exc).split(";")[0].replace(str(inner or path), path.name)
    detail = detail.replace(str(path), path.name)
    return keyed(UnreadableFile(
        f"{path.name} could not be read: it is damaged or not a {_format_of(path)} file "
        f"({detail}).",
        field="file", value=str(path),
    ), "imp_e_damaged", kind=_format_of(path))




def _pick_shapefile(path: Path, folder: Path, layer: str | None) -> Path:
    shps = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".shp"
                  and "__MACOSX" not in p.parts)
    if not shps:
        raise keyed(NotSpatial(f"{path.name} holds no Shapefile (.shp).", field="file",
                         value=str(path)), "imp_e_no_shapefile")
    if layer is not None:
        chosen = [p for p in shps if p.stem == layer]
        if not chosen:
            raise InvalidInput(
                f"{path.name} has no Shapefile {layer!r}; it holds: "
                f"{', '.join(p.stem for p in shps)}.", field="layer", value=layer,
            )
        shp = chosen[0]
    else:
        shp = next((p for p in shps if _is_polygon_shp(p)), shps[0])
    siblings = {p.suffix.lower() for p in shp.parent.iterdir() if p.stem == shp.stem}
    missing = [s for s in _SHP_PARTS if s not in siblings]
    if missing:
        raise keyed(UnreadableFile(
            f"{path.name} holds {shp.name} but not {' or '.join(shp.stem + s for s in missing)}:"
            " a Shapefile needs its .shp, .dbf and .shx (and .prj for the CRS).",
            field="file", value=str(path),
        ), "imp_e_shapefile_parts", shp=shp.name, missing=" / ".join(shp.stem + s for s in missing))
    return shp


def _is_polygon_shp(shp: Path) -> bool:
    if not _SIGNATURES["Shapefile"](_head(shp, 4)):
        return False
    try:
        info = pyogrio.read_info(shp)
    except pyogrio.errors.DataSourceError:
        return False
    if info.get("driver") != DRIVERS["Shapefile"]:
        return False
    return bool(info.get("geometry_type")) and _maybe_polygons(info["geometry_type"])


__all__ = [
    "ARCHIVE_SUFFIXES", "DEFAULT_LIMITS", "DRIVERS", "FORMATS", "FileTooLarge", "MissingCRS",
    "MiB", "NotSpatial", "ReadLimits",
    "Source", "UnreadableFile", "UnsafeArchive", "WKT_COLUMNS", "crs_label", "read_source",
]
