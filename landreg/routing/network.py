"""The road network for drive times: read from a GeoPackage mapped by ``layers/road_network.yaml``,
costed by ``layers/road_speeds.yaml``, with a topology made by snapping link end points.

The same :class:`Network` feeds the database (pgRouting tables, see :mod:`landreg.routing.db`)
and the region-wide drive-time rasters (:mod:`landreg.routing.raster`), so both measure on one
graph. N1000 has no one-way streets, so the graph is undirected.

Reading the source takes GDAL (pyogrio's own copy, ~50 MB in a process) and its frames; the
server's workers answer from the database's copy of the network instead
(:func:`landreg.routing.db.served_network`), and the pages name the destinations from the YAML
(:func:`destination_names`). scipy is imported where a graph or a tree is built.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from landreg.errors import InvalidInput

if TYPE_CHECKING:
    from scipy import sparse
    from scipy.spatial import cKDTree

CRS = "EPSG:25833"
NETWORK_FILE = "road_network.yaml"
SPEEDS_FILE = "road_speeds.yaml"
TARGET_ID = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class NetworkError(InvalidInput):
    """The road network's configuration or source is unusable (says which and why)."""


@dataclass(frozen=True)
class Target:
    """What drive times are measured to: points, each with its network vertex and the
    seconds of its access leg from that vertex."""

    id: str
    key: int
    name_nb: str
    name_en: str
    vertices: np.ndarray
    access_s: np.ndarray
    points: np.ndarray  # (n, 2) EPSG:25833
    names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Network:
    """Vertices (main component flagged), edges with their cost in seconds, and targets.

    ``edges`` is None for a network read back from the database's tables
    (:func:`landreg.routing.db.served_network`): answers need the vertices and targets only;
    ``layers_dir`` then says where the whole network is read from when it is needed."""

    vertices: np.ndarray            # (n, 2) coordinates, EPSG:25833
    main: np.ndarray                # bool (n,): in the largest connected component
    edges: gpd.GeoDataFrame | None  # source, target, length_m, cost_s, through, attributes
    targets: dict[str, Target]
    access_speed_ms: float
    version: str
    speeds: dict[str, Any] = field(repr=False, default_factory=dict)
    layers_dir: str | None = None

    def graph(self) -> sparse.csr_matrix:
        """The through-route graph as a symmetric sparse matrix of seconds (scipy engine)."""
        from scipy import sparse

        if self.edges is None:
            raise NetworkError("This copy of the network has no links (read from the "
                               "database); use load_network() for the graph.")
        e = self.edges[self.edges["through"]]
        n = len(self.vertices)
        # Keep the cheaper of parallel links: csr sums duplicates, so reduce first.
        frame = pd.DataFrame({"a": np.minimum(e["source"], e["target"]),
                              "b": np.maximum(e["source"], e["target"]), "c": e["cost_s"]})
        frame = frame[frame["a"] != frame["b"]].groupby(["a", "b"], as_index=False)["c"].min()
        m = sparse.coo_matrix((frame["c"], (frame["a"], frame["b"])), shape=(n, n)).tocsr()
        return m

    def vertex_seconds(self, target: str) -> np.ndarray:
        """Seconds from every vertex to the nearest point of ``target`` (inf if unreachable),
        including the point's access leg (scipy's Dijkstra: the rasters' engine)."""
        from scipy import sparse
        from scipy.sparse import csgraph

        t = self.targets[target]
        n = len(self.vertices)
        g = self.graph()
        # A super source joined to each target vertex by its access leg.
        extra = sparse.coo_matrix((t.access_s + 1e-3, (np.full(len(t.vertices), n), t.vertices)),
                                  shape=(n + 1, n + 1)).tocsr()
        big = sparse.bmat([[g, None], [None, sparse.csr_matrix((1, 1))]]).tocsr() + extra
        dist = csgraph.dijkstra(big, directed=False, indices=n)
        return dist[:n]

    def nearest_vertex(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(vertex index, distance m) of the nearest main-component vertex to each point."""
        idx = np.flatnonzero(self.main)
        d, i = _tree(self.version, self.vertices[idx].tobytes()).query(xy)
        return idx[i], d


@lru_cache(maxsize=4)
def _tree(version: str, coords: bytes) -> cKDTree:
    from scipy.spatial import cKDTree

    return cKDTree(np.frombuffer(coords).reshape(-1, 2))


def _file_hash(path: Path) -> str:
    """The file's SHA-256, read again only when its size or modification time changed (the
    network version is asked for on every plot search)."""
    st = path.stat()
    return _content_hash(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=16)
def _content_hash(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise NetworkError(f"{path} is missing.", field="road_network", value=str(path))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise NetworkError(f"{path} must be a mapping.", field="road_network", value=str(path))
    return data


def source_path(layers_dir: Path) -> Path:
    """The road network's source file named by ``road_network.yaml``."""
    cfg = _yaml(Path(layers_dir) / NETWORK_FILE)
    p = Path(cfg["source"])
    return p if p.is_absolute() else Path(layers_dir) / p


def network_version(layers_dir: Path | str) -> str:
    """The version of the network configured in ``layers_dir``: a hash of the configuration,
    the speeds and the source's bytes (hashed again only when a file changed)."""
    layers_dir = Path(layers_dir)
    cfg_path, speeds_path = layers_dir / NETWORK_FILE, layers_dir / SPEEDS_FILE
    src = source_path(layers_dir)
    if not src.exists():
        raise NetworkError(f"The road network source {src} is missing.", field="source",
                           value=str(src))
    return hashlib.sha256(json.dumps(
        [_file_hash(cfg_path), _file_hash(speeds_path), _file_hash(src)]).encode()
    ).hexdigest()[:12]


def load_network(layers_dir: Path | str) -> Network:
    """The network configured in ``layers_dir``, read from its source (cached by the
    configuration's content)."""
    return _load(str(Path(layers_dir)), network_version(layers_dir))


def network_config(layers_dir: Path | str) -> dict[str, Any]:
    """``road_network.yaml`` of ``layers_dir`` (a clear error when missing or not a mapping)."""
    return _yaml(Path(layers_dir) / NETWORK_FILE)


def destination_names(layers_dir: Path | str) -> dict[str, tuple[str, str]]:
    """``{target id: (name_nb, name_en)}`` of the configured targets, in their order, from
    ``road_network.yaml`` alone (no source read: what pages and lists show)."""
    cfg = network_config(layers_dir)
    return {tid: (spec.get("name_nb", tid), spec.get("name_en", tid))
            for tid, spec in (cfg.get("targets") or {}).items()}


def access_speed(cfg: dict[str, Any]) -> float:
    """The access legs' speed (m/s) of a ``road_network.yaml``."""
    return float(cfg.get("access_speed_kmh", 30)) / 3.6


@lru_cache(maxsize=4)
def _load(layers_dir: str, version: str) -> Network:
    from scipy import sparse
    from scipy.sparse import csgraph

    cfg = _yaml(Path(layers_dir) / NETWORK_FILE)
    speeds = _yaml(Path(layers_dir) / SPEEDS_FILE)
    src = source_path(Path(layers_dir))
    fields = cfg.get("fields", {})
    raw = gpd.read_file(src, layer=cfg.get("layer"))
    if raw.crs is None:
        raise NetworkError(f"{src} has no coordinate reference system.", field="source",
                           value=str(src))
    raw = raw.to_crs(CRS)
    cols = {}
    for name in ("category", "number", "road_type", "motorway"):
        col = fields.get(name)
        if col and col not in raw.columns:
            raise NetworkError(f"road_network.yaml maps {name} to the column {col!r}, which "
                               f"{src} does not have (it has {', '.join(raw.columns)}).",
                               field=f"fields.{name}", value=col)
        text = raw[col].astype("string").fillna("") if col else None
        cols[name] = (text.astype(str).str.replace(r"\.0$", "", regex=True) if col
                      else pd.Series("", index=raw.index))
    edges = gpd.GeoDataFrame(cols, geometry=shapely.line_merge(raw.geometry.values), crs=CRS)
    edges = edges[edges.geometry.notna() & ~edges.geometry.is_empty]
    edges = edges[edges.geom_type == "LineString"].reset_index(drop=True)
    excl = cfg.get("exclude", {})
    keep = np.ones(len(edges), dtype=bool)
    for name, values in excl.items():
        keep &= ~edges[name].isin([str(v) for v in values]).to_numpy()
    edges = edges[keep].reset_index(drop=True)
    private = np.zeros(len(edges), dtype=bool)
    for name, values in cfg.get("private", {}).items():
        private |= edges[name].isin([str(v) for v in values]).to_numpy()
    edges["through"] = ~private

    # Topology: link ends snapped to a grid of snap_m.
    snap = float(cfg.get("snap_m", 1.0))
    first = shapely.get_coordinates(shapely.get_point(edges.geometry.values, 0))
    last = shapely.get_coordinates(shapely.get_point(edges.geometry.values, -1))
    ends = np.round(np.vstack([first, last]) / snap)
    uniq, inv = np.unique(ends, axis=0, return_inverse=True)
    inv = inv.ravel()
    vertices = uniq * snap
    edges["source"] = inv[: len(edges)]
    edges["target"] = inv[len(edges):]
    edges["length_m"] = edges.geometry.length
    edges["cost_s"] = _costs(edges, speeds)

    # Vertices of through routes only, and the largest connected component among them.
    n = len(vertices)
    t = edges[edges["through"]]
    g = sparse.coo_matrix((np.ones(len(t)), (t["source"], t["target"])), shape=(n, n))
    _, labels = csgraph.connected_components(g, directed=False)
    on_through = np.zeros(n, dtype=bool)
    on_through[t["source"]] = True
    on_through[t["target"]] = True
    sizes = np.bincount(labels[on_through])
    main = on_through & (labels == int(np.argmax(sizes)))

    access = access_speed(cfg)
    net = Network(vertices, main, edges, {}, access, version, speeds, layers_dir)
    targets = {}
    for key, (tid, spec) in enumerate(cfg.get("targets", {}).items(), start=1):
        if not TARGET_ID.match(tid):
            raise NetworkError(f"target id {tid!r} must be lower-case letters, digits, _",
                               field="targets", value=tid)
        names, pts = _target_points(spec, cfg, Path(layers_dir), src, edges, vertices)
        if len(pts) == 0:
            raise NetworkError(f"target {tid} selects no points.", field="targets", value=tid)
        v, d = net.nearest_vertex(pts)
        targets[tid] = Target(tid, key, spec.get("name_nb", tid), spec.get("name_en", tid),
                              v, d / access, pts, names)
    return Network(vertices, main, edges, targets, access, version, speeds, layers_dir)


def _costs(edges: gpd.GeoDataFrame, speeds: dict[str, Any]) -> np.ndarray:
    kmh = np.full(len(edges), float(speeds.get("default", 50)))
    done = np.zeros(len(edges), dtype=bool)
    for col, key in (("motorway", "motorway"), ("road_type", "road_type"),
                     ("category", "category")):
        for value, speed in (speeds.get(key) or {}).items():
            hit = ~done & (edges[col] == str(value)).to_numpy()
            kmh[hit] = float(speed)
            done |= hit
    pen = speeds.get("penalties", {})
    cost = edges["length_m"].to_numpy() / (kmh / 3.6) + float(pen.get("junction_s", 0))
    ferry = (edges["road_type"] == "bilferje").to_numpy()
    return cost + ferry * float(pen.get("ferry_s", 0))


def _target_points(spec: dict[str, Any], cfg: dict[str, Any], layers_dir: Path, src: Path,
                   edges: gpd.GeoDataFrame, vertices: np.ndarray
                   ) -> tuple[list[str], np.ndarray]:
    if "destinations" in spec:
        dest = gpd.read_file(src, layer=cfg.get("destinations", {}).get("layer", "Destinasjon"))
        dest = dest.to_crs(CRS)
        keep = np.ones(len(dest), dtype=bool)
        for col, values in spec["destinations"].items():
            keep &= dest[col].isin(values).to_numpy()
        dest = dest[keep]
        return list(dest["navn"]), shapely.get_coordinates(dest.geometry.values)
    if "layer" in spec:
        frame = gpd.read_file(src, layer=spec["layer"]).to_crs(CRS)
        names = list(frame["navn"]) if "navn" in frame.columns else [spec["layer"]] * len(frame)
        return names, shapely.get_coordinates(frame.geometry.centroid.values)
    if "junctions" in spec:
        j = spec["junctions"]

        def match(clauses: list[dict[str, list]]) -> np.ndarray:
            out = np.zeros(len(edges), dtype=bool)
            for clause in clauses:
                ok = np.ones(len(edges), dtype=bool)
                for col, values in clause.items():
                    ok &= edges[col].isin([str(v) for v in values]).to_numpy()
                out |= ok
            return out

        through = edges["through"].to_numpy()
        main_e = match(j["where"]) & through
        other_e = match(j["others"]) & through
        road = (edges["category"] + edges["number"]).to_numpy()
        ids = []
        for v in np.unique(np.concatenate([edges["source"][main_e], edges["target"][main_e]])):
            at = ((edges["source"] == v) | (edges["target"] == v)).to_numpy()
            mains = set(road[at & main_e])
            others = set(road[at & other_e]) - mains
            if others or len(mains) > 1:
                ids.append(v)
        return [f"kryss {i}" for i in ids], vertices[np.array(ids, dtype=int)]
    raise NetworkError("a target needs destinations, layer or junctions", field="targets")
