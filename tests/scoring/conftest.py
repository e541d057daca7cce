"""Shared helpers of the catalogue and profile tests (rasters and plots: ``synthetic.py``)."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def write_yaml(path: Path, data: dict) -> Path:
    """Dump ``data`` as YAML and return the path."""
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
