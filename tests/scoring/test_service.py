"""Stored scores in PostGIS: computed, explained, recomputed when a geometry changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from landreg.models import PlotScore
from landreg.registry.plots import create_plot, update_plot
from landreg.scoring.service import Suitability
from tests.helpers import INSIDE, plot_attrs, square_25833


@pytest.fixture(scope="module")
def suit(settings) -> Suitability:
    return Suitability.from_settings(settings, settings.scoring_res)


def test_scores_are_stored_with_versions_and_explained(session, suit):
    suit.refresh(session)
    pid = session.execute(select(PlotScore.plot_id)).scalars().first()
    scores = suit.plot_scores(session, pid)
    assert {s["profile"] for s in scores} == set(suit.profiles)
    for s in scores:
        assert 0 <= s["score"] <= 100
        assert sum(b["contribution"] for b in s["breakdown"]) == pytest.approx(s["score"],
                                                                               abs=0.01)
        assert s["layers_version"] == suit.layers_version
    assert suit.stale_profiles(session) == []


def test_new_and_changed_plots_are_rescored(session, suit):
    suit.refresh(session)
    x, y = INSIDE["3415"]
    pid = create_plot(session, plot_attrs(), square_25833(x, y, 300), 25833,
                      user="t").plot["id"]
    assert set(suit.stale_profiles(session)) == set(suit.profiles)
    first = {s["profile"]: s for s in suit.plot_scores(session, pid)}
    assert suit.stale_profiles(session) == []
    # move it 20 km away: its geometry hash changes and every profile is stale again
    update_plot(session, pid, {}, expected_version=1, user="t",
                geometry=square_25833(*INSIDE["3418"], 300), crs=25833)
    assert set(suit.stale_profiles(session)) == set(suit.profiles)
    second = {s["profile"]: s for s in suit.plot_scores(session, pid)}
    assert any(first[p]["breakdown"] != second[p]["breakdown"] for p in first)


def test_custom_weights_rank_without_storing(session, suit):
    suit.refresh(session)
    ranking = suit.ranking(session, "logistics", {"dist_rail": 100})
    eligible = [i for i in ranking if not i["excluded"]]
    for i in eligible:
        (only,) = i["breakdown"]  # one criterion with all the weight
        assert only["criterion"] == "dist_rail" and only["weight"] == 100
        assert i["score"] == pytest.approx(100 * only["normalised"], abs=0.01)
    for a, b in zip(eligible, eligible[1:], strict=False):
        assert a["score"] >= b["score"]
        if a["score"] > b["score"]:  # a strictly better score means a shorter way to rail
            assert a["breakdown"][0]["raw"] < b["breakdown"][0]["raw"]
    assert [i["rank"] for i in ranking] == list(range(1, len(ranking) + 1))
    stored = session.execute(select(PlotScore.profile_version).where(
        PlotScore.profile == "logistics")).scalars().first()
    assert stored == suit.profiles["logistics"].version  # custom weights were not stored
