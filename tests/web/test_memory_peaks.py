"""What one request may hold at its top (issue 14: "each server worker under 400 MB"): the two
transient peaks found by logging each worker's VmHWM per request under the browser suite —
the suitability overlay's colouring and Argon2 hashes meeting in one worker's threads."""

from __future__ import annotations

import threading
import tracemalloc
from pathlib import Path

import numpy as np
from sqlalchemy import text

from landreg.auth.users import _hasher
from landreg.db import get_engine
from landreg.memtrim import Trimmer
from landreg.web.suitability import RAMP, overlay_rgba

STATUS = Path("/proc/self/status")


def _kib(field: str) -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in {STATUS}")


def test_the_overlay_is_coloured_without_whole_size_temporaries():
    rng = np.random.default_rng(14)
    data = (rng.random((4096, 1024), dtype=np.float32) * 110 - 5).astype(np.float32)
    data[rng.random(data.shape) < 0.2] = np.nan
    tracemalloc.start()
    try:
        rgba = overlay_rgba(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the result is 4 bytes per cell; coloured in one go it took ~50 (int64 indices, float64 RGB)
    assert peak < 6 * data.size, f"{peak / data.size:.1f} bytes per cell at the top"
    idx = np.clip((np.nan_to_num(data) / 100 * len(RAMP)).astype(int), 0, len(RAMP) - 1)
    assert np.array_equal(rgba[:3], RAMP[idx].transpose(2, 0, 1).astype(np.uint8))
    assert np.array_equal(rgba[3], np.where(np.isnan(data), 0, 170))


def test_logins_meeting_in_one_process_hold_one_argon2_memory_at_a_time():
    stored = _hasher.hash("correct horse battery staple")
    start = threading.Barrier(4)

    def login() -> None:
        start.wait()
        _hasher.verify(stored, "correct horse battery staple")

    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
    before = _kib("VmRSS")
    threads = [threading.Thread(target=login) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    grew_mib = (_kib("VmHWM") - before) / 1024
    # one Argon2id hash holds memory_cost (64 MiB); four at once held 256 MiB
    assert _hasher.memory_cost == 65536
    assert grew_mib < 100, f"the process grew {grew_mib:.0f} MiB while four logins met"


def test_a_request_that_grew_the_worker_gives_its_freed_memory_back():
    trimmer = Trimmer(step_mb=16)
    assert trimmer.trim is not None, "no malloc_trim: the server runs on glibc (Debian)"
    trimmer.after_request()  # the worker's size after its last request
    # a request's garbage: 80 MB in 1 KB pieces (malloc's heap, not mmap), freed but for a
    # piece at the top, so the heap cannot shrink by itself
    pieces = [bytearray(1024) for _ in range(80_000)]
    pinned = pieces[-1]
    del pieces
    grown = trimmer.rss()
    assert trimmer.after_request() and trimmer.trims == 1
    assert grown - trimmer.rss() > 40 * 2**20, "the freed memory stayed resident"
    assert not trimmer.after_request()  # no growth since: nothing to do
    del pinned


#: Read in a fresh process: which heavy modules the app imports, and which the everyday
#: requests (map, plot page, drive times, ranking, overlay) bring in.
_WORKER = """
import json, sys
from landreg.settings import Settings
from landreg.web import create_app

cfg = json.loads(sys.argv[1])
app = create_app({"TESTING": True, "LANDREG_EXPENSIVE_LIMIT": (1000, 600)},
                 settings=Settings(database_url=cfg["db"], scoring_res=cfg["res"],
                                   cache_dir=cfg["cache"]))
out = {"start": [m for m in cfg["start"] if m in sys.modules]}
client = app.test_client()
out["codes"] = {p: client.get(p).status_code for p in cfg["paths"]}
out["served"] = [m for m in cfg["served"] if m in sys.modules]
print(json.dumps(out))
"""

#: Not imported with the app (MB of RSS each, measured on top of the app's own): pyogrio's
#: GDAL (~48 MB with its first read), scipy (~15; its interpolate ~20 more, for building
#: layers), alembic + mako (~8, migrations), matplotlib (~36, PDFs only).
AT_START = ["pyogrio", "scipy", "alembic", "matplotlib"]
#: ... nor by the everyday requests (isochrones bring scipy.spatial, ~10 MB).
SERVED = ["pyogrio", "scipy.interpolate", "scipy.ndimage", "alembic", "matplotlib"]


def test_a_worker_serves_the_map_and_drive_times_without_gdal_for_vectors(
        settings, database_url, tmp_path):
    """Issue 14: each server worker held ~65 MB for pyogrio's GDAL and the road network's
    frames, read for the map's settlement points, the layers' grid and the drive-time
    destinations. Those come from the database and small files beside the layers now, and
    a worker that finds no layers (a fresh cache, as here) has them built by a child
    process, which takes the build's libraries and arrays with it."""
    import json
    import subprocess
    import sys

    from landreg.db import session_scope
    from landreg.routing import db as rdb
    from landreg.routing.network import load_network

    with session_scope(get_engine(database_url)) as s:
        rdb.load(s, load_network(settings.layers_dir))  # as `landreg db prepare` does
        pid, other = s.execute(text("SELECT id FROM plot WHERE published ORDER BY id LIMIT 2")
                               ).scalars().all()
    paths = ["/map", f"/plots/{pid}", "/api/destinations", "/api/isochrones/station",
             "/api/plots?to=gardermoen&within_min=60&limit=5", "/api/rankings/logistics",
             "/api/surface/logistics.png", f"/compare?profile=logistics&plots={pid},{other}"]
    cfg = {"db": database_url, "res": settings.scoring_res, "cache": str(tmp_path / "cache"),
           "start": AT_START, "served": SERVED, "paths": paths}
    res = subprocess.run([sys.executable, "-c", _WORKER, json.dumps(cfg)],  # noqa: S603
                         capture_output=True, text=True, timeout=300, check=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["codes"] == dict.fromkeys(paths, 200)
    assert out["start"] == [], f"imported with the app: {out['start']}"
    assert out["served"] == [], f"imported by everyday requests: {out['served']}"
    assert (tmp_path / "cache" / f"{settings.scoring_res:g}m" / "layers.json").exists()


def test_the_isochrone_grid_is_built_without_whole_size_temporaries():
    """A worker's first isochrone builds the nearest-junction grid (12 MB at 200 m): built
    whole, its cell centres, distances and indices took twice that again at the top."""
    from landreg.routing import isochrone
    from landreg.routing.network import load_network
    from landreg.settings import Settings

    net = load_network(Settings().layers_dir)
    isochrone._grid.cache_clear()
    tracemalloc.start()
    try:
        grid = isochrone.access_grid(net)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        isochrone._grid.cache_clear()
    kept = grid.nearest.nbytes + grid.dist.nbytes + grid.leg.nbytes
    assert peak < 1.5 * kept, f"{peak / 2**20:.0f} MB at the top for {kept / 2**20:.0f} MB"
