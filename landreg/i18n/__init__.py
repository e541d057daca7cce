"""Words and number formats, Bokmål by default and English on request: the one place both
languages share.

The catalogue is ``text.yaml`` beside this module (every entry holds both languages; a test
checks none is missing). Pages, PDFs, exports, history and import reports take their labels
and their number and date formats from here, so a screen and its export say the same thing:

- ``t(key, lang)``: a UI word or sentence (``str.format`` placeholders filled from keywords);
- ``field_label(field, lang)``: a plot field's label (``area_daa`` → "Areal (daa)");
- ``value_label(field, value, lang)``: a coded value's label (``under_forhandling`` → "Under
  forhandling", ``True`` → "Ja"), numbers formatted, ``None`` → "–";
- ``fmt_number``, ``fmt_daa``, ``fmt_date``, ``fmt_datetime``: Norwegian formats (``1 234,5``,
  ``43,7 daa``, ``30.11.2026``) through Babel's CLDR data, English (``1,234.5``) likewise;
- ``bundle(lang)``: the same catalogue for the page scripts (which format with ``Intl`` and
  the ``locale`` given here).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

LANGS = ("nb", "en")
#: Babel/CLDR locale per language (``en`` is British English: day before month).
LOCALES = {"nb": "nb_NO", "en": "en_GB"}
#: The same locale as a BCP 47 tag, for ``Intl.NumberFormat`` in the page scripts.
JS_LOCALES = {"nb": "nb-NO", "en": "en-GB"}
DASH = "–"
CATALOGUE = Path(__file__).with_name("text.yaml")

#: Decimal places a number field is shown with.
FIELD_DIGITS = {"area_daa": 1, "price_nok_m2": 0, "power_capacity_mw": 1, "max_bya_pct": 0,
                "arealformal": None,
                "max_height_m": 1, "version": 0, "kommunenummer": None, "id": None}


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (PyYAML keeps the last one silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str):  # YAML 1.1 reads a bare yes/no/on/off as a boolean
            raise ValueError(f"{CATALOGUE.name}: key {key!r} (line {key_node.start_mark.line + 1})"
                             " must be text: quote it")
        if key in seen:
            raise ValueError(f"{CATALOGUE.name}: key {key!r} given twice (line "
                             f"{key_node.start_mark.line + 1})")
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_mapping)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Any]:
    """The parsed catalogue: ``{"text": {lang: {key: str}}, "fields": {lang: {...}},
    "values": {lang: {field: {value: str}}}}``. Text keys are unique across sections."""
    # a SafeLoader subclass: plain data only
    raw = yaml.load(CATALOGUE.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    text: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    for section, entries in (raw.get("text") or {}).items():
        for key, entry in (entries or {}).items():
            if key in text["nb"]:
                raise ValueError(f"{CATALOGUE.name}: text key {key!r} in section {section!r} "
                                 "is already used in another section")
            for lang in LANGS:
                text[lang][key] = entry[lang]
    fields = {lang: {k: v[lang] for k, v in (raw.get("fields") or {}).items()}
              for lang in LANGS}
    values = {lang: {f: {str(k): v[lang] for k, v in (entries or {}).items()}
                     for f, entries in (raw.get("values") or {}).items()} for lang in LANGS}
    return {"text": text, "fields": fields, "values": values}


def pick_lang(value: str | None) -> str:
    """``nb`` unless ``en`` is asked for."""
    return value if value in LANGS else "nb"


def t(key: str, lang: str = "nb", **params: Any) -> str:
    """The catalogue's text for ``key`` (placeholders filled from ``params``). An unknown key
    is a programming error and raises ``KeyError``: a page must never show a bare key."""
    text = catalogue()["text"][pick_lang(lang)][key]
    return text.format(**params) if params else text


def field_label(field: str, lang: str = "nb") -> str:
    """A plot field's label; a field without one raises ``KeyError`` (add it to the
    catalogue's ``fields`` section)."""
    return catalogue()["fields"][pick_lang(lang)][field]


def fmt_number(value: float | int | None, digits: int = 1, lang: str = "nb") -> str:
    """A number as a reader of ``lang`` writes it: ``1 234,5`` (no-break space) / ``1,234.5``.
    ``None`` (and NaN) is a dash."""
    if value is None or value != value:  # noqa: PLR0124 - NaN check
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=LOCALES[pick_lang(lang)])


def fmt_daa(value: float | None, lang: str = "nb", digits: int = 1) -> str:
    """An area in dekar: ``43,7 daa``."""
    return DASH if value is None else f"{fmt_number(value, digits, lang)}\u00a0daa"


def fmt_quantity(value: float | None, unit: str, lang: str = "nb") -> str:
    """A criterion's value with its unit as a person reads it: metres as ``1,3 km``, a share
    (``andel``) as ``22 %``, a slope (``grader``) as ``2,5°``, never the catalogue's raw
    unit word (criteria.yaml's units are Norwegian codes)."""
    if value is None:
        return DASH
    if unit == "m":
        return f"{fmt_number(value / 1000, 1, lang)}\u00a0km"
    if unit == "andel":
        return f"{fmt_number(value * 100, 0, lang)}\u00a0%"
    if unit == "grader":
        return f"{fmt_number(value, 1, lang)}\u00b0"
    if unit == "daa":
        return fmt_daa(value, lang)
    return f"{fmt_number(value, 1, lang)}\u00a0{unit}".rstrip()


def fmt_date(value: dt.date | dt.datetime | str | None, lang: str = "nb") -> str:
    """A date: ``30.11.2026`` (nb) / ``30 Nov 2026`` (en)."""
    if value is None or value == "":
        return DASH
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_date(value, "short" if pick_lang(lang) == "nb" else "medium",
                       locale=LOCALES[pick_lang(lang)])


def fmt_datetime(value: dt.datetime | str | None, lang: str = "nb",
                 tz: str = "Europe/Oslo") -> str:
    """A moment in Norwegian time: ``30.11.2026 14:05`` (nb) / ``30 Nov 2026, 14:05`` (en)."""
    if value is None or value == "":
        return DASH
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    lang = pick_lang(lang)
    pattern = "dd.MM.yyyy HH:mm" if lang == "nb" else "d MMM yyyy, HH:mm"
    return format_datetime(value, pattern, tzinfo=tz, locale=LOCALES[lang])


def value_label(field: str, value: Any, lang: str = "nb") -> str:
    """What a person reads for ``value`` of ``field``: a code's label, Ja/Nei for booleans,
    a formatted number, a date, or the text itself; ``None`` is a dash."""
    lang = pick_lang(lang)
    if value is None or value == "":
        return DASH
    values = catalogue()["values"][lang]
    if isinstance(value, bool):
        return values["bool"]["true" if value else "false"]
    if field in values and str(value) in values[field]:
        return values[field][str(value)]
    if isinstance(value, (dt.datetime, dt.date)):
        return fmt_datetime(value, lang) if isinstance(value, dt.datetime) else \
            fmt_date(value, lang)
    if isinstance(value, (int, float)) and FIELD_DIGITS.get(field, 1) is not None:
        digits = FIELD_DIGITS.get(field, 0 if isinstance(value, int) else 1)
        return fmt_number(value, digits, lang)
    return str(value)


def labels(field: str, lang: str = "nb") -> dict[str, str]:
    """All labels of a coded field, in catalogue order: ``{"ledig": "Ledig", …}``."""
    return dict(catalogue()["values"][pick_lang(lang)][field])


def bundle(lang: str, internal: bool = False) -> dict[str, Any]:
    """Everything the page scripts need in one language (see landreg-i18n.js); the labels
    of internal fields only when ``internal`` (a logged-in planner's page)."""
    from landreg.registry.fields import PUBLIC_FIELDS

    lang = pick_lang(lang)
    cat = catalogue()
    fields = {k: v for k, v in cat["fields"][lang].items() if internal or k in PUBLIC_FIELDS}
    return {"lang": lang, "locale": JS_LOCALES[lang], "text": cat["text"][lang],
            "fields": fields, "values": cat["values"][lang],
            # kept for the map script's existing names
            "availability": cat["values"][lang]["availability"],
            "purpose": cat["values"][lang]["purpose_group"]}
