"""One error hierarchy for landreg.

Every error a user can cause is a :class:`LandregError` with a message a planner understands.
``field`` and ``value`` name what was wrong; the web layer maps the classes to HTTP status codes
in one table (``landreg.web.errors``) and the CLI prints the message without a traceback.

An error a web user meets carries a catalogue ``key`` and its ``params`` (text.errors in
``landreg/i18n/text.yaml``): ``message`` is then the English text for the CLI and the logs
(a :class:`Label` there is the field's own name, as a command line knows it), and
:meth:`LandregError.text` gives it in a page's language, where a parameter wrapped in
:class:`Label` is shown as its label (``min_daa`` → "Minste areal (daa)"), never the name::

    raise InvalidInput(key="err_param_number", params={"name": Label(name), "value": value},
                       field=name, value=value)
"""

from __future__ import annotations

from typing import Any


class Label(str):
    """A message parameter that names a field or query parameter: shown as its label in the
    reader's language (the catalogue's ``param_<name>``, else the plot field's label), or as
    itself when it has none (an API-only parameter such as ``bbox-crs``)."""


def _param_text(value: Any, lang: str, labels: bool = True) -> str:
    from babel.numbers import format_decimal

    from landreg import i18n

    if not labels:  # the CLI's and the log's English: names and numbers as the code has them
        if isinstance(value, list | tuple):
            return ", ".join(_param_text(v, lang, labels) for v in value)
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, Label):
        texts = i18n.catalogue()["text"][i18n.pick_lang(lang)]
        fields = i18n.catalogue()["fields"][i18n.pick_lang(lang)]
        return texts.get(f"param_{value}") or fields.get(str(value)) or str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not abs(value) < 1e15:  # beyond Babel's decimal precision (and NaN): as typed
            return f"{value:g}"
        return format_decimal(value, format="#,##0.###",
                              locale=i18n.LOCALES[i18n.pick_lang(lang)])
    if isinstance(value, list | tuple):
        return ", ".join(_param_text(v, lang, labels) for v in value)
    return str(value)


class LandregError(Exception):
    """Raised for any error landreg reports to its user."""

    code = "error"

    def __init__(
        self,
        message: str | None = None,
        *,
        key: str | None = None,
        params: dict[str, Any] | None = None,
        field: str | None = None,
        value: Any = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.key = key
        self.params = params or {}
        if message is None:
            if key is None:
                raise TypeError("a LandregError needs a message or a catalogue key")
            message = self._render("en", labels=False)
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.details = details or {}

    def text(self, lang: str | None = None) -> str:
        """The message in ``lang`` (``nb``/``en``): the catalogue's text when the error has a
        key, else the message as raised. ``None`` gives :attr:`message`."""
        if self.key is None or lang is None:
            return self.message
        return self._render(lang)

    def _render(self, lang: str, labels: bool = True) -> str:
        from landreg import i18n

        return i18n.t(self.key or "", lang,
                      **{k: _param_text(v, lang, labels) for k, v in self.params.items()})

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        """Return the public JSON form: ``{code, description, field?, value?, details?}``,
        the description in ``lang`` (see :meth:`text`)."""
        out: dict[str, Any] = {"code": self.code, "description": self.text(lang)}
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

    def __init__(self, message: str | None = None, *, retry_after: int | None = None,
                 **kwargs: Any) -> None:
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

    def __init__(self, message: str | None = None, *, retry_after: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
