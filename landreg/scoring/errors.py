"""Errors of the suitability engine, under the project's one hierarchy."""

from __future__ import annotations

from landreg.errors import ConfigurationError, InvalidInput, NotFound


class ProfileError(InvalidInput):
    """Raised when a purpose profile or user weights are wrong (sum, unknown criterion …)."""

    code = "invalid_profile"


class CriterionError(ConfigurationError):
    """Raised when the criteria catalogue is malformed."""

    code = "invalid_criterion"


class LayerError(InvalidInput):
    """Raised when a source or built layer is missing, unreadable or has no CRS."""

    code = "invalid_layer"


class UnknownProfile(NotFound):
    """Raised when a profile id does not exist."""

    code = "unknown_profile"
