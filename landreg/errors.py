"""One error hierarchy for landreg.

Every error a user can cause is a :class:`LandregError` with a message a planner understands.
``field`` and ``value`` name what was wrong; the web layer maps the classes to HTTP status codes
in one table (``landreg.web.errors``) and the CLI prints the message without a traceback.
"""

from __future__ import annotations

from typing import Any


class LandregError(Exception):
    """Raised for any error landreg reports to its user."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        """Return the public JSON form: ``{code, description, field?, value?, details?}``."""
        out: dict[str, Any] = {"code": self.code, "description": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.value is not None:
            out["value"] = self.value if isinstance(self.value, int | float | bool) else str(
                self.value
            )
        if self.details:
            out["details"] = self.details
        return out


class InvalidInput(LandregError, ValueError):
    """Raised when a value given by the user is malformed or out of range."""

    code = "invalid_input"


class TooLarge(InvalidInput):
    """Raised when an input (a file, an archive's contents) exceeds a size limit."""

    code = "too_large"


class InvalidGeometry(InvalidInput):
    """Raised when a geometry is unreadable, of the wrong type or not valid."""

    code = "invalid_geometry"


class InvalidCRS(InvalidInput):
    """Raised when a coordinate reference system is missing, unknown or implausible."""

    code = "invalid_crs"


class OutsideRegion(InvalidInput):
    """Raised when a geometry does not lie inside the seven municipalities."""

    code = "outside_region"


class UnknownCode(InvalidInput):
    """Raised when a code (arealformål, kommunenummer, status …) is not in its code list."""

    code = "unknown_code"


class NotFound(LandregError, LookupError):
    """Raised when a requested object does not exist (or is not visible to the caller)."""

    code = "not_found"


class StaleVersion(LandregError):
    """Raised when an update is based on a version that someone else has replaced."""

    code = "stale_version"


class PermissionDenied(LandregError):
    """Raised when the caller may not do what they asked."""

    code = "forbidden"


class AuthenticationFailed(LandregError):
    """Raised when a login or token is wrong (never says whether the user exists)."""

    code = "authentication_failed"


class AccountLocked(AuthenticationFailed):
    """Raised when too many wrong passwords have locked an account for a while."""

    code = "account_locked"


class TooManyRequests(LandregError):
    """Raised when a sender has made too many requests of one kind in a short time.

    ``retry_after`` (seconds) becomes the response's ``Retry-After`` header."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        if retry_after is not None:
            self.details.setdefault("retry_after_seconds", retry_after)


class ConfigurationError(LandregError):
    """Raised when the deployment or domain configuration is wrong."""

    code = "configuration_error"


class DatabaseUnavailable(LandregError):
    """Raised when the database cannot be reached or lacks PostGIS.

    ``retry_after`` (seconds), when given, becomes the response's ``Retry-After`` header."""

    code = "database_unavailable"

    def __init__(self, message: str, *, retry_after: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
