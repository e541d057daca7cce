"""Value functions: hand-computed values, NaN handling, parameter checks."""

from __future__ import annotations

import numpy as np
import pytest

from landreg.scoring.errors import ProfileError
from landreg.scoring.valuefunctions import make_value_function

NAN = float("nan")


@pytest.mark.parametrize("spec, x, expected", [
    ({"function": "increasing", "lo": 10, "hi": 20}, [0, 10, 15, 20, 30, NAN],
     [0, 0, 0.5, 1, 1, NAN]),
    ({"function": "decreasing", "lo": 100, "hi": 500}, [0, 100, 200, 500, 900, NAN],
     [1, 1, 0.75, 0, 0, NAN]),
    ({"function": "ideal_range", "a0": 0, "a": 10, "b": 20, "b0": 40},
     [-5, 0, 5, 10, 15, 20, 30, 40, 50, NAN], [0, 0, 0.5, 1, 1, 1, 0.5, 0, 0, NAN]),
    ({"function": "thresholds", "steps": [[100, 1.0], [500, 0.6], [1000, 0.2]], "rest": 0},
     [0, 100, 101, 500, 999, 1000, 5000, NAN], [1, 1, 0.6, 0.6, 0.2, 0.2, 0, NAN]),
])
def test_values(spec, x, expected):
    out = make_value_function(spec)(np.array(x, dtype=float))
    np.testing.assert_allclose(out, np.array(expected, dtype=float), equal_nan=True)


@pytest.mark.parametrize("spec, message", [
    ({"function": "sigmoid", "lo": 1, "hi": 2}, "unknown value function"),
    ({"function": "increasing", "lo": 5}, "missing"),
    ({"function": "increasing", "lo": 5, "hi": 1}, "lo < hi"),
    ({"function": "decreasing", "lo": 1, "hi": 2, "mid": 3}, "unknown"),
    ({"function": "ideal_range", "a0": 5, "a": 1, "b": 2, "b0": 3}, "a0 ≤ a ≤ b ≤ b0"),
    ({"function": "thresholds", "steps": [[5, 1], [1, 0]]}, "ascend"),
    ({"lo": 1}, "needs 'function'"),
])
def test_bad_specs(spec, message):
    with pytest.raises(ProfileError, match=message):
        make_value_function(spec)
