"""Import messages in the reader's language.

Every message an import gives (a rejected feature's reason, a warning, a skipped area, an
error for the whole file) is made as a :class:`Message`: the English sentence the command line
prints and the tests read — it *is* a ``str`` — plus the catalogue key and the raw values it
was made from. :func:`render` says it again in Norwegian or English from the catalogue
(``landreg/i18n/text.yaml``, section ``import``), with Norwegian numbers (``0,4 daa``,
``1 234 m²``), field labels instead of field names and no command-line flags: the upload page
shows those. A plain ``str`` renders as itself.

::

    msg = Message("0.4 daa of the plot's 12.3 daa lie outside …", "imp_r_outside_region",
                  outside_m2=400.0, total_m2=12_300.0)
    render(msg, "nb")   # "0,4 daa av tomtas 12,3 daa ligger utenfor de sju …"
"""

from __future__ import annotations

from typing import Any

from landreg.errors import LandregError
from landreg.i18n import field_label, fmt_daa, fmt_number, pick_lang, t, value_label

#: GEOS's reasons for an invalid polygon, in Norwegian (the English is GEOS's own).
GEOS_NB = {
    "self-intersection": "krysser seg selv",
    "ring self-intersection": "en ring krysser seg selv",
    "too few points": "for få punkter",
    "hole lies outside shell": "et hull ligger utenfor ytterkanten",
    "nested holes": "hull ligger inni hverandre",
    "interior is disconnected": "innsiden er delt i flere deler",
    "nested shells": "flater ligger inni hverandre",
    "duplicate rings": "to like ringer",
    "invalid coordinate": "ugyldig koordinat",
    "ring is not closed": "en ring er ikke lukket",
}
#: The message for an error class that carries no key of its own (by its ``code``).
ERROR_KEYS = {
    "unreadable_file": "imp_e_unreadable", "not_spatial": "imp_e_not_spatial",
    "unsafe_archive": "imp_e_unsafe_archive", "too_large": "imp_e_too_large_generic",
    "file_too_large": "imp_e_too_large_generic", "missing_crs": "imp_e_missing_crs",
    "invalid_crs": "imp_e_invalid_crs", "import_conflict": "imp_e_conflict",
    "stale_version": "imp_e_conflict",
}


#: How ``registry.codes`` ends the label of an area that is not business land.
SKIP_SUFFIX = ": ikke næringsareal"


class Message(str):
    """An English message (the ``str`` itself) with its catalogue ``key`` and ``params``."""

    key: str
    params: dict[str, Any]

    def __new__(cls, text: str, key: str, **params: Any) -> Message:
        """``text`` in English; ``key`` in the catalogue; ``params`` the raw values."""
        obj = super().__new__(cls, text)
        obj.key = key
        obj.params = params
        return obj


def area(m2: float, lang: str = "nb") -> str:
    """An area for a message: ``35 m²`` under one daa, else ``12,3 daa`` (``12.3 daa``)."""
    if m2 < 1000:
        return f"{fmt_number(m2, 0, lang)}\u00a0m²"
    return fmt_daa(m2 / 1000, lang)


def _param(name: str, value: Any, lang: str) -> Any:
    if name.endswith("_m2") and isinstance(value, int | float):
        return area(float(value), lang)
    if name == "field" and isinstance(value, str):
        try:
            return field_label(value, lang)
        except KeyError:
            return value
    if name == "split":  # [(kommunenummer, m²), …]
        return ", ".join(f"{k}: {area(m2, lang)}" for k, m2 in value)
    if name in ("x", "y", "lat", "lon") and lang == "nb" and isinstance(value, str):
        return value.replace(".", ",")  # a coordinate: Norwegian decimal comma, no grouping
    if name == "what" and lang == "nb" and isinstance(value, str):
        return GEOS_NB.get(value.lower(), value)
    if isinstance(value, bool):
        return value_label("published", value, lang)
    if isinstance(value, float):
        return fmt_number(value, 1 if abs(value) >= 1 else 3, lang)
    if isinstance(value, int):
        return fmt_number(value, 0, lang)
    if isinstance(value, list | tuple):
        return ", ".join(str(_param("", v, lang)) for v in value)
    return value


def render(message: str, lang: str | None) -> str:
    """``message`` in ``lang`` (``None``: as made, in English)."""
    if lang is None or not isinstance(message, Message):
        return str(message)
    lang = pick_lang(lang)
    return t(message.key, lang, **{k: _param(k, v, lang) for k, v in message.params.items()})


def skip_label(label: str, lang: str | None) -> str:
    """A skipped area's label (``"2011 Kjøreveg: ikke næringsareal"``, made by
    ``registry.codes``) in ``lang``: the code's national name stays Norwegian."""
    if lang is None or not label.endswith(SKIP_SUFFIX):
        return label
    return t("imp_skip", pick_lang(lang), label=label[: -len(SKIP_SUFFIX)])


def keyed(exc: LandregError, key: str, **params: Any) -> LandregError:
    """``exc`` with the catalogue key and values its message is made from (for the web)."""
    exc.message = Message(exc.message, key, **params)
    return exc


def render_error(exc: LandregError, lang: str, file: str | None = None) -> str:
    """An error for the whole file in ``lang``: its own key, else its class's sentence naming
    ``file``, else (a mistake that is not the file's, e.g. a bad kommune) its message."""
    lang = pick_lang(lang)
    if isinstance(exc.message, Message):
        params = {k: _param(k, v, lang) for k, v in exc.message.params.items()}
        params.setdefault("file", file or "")
        return t(exc.message.key, lang, **params)
    key = ERROR_KEYS.get(exc.code)
    if key is None:
        return exc.message if lang == "en" else t("imp_e_generic", lang, detail=exc.message)
    return t(key, lang, file=file or "")
