"""Every path that writes plots goes through ``changes.after_plot_write`` (the stored
distances, issue 10), so a new write path cannot forget a step: a module whose code inserts
or updates plots must call it, and the registry's own write paths leave no plot stale."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text

import landreg
from landreg.registry.plots import create_plot, update_plot, withdraw_plot
from tests.helpers import INSIDE, plot_attrs, square_25833

#: Statements that add or change plots, in SQLAlchemy or in SQL text.
_WRITES = re.compile(r"\b(insert|update)\(Plot\)|\b(INSERT INTO|UPDATE) plot\b")


def test_every_module_that_writes_plots_calls_after_plot_write():
    root = Path(landreg.__file__).parent
    writers = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
               for p in root.rglob("*.py") if "migrations" not in p.parts}
    writers = {name: src for name, src in writers.items() if _WRITES.search(src)}
    assert {"registry/plots.py", "ingest/writing.py"} <= set(writers)  # the pattern still sees
    missing = [name for name, src in writers.items() if "after_plot_write(" not in src]
    assert not missing, f"these modules write plots without changes.after_plot_write: {missing}"


def _stale(session, plot_id: int) -> bool:
    return session.execute(text(
        "SELECT NOT EXISTS (SELECT 1 FROM plot p JOIN plot_distance d ON d.plot_id = p.id "
        "AND d.plot_version = p.version WHERE p.id = :id)"), {"id": plot_id}).scalar_one()


def test_registry_writes_leave_the_plot_measured(session):
    x, y = INSIDE["3401"]
    plot = create_plot(session, plot_attrs(name="Målt"), square_25833(x + 900, y + 900), 25833,
                       user="test").plot
    assert not _stale(session, plot["id"])
    update_plot(session, plot["id"], {}, expected_version=1, user="test",
                geometry=square_25833(x + 950, y + 900), crs=25833)
    assert not _stale(session, plot["id"])
    withdraw_plot(session, plot["id"], expected_version=2, user="test")
    assert not _stale(session, plot["id"])
