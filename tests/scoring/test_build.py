"""Layer building: the demo region, caching, real-source plug-ins and their errors."""

from __future__ import annotations

import shutil

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import yaml
from shapely.geometry import box

from landreg.scoring.build import build_layers, dem_from_file, region_grid
from landreg.scoring.catalogue import load_catalogue, load_profiles
from landreg.scoring.engine import score_plots
from landreg.scoring.errors import CriterionError, LayerError
from landreg.scoring.grid import Grid
from landreg.settings import REPO_ROOT
from tests.scoring.synthetic import write_raster

LAYERS = REPO_ROOT / "layers"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    cat = load_catalogue(LAYERS / "criteria.yaml")
    out = tmp_path_factory.mktemp("cache")
    return cat, build_layers(cat, out, 200, progress=False), out


def test_demo_layers_are_aligned_and_labelled(demo):
    cat, built, _ = demo
    assert set(built["paths"]) == set(cat.criteria)
    grids = set()
    for cid, path in built["paths"].items():
        with rasterio.open(path) as ds:
            grids.add((ds.transform, ds.shape, ds.crs.to_epsg()))
            tags = ds.tags()
            assert tags["criterion"] == cid
            assert tags["approximate"] == str(cat.criteria[cid].approximate)
    assert len(grids) == 1 and next(iter(grids))[2] == 25833
    assert cat.criteria["slope"].approximate and not cat.criteria["dist_rail"].approximate


def test_unchanged_layers_come_from_the_cache(demo):
    cat, built, out = demo
    again = build_layers(cat, out, 200, progress=False)
    assert again["built"] == [] and len(again["cached"]) == len(cat.criteria)
    assert again["version"] == built["version"]


def test_a_changed_source_rebuilds(tmp_path):
    root = tmp_path / "layers"
    (root / "sources").mkdir(parents=True)
    shutil.copy(LAYERS / "sources" / "glamdalen_n1000.gpkg", root / "sources")
    raw = yaml.safe_load((LAYERS / "criteria.yaml").read_text())
    raw["criteria"] = {"dist_rail": raw["criteria"]["dist_rail"]}
    (root / "criteria.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    cat = load_catalogue(root / "criteria.yaml", root=tmp_path)
    first = build_layers(cat, tmp_path / "cache", 500, progress=False)
    assert first["built"] == ["dist_rail"]
    with open(root / "sources" / "glamdalen_n1000.gpkg", "ab") as f:
        f.write(b"\0")  # any byte changed: the content hash changes
    second = build_layers(cat, tmp_path / "cache", 500, progress=False)
    assert second["built"] == ["dist_rail"] and second["version"] != first["version"]


def test_missing_source_is_refused_before_anything_is_written(tmp_path):
    raw = yaml.safe_load((LAYERS / "criteria.yaml").read_text())
    raw["source"] = str(tmp_path / "nowhere.gpkg")
    (tmp_path / "criteria.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    cat = load_catalogue(tmp_path / "criteria.yaml")
    with pytest.raises(LayerError, match="missing"):
        build_layers(cat, tmp_path / "cache", 500, progress=False)
    assert not any((tmp_path / "cache").rglob("*.tif"))


def test_bad_catalogue_is_refused(tmp_path):
    raw = yaml.safe_load((LAYERS / "criteria.yaml").read_text())
    raw["criteria"]["slope"]["statistic"] = "median"
    (tmp_path / "criteria.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(CriterionError, match="statistic must be one of"):
        load_catalogue(tmp_path / "criteria.yaml")


def test_profiles_load_and_sum_to_100():
    cat = load_catalogue(LAYERS / "criteria.yaml")
    profiles = load_profiles(LAYERS / "profiles", cat)
    assert {"logistics", "industry", "office", "wood_processing", "datacentre"} <= set(profiles)
    for p in profiles.values():
        assert sum(p.weights.values()) == pytest.approx(100)


def test_dem_in_another_crs_is_reprojected_and_no_crs_refused(tmp_path):
    grid = Grid(300_000, 6_700_000, 50, 50, 20.0)
    # a plane rising 1 m per metre eastwards, written in UTM 32 (EPSG:25832)
    from pyproj import Transformer

    tr = Transformer.from_crs(25833, 25832, always_xy=True)
    x0, y1 = tr.transform(300_000 - 200, 6_700_000 + 200)
    cols = np.arange(80)
    dem32 = np.tile(cols * 20.0, (80, 1))
    path = write_raster(tmp_path / "dtm32.tif", dem32, crs="EPSG:25832", x0=x0, y1=y1, res=20)
    out = dem_from_file(path, grid)
    assert np.isfinite(out).all()
    assert (np.diff(out[25]) > 0).all()  # still rising eastwards after reprojection
    nocrs = write_raster(tmp_path / "nocrs.tif", dem32, crs=None)
    with pytest.raises(LayerError, match="no CRS"):
        dem_from_file(nocrs, grid)
    with pytest.raises(LayerError, match="missing"):
        dem_from_file(tmp_path / "nope.tif", grid)


def test_demo_scores_are_plausible(demo):
    """A plot on E16 scores higher on dist_main_road than one far from E16 and Rv2."""
    cat, built, _ = demo
    profiles = load_profiles(LAYERS / "profiles", cat)
    roads = gpd.read_file(cat.source, layer="Veglenke")
    main = ((roads.vegkategori == "E") & (roads.vegnummer == 16)) | (
        (roads.vegkategori == "R") & (roads.vegnummer == 2))
    e16 = roads[main].geometry.union_all()  # E16 and Rv2: the main roads
    kongsvinger = gpd.read_file(cat.source, layer="Kommune").set_index("kommunenummer").loc[
        "3401", "geometry"]
    near_pt = e16.intersection(kongsvinger.buffer(-2000)).representative_point()
    import shapely

    minx, miny, maxx, maxy = kongsvinger.bounds
    xs, ys = np.meshgrid(np.arange(minx, maxx, 1000), np.arange(miny, maxy, 1000))
    pts = shapely.points(xs.ravel(), ys.ravel())
    pts = pts[shapely.contains(kongsvinger.buffer(-500), pts)]
    dists = shapely.distance(pts, e16)
    far_pt = pts[int(np.argmax(dists))]
    assert dists.max() > 8000
    frame = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[
        box(near_pt.x - 200, near_pt.y - 200, near_pt.x + 200, near_pt.y + 200),
        box(far_pt.x - 200, far_pt.y - 200, far_pt.x + 200, far_pt.y + 200)], crs=25833)
    res = score_plots(frame, profiles["logistics"], cat, built["paths"], built["version"])
    bd = res.breakdown.set_index(["id", "criterion"])
    assert bd.loc[(1, "dist_main_road"), "raw"] < 300
    assert bd.loc[(2, "dist_main_road"), "raw"] > 7000
    assert bd.loc[(1, "dist_main_road"), "normalised"] > bd.loc[(2, "dist_main_road"),
                                                                 "normalised"]
    assert res.summary.loc[1, "score"] > res.summary.loc[2, "score"]
    assert region_grid(cat, 200).res == 200


def test_dtm_without_crs_is_refused_before_any_layer_is_written(tmp_path):
    bad = write_raster(tmp_path / "dtm.tif", np.zeros((10, 10)), crs=None)
    raw = yaml.safe_load((LAYERS / "criteria.yaml").read_text())
    raw["source"] = str(LAYERS / "sources" / "glamdalen_n1000.gpkg")
    raw["criteria"]["elevation"]["build"] = {"kind": "dem", "source": str(bad)}
    (tmp_path / "criteria.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    cat = load_catalogue(tmp_path / "criteria.yaml")
    with pytest.raises(LayerError, match="no CRS"):
        build_layers(cat, tmp_path / "cache", 500, progress=False)
    assert not any((tmp_path / "cache").rglob("*.tif"))
