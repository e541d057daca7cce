"""Value functions: raw criterion values → 0–1 suitability, named and parameterised.

Every function takes a numpy array and returns an array of the same shape (float32 for
float32 input, float64 otherwise); NaN in gives NaN out (a missing value is never silently
turned into a score).

>>> import numpy as np
>>> make_value_function({"function": "decreasing", "lo": 0, "hi": 10})(np.array([0, 5, 20.]))
array([1. , 0.5, 0. ])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from landreg.scoring.errors import ProfileError


@dataclass(frozen=True)
class ValueFunction(ABC):
    """Base class: subclasses name their parameters and implement ``__call__``."""

    params: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Map raw values to 0–1."""

    def describe(self) -> dict[str, Any]:
        """Name and parameters, as stored with a score."""
        return {"function": NAMES[type(self)], **{p: getattr(self, p) for p in self.params}}


def _float(x: np.ndarray) -> np.ndarray:
    """float32 stays float32 (whole-region rasters), anything else becomes float64."""
    x = np.asarray(x)
    return x if x.dtype == np.float32 else x.astype(np.float64)


def _ramp(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    x = _float(x)
    out = (x - x.dtype.type(lo)) * x.dtype.type(1.0 / (hi - lo))
    return np.clip(out, 0.0, 1.0, out=out)


@dataclass(frozen=True)
class Increasing(ValueFunction):
    """0 at or below ``lo``, 1 at or above ``hi``, linear between (more is better)."""

    lo: float
    hi: float
    params: ClassVar[tuple[str, ...]] = ("lo", "hi")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return _ramp(x, self.lo, self.hi)


@dataclass(frozen=True)
class Decreasing(ValueFunction):
    """1 at or below ``lo``, 0 at or above ``hi``, linear between (less is better)."""

    lo: float
    hi: float
    params: ClassVar[tuple[str, ...]] = ("lo", "hi")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = _ramp(x, self.lo, self.hi)
        return np.subtract(1.0, out, out=out)


@dataclass(frozen=True)
class IdealRange(ValueFunction):
    """1 inside [a, b], falling linearly to 0 at a0 (below) and b0 (above)."""

    a0: float
    a: float
    b: float
    b0: float
    params: ClassVar[tuple[str, ...]] = ("a0", "a", "b", "b0")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = _float(x)
        up = _ramp(x, self.a0, self.a) if self.a > self.a0 else (x >= self.a).astype(float)
        down = 1.0 - _ramp(x, self.b, self.b0) if self.b0 > self.b else (x <= self.b).astype(float)
        out = np.minimum(up, down)
        return np.where(np.isnan(x), np.nan, out)


@dataclass(frozen=True)
class Thresholds(ValueFunction):
    """A step table: ``steps`` is [[upper_bound, value], …] ascending; above the last: ``rest``."""

    steps: tuple[tuple[float, float], ...]
    rest: float = 0.0
    params: ClassVar[tuple[str, ...]] = ("steps", "rest")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        bounds = np.array([s[0] for s in self.steps], dtype=float)
        values = np.array([s[1] for s in self.steps] + [self.rest], dtype=float)
        out = values[np.searchsorted(bounds, np.nan_to_num(x), side="left")]
        return np.where(np.isnan(x), np.nan, out)


NAMES: dict[type, str] = {Increasing: "increasing", Decreasing: "decreasing",
                          IdealRange: "ideal_range", Thresholds: "thresholds"}
REGISTRY: dict[str, type[ValueFunction]] = {v: k for k, v in NAMES.items()}


def make_value_function(spec: dict[str, Any],
                        where: str = "value") -> Callable[[np.ndarray], np.ndarray]:
    """Build a value function from ``{"function": name, **params}``, checking the parameters."""
    if not isinstance(spec, dict) or "function" not in spec:
        raise ProfileError(f"{where}: a value function needs 'function'; got {spec!r}",
                           field=where)
    name = spec["function"]
    cls = REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ProfileError(f"{where}: unknown value function {name!r}; use "
                           f"{', '.join(REGISTRY)}", field=where, value=str(name))
    given = {k: v for k, v in spec.items() if k != "function"}
    missing = [p for p in cls.params if p not in given and p != "rest"]
    extra = sorted(set(given) - set(cls.params))
    if missing or extra:
        raise ProfileError(f"{where}: {name} takes {', '.join(cls.params)}; "
                           f"missing {missing or 'none'}, unknown {extra or 'none'}", field=where)
    try:
        if cls is Thresholds:
            steps = tuple((float(a), float(b)) for a, b in given["steps"])
            if [s[0] for s in steps] != sorted(s[0] for s in steps):
                raise ValueError("steps must ascend")
            return Thresholds(steps, float(given.get("rest", 0.0)))
        values = {p: float(given[p]) for p in cls.params}
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{where}: bad parameters for {name}: {exc}", field=where) from None
    if cls in (Increasing, Decreasing) and not values["lo"] < values["hi"]:
        raise ProfileError(f"{where}: {name} needs lo < hi", field=where)
    if cls is IdealRange and not (values["a0"] <= values["a"] <= values["b"] <= values["b0"]):
        raise ProfileError(f"{where}: ideal_range needs a0 ≤ a ≤ b ≤ b0", field=where)
    return cls(**values)
