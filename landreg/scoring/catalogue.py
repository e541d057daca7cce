"""The criteria catalogue and purpose profiles (YAML in ``layers/``), validated on load."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from landreg.scoring.errors import CriterionError, ProfileError, UnknownProfile
from landreg.scoring.valuefunctions import make_value_function

BUILD_KINDS = {"distance", "junctions", "dem", "slope", "flood", "farmland", "drivetime"}
STATISTICS = {"mean", "min", "max", "share"}
LIMITS = {
    "min_area_daa": ("area_daa", "min"), "max_area_daa": ("area_daa", "max"),
    "max_slope": ("slope", "max"), "max_flood_share": ("flood_share", "max"),
    "max_farmland_share": ("farmland_share", "max"), "max_dist_rail": ("dist_rail", "max"),
    "max_dist_main_road": ("dist_main_road", "max"), "max_dist_power": ("dist_power", "max"),
    "max_dist_station": ("dist_station", "max"), "max_dist_centre": ("dist_centre", "max"),
    "min_dist_built_up": ("dist_built_up", "min"),
    "max_drive_gardermoen": ("drive_gardermoen", "max"), "max_drive_oslo": ("drive_oslo", "max"),
}


def _hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Criterion:
    """One criterion of the catalogue."""

    id: str
    name_nb: str
    name_en: str
    unit: str
    source: str
    build: dict[str, Any]
    statistic: str
    value: dict[str, Any]

    @property
    def approximate(self) -> bool:
        """True when the demo builds it from a stand-in for the real source."""
        return self.source.upper().startswith("APPROXIMATE")

    @property
    def settlement_points(self) -> bool:
        """True when its built-up areas include discs around settlement points (the
        ``settlements`` block of criteria.yaml): places shown with that limitation."""
        specs = [self.build.get(k) for k in ("layer", "near")]
        return any(isinstance(x, dict) and "settlements" in x
                   for spec in specs for x in (spec if isinstance(spec, list) else [spec]))


@dataclass(frozen=True)
class Catalogue:
    """All criteria, the GeoPackage the demo builds from, and a content version."""

    criteria: dict[str, Criterion]
    source: Path
    version: str
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """A purpose profile: weights (percent, summing to 100), value functions, hard limits."""

    id: str
    name_nb: str
    name_en: str
    description: str
    weights: dict[str, float]
    values: dict[str, dict[str, Any]]
    limits: dict[str, float]
    version: str

    def value_function(self, criterion: Criterion):  # noqa: ANN201 - a callable
        """The profile's value function for ``criterion`` (its override or the default)."""
        spec = self.values.get(criterion.id, criterion.value)
        return make_value_function(spec, f"{self.id}.values.{criterion.id}")


def load_catalogue(path: Path, root: Path | None = None) -> Catalogue:
    """Read and check ``criteria.yaml``; relative paths are resolved against ``root``."""
    if not Path(path).exists():
        raise CriterionError(f"The criteria catalogue {path} is missing.", field="catalogue")
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    root = root or Path(path).resolve().parent.parent
    if not isinstance(raw, dict) or "criteria" not in raw:
        raise CriterionError(f"{path}: expected a mapping with 'criteria'")
    criteria: dict[str, Criterion] = {}
    required = ("name_nb", "name_en", "unit", "source", "build", "statistic", "value")
    for cid, spec in raw["criteria"].items():
        missing = [k for k in required if k not in (spec or {})]
        if missing:
            raise CriterionError(f"criterion {cid}: missing {', '.join(missing)}", field=cid)
        if spec["build"].get("kind") not in BUILD_KINDS:
            raise CriterionError(f"criterion {cid}: build.kind must be one of "
                                 f"{', '.join(sorted(BUILD_KINDS))}", field=cid)
        if spec["statistic"] not in STATISTICS:
            raise CriterionError(f"criterion {cid}: statistic must be one of "
                                 f"{', '.join(sorted(STATISTICS))}", field=cid)
        make_value_function(spec["value"], f"{cid}.value")
        criteria[cid] = Criterion(id=cid, **{k: spec[k] for k in required})
    for cid, c in criteria.items():
        for ref in ("dem",):
            if ref in c.build and c.build[ref] not in criteria:
                raise CriterionError(f"criterion {cid}: build.{ref} names an unknown "
                                     f"criterion {c.build[ref]!r}", field=cid)
    source = Path(raw.get("source", "layers/sources/glamdalen_n1000.gpkg"))
    source = source if source.is_absolute() else root / source
    return Catalogue(criteria, source, f"{raw.get('version', 0)}-{_hash(raw)}", raw)


def check_weights(profile_id: str, weights: dict[str, float], catalogue: Catalogue) -> None:
    """Weights name known criteria, are ≥ 0 and sum to 100 (within 0.01)."""
    unknown = sorted(set(weights) - set(catalogue.criteria))
    if unknown:
        raise ProfileError(f"{profile_id}: unknown criterion {unknown[0]!r}; criteria: "
                           f"{', '.join(catalogue.criteria)}", field="weights", value=unknown[0])
    if any(w < 0 or w != w for w in weights.values()):
        raise ProfileError(f"{profile_id}: weights must be ≥ 0", field="weights")
    total = sum(weights.values())
    if abs(total - 100) > 0.01:
        raise ProfileError(f"{profile_id}: weights must sum to 100 %; they sum to {total:g}",
                           field="weights", value=total)


def load_profile(path: Path, catalogue: Catalogue) -> Profile:
    """Read and check one profile YAML."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    pid = raw.get("id") or Path(path).stem
    for key in ("name_nb", "name_en", "weights"):
        if key not in raw:
            raise ProfileError(f"profile {pid}: missing {key}", field=key)
    weights = {k: float(v) for k, v in raw["weights"].items()}
    check_weights(pid, weights, catalogue)
    values = raw.get("values") or {}
    for cid, spec in values.items():
        if cid not in catalogue.criteria:
            raise ProfileError(f"profile {pid}: values for unknown criterion {cid!r}",
                               field="values", value=cid)
        make_value_function(spec, f"{pid}.values.{cid}")
    limits = {k: float(v) for k, v in (raw.get("limits") or {}).items()}
    bad = sorted(set(limits) - set(LIMITS))
    if bad:
        raise ProfileError(f"profile {pid}: unknown limit {bad[0]!r}; limits: "
                           f"{', '.join(LIMITS)}", field="limits", value=bad[0])
    return Profile(pid, raw["name_nb"], raw["name_en"], raw.get("description", ""), weights,
                   values, limits, f"{pid}-{_hash(raw)}")


def load_profiles(directory: Path, catalogue: Catalogue) -> dict[str, Profile]:
    """All profiles in ``directory`` (``*.yaml``), keyed by id."""
    profiles = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        p = load_profile(path, catalogue)
        profiles[p.id] = p
    return profiles


def with_weights(profile: Profile, weights: dict[str, float], catalogue: Catalogue) -> Profile:
    """The profile with a user's own weights (same value functions and limits)."""
    weights = {k: float(v) for k, v in weights.items()}
    check_weights(f"{profile.id} (custom weights)", weights, catalogue)
    return Profile(profile.id, profile.name_nb, profile.name_en, profile.description, weights,
                   profile.values, profile.limits,
                   f"{profile.version}+w{_hash(weights)}")


def get_profile(profiles: dict[str, Profile], pid: str) -> Profile:
    """A profile by id, or :class:`UnknownProfile` listing the ones there are."""
    if pid not in profiles:
        raise UnknownProfile(f"There is no profile {pid!r}; profiles: {', '.join(profiles)}",
                             field="profile", value=pid)
    return profiles[pid]


def parse_weights(text: str) -> dict[str, float]:
    """``"slope:30,dist_rail:70"`` → ``{"slope": 30.0, "dist_rail": 70.0}``."""
    out: dict[str, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition(":")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise ProfileError(f"weights must look like slope:30,dist_rail:70; got {part!r}",
                               field="weights", value=part) from None
    return out
