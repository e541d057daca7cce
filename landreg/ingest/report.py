"""The report of an import: what happens to each feature, and why, and the errors an import
raises. :func:`landreg.ingest.importer.plan_import` fills it, :func:`~landreg.ingest.writing.
apply_import` writes it, the CLI and the upload page show it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from landreg.errors import InvalidInput, LandregError
from landreg.ingest.messages import Message, render, skip_label

#: ``skipped``: an area that is not business land (a road, housing, LNFR …) in a mixed plan.
ACTIONS = ("create", "update", "unchanged", "skipped", "rejected")

Progress = Callable[[str, int, int], None]
T = TypeVar("T")
Notes = defaultdict[int, list[T]]


class ImportRejected(InvalidInput):
    """Raised when an import with rejected features is applied without ``allow_partial``."""

    code = "import_rejected"

    def __init__(self, report: ImportReport) -> None:
        rejected = report.counts["rejected"]
        super().__init__(
            Message(f"{rejected} of {len(report)} features were rejected, so nothing was "
                    "written. Fix them, or import the others with --allow-partial.",
                    "imp_e_rejected", rejected=rejected, total=len(report)),
            details={"counts": report.counts},
        )
        self.report = report


class OutsideRegion(InvalidInput):
    """Raised when no feature of a file lies in the region (the wrong file, not bad rows)."""

    code = "outside_region"


class ImportConflict(LandregError):
    """Raised when the register changed between planning an import and applying it."""

    code = "import_conflict"


@dataclass(frozen=True)
class Reason:
    """Why a feature was rejected: an error code, the field concerned and a message."""

    code: str
    field: str | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class FeatureResult:
    """What the import does with one feature (``row`` is its 1-based position in the file)."""

    row: int
    action: str
    external_ref: str | None = None
    name: str | None = None
    kommunenummer: str | None = None
    plot_id: int | None = None
    changes: tuple[str, ...] = ()
    reasons: list[Reason] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: str | None = None

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        """A JSON-ready dict; messages in ``lang`` (``nb``/``en``) when given, else as made."""
        out: dict[str, Any] = {"row": self.row, "action": self.action,
                               "external_ref": self.external_ref, "name": self.name,
                               "kommunenummer": self.kommunenummer, "plot_id": self.plot_id}
        if self.changes:
            out["changes"] = list(self.changes)
        if self.reasons:
            out["reasons"] = [{"code": r.code, "field": r.field,
                               "message": render(r.message, lang)} for r in self.reasons]
        if self.warnings:
            out["warnings"] = [render(w, lang) for w in self.warnings]
        if self.skipped:
            out["skipped"] = skip_label(self.skipped, lang)
        return out


@dataclass
class ImportReport:
    """The plan of an import: per feature what would happen, and the rows to write.

    Attributes
    ----------
    source, format, layer, crs:
        The file, its format, layer and the CRS its coordinates were read in.
    kommune:
        The kommune the import is for (every plot must lie in it), or None.
    mapping:
        Field → source column actually used; ``ignored_columns`` are the columns not used.
    warnings:
        File-level notes (e.g. a ``crs`` that overrode the file's own).
    applied:
        True once :func:`apply_import` has written it.

    The per-feature results are kept as columns (a 100,000-feature import makes no 100,000
    objects until asked): :attr:`features`, :meth:`by_action` and :attr:`rejected` build
    :class:`FeatureResult` objects on demand; :attr:`counts` does not.
    """

    source: str
    format: str
    layer: str | None
    crs: str
    kommune: str | None
    mapping: dict[str, str]
    ignored_columns: list[str]
    warnings: list[str] = field(default_factory=list)
    applied: bool = False
    _table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    _changes: dict[int, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _reasons: dict[int, list[Reason]] = field(default_factory=dict, repr=False)
    _notes: dict[int, list[str]] = field(default_factory=dict, repr=False)
    _rows: pd.DataFrame | None = field(default=None, repr=False)
    _fields: tuple[str, ...] = field(default=(), repr=False)

    def __len__(self) -> int:
        return len(self._table)

    @property
    def counts(self) -> dict[str, int]:
        """Number of features per action (every action listed, zeros included)."""
        out = dict.fromkeys(ACTIONS, 0)
        if len(self._table):
            out.update(self._table["action"].value_counts().to_dict())
        return out

    @property
    def skipped_by_code(self) -> dict[str, int]:
        """Skipped areas per arealformål: ``{"2011 Kjøreveg: ikke næringsareal": 14, …}``."""
        if not len(self._table) or "skip" not in self._table:
            return {}
        counts = self._table["skip"].dropna().value_counts()
        return {str(k): int(v) for k, v in sorted(counts.items())}

    @property
    def features(self) -> list[FeatureResult]:
        """One :class:`FeatureResult` per feature, in file order."""
        return [self._feature(i) for i in range(len(self._table))]

    @property
    def rejected(self) -> list[FeatureResult]:
        """The rejected features, in file order."""
        return self.by_action("rejected")

    def by_action(self, action: str) -> list[FeatureResult]:
        """The features with ``action`` (create, update, unchanged or rejected), in file order."""
        if action not in ACTIONS:
            raise InvalidInput(f"Unknown action {action!r}; use one of {', '.join(ACTIONS)}.")
        if not len(self._table):
            return []
        return [self._feature(i) for i in np.flatnonzero(self._table["action"] == action)]

    def with_warnings(self) -> list[FeatureResult]:
        """The features with a warning (a border crossing, a repaired polygon …)."""
        return [self._feature(i) for i in sorted(self._notes)]

    def _feature(self, i: int) -> FeatureResult:
        r = self._table.iloc[i]
        return FeatureResult(
            row=int(i) + 1, action=r["action"], external_ref=none_if_nan(r["external_ref"]),
            name=none_if_nan(r["name"]), kommunenummer=none_if_nan(r["kommunenummer"]),
            plot_id=None if none_if_nan(r["plot_id"]) is None else int(r["plot_id"]),
            changes=self._changes.get(i, ()), reasons=self._reasons.get(i, []),
            warnings=self._notes.get(i, []),
            skipped=none_if_nan(r["skip"]) if "skip" in r else None)

    def to_dict(self, *, max_features: int | None = None,
                lang: str | None = None) -> dict[str, Any]:
        """A JSON-ready summary; ``max_features`` caps the per-feature list; messages in
        ``lang`` (``nb``/``en``, see :mod:`landreg.ingest.messages`) when given."""
        n = len(self._table) if max_features is None else min(max_features, len(self._table))
        return {"source": self.source, "format": self.format, "layer": self.layer,
                "crs": self.crs, "kommune": self.kommune, "mapping": self.mapping,
                "ignored_columns": self.ignored_columns, "counts": self.counts,
                "skipped_by_code": {skip_label(k, lang): v
                                    for k, v in self.skipped_by_code.items()},
                "warnings": [render(w, lang) for w in self.warnings], "applied": self.applied,
                "features": [self._feature(i).to_dict(lang) for i in range(n)]}


def none_if_nan(value: Any) -> Any:
    """``None`` for a missing cell (None or NaN), else the value."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value

