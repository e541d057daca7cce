"""Finding 3: every new ``weights=`` value on the surface and candidate endpoints wrote a
~60 MB GeoTIFF that was never removed. One-off surfaces are now computed in memory, and the
cache of default surfaces is bounded in bytes (least recently used removed first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from landreg.scoring.service import Suitability
from landreg.web import create_app


def _usage(folder: Path) -> tuple[int, int]:
    files = [f for f in folder.rglob("*") if f.is_file()] if folder.is_dir() else []
    return len(files), sum(f.stat().st_size for f in files)


@pytest.fixture
def unlimited(settings):
    """The app with a high per-client limit: this test is about the disk, not the limit."""
    web = create_app({"TESTING": True, "LANDREG_EXPENSIVE_LIMIT": (1000, 600)},
                     settings=settings).test_client()
    web.environ_base["REMOTE_ADDR"] = "192.0.2.3"
    return web


def _suit(settings) -> Suitability:
    return Suitability.from_settings(settings, settings.scoring_res)


def test_thirty_custom_weights_write_nothing(unlimited, settings):
    weights = unlimited.get("/api/profiles").get_json()["profiles"]
    logistics = next(p for p in weights if p["id"] == "logistics")["weights"]
    a, b = sorted(logistics)[:2]
    assert unlimited.get("/api/surface/logistics.png").status_code == 200  # default: cached
    before = _usage(settings.cache_dir)
    for i in range(1, 31):
        w = dict(logistics, **{a: logistics[a] + i * 0.1, b: logistics[b] - i * 0.1})
        q = "weights=" + ",".join(f"{k}:{v:.2f}" for k, v in w.items())
        url = ["/api/surface/logistics.png?", "/api/surface/logistics.json?",
               "/api/candidates/logistics?threshold=80&"][i % 3] + q
        res = unlimited.get(url)
        assert res.status_code == 200, (url, res.get_data(as_text=True)[:300])
    assert _usage(settings.cache_dir) == before  # not one file, not one byte more


def test_the_default_surface_cache_stays_within_its_bound(unlimited, settings):
    suit = _suit(settings)
    old = suit.surface_cache_bytes
    one = suit.surface_path("logistics")
    unlimited.get("/api/surface/logistics.png")
    per_profile = sum(f.stat().st_size for f in one.parent.glob(one.stem + ".*"))
    suit.surface_cache_bytes = int(per_profile * 2.5)  # room for two profiles' surfaces
    try:
        for pid in suit.profiles:
            assert unlimited.get(f"/api/surface/{pid}.png").status_code == 200
            assert _usage(suit.surface_dir)[1] <= suit.surface_cache_bytes
        stems = {f.name.split(".")[0] for f in suit.surface_dir.iterdir()}
        assert len(stems) == 2  # the two most recently used profiles
        assert suit.surface_path(list(suit.profiles)[-1]).exists()
    finally:
        suit.surface_cache_bytes = old
