"""The criteria catalogue and the purpose profiles: the shipped YAML and its validation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from landreg.scoring.catalogue import (
    LIMITS,
    load_catalogue,
    load_profile,
    load_profiles,
    parse_weights,
    with_weights,
)
from landreg.scoring.errors import CriterionError, ProfileError

from .conftest import REPO, write_yaml

CATALOGUE = REPO / "layers" / "criteria.yaml"
PROFILES = REPO / "layers" / "profiles"
EXPECTED = {"slope", "dist_main_road", "dist_junction", "dist_rail", "dist_station",
            "dist_centre", "dist_power", "flood_share", "farmland_share", "dist_built_up"}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(CATALOGUE)


def test_shipped_catalogue_has_every_criterion(catalogue):
    assert EXPECTED <= set(catalogue.criteria)
    for c in catalogue.criteria.values():
        assert c.name_nb and c.name_en and c.unit and c.source
        assert c.statistic in {"mean", "min", "max", "share"}
    # the demo stand-ins say so
    for cid in ("slope", "flood_share", "farmland_share"):
        assert catalogue.criteria[cid].approximate, cid
    assert not catalogue.criteria["dist_rail"].approximate
    assert catalogue.source.exists()


def test_catalogue_version_follows_content(tmp_path, catalogue):
    raw = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    raw["source"] = str(catalogue.source)
    a = load_catalogue(write_yaml(tmp_path / "a.yaml", raw))
    raw["criteria"]["slope"]["value"]["hi"] = 12
    b = load_catalogue(write_yaml(tmp_path / "b.yaml", raw))
    assert a.version != b.version
    assert a.version.startswith(f"{raw['version']}-")


@pytest.mark.parametrize("edit, match", [
    (lambda r: r["criteria"]["slope"].pop("unit"), "slope: missing unit"),
    (lambda r: r["criteria"]["slope"]["build"].update(kind="magic"), "build.kind"),
    (lambda r: r["criteria"]["dist_rail"].update(statistic="median"), "statistic"),
    (lambda r: r["criteria"]["slope"]["build"].update(dem="nowhere"), "unknown criterion"),
])
def test_malformed_catalogue_is_refused(tmp_path, edit, match):
    raw = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    edit(raw)
    with pytest.raises(CriterionError, match=match):
        load_catalogue(write_yaml(tmp_path / "bad.yaml", raw))


def test_bad_default_value_function_is_refused(tmp_path):
    raw = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    raw["criteria"]["dist_rail"]["value"] = {"function": "decreasing", "lo": 10, "hi": 1}
    with pytest.raises(ProfileError, match="dist_rail"):
        load_catalogue(write_yaml(tmp_path / "bad.yaml", raw))


def test_missing_catalogue_is_a_clear_error(tmp_path):
    with pytest.raises(CriterionError, match="missing"):
        load_catalogue(tmp_path / "nope.yaml")


def test_shipped_profiles(catalogue):
    profiles = load_profiles(PROFILES, catalogue)
    assert set(profiles) == {"logistics", "industry", "office", "wood_processing", "datacentre"}
    for p in profiles.values():
        assert sum(p.weights.values()) == pytest.approx(100)
        assert set(p.limits) <= set(LIMITS)
        for cid in p.weights:  # every value function resolves
            p.value_function(catalogue.criteria[cid])


def _profile(tmp_path: Path, **overrides) -> Path:
    data = {"id": "test", "name_nb": "Test", "name_en": "Test",
            "weights": {"slope": 60, "dist_rail": 40}, "limits": {"max_slope": 8}}
    data.update(overrides)
    return write_yaml(tmp_path / "test.yaml", data)


def test_weights_not_summing_to_100_name_profile_and_sum(tmp_path, catalogue):
    path = _profile(tmp_path, weights={"slope": 60, "dist_rail": 30})
    with pytest.raises(ProfileError, match=r"test: .*sum to 90"):
        load_profile(path, catalogue)


@pytest.mark.parametrize("overrides, match", [
    ({"weights": {"slope": 60, "view": 40}}, "unknown criterion 'view'"),
    ({"weights": {"slope": 110, "dist_rail": -10}}, "≥ 0"),
    ({"limits": {"max_noise": 3}}, "unknown limit 'max_noise'"),
    ({"values": {"view": {"function": "increasing", "lo": 0, "hi": 1}}}, "unknown criterion"),
    ({"values": {"slope": {"function": "wobbly"}}}, "unknown value function"),
])
def test_bad_profiles_are_refused(tmp_path, catalogue, overrides, match):
    with pytest.raises(ProfileError, match=match):
        load_profile(_profile(tmp_path, **overrides), catalogue)


def test_with_weights(tmp_path, catalogue):
    p = load_profile(_profile(tmp_path), catalogue)
    q = with_weights(p, {"slope": 25, "dist_rail": 25, "dist_main_road": 50}, catalogue)
    assert q.weights["dist_main_road"] == 50 and q.limits == p.limits
    assert q.version != p.version
    with pytest.raises(ProfileError, match="unknown criterion 'nope'"):
        with_weights(p, {"slope": 50, "nope": 50}, catalogue)
    with pytest.raises(ProfileError, match="sum to 101"):
        with_weights(p, {"slope": 50, "dist_rail": 51}, catalogue)


def test_parse_weights():
    assert parse_weights("slope:30, dist_rail:70") == {"slope": 30.0, "dist_rail": 70.0}
    with pytest.raises(ProfileError, match="slope:30"):
        parse_weights("slope=30")
