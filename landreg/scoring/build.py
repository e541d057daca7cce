"""``layers build``: turn the catalogue's sources into aligned GeoTIFFs on one grid.

Each layer is cached by a key of (its recipe, the grid, the content hash of every source file it
reads, and the keys of the layers it derives from): an unchanged layer is never rebuilt.
Demo stand-ins (terrain, flood-prone land, farmland) are written with an ``APPROXIMATE`` tag.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.warp import Resampling, reproject

from landreg.scoring.catalogue import Catalogue, Criterion
from landreg.scoring.errors import LayerError
from landreg.scoring.grid import CRS, Grid

NODATA = np.float32(np.nan)


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes (streamed)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_memo(catalogue: Catalogue, cache_dir: Path | None, name: str, extra: Any,
                compute: Callable[[], Any]) -> Any:
    """``compute()`` (a JSON value read from the catalogue's vector source), kept in
    ``cache_dir`` under ``name`` and a key of the source's content and ``extra``.

    Reading the source loads GDAL's vector side through pyogrio (~50 MB a process, kept for
    its life); a server worker that finds the value here never loads it (issue 14). Without
    ``cache_dir`` (or a source) it is computed every time."""
    memo = _memo_path(catalogue, cache_dir, name, extra)
    if memo is None:
        return compute()  # (which names a missing source)
    if memo.exists():
        return json.loads(memo.read_text())
    value = compute()
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    tmp = memo.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value))
    tmp.replace(memo)  # whole or absent, whichever worker writes it
    return value


def _memo_path(catalogue: Catalogue, cache_dir: Path | None, name: str, extra: Any
               ) -> Path | None:
    if cache_dir is None or not Path(catalogue.source).is_file():
        return None
    key = hashlib.sha256(json.dumps([file_hash(catalogue.source), extra], sort_keys=True,
                                    default=str).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{name}-{key}.json"


def region_grid(catalogue: Catalogue, res: float = 25.0, cache_dir: Path | None = None
                ) -> Grid:
    """The grid covering the region's kommuner, at ``res`` metres (the kommuner kept in
    ``cache_dir``, see :func:`read_kommuner`)."""
    return Grid.covering(tuple(read_kommuner(catalogue, cache_dir).total_bounds), res)


def region_mask(catalogue: Catalogue, grid: Grid, cache_dir: Path | None = None
                ) -> np.ndarray:
    """True for cells whose centre lies in one of the kommuner."""
    return burn(read_kommuner(catalogue, cache_dir).geometry, grid, all_touched=False)


def read_kommuner(catalogue: Catalogue, cache_dir: Path | None = None) -> gpd.GeoDataFrame:
    """The kommuner of the catalogue's source (``kommunenummer`` and outline), in EPSG:25833;
    kept in ``cache_dir`` (see :func:`source_memo`) for the server's surfaces and candidate
    areas."""
    def read() -> dict[str, list]:
        frame = _read(catalogue.source, "Kommune")
        return {"kommunenummer": frame["kommunenummer"].tolist(),
                "wkb": list(shapely.to_wkb(frame.geometry.values, hex=True))}

    memo = source_memo(catalogue, cache_dir, "kommuner", "Kommune", read)
    return gpd.GeoDataFrame({"kommunenummer": memo["kommunenummer"]},
                            geometry=shapely.from_wkb(memo["wkb"]), crs=CRS)


def _read(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    if not Path(path).exists():
        raise LayerError(f"The source file {path} is missing.", field="source", value=str(path))
    try:
        frame = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise LayerError(f"Cannot read {path}{' layer ' + layer if layer else ''}: {exc}",
                         field="source", value=str(path)) from None
    if frame.crs is None:
        raise LayerError(f"{path} has no coordinate reference system; set one (e.g. "
                         "EPSG:25833) before using it", field="source", value=str(path))
    return frame.to_crs(CRS)


def _select(frame: gpd.GeoDataFrame, where: list[dict[str, list]] | None) -> gpd.GeoDataFrame:
    if not where:
        return frame
    keep = np.zeros(len(frame), dtype=bool)
    for clause in where:
        ok = np.ones(len(frame), dtype=bool)
        for col, allowed in clause.items():
            ok &= frame[col].isin(allowed).to_numpy()
        keep |= ok
    return frame[keep]


def settlement_points(catalogue: Catalogue, spec: dict[str, Any]) -> gpd.GeoDataFrame:
    """The settlement points of ``points`` whose ``type_field`` has a radius (``radius_m``),
    with columns ``name`` (the ``name_field``, default ``navn``), ``kind`` (the type),
    ``radius_m`` and ``stands_in``: the point lies farther than ``covered_m`` from every shape
    of ``polygons``, so a disc of its radius stands in for the built-up area the source lacks
    (a point near a shape is that town's label, and the shape is the better data). The
    criteria and the map's built-up layer both read this."""
    for key in ("points", "polygons", "type_field", "radius_m"):
        if key not in spec:
            raise LayerError(f"settlements: {key} is missing (see the settlements block of "
                             "criteria.yaml)", field="settlements")
    points = _read(catalogue.source, spec["points"])
    radius = points[spec["type_field"]].map({k: float(v) for k, v in spec["radius_m"].items()})
    ok = radius.notna().to_numpy()
    shapes = _shapes(catalogue, spec)
    name_field = spec.get("name_field", "navn")
    out = gpd.GeoDataFrame({
        "name": points[name_field].to_numpy()[ok] if name_field in points else None,
        "kind": points[spec["type_field"]].to_numpy()[ok],
        "radius_m": radius.to_numpy()[ok]}, geometry=points.geometry.to_numpy()[ok], crs=CRS)
    if len(shapes):
        near = out.geometry.distance(shapes.geometry.union_all()).to_numpy()
        out["stands_in"] = near > float(spec.get("covered_m", 0))
    else:
        out["stands_in"] = True
    return out


def _shapes(catalogue: Catalogue, spec: dict[str, Any]) -> gpd.GeoDataFrame:
    shapes = _read(catalogue.source, spec["polygons"])
    return shapes[shapes.geometry.notna() & ~shapes.geometry.is_empty]


def settlements_spec(catalogue: Catalogue) -> dict[str, Any] | None:
    """The ``settlements`` block the criteria use (the first criterion resting on settlement
    points), or None when none does."""
    for c in catalogue.criteria.values():
        if c.settlement_points:
            for key in ("layer", "near"):
                spec = c.build.get(key)
                for x in spec if isinstance(spec, list) else [spec]:
                    if isinstance(x, dict) and "settlements" in x:
                        return x["settlements"]
    return None


def settlement_features(catalogue: Catalogue, cache_dir: Path | None = None
                        ) -> list[dict[str, Any]]:
    """The settlement points (:func:`settlement_points`) as GeoJSON features in CRS84 for the
    map (name, kind, radius_m, stands_in); kept in ``cache_dir`` (:func:`source_memo`) by
    the layers' build, so a server worker never reads the source for them (issue 14)."""
    spec = settlements_spec(catalogue)
    if spec is None:
        return []

    def read() -> list[dict[str, Any]]:
        points = settlement_points(catalogue, spec).to_crs(4326)
        return [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [
                    round(r.geometry.x, 5), round(r.geometry.y, 5)]},
                 "properties": {"name": r.name, "kind": r.kind, "radius_m": float(r.radius_m),
                                "stands_in": bool(r.stands_in)}}
                for r in points.itertuples()]

    return source_memo(catalogue, cache_dir, "settlement-features", spec, read)


def settlements(catalogue: Catalogue, spec: dict[str, Any]) -> gpd.GeoDataFrame:
    """Built-up areas: the ``polygons`` layer's shapes, plus a disc around each settlement
    point that stands in for a missing shape (:func:`settlement_points`)."""
    points = settlement_points(catalogue, spec)
    points = points[points["stands_in"].to_numpy()]
    discs = gpd.GeoDataFrame(geometry=points.geometry.buffer(points["radius_m"].to_numpy()),
                             crs=CRS)
    shapes = _shapes(catalogue, spec)
    return gpd.GeoDataFrame(pd.concat([shapes[["geometry"]], discs], ignore_index=True),
                            crs=CRS)


def _layers(catalogue: Catalogue, spec: Any, where: Any = None) -> gpd.GeoDataFrame:
    names = spec if isinstance(spec, list) else [spec]
    frames = []
    for name in names:
        if isinstance(name, dict) and "settlements" in name:
            frames.append(settlements(catalogue, name["settlements"]))
            continue
        path = Path(name)
        if path.suffix.lower() in (".gpkg", ".shp", ".geojson", ".fgb", ".zip"):
            frames.append(_read(path if path.is_absolute() else catalogue.source.parent / path))
        else:
            frames.append(_read(catalogue.source, name))
    frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=CRS)
    return _select(frame, where)


def burn(geoms: Iterable[shapely.Geometry], grid: Grid, all_touched: bool = True) -> np.ndarray:
    """A boolean mask of the cells the geometries touch."""
    shapes = [(g, 1) for g in geoms if g is not None and not g.is_empty]
    if not shapes:
        return np.zeros(grid.shape, dtype=bool)
    return rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=0,
                     all_touched=all_touched, dtype="uint8").astype(bool)


def distance_to(mask: np.ndarray, grid: Grid) -> np.ndarray:
    """Exact Euclidean distance (m) from every cell centre to the nearest True cell."""
    if not mask.any():
        raise LayerError("A distance layer has no features inside the grid.")
    from scipy import ndimage

    return ndimage.distance_transform_edt(~mask, sampling=grid.res).astype(np.float32)


#: Features this far outside the region still count for distances (a station or road just
#: across the border is as useful as one inside).
DISTANCE_MARGIN_M = 5000.0


def distance_to_features(geoms: Iterable[shapely.Geometry], grid: Grid,
                         margin_m: float = DISTANCE_MARGIN_M) -> np.ndarray:
    """Distances to features, computed on the grid padded by ``margin_m`` and cropped back."""
    pad = int(np.ceil(margin_m / grid.res))
    padded = Grid(grid.x0 - pad * grid.res, grid.y1 + pad * grid.res, grid.width + 2 * pad,
                  grid.height + 2 * pad, grid.res)
    full = distance_to(burn(geoms, padded), padded)
    return np.ascontiguousarray(full[pad:pad + grid.height, pad:pad + grid.width])


def _junctions(frame_main: gpd.GeoDataFrame, frame_other: gpd.GeoDataFrame) -> list:
    """Points where a main road meets any other road (another number, or another main road)."""
    def key(frame: gpd.GeoDataFrame) -> pd.Series:
        return frame["vegkategori"].astype(str) + frame["vegnummer"].astype(str)

    out = []
    main_keys, other_keys = key(frame_main), key(frame_other)
    for road in sorted(set(main_keys)):
        line = shapely.union_all(frame_main[main_keys == road].geometry.to_numpy())
        crossing = frame_other[other_keys != road].geometry.to_numpy()
        for p in shapely.intersection(crossing, line):
            if not p.is_empty:
                out.extend(shapely.get_parts(shapely.extract_unique_points(p)))
    return out


def demo_dem(catalogue: Catalogue, grid: Grid, coarse: float = 250.0) -> np.ndarray:
    """APPROXIMATE terrain: N1000 contours, spot heights and lake levels, interpolated.

    Points are sampled every 200 m along the contours and lake shores; a linear interpolation
    on a coarse grid (nearest value outside the points' hull) is resampled to ``grid``.
    """
    src = catalogue.source
    xs, ys, zs = [], [], []
    contours = _read(src, "Hoydekurve")
    for geom, z in zip(contours.geometry, contours["høyde"], strict=True):
        pts = shapely.get_coordinates(shapely.segmentize(geom, 200))
        xs.append(pts[:, 0])
        ys.append(pts[:, 1])
        zs.append(np.full(len(pts), float(z)))
    spots = _read(src, "Terrengpunkt")
    xs.append(spots.geometry.x.to_numpy())
    ys.append(spots.geometry.y.to_numpy())
    zs.append(spots["høyde"].astype(float).to_numpy())
    lakes = _read(src, "Innsjo").dropna(subset=["høyde"])
    for geom, z in zip(lakes.geometry, lakes["høyde"], strict=True):
        pts = shapely.get_coordinates(shapely.segmentize(geom.exterior if hasattr(
            geom, "exterior") else geom.boundary, 200))
        xs.append(pts[:, 0])
        ys.append(pts[:, 1])
        zs.append(np.full(len(pts), float(z)))
    x, y, z = np.concatenate(xs), np.concatenate(ys), np.concatenate(zs)
    cgrid = Grid.covering(grid.bounds, coarse)
    cx = cgrid.x0 + (np.arange(cgrid.width) + 0.5) * coarse
    cy = cgrid.y1 - (np.arange(cgrid.height) + 0.5) * coarse
    gx, gy = np.meshgrid(cx, cy)
    from scipy import interpolate  # building only: ~35 MB of scipy a server worker never needs

    linear = interpolate.griddata((x, y), z, (gx, gy), method="linear")
    nearest = interpolate.griddata((x, y), z, (gx, gy), method="nearest")
    coarse_dem = np.where(np.isnan(linear), nearest, linear).astype(np.float32)
    out = np.empty(grid.shape, dtype=np.float32)
    reproject(coarse_dem, out, src_transform=cgrid.transform, src_crs=CRS,
              dst_transform=grid.transform, dst_crs=CRS, resampling=Resampling.bilinear)
    return out


def dem_from_file(path: Path, grid: Grid) -> np.ndarray:
    """A user's DTM GeoTIFF (any CRS and resolution) resampled onto the grid."""
    if not Path(path).exists():
        raise LayerError(f"The elevation model {path} is missing.", field="source",
                         value=str(path))
    with rasterio.open(path) as ds:
        if ds.crs is None:
            raise LayerError(f"{path} has no CRS: cannot place it on the grid. Give it one "
                             "(e.g. gdal_edit.py -a_srs EPSG:25833).", field="source",
                             value=str(path))
        out = np.full(grid.shape, np.nan, dtype=np.float32)
        reproject(rasterio.band(ds, 1), out, dst_transform=grid.transform, dst_crs=CRS,
                  dst_nodata=np.nan, resampling=Resampling.bilinear)
    return out


def slope_degrees(dem: np.ndarray, grid: Grid) -> np.ndarray:
    """Slope in degrees from a DEM (central differences; NaN stays NaN)."""
    gy, gx = np.gradient(dem.astype(np.float64), grid.res)
    return np.degrees(np.arctan(np.hypot(gx, gy))).astype(np.float32)


def _flood(c: Criterion, catalogue: Catalogue, grid: Grid, dem: np.ndarray | None) -> np.ndarray:
    b = c.build
    if "path" in b:
        frame = _layers(catalogue, b["path"], b.get("where"))
        return burn(frame.geometry, grid, all_touched=False).astype(np.float32)
    from scipy import ndimage

    rivers = burn(_layers(catalogue, b.get("rivers", ["Elv"])).geometry, grid)
    dist, (iy, ix) = ndimage.distance_transform_edt(~rivers, sampling=grid.res,
                                                    return_indices=True)
    level = dem[iy, ix]
    prone = (dist <= float(b.get("buffer_m", 400))) & (dem <= level + float(b.get("rise_m", 4)))
    return prone.astype(np.float32)


def _farmland(c: Criterion, catalogue: Catalogue, grid: Grid) -> np.ndarray:
    b = c.build
    if "path" in b:
        frame = _layers(catalogue, b["path"], b.get("where"))
        return burn(frame.geometry, grid, all_touched=False).astype(np.float32)
    open_land = burn(_layers(catalogue, b["layer"]).geometry, grid, all_touched=False)
    near = distance_to_features(_layers(catalogue, b["near"]).geometry, grid)
    return (open_land & (near <= float(b.get("near_m", 3000)))).astype(np.float32)


def _network_dir(c: Criterion, catalogue: Catalogue) -> Path:
    """The folder holding road_network.yaml for a drivetime criterion (``build.network`` is a
    folder relative to the source's folder; by default the layers folder above it)."""
    p = Path(c.build.get("network", ".."))
    return p if p.is_absolute() else (catalogue.source.parent / p).resolve()


def _source_files(c: Criterion, catalogue: Catalogue) -> list[Path]:
    files = {catalogue.source}
    if c.build["kind"] == "drivetime":
        from landreg.routing.raster import network_files

        files |= set(network_files(_network_dir(c, catalogue)))
    for key in ("path", "source"):
        v = c.build.get(key) if c.build["kind"] != "drivetime" else None
        if isinstance(v, str) and v != "demo":
            p = Path(v)
            files.add(p if p.is_absolute() else catalogue.source.parent / p)
    return sorted(files)


def _cache_key(c: Criterion, catalogue: Catalogue, grid: Grid, deps: dict[str, str]) -> str:
    hashes = []
    for f in _source_files(c, catalogue):
        if not f.exists():
            raise LayerError(f"criterion {c.id}: the source file {f} is missing.",
                             field=c.id, value=str(f))
        if f.suffix.lower() in (".tif", ".tiff"):
            with rasterio.open(f) as ds:  # refuse before anything is written
                if ds.crs is None:
                    raise LayerError(f"criterion {c.id}: {f} has no CRS: cannot place it on "
                                     "the grid. Give it one (e.g. gdal_edit.py -a_srs "
                                     "EPSG:25833).", field=c.id, value=str(f))
        hashes.append(file_hash(f))
    blob = json.dumps({"build": c.build, "grid": grid.key(), "files": hashes, "deps": deps,
                       "format": "raw-strips-1"},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _order(catalogue: Catalogue) -> list[Criterion]:
    first = [c for c in catalogue.criteria.values() if c.build["kind"] == "dem"]
    return first + [c for c in catalogue.criteria.values() if c.build["kind"] != "dem"]


def build_layers(catalogue: Catalogue, out_dir: Path, res: float = 25.0,
                 progress: bool = True) -> dict[str, Any]:
    """Build every criterion layer that is missing or out of date.

    Returns ``{"grid": Grid, "paths": {id: Path}, "built": [...], "cached": [...],
    "version": str}``; the version identifies the whole set of layers.
    """
    from tqdm import tqdm

    grid = region_grid(catalogue, res, cache_dir=Path(out_dir))
    settlement_features(catalogue, Path(out_dir))  # for the map (kept, as the kommuner)
    out_dir = Path(out_dir) / f"{res:g}m"
    out_dir.mkdir(parents=True, exist_ok=True)
    keys = _keys(catalogue, grid)  # every source checked before anything is written
    paths, built, cached = {}, [], []
    dem: np.ndarray | None = None
    fresh = all(_is_cached(out_dir / f"{c}.tif", keys[c]) for c in keys)
    bar = tqdm(_order(catalogue), desc="layers", unit="layer", disable=not progress or fresh)
    for c in bar:
        bar.set_postfix_str(c.id)
        path = out_dir / f"{c.id}.tif"
        meta = path.with_suffix(".json")
        paths[c.id] = path
        if _is_cached(path, keys[c.id]):
            cached.append(c.id)
            continue
        needs_dem = c.build["kind"] in ("slope", "flood") or c.build["kind"] == "dem"
        if needs_dem and dem is None and c.build["kind"] != "dem":
            with rasterio.open(paths[c.build["dem"]]) as ds:
                dem = ds.read(1)
        array = _build_one(c, catalogue, grid, dem)
        if c.build["kind"] == "dem":
            dem = array
        write_layer(path, array, grid, c)
        meta.write_text(json.dumps({"key": keys[c.id], "criterion": c.id,
                                    "approximate": c.approximate, "source": c.source}))
        built.append(c.id)
    if any(catalogue.criteria[c].build["kind"] == "drivetime" for c in built):
        from landreg.routing.raster import release

        release()  # the nearest-vertex arrays (~200 MB at 25 m) are needed only while building
    version = hashlib.sha256("".join(keys[k] for k in sorted(keys)).encode()).hexdigest()[:12]
    (out_dir / "layers.json").write_text(json.dumps({"version": version, "grid": grid.key(),
                                                     "catalogue": catalogue.version}))
    return {"grid": grid, "paths": paths, "built": built, "cached": cached, "version": version}


def _keys(catalogue: Catalogue, grid: Grid) -> dict[str, str]:
    keys: dict[str, str] = {}
    for c in _order(catalogue):
        deps = {d: keys[d] for d in (c.build.get("dem"),) if d}
        keys[c.id] = _cache_key(c, catalogue, grid, deps)
    return keys


def layers_current(catalogue: Catalogue, out_dir: Path, res: float) -> bool:
    """Whether :func:`build_layers` would find every layer at ``res`` built and current —
    told without reading the vector source when its kommuner are kept in ``out_dir``
    (:func:`read_kommuner`), else False (a build will tell)."""
    spec = settlements_spec(catalogue)
    memos = [_memo_path(catalogue, Path(out_dir), "kommuner", "Kommune")]
    if spec is not None:
        memos.append(_memo_path(catalogue, Path(out_dir), "settlement-features", spec))
    if any(m is None or not m.exists() for m in memos):
        return False
    try:
        keys = _keys(catalogue, region_grid(catalogue, res, cache_dir=Path(out_dir)))
    except LayerError:
        return False
    folder = Path(out_dir) / f"{res:g}m"
    return all(_is_cached(folder / f"{c}.tif", key) for c, key in keys.items())


def _is_cached(path: Path, key: str) -> bool:
    meta = path.with_suffix(".json")
    return path.exists() and meta.exists() and json.loads(meta.read_text()).get("key") == key


def _build_one(c: Criterion, catalogue: Catalogue, grid: Grid,
               dem: np.ndarray | None) -> np.ndarray:
    b = c.build
    kind = b["kind"]
    if kind == "distance":
        return distance_to_features(_layers(catalogue, b["layer"], b.get("where")).geometry, grid)
    if kind == "junctions":
        roads = _layers(catalogue, b["layer"])
        points = _junctions(_select(roads, b.get("where")), _select(roads, b.get("others")))
        return distance_to_features(points, grid)
    if kind == "dem":
        src = b.get("source", "demo")
        if src == "demo":
            return demo_dem(catalogue, grid)
        p = Path(src)
        return dem_from_file(p if p.is_absolute() else catalogue.source.parent / p, grid)
    if kind == "slope":
        return slope_degrees(dem, grid)
    if kind == "flood":
        return _flood(c, catalogue, grid, dem)
    if kind == "farmland":
        return _farmland(c, catalogue, grid)
    if kind == "drivetime":
        from landreg.routing import raster

        return raster.build(_network_dir(c, catalogue), b["to"], grid)
    raise LayerError(f"criterion {c.id}: cannot build kind {kind!r}")  # pragma: no cover


def write_layer(path: Path, array: np.ndarray, grid: Grid, c: Criterion | None = None) -> None:
    """A float32 GeoTIFF with NaN as nodata, uncompressed and in row strips.

    Uncompressed on purpose: the layers are a local cache that scoring reads over and over,
    and an uncompressed striped file can be memory-mapped (``zonal.raw_view``) so scoring
    touches only the cells under plots instead of decompressing whole rasters.
    """
    profile = {"driver": "GTiff", "height": grid.height, "width": grid.width, "count": 1,
               "dtype": "float32", "crs": CRS, "transform": grid.transform, "nodata": NODATA,
               "tiled": False, "blockysize": 16, "BIGTIFF": "IF_SAFER"}
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **profile) as ds:
        ds.write(array.astype(np.float32), 1)
        if c is not None:
            ds.update_tags(criterion=c.id, unit=c.unit, source=c.source,
                           approximate=str(c.approximate))
    tmp.replace(path)
