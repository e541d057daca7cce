"""``/metrics`` over several server workers: the live gauges count only workers that still run
(granian has no hook when a worker dies; landreg.web.metrics.forget_dead_workers looks at the
processes themselves)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client import CollectorRegistry, multiprocess

from landreg.web.metrics import forget_dead_workers

WORKER = textwrap.dedent("""
    import sys
    from prometheus_client import Gauge
    Gauge("landreg_db_pool_size", "x", multiprocess_mode="livesum").set(int(sys.argv[1]))
    print("set", flush=True)
    sys.stdin.readline()  # a live worker waits; a dead one has exited
""")


def pool_size(folder: Path) -> float:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(folder))
    return registry.get_sample_value("landreg_db_pool_size") or 0.0


def worker(folder: Path, size: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(size)], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env={"PROMETHEUS_MULTIPROC_DIR": str(folder)})
    assert proc.stdout.readline().strip() == "set"
    return proc


def test_a_dead_workers_gauges_stop_counting_and_a_live_ones_stay(tmp_path):
    live = worker(tmp_path, 5)
    dead = worker(tmp_path, 7)
    dead.communicate("\n")  # the worker exits (killed, recycled)
    try:
        assert pool_size(tmp_path) == 12  # the dead worker's file still counts
        assert forget_dead_workers(str(tmp_path)) == 1
        assert pool_size(tmp_path) == 5
        assert forget_dead_workers(str(tmp_path)) == 0  # the live one is left alone
        assert pool_size(tmp_path) == 5
    finally:
        live.communicate("\n")


def test_nothing_to_forget_without_a_metrics_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert forget_dead_workers() == 0
    assert forget_dead_workers(str(tmp_path / "missing")) == 0
