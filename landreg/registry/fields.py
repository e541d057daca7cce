"""The plot's fields: which a user may set, how each is checked, which the public may see."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from landreg.errors import InvalidInput, Label, UnknownCode
from landreg.models import AVAILABILITY, OWNERSHIP, PLAN_LEGAL_STATUS, PLAN_STATUS

#: Fields anyone may see for a published plot (pages, API, OGC API, exports).
PUBLIC_FIELDS: tuple[str, ...] = (
    "id", "external_ref", "name", "kommunenummer", "kommunenavn", "area_daa", "arealformal",
    "arealformal_name", "plan_status", "plan_id", "plan_name", "plan_legal_status",
    "purpose_group", "availability", "road_access",
    "water_sewer", "power_capacity_mw", "byggeklar", "ownership", "price_nok_m2", "max_bya_pct",
    "max_height_m", "contact", "description", "updated_at", "version",
)
#: Fields only logged-in planners see; they never leave the server otherwise.
INTERNAL_FIELDS: tuple[str, ...] = (
    "internal_notes", "published", "created_by", "created_at", "updated_by", "withdrawn_reason",
)



def public_feature(feature: dict[str, Any]) -> dict[str, Any]:
    """``feature`` with the public fields only: for files handed out (exports), which must
    hold the same whoever downloaded them."""
    props = feature.get("properties") or {}
    return {**feature, "properties": {k: props[k] for k in PUBLIC_FIELDS if k in props}}


#: Fields a caller may set on create and update (the rest are derived or kept by the database).
EDITABLE_FIELDS: tuple[str, ...] = (
    "external_ref", "name", "kommunenummer", "arealformal", "plan_status", "plan_id",
    "plan_name", "plan_legal_status", "availability", "road_access", "water_sewer",
    "power_capacity_mw", "ownership",
    "price_nok_m2", "max_bya_pct", "max_height_m", "contact", "description", "internal_notes",
    "published",
)
REQUIRED_ON_CREATE: tuple[str, ...] = ("name", "arealformal")
#: The allowed range of each number field (the edit form shows the same limits).
NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "power_capacity_mw": (0, 10_000), "price_nok_m2": (0, 1_000_000), "max_bya_pct": (0, 100),
    "max_height_m": (0.1, 500),
}
#: The longest text each text field takes (4000 for the rest).
TEXT_LIMITS: dict[str, int] = {"name": 200, "external_ref": 100, "plan_id": 100,
                               "plan_name": 300}

_TRUE = {"true", "1", "yes", "ja", "y", "t"}
_FALSE = {"false", "0", "no", "nei", "n", "f"}


def parse_bool(field: str, value: Any) -> bool | None:
    """A boolean from JSON, a form or a CSV cell (true/false, ja/nei, 1/0); empty is None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(key="err_field_boolean", params={"name": Label(field), "value": value},
                       field=field, value=value)


def parse_number(
    field: str, value: Any, *, minimum: float | None = None, maximum: float | None = None
) -> float | None:
    """A number in a range; empty is None. Commas as decimal separator are accepted."""
    if value is None or value == "":
        return None
    name = Label(field)
    if isinstance(value, bool):
        raise InvalidInput(key="err_param_number", params={"name": name, "value": value},
                           field=field, value=value)
    try:
        number = float(Decimal(str(value).strip().replace(",", ".").replace(" ", "")))
    except (InvalidOperation, ValueError):
        raise InvalidInput(key="err_param_number", params={"name": name, "value": value},
                           field=field, value=value) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise InvalidInput(key="err_param_finite", params={"name": name, "value": value},
                           field=field, value=value)
    if minimum is not None and number < minimum:
        raise InvalidInput(key="err_param_at_least", params={
            "name": name, "minimum": float(minimum), "value": number}, field=field, value=number)
    if maximum is not None and number > maximum:
        raise InvalidInput(key="err_param_at_most", params={
            "name": name, "maximum": float(maximum), "value": number}, field=field, value=number)
    return number


def parse_choice(field: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (case-insensitive, spaces as underscores)."""
    text = str(value).strip().lower().replace(" ", "_")
    if text not in choices:
        raise UnknownCode(
            f"{field} must be one of {', '.join(choices)}; got {value!r}", field=field, value=value
        )
    return text


#: SOSI ``planstatus`` codes and the words plans use for them → :data:`PLAN_LEGAL_STATUS`.
_PLAN_LEGAL = {
    "1": "igangsatt", "planlegging igangsatt": "igangsatt",
    "2": "forslag", "planforslag": "forslag",
    "3": "vedtatt", "endelig vedtatt": "vedtatt", "endelig vedtatt arealplan": "vedtatt",
    "4": "opphevet", "5": "erstattet", "utgått/erstattet": "erstattet", "utgått": "erstattet",
    "6": "utsatt_rettsvirkning", "vedtatt plan med utsatt rettsvirkning": "utsatt_rettsvirkning",
    "8": "overstyrt",
}


def parse_plan_legal_status(value: Any) -> str:
    """The plan's legal status from a SOSI ``planstatus`` code (1 planlegging igangsatt,
    2 planforslag, 3 endelig vedtatt, 4 opphevet, 5 utgått/erstattet, 6 vedtatt med utsatt
    rettsvirkning, 8 overstyrt) or its name."""
    text = str(value).strip().lower()
    if text.endswith(".0"):
        text = text[:-2]
    text = _PLAN_LEGAL.get(text, text).replace(" ", "_")
    if text not in PLAN_LEGAL_STATUS:
        raise UnknownCode(
            f"plan_legal_status (planstatus) must be a SOSI planstatus code 1–6 or 8, or one of "
            f"{', '.join(PLAN_LEGAL_STATUS)}; got {value!r}", field="plan_legal_status",
            value=value)
    return text


def parse_text(
    field: str, value: Any, *, max_length: int = 4000, required: bool = False
) -> str | None:
    """Stripped text; empty is None unless required."""
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise InvalidInput(key="err_param_required", params={"name": Label(field)},
                               field=field)
        return None
    if len(text) > max_length:
        raise InvalidInput(key="err_param_too_long", params={
            "name": Label(field), "maximum": max_length}, field=field)
    return text


def clean_attributes(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Check and convert the editable attributes of a plot.

    Raises
    ------
    InvalidInput
        naming the first field that is wrong, its value and what is expected; unknown field
        names are refused too, so a typo never silently drops a value.
    """
    from landreg.registry.codes import lookup_arealformal, normalise_kommunenummer

    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput(
            f"Unknown field(s): {', '.join(unknown)}. "
            f"Editable fields: {', '.join(EDITABLE_FIELDS)}",
            field=unknown[0],
        )
    if creating:
        for name in REQUIRED_ON_CREATE:
            if data.get(name) in (None, ""):
                raise InvalidInput(f"{name} is required", field=name)
    out: dict[str, Any] = {}
    for name, value in data.items():
        if name == "name":
            out[name] = parse_text(name, value, max_length=TEXT_LIMITS[name], required=True)
        elif name in ("external_ref", "plan_id", "plan_name"):
            out[name] = parse_text(name, value, max_length=TEXT_LIMITS[name])
        elif name == "plan_legal_status":
            out[name] = None if value in (None, "") else parse_plan_legal_status(value)
        elif name in ("contact", "description", "internal_notes"):
            out[name] = parse_text(name, value)
        elif name == "kommunenummer":
            out[name] = None if value in (None, "") else normalise_kommunenummer(value)
        elif name == "arealformal":
            code = lookup_arealformal(value)
            out[name] = code.code
            out["purpose_group"] = code.group
        elif name == "plan_status":
            out[name] = parse_choice(name, value or "nåværende", PLAN_STATUS)
        elif name == "availability":
            out[name] = parse_choice(name, value or "ledig", AVAILABILITY)
        elif name == "ownership":
            out[name] = None if value in (None, "") else parse_choice(name, value, OWNERSHIP)
        elif name in ("road_access", "water_sewer", "published"):
            out[name] = parse_bool(name, value)
        elif name in NUMBER_RANGES:
            low, high = NUMBER_RANGES[name]
            out[name] = parse_number(name, value, minimum=low, maximum=high)
    if "published" in out and out["published"] is None:
        out["published"] = False
    if creating:
        out.setdefault("plan_status", "nåværende")
        out.setdefault("availability", "ledig")
        out.setdefault("published", False)
    return out
