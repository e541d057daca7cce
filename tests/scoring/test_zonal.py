"""Per-plot statistics against hand-computed answers and against rasterstats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.affinity import rotate
from shapely.geometry import Point

from landreg.scoring.errors import LayerError
from landreg.scoring.zonal import zonal_stats
from tests.scoring.synthetic import RES, X0, Y1, cell_box, plots, write_raster


@pytest.fixture
def ramp(tmp_path):
    # value = 10*row + col on a 20×20 grid
    rows, cols = np.mgrid[0:20, 0:20]
    return write_raster(tmp_path / "ramp.tif", 10.0 * rows + cols)


def test_hand_computed_mean_min_max(ramp):
    p = plots(cell_box(2, 3, 5, 5))  # cells rows 3–4, cols 2–4
    out = zonal_stats(p, {"v": ramp}).loc[1]
    vals = [10 * r + c for r in (3, 4) for c in (2, 3, 4)]
    assert out["v_mean"] == pytest.approx(np.mean(vals))
    assert out["v_min"] == min(vals) and out["v_max"] == max(vals)
    assert out["v_count"] == 6 and out["method"] == "cells"


def test_plot_smaller_than_a_cell_takes_the_centroid_cell(ramp):
    tiny = cell_box(7.2, 4.2, 7.4, 4.4)  # inside cell row 4, col 7, misses its centre
    out = zonal_stats(plots(tiny), {"v": ramp}).loc[1]
    assert out["method"] == "centroid"
    assert out["v_mean"] == out["v_min"] == out["v_max"] == 47


def test_nodata_is_left_out_and_all_nodata_is_nan(tmp_path):
    a = np.ones((10, 10))
    a[0, 0] = np.nan
    a[5:7, 5:7] = np.nan
    path = write_raster(tmp_path / "a.tif", a)
    out = zonal_stats(plots(cell_box(0, 0, 2, 1), cell_box(5, 5, 7, 7)), {"v": path})
    assert out.loc[1, "v_mean"] == 1.0 and out.loc[1, "v_count"] == 1
    assert np.isnan(out.loc[2, "v_mean"]) and out.loc[2, "v_count"] == 0


def test_numeric_nodata_value_is_respected(tmp_path):
    a = np.full((4, 4), 5.0)
    a[0, :] = -9999
    path = write_raster(tmp_path / "a.tif", a, nodata=-9999)
    out = zonal_stats(plots(cell_box(0, 0, 4, 2)), {"v": path}).loc[1]
    assert out["v_mean"] == 5.0 and out["v_count"] == 4


def test_edge_plot_partly_outside_the_raster(ramp):
    p = plots(cell_box(18, 18, 25, 25))  # 2×2 cells inside, the rest outside the grid
    out = zonal_stats(p, {"v": ramp}).loc[1]
    assert out["v_count"] == 4
    assert out["v_mean"] == pytest.approx(np.mean([198, 199, 208, 209]))


def test_overlapping_plots_each_get_their_cells(ramp):
    a, b = cell_box(0, 0, 4, 4), cell_box(2, 2, 6, 6)
    out = zonal_stats(plots(a, b), {"v": ramp})
    assert out.loc[1, "v_count"] == 16 and out.loc[2, "v_count"] == 16
    assert out.loc[2, "v_min"] == 22 and out.loc[2, "v_max"] == 55


def test_share_of_a_mask(tmp_path):
    m = np.zeros((10, 10))
    m[:, :3] = 1
    path = write_raster(tmp_path / "m.tif", m)
    out = zonal_stats(plots(cell_box(0, 0, 6, 2)), {"m": path}).loc[1]
    assert out["m_share"] == pytest.approx(0.5)


def test_layers_on_different_grids_are_refused(tmp_path, ramp):
    other = write_raster(tmp_path / "o.tif", np.zeros((20, 20)), x0=X0 + 5)
    with pytest.raises(LayerError, match="not on the grid"):
        zonal_stats(plots(cell_box(0, 0, 2, 2)), {"v": ramp, "o": other})


def test_equals_rasterstats_to_1e6(tmp_path):
    from rasterstats import zonal_stats as rs_zonal

    rng = np.random.default_rng(7)
    data = rng.normal(100, 30, size=(300, 400))
    data[rng.random(data.shape) < 0.02] = np.nan
    path = write_raster(tmp_path / "r.tif", data)
    geoms = []
    for _ in range(150):
        cx = X0 + rng.uniform(200, 3800)
        cy = Y1 - rng.uniform(200, 2800)
        poly = Point(cx, cy).buffer(rng.uniform(25, 150), quad_segs=4)
        geoms.append(rotate(poly.envelope if rng.random() < 0.5 else poly, rng.uniform(0, 90)))
    frame = plots(*geoms)
    ours = zonal_stats(frame, {"r": path})
    ref = rs_zonal(list(frame.geometry), str(path), stats=["mean", "min", "max", "count"],
                   nodata=np.nan)
    compared = 0
    for pid, r in zip(frame["id"], ref, strict=True):
        if ours.loc[pid, "method"] != "cells" or r["count"] == 0:
            continue
        assert ours.loc[pid, "r_count"] == r["count"]
        # rasterstats sums float32 values in float32; we sum in float64: agree to 1e-6 relative
        assert ours.loc[pid, "r_mean"] == pytest.approx(r["mean"], rel=1e-6)
        assert ours.loc[pid, "r_min"] == pytest.approx(r["min"], abs=1e-6)
        assert ours.loc[pid, "r_max"] == pytest.approx(r["max"], abs=1e-6)
        compared += 1
    assert compared > 100
    assert RES == 10.0


def test_memory_mapped_and_compressed_layers_agree(tmp_path, ramp):
    from landreg.scoring.zonal import raw_view

    with rasterio.open(ramp) as ds:
        assert raw_view(ds) is not None  # uncompressed strips: the fast path
        profile = ds.profile | {"compress": "deflate", "tiled": True, "blockxsize": 16,
                                "blockysize": 16}
        data = ds.read(1)
    packed = tmp_path / "packed.tif"
    with rasterio.open(packed, "w", **profile) as ds:
        ds.write(data, 1)
    with rasterio.open(packed) as ds:
        assert raw_view(ds) is None  # compressed: read through GDAL
    frame = plots(cell_box(1, 1, 7, 9), cell_box(10.5, 3, 19, 6.5), cell_box(4.2, 4.2, 4.4, 4.4))
    fast = zonal_stats(frame, {"v": ramp})
    slow = zonal_stats(frame, {"v": packed})
    pd.testing.assert_frame_equal(fast, slow)


def test_cells_are_exactly_the_ones_gdal_burns():
    """The vectorised scan conversion takes the cells GDAL's rasterizer (rasterio, rasterstats)
    burns for each plot on its own: random polygons with holes and several parts, rotated
    boxes, boxes on whole and half cells in both orientations (edges through cell centres),
    triangles with corners on cell centres, plots partly off the raster."""
    import shapely
    from affine import Affine
    from rasterio.features import rasterize
    from shapely.geometry import MultiPolygon, Polygon

    from landreg.scoring.zonal import runs

    transform, height, width = Affine(RES, 0, X0, 0, -RES, Y1), 60, 80
    rng = np.random.default_rng(3)
    geoms = []
    for _ in range(150):
        cx, cy = X0 + rng.uniform(-50, 850), Y1 - rng.uniform(-50, 650)
        g = Point(cx, cy).buffer(rng.uniform(3, 120), quad_segs=int(rng.integers(1, 6)))
        k = rng.random()
        if k < 0.3:
            g = rotate(g.envelope, rng.uniform(0, 90))
        elif k < 0.5:
            g = g.difference(Point(cx, cy).buffer(rng.uniform(1, 30)))
        elif k < 0.7:
            other = Point(cx + 300, cy).buffer(40)
            if not g.intersects(other):
                g = MultiPolygon([g, other])
        if not g.is_empty:
            geoms.append(g)
    for _ in range(150):
        c0 = rng.integers(-3, 75) + rng.choice([0, 0.5])
        r0 = rng.integers(-3, 55) + rng.choice([0, 0.5])
        g = cell_box(c0, r0, c0 + rng.integers(1, 12) * rng.choice([0.5, 1]),
                     r0 + rng.integers(1, 12) * rng.choice([0.5, 1]))
        geoms.append(shapely.reverse(g) if rng.random() < 0.5 else g)
    for _ in range(100):
        corners = [(X0 + (rng.integers(0, 80) + 0.5) * RES, Y1 - (rng.integers(0, 60) + 0.5)
                    * RES) for _ in range(3)]
        if Polygon(corners).area > 0:
            geoms.append(Polygon(corners))
    geoms = np.array(geoms, dtype=object)
    p, row, c0, c1 = runs(geoms, transform, height, width)
    assert (np.diff(p) >= 0).all() and (c1 > c0).all()
    for i, g in enumerate(geoms):
        gdal = rasterize([(g, 1)], out_shape=(height, width), transform=transform, fill=0,
                         dtype="uint8").astype(bool)
        ours = np.zeros((height, width), dtype=int)
        for r, a, b in zip(row[p == i], c0[p == i], c1[p == i], strict=True):
            ours[r, a:b] += 1
        assert ours.max() <= 1, f"plot {i}: a cell taken twice"
        assert (gdal == ours.astype(bool)).all(), f"plot {i}: {g.wkt[:80]}"


def test_only_the_statistics_asked_for_and_the_same_values(ramp):
    frame = plots(cell_box(1, 1, 7, 9), cell_box(10.5, 3, 19, 6.5), cell_box(4.2, 4.2, 4.4, 4.4))
    full = zonal_stats(frame, {"v": ramp, "w": ramp})
    some = zonal_stats(frame, {"v": ramp, "w": ramp}, {"v": ["min"], "w": ["share"]})
    assert set(some.columns) == {"method", "v_min", "v_count", "w_mean", "w_share", "w_count"}
    pd.testing.assert_frame_equal(some, full[some.columns])
    with pytest.raises(ValueError, match="unknown statistics"):
        zonal_stats(frame, {"v": ramp}, {"v": ["median"]})


@pytest.mark.parametrize("nodata", [float("nan"), -9999.0])
def test_each_plot_its_own_cells_when_runs_are_read_in_raster_order(tmp_path, nodata):
    """Layers are read front to back (the runs of all plots sorted by row and column) and
    reduced per run, then per plot: overlapping plots, plots on the same rows, several layers,
    nodata in some runs, in every run of a plot, and none at all — each plot's mean, min, max
    and count equal those of the cells GDAL burns for it alone (float64 sums)."""
    from rasterio.features import rasterize

    rng = np.random.default_rng(11)
    data = rng.normal(100, 30, size=(120, 160))
    hole = np.zeros(data.shape, bool)
    hole[rng.random(data.shape) < 0.03] = True
    hole[40:60, 100:130] = True  # a patch that swallows a whole plot
    with_nodata = np.where(hole, nodata, data)
    clean = rng.uniform(0, 5000, size=data.shape)
    layers = {"v": write_raster(tmp_path / "v.tif", with_nodata, nodata=nodata),
              "w": write_raster(tmp_path / "w.tif", clean)}
    geoms = [cell_box(102, 42, 110, 50)]  # all nodata
    for _ in range(120):  # dense and overlapping: many plots share rows and cells
        cx, cy = X0 + rng.uniform(0, 1600), Y1 - rng.uniform(0, 1200)
        poly = Point(cx, cy).buffer(rng.uniform(15, 200), quad_segs=int(rng.integers(1, 5)))
        geoms.append(rotate(poly, rng.uniform(0, 90)))
    frame = plots(*geoms)
    out = zonal_stats(frame, layers)
    transform = rasterio.Affine(RES, 0, X0, 0, -RES, Y1)
    checked = 0
    for pid, g in zip(frame["id"], frame.geometry, strict=True):
        mask = rasterize([(g, 1)], out_shape=data.shape, transform=transform, fill=0,
                         dtype="uint8").astype(bool)
        if not mask.any():
            continue
        for name, values in (("v", np.where(hole, np.nan, data)), ("w", clean)):
            cells = values.astype(np.float32)[mask]
            valid = cells[~np.isnan(cells)]
            row = out.loc[pid]
            assert row[f"{name}_count"] == valid.size
            if valid.size == 0:
                assert np.isnan(row[f"{name}_mean"]) and np.isnan(row[f"{name}_min"])
                continue
            assert row[f"{name}_min"] == valid.min() and row[f"{name}_max"] == valid.max()
            assert row[f"{name}_mean"] == pytest.approx(valid.astype(np.float64).mean(),
                                                        rel=1e-12)
        checked += 1
    assert checked > 100
    assert out.loc[1, "v_count"] == 0 and out.loc[1, "w_count"] > 0
