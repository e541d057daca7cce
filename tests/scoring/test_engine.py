"""Weighted sums, hard limits, incomplete plots, sensitivity, surfaces and candidates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from landreg.scoring.catalogue import check_weights, with_weights
from landreg.scoring.engine import score_plots, sensitivity
from landreg.scoring.errors import ProfileError
from landreg.scoring.grid import Grid
from landreg.scoring.surface import candidate_areas, suitability_surface
from tests.scoring.synthetic import RES, X0, Y1, catalogue, cell_box, plots, profile, write_raster

DEC = {"function": "decreasing", "lo": 0, "hi": 100}


@pytest.fixture
def setup(tmp_path):
    a = np.zeros((10, 10))
    a[:, 5:] = 50          # right half: 50 → value 0.5
    b = np.full((10, 10), 100.0)
    b[:5, :] = 0           # top half: 0 → value 1
    b[9, 9] = np.nan
    paths = {"a": write_raster(tmp_path / "a.tif", a), "b": write_raster(tmp_path / "b.tif", b)}
    cat = catalogue(a=("mean", DEC), b=("mean", DEC))
    return cat, paths


def test_weighted_sum_by_hand(setup):
    cat, paths = setup
    prof = profile({"a": 60, "b": 40})
    frame = plots(cell_box(0, 0, 2, 2), cell_box(6, 6, 8, 8), cell_box(6, 0, 8, 2))
    res = score_plots(frame, prof, cat, paths)
    s = res.summary["score"]
    assert s[1] == pytest.approx(60 * 1 + 40 * 1)      # a=0, b=0
    assert s[2] == pytest.approx(60 * 0.5 + 40 * 0)    # a=50, b=100
    assert s[3] == pytest.approx(60 * 0.5 + 40 * 1)    # a=50, b=0
    assert list(res.summary.sort_values("rank").index) == [1, 3, 2]
    bd = res.breakdown.set_index(["id", "criterion"])
    assert bd.loc[(2, "a"), "raw"] == 50 and bd.loc[(2, "a"), "normalised"] == 0.5
    assert bd.loc[(2, "a"), "contribution"] == pytest.approx(30)


def test_hard_limits_exclude_but_keep_the_score(setup):
    cat, paths = setup
    prof = profile({"a": 50, "b": 50}, limits={"min_area_daa": 0.3})
    frame = plots(cell_box(0, 0, 1, 1), cell_box(0, 0, 6, 6))  # 0.1 and 3.6 daa
    res = score_plots(frame, prof, cat, paths)
    row = res.summary.loc[1]
    assert row["excluded"] and row["score"] == pytest.approx(100)
    assert "area_daa 0.1 < 0.3 (min_area_daa)" in row["reasons"][0]
    assert not res.summary.loc[2, "excluded"]
    assert res.summary.loc[2, "rank"] == 1  # eligible plots rank above excluded ones


def test_nodata_makes_a_plot_incomplete_not_zero(setup, tmp_path):
    cat, paths = setup
    res = score_plots(plots(cell_box(9, 9, 10, 10)), profile({"a": 50, "b": 50}), cat, paths)
    row = res.summary.iloc[0]
    assert row["incomplete"] and row["missing"] == ["b"]
    assert row["score"] == pytest.approx(50 * 0.5)


def test_weights_must_sum_to_100_and_name_known_criteria(setup):
    cat, _ = setup
    with pytest.raises(ProfileError, match="sum to 90"):
        check_weights("p", {"a": 50, "b": 40}, cat)
    with pytest.raises(ProfileError, match="unknown criterion 'c'"):
        check_weights("p", {"a": 50, "c": 50}, cat)
    custom = with_weights(profile({"a": 50, "b": 50}), {"a": 100}, cat)
    assert custom.weights == {"a": 100.0} and custom.version != "p-1"


def test_sensitivity_reports_rank_moves(setup):
    cat, paths = setup
    frame = plots(cell_box(0, 0, 2, 2), cell_box(6, 6, 8, 8), cell_box(6, 0, 8, 2),
                  cell_box(0, 6, 2, 8))
    res = score_plots(frame, profile({"a": 50, "b": 50}), cat, paths)
    table = sensitivity(res)
    assert set(table.columns) >= {"max_shift", "worst_move", "a+10", "a-10", "b+10", "b-10"}
    assert table.loc[1, "max_shift"] == 0  # best on both criteria: never moves
    # plots 3 (a=.5,b=1) and 4 (a=1,b=0): 75 vs 50 at 50/50; still ordered at ±10
    assert (table["max_shift"] >= 0).all()


def test_surface_and_candidates(setup, tmp_path):
    cat, paths = setup
    prof = profile({"a": 50, "b": 50}, limits={"min_area_daa": 0.5})
    surface, grid = suitability_surface(prof, cat, paths, out=tmp_path / "s.tif")
    assert surface[0, 0] == pytest.approx(100) and surface[9, 0] == pytest.approx(50)
    assert np.isnan(surface[9, 9]) or surface[9, 9] < 50  # nodata cell never scores high
    kommuner = gpd.GeoDataFrame({"kommunenummer": ["3401", "3415"]},
                                geometry=[box(X0, Y1 - 100, X0 + 30, Y1),
                                          box(X0 + 30, Y1 - 100, X0 + 100, Y1)], crs=25833)
    existing = plots(cell_box(0, 0, 2, 2))
    cands = candidate_areas(surface, Grid(X0, Y1, 10, 10, RES), prof, 99, existing, kommuner)
    assert len(cands) == 1  # the top-left quarter (score 100) minus the existing plot
    c = cands.iloc[0]
    assert c["area_daa"] == pytest.approx((25 - 4) * RES * RES / 1000)
    assert c["score"] == pytest.approx(100)
    assert c["kommunenummer"] == "3401"  # 11 of its 21 cells lie in 3401, 10 in 3415
    assert c["kommuner"] == "3401,3415"
    none = candidate_areas(surface, Grid(X0, Y1, 10, 10, RES),
                           profile({"a": 50, "b": 50}, limits={"min_area_daa": 50}), 99,
                           existing, kommuner)
    assert len(none) == 0


def test_rank_eligible_first_then_by_score_ties_keep_their_order():
    import pandas as pd

    from landreg.scoring.engine import rank

    summary = pd.DataFrame({"score": [50.0, 70.0, 70.0, 90.0, 70.0, 10.0],
                            "excluded": [False, False, False, True, False, True]},
                           index=[11, 12, 13, 14, 15, 16])
    assert rank(summary).tolist() == [4, 1, 2, 5, 3, 6]
