"""Every per-process cache is bounded (issue 14: "caches bounded by size"), so a worker's
memory levels off however long it serves: functools caches by entries, the isochrone and
candidate caches by entries, the tile cache by bytes, the map page cache by its fixed keys."""

from __future__ import annotations

import importlib
import pkgutil

import landreg
from landreg.registry.tiles import Tile, TileCache
from landreg.routing.db import IsochroneCache
from landreg.scoring.service import CandidateCache

#: functools caches without a bound that hold one value whatever the arguments (none taken)
CONSTANT = {"landreg.auth.users._dummy_hash"}


def _modules():
    for info in pkgutil.walk_packages(landreg.__path__, "landreg."):
        if ".migrations" in info.name:
            continue
        yield importlib.import_module(info.name)


def test_every_functools_cache_has_a_maxsize():
    unbounded, seen = [], 0
    for module in _modules():
        for name, obj in vars(module).items():
            try:  # a Flask proxy (request, current_app) raises outside a request
                params = getattr(obj, "cache_parameters", None)
            except RuntimeError:
                continue
            if params is None or getattr(obj, "__module__", None) != module.__name__:
                continue
            seen += 1
            if params()["maxsize"] is None and f"{module.__name__}.{name}" not in CONSTANT:
                unbounded.append(f"{module.__name__}.{name}")
    assert seen >= 15  # the walk found the caches (lru_cache in db, crs, search, routing …)
    assert not unbounded, f"functools caches without maxsize: {unbounded}"


def test_the_isochrone_and_candidate_caches_keep_their_number_of_entries():
    iso = IsochroneCache(entries=8)
    for i in range(100):
        iso.put(("v", "e16", i), {"features": [i]})
    assert len(iso._items) == 8 and iso.get(("v", "e16", 99)) is not None
    cand = CandidateCache(entries=4)
    import geopandas as gpd

    for i in range(50):
        cand.put(("p", i), gpd.GeoDataFrame({"i": [i]}))
    assert len(cand._items) == 4


def test_the_tile_cache_keeps_its_bytes_under_any_mix_of_tiles():
    cache = TileCache(max_bytes=1_000_000)
    cache.get("g", ("k", 0))
    for i in range(3000):
        cache.put("g", ("k", i), Tile(bytes(i % 50_000), "e"))
        assert cache.size <= 1_000_000
    assert sum(len(t.body) + 200 for t, _ in cache._items.values()) == cache.size


def test_the_map_page_cache_holds_only_its_fixed_keys(client):
    for lang in ("nb", "en", "de", "xx", "nb-NO", "../"):
        client.get(f"/map?lang={lang}")
    cache = client.application.extensions.get("landreg_map_cache", {})
    assert set(cache) <= {"nb", "en", "bounds", "places", "settlements"}
