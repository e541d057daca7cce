"""Settlement points stand in for N1000's missing built-up shapes (issue 13, honest inputs):
Flisa and the other places without a shape count as built-up, the criteria near them move the
way they should, and the pages that show those criteria say what remains approximate."""

from __future__ import annotations

import copy

import geopandas as gpd
import numpy as np
import pytest
import rasterio.transform

from landreg.scoring.build import _build_one, region_grid, settlements
from landreg.scoring.catalogue import Criterion, load_catalogue
from landreg.settings import REPO_ROOT

LAYERS = REPO_ROOT / "layers"
SETTLED = ("dist_centre", "dist_built_up", "farmland_share")
# The recipes before settlement points were used (built-up: the shapes alone; centre and
# farmland: shapes and bare points).
BEFORE = {"dist_centre": {"kind": "distance", "layer": ["Tettbebyggelse", "Stedsnavn"]},
          "dist_built_up": {"kind": "distance", "layer": "Tettbebyggelse"},
          "farmland_share": {"kind": "farmland", "layer": "ApentOmrade",
                             "near": ["Tettbebyggelse", "Stedsnavn"], "near_m": 3000}}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(LAYERS / "criteria.yaml")


@pytest.fixture(scope="module")
def places(catalogue) -> gpd.GeoDataFrame:
    return gpd.read_file(catalogue.source, layer="Stedsnavn").to_crs(25833)


@pytest.fixture(scope="module")
def shapes(catalogue) -> gpd.GeoDataFrame:
    return gpd.read_file(catalogue.source, layer="Tettbebyggelse").to_crs(25833)


def _spec(catalogue) -> dict:
    return catalogue.criteria["dist_built_up"].build["layer"][0]["settlements"]


def test_the_three_criteria_rest_on_one_settlements_block(catalogue) -> None:
    assert {c for c, v in catalogue.criteria.items() if v.settlement_points} == set(SETTLED)
    specs = [catalogue.criteria["dist_centre"].build["layer"][0],
             catalogue.criteria["dist_built_up"].build["layer"][0],
             catalogue.criteria["farmland_share"].build["near"][0]]
    assert specs[0] == specs[1] == specs[2] == catalogue.raw["settlements"]
    assert set(_spec(catalogue)["radius_m"]) == {"by", "tettsted", "tettbebyggelse"}


def test_places_without_a_shape_become_built_up_and_labels_of_shapes_do_not(
        catalogue, places, shapes) -> None:
    built = settlements(catalogue, _spec(catalogue)).geometry.union_all()
    spec = _spec(catalogue)
    towns = shapes.geometry.union_all()
    lone = places[places.distance(towns) > spec["covered_m"]]
    assert {"Flisa", "Kirkenær", "Skarnes", "Magnor", "Jømna"} <= set(lone["navn"])
    for row in lone.itertuples():  # each such place is built-up, a disc of its type's size
        r = spec["radius_m"][row.navneobjekttype]
        assert built.contains(row.geometry), row.navn
        assert built.contains(row.geometry.buffer(r * 0.95)), row.navn
    # Kongsvinger's label lies beside its shape: no phantom disc 1.4 km off the town
    kongsvinger = places[places["navn"] == "Kongsvinger"].geometry.iloc[0]
    assert 1000 < kongsvinger.distance(towns) < 3000
    assert built.difference(towns).distance(kongsvinger) > 1000
    assert built.contains(towns)  # the shapes themselves are kept whole


def _window_stat(array: np.ndarray, grid, x: float, y: float, half: float, how) -> float:
    r0, c0 = rasterio.transform.rowcol(grid.transform, x - half, y + half)
    r1, c1 = rasterio.transform.rowcol(grid.transform, x + half, y - half)
    return float(how(array[r0:r1 + 1, c0:c1 + 1]))


def test_a_plot_in_flisa_moves_the_expected_way(catalogue, places) -> None:
    """A 600 × 600 m plot on Flisa's point: built-up at distance 0 (it was 37 km, the nearest
    N1000 shape), the centre no farther, the farmland share around it no smaller."""
    grid = region_grid(catalogue, 100)
    flisa = places[places["navn"] == "Flisa"].geometry.iloc[0]
    values = {}
    for cid in SETTLED:
        c = catalogue.criteria[cid]
        old = Criterion(**{**c.__dict__, "build": copy.deepcopy(BEFORE[cid])})
        how = np.nanmean if cid == "farmland_share" else np.nanmin
        values[cid] = [_window_stat(_build_one(x, catalogue, grid, None), grid, flisa.x,
                                    flisa.y, 300, how) for x in (old, c)]
    before, after = values["dist_built_up"]
    assert before > 30_000 and after == 0
    before, after = values["dist_centre"]
    assert after <= before and after == 0
    before, after = values["farmland_share"]
    assert after >= before


@pytest.fixture
def client(settings):
    from landreg.web import create_app

    return create_app({"TESTING": True}, settings=settings).test_client()


@pytest.mark.parametrize("lang, words", [("nb", "N1000 mangler de fleste tettstedsflatene"),
                                         ("en", "N1000 lacks most built-up shapes")])
def test_the_limitation_is_stated_where_the_criteria_are_shown(client, lang, words) -> None:
    top = client.get("/api/rankings/logistics?top=2").get_json()["items"]
    ids = ",".join(str(i["plot_id"]) for i in top)
    compare = client.get(f"/compare?profile=logistics&plots={ids}&lang={lang}")
    assert compare.status_code == 200
    html = compare.get_data(as_text=True)
    assert 'id="settlements-note"' in html and words in html
    assert client.get(f"/api/compare?profile=logistics&plots={ids}").get_json()[
        "settlement_note"] is True
    page = client.get(f"/plots/{top[0]['plot_id']}?lang={lang}").get_data(as_text=True)
    assert 'id="scores"' in page and 'id="settlements-note"' in page and words in page


@pytest.mark.parametrize("lang, words", [("nb", "N1000 mangler de fleste tettstedsflatene"),
                                         ("en", "N1000 lacks most built-up shapes")])
def test_the_factsheet_states_the_limitation_under_its_purposes(client, lang, words) -> None:
    """The factsheet shows the plot's best purposes, whose scores weigh the centre and
    built-up criteria: the same note as the plot page, on its one page."""
    import io

    from pypdf import PdfReader

    top = client.get("/api/rankings/logistics?top=1").get_json()["items"][0]["plot_id"]
    res = client.get(f"/plots/{top}/factsheet.pdf?lang={lang}")
    assert res.status_code == 200
    reader = PdfReader(io.BytesIO(res.data))
    assert len(reader.pages) == 1
    assert words in " ".join(reader.pages[0].extract_text().split())


@pytest.mark.parametrize("lang, layer, words", [
    ("nb", "Tettsteder (stiplet sirkel: omtrentlig)",
     "Flisa (tettsted), omtrentlig: N1000 har ingen tettstedsflate her"),
    ("en", "Built-up areas (dashed circle: approximate)",
     "Flisa (settlement), approximate: N1000 has no built-up shape here")])
def test_the_map_shows_the_settlement_points_the_criteria_use(client, catalogue, lang, layer,
                                                              words) -> None:
    """The map's built-up layer: N1000's shapes, every settlement point labelled, and the
    disc the criteria use where a point stands in for a missing shape, its tooltip saying it
    is approximate — the same points and radii as the criteria's built-up areas."""
    from landreg.scoring.build import settlement_points

    html = client.get(f"/map?lang={lang}").get_data(as_text=True)
    points = settlement_points(catalogue, _spec(catalogue))
    lone = points[points["stands_in"].to_numpy()]
    # the criteria's discs: every shape-less place, Flisa among them, none for Kongsvinger
    assert "Flisa" in set(lone["name"]) and "Kongsvinger" not in set(lone["name"])
    assert len(settlements(catalogue, _spec(catalogue))) == len(lone) + 5  # + the 5 shapes
    assert html.count('"className": "landreg-settlement"') == len(lone)
    assert html.count('class=\\"settlement-label\\"') + html.count(
        'class="settlement-label"') == len(points)
    for r in lone.itertuples():
        assert f'"radius": {r.radius_m}' in html
    assert layer in html and words in html
