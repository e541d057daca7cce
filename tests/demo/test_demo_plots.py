"""The fictitious demo plots: where they lie and what they say (pure geopandas, no database)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.strtree import STRtree

from landreg.demo.plots import generate_demo_plots

GPKG = Path(__file__).resolve().parents[2] / "layers" / "sources" / "glamdalen_n1000.gpkg"
KOMMUNER = ("3401", "3414", "3415", "3416", "3417", "3418", "3419")
ALLOWED_CODES = {1300, 1340, 1350, 1826, 1811, 1825, 1310, 1390, 1360, 1150, 1130,
                 130, 133, 134, 1800}
OLD_CODES = {130, 133, 134}
COLUMNS = [
    "external_ref", "name", "kommunenummer", "arealformal", "plan_status", "plan_id",
    "availability", "road_access", "water_sewer", "power_capacity_mw", "ownership",
    "price_nok_m2", "max_bya_pct", "max_height_m", "contact", "description", "internal_notes",
    "published", "geometry",
]


@pytest.fixture(scope="module")
def plots() -> gpd.GeoDataFrame:
    return generate_demo_plots(GPKG)


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    return {name: gpd.read_file(GPKG, layer=name).to_crs(25833)
            for name in ("Kommune", "Innsjo", "Elv", "Stedsnavn", "Veglenke", "Bane")}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def test_shape_of_the_frame(plots):
    assert len(plots) >= 80
    assert list(plots.columns) == COLUMNS
    assert plots.crs.to_epsg() == 25833
    assert set(plots.geom_type) == {"Polygon"}
    assert plots.index.is_unique


def test_every_kommune_has_plots_most_in_kongsvinger_and_sor_odal(plots):
    counts = plots.kommunenummer.value_counts()
    assert set(counts.index) == set(KOMMUNER)
    assert counts.min() >= 6
    others = counts.drop(["3401", "3415"]).max()
    assert counts["3401"] >= others and counts["3415"] >= others


def test_each_plot_inside_its_own_kommune_with_a_margin(plots, layers):
    kommuner = layers["Kommune"].assign(
        kommunenummer=lambda f: f.kommunenummer.astype(str)).set_index("kommunenummer").geometry
    for ref, k, geom in zip(plots.external_ref, plots.kommunenummer, plots.geometry,
                            strict=True):
        home = kommuner[k]
        assert geom.within(home), ref
        assert home.boundary.distance(geom) >= 49.0, ref


def test_clear_of_lakes_and_rivers(plots, layers):
    water = pd.concat([layers["Innsjo"].geometry, layers["Elv"].geometry], ignore_index=True)
    tree = STRtree(list(water))
    for ref, geom in zip(plots.external_ref, plots.geometry, strict=True):
        assert tree.query(geom, predicate="intersects").size == 0, ref
        assert tree.query(geom, predicate="dwithin", distance=29.0).size == 0, ref


def test_plots_do_not_overlap_and_keep_a_gap(plots):
    geoms = list(plots.geometry)
    left, right = STRtree(geoms).query(geoms, predicate="dwithin", distance=19.9)
    pairs = {(int(a), int(b)) for a, b in zip(left, right, strict=True) if a != b}
    assert pairs == set()


def test_sizes_between_2_and_300_daa_and_skewed(plots):
    daa = plots.geometry.area / 1000.0
    assert daa.min() >= 2.0 and daa.max() <= 300.0
    assert ((daa >= 5) & (daa <= 50)).sum() > len(plots) / 2  # many 5–50 daa
    assert ((daa > 50) & (daa <= 150)).sum() >= 5  # some 50–150
    assert 1 <= (daa > 150).sum() <= len(plots) * 0.15  # a handful 150–300


def test_geometries_valid_and_rounded_to_decimetres(plots):
    assert plots.is_valid.all()
    coords = shapely.get_coordinates(plots.geometry.values)
    assert np.allclose(coords * 10, np.round(coords * 10), atol=1e-6)


def test_same_seed_gives_identical_output(plots):
    again = generate_demo_plots(GPKG, seed=2020)
    assert list(again.geometry.to_wkb()) == list(plots.geometry.to_wkb())
    pd.testing.assert_frame_equal(again.drop(columns="geometry"), plots.drop(columns="geometry"))


def test_other_seed_other_plots_and_n_is_honoured(plots):
    other = generate_demo_plots(GPKG, seed=7, n=84)
    assert len(other) == 84
    assert other.kommunenummer.value_counts().min() >= 6
    assert list(other.geometry.to_wkb()[:10]) != list(plots.geometry.to_wkb()[:10])


def test_too_few_plots_refused():
    with pytest.raises(ValueError):
        generate_demo_plots(GPKG, n=20)


def test_every_plot_near_a_town_main_road_or_railway(plots, layers):
    kommuner = shapely.union_all(list(layers["Kommune"].geometry))
    places = layers["Stedsnavn"]
    towns = places[places.within(kommuner)]
    roads = layers["Veglenke"]
    trunk = roads[((roads.vegkategori == "E") & (roads.vegnummer == 16))
                  | ((roads.vegkategori == "R") & (roads.vegnummer == 2))]
    infra = shapely.union_all(list(towns.geometry) + list(trunk.geometry)
                              + list(layers["Bane"].geometry))
    far = plots[plots.distance(infra) > 3500.0]
    assert far.empty, list(far.external_ref)


def test_names_refs_and_codes(plots):
    assert plots.name.str.contains("(fiktiv", regex=False).all()
    assert plots.external_ref.is_unique
    for ref, k in zip(plots.external_ref, plots.kommunenummer, strict=True):
        assert re.fullmatch(rf"DEMO-{k}-\d{{3}}", ref), ref
    codes = set(plots.arealformal.astype(int))
    assert codes <= ALLOWED_CODES
    assert codes & OLD_CODES, "some plots on older plans (1985-act codes)"
    assert {1300, 1340, 1350} <= codes


def test_plan_status_and_plan_ids(plots):
    assert set(plots.plan_status) <= {"nåværende", "framtidig"}
    future = plots[plots.plan_status == "framtidig"]
    assert 1 <= len(future) <= len(plots) * 0.2
    assert set(future.arealformal) <= {1300, 1800}
    for pid, k in zip(plots.plan_id, plots.kommunenummer, strict=True):
        assert re.fullmatch(rf"{k}_\d{{7}}", pid), pid


def test_attribute_values(plots):
    assert set(plots.availability) <= {"ledig", "reservert", "under_forhandling", "solgt",
                                       "utbygd"}
    assert plots.availability.value_counts().idxmax() == "ledig"
    assert set(plots.ownership) <= {"kommunal", "privat", "statlig", "annen"}
    for col in ("road_access", "water_sewer", "published"):
        assert all(isinstance(v, (bool, np.bool_)) for v in plots[col]), col
    assert 0.8 <= plots.published.mean() <= 0.97
    assert plots.contact.str.fullmatch(r"[a-z.-]+@[a-z0-9.-]+\.example").all()
    assert (plots.description.str.len() > 20).all()
    assert plots.internal_notes.str.len().gt(5).all()
    prices = [float(v) for v in plots.price_nok_m2 if not _missing(v)]
    assert prices and 100 <= min(prices) and max(prices) <= 900
    bya = [v for v in plots.max_bya_pct if not _missing(v)]
    assert all(float(v) == int(v) and 30 <= v <= 80 for v in bya)
    heights = [float(v) for v in plots.max_height_m if not _missing(v)]
    assert all(8 <= h <= 25 for h in heights)
    power = [float(v) for v in plots.power_capacity_mw if not _missing(v)]
    assert all(0 < p <= 50 for p in power)


def test_readiness_follows_status(plots):
    done = plots[plots.availability.isin(["solgt", "utbygd"])]
    assert done.road_access.all() and done.water_sewer.all()
    future = plots[plots.plan_status == "framtidig"]
    if len(future):
        assert future.water_sewer.mean() <= 0.5


def test_centres_are_dearer(plots):
    price = pd.to_numeric(plots.price_nok_m2, errors="coerce")
    centre = price[plots.arealformal.isin([1130, 1150, 1310])].dropna()
    industry = price[plots.arealformal.isin([1340, 1350, 1826, 133, 134])].dropna()
    assert len(centre) and len(industry)
    assert centre.median() > industry.median()


def test_rows_pass_the_registry_attribute_checks(plots):
    from landreg.registry.fields import clean_attributes

    for rec in plots.drop(columns="geometry").to_dict("records"):
        clean = {k: (None if _missing(v) else v.item() if hasattr(v, "item") else v)
                 for k, v in rec.items()}
        clean_attributes(clean, creating=True)
