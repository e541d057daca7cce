"""Code lists: arealformål → purpose group, and the region's municipalities."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from landreg.errors import InvalidInput, UnknownCode
from landreg.models import Arealformal

CODES_FILE = Path(__file__).resolve().parent.parent / "data" / "arealformal.yaml"

#: The seven Glåmdalen kommuner (2020– numbers). Always key on the number: there are two Vålers.
REGION_KOMMUNER: dict[str, str] = {
    "3401": "Kongsvinger",
    "3414": "Nord-Odal",
    "3415": "Sør-Odal",
    "3416": "Eidskog",
    "3417": "Grue",
    "3418": "Åsnes",
    "3419": "Våler",
}
#: Numbers used before the 2020 regional reform, still on older plans and files.
PRE2020_KOMMUNER: dict[str, str] = {
    "0402": "3401",
    "0418": "3414",
    "0419": "3415",
    "0420": "3416",
    "0423": "3417",
    "0425": "3418",
    "0426": "3419",
}


class NotBusinessLand(InvalidInput):
    """Raised for a national arealformål code that is not business land (a road, housing …):
    an import skips such areas instead of rejecting them."""

    code = "not_business_land"


@dataclass(frozen=True)
class Code:
    """One arealformål code: ``group`` is landreg's purpose group (business codes), ``main``
    the national main purpose (other codes)."""

    code: int
    system: str
    group: str
    nb: str
    en: str
    business: bool = True
    main: str = "bebyggelse"
    verified: bool = True

    @property
    def label(self) -> str:
        """``"2011 Kjøreveg"``."""
        return f"{self.code} {self.nb}"


@lru_cache(maxsize=1)
def all_arealformal_codes() -> dict[int, Code]:
    """Every national arealformål code in ``landreg/data/arealformal.yaml``, keyed by code."""
    raw = yaml.safe_load(CODES_FILE.read_text(encoding="utf-8"))
    out = {int(c["code"]): Code(**c) for c in raw["codes"]}
    for code, (system, main, name) in raw["other"].items():
        out[int(code)] = Code(code=int(code), system=system, group="annen", nb=name, en=name,
                              business=False, main=main)
    return out


@lru_cache(maxsize=1)
def arealformal_codes() -> dict[int, Code]:
    """The business-land arealformål codes (the ones a plot may have), keyed by code."""
    return {k: c for k, c in all_arealformal_codes().items() if c.business}


def lookup_arealformal(value: object) -> Code:
    """Return the business-land code for ``value``.

    Raises :class:`NotBusinessLand` for a known national code that is not business land and
    :class:`UnknownCode` for a code in no list, each naming it."""
    try:
        code = int(str(value).strip())
    except (TypeError, ValueError):
        raise UnknownCode(
            f"arealformål must be a numeric code such as 1340 (Industri); got {value!r}",
            field="arealformal",
            value=value,
        ) from None
    codes = arealformal_codes()
    other = all_arealformal_codes().get(code)
    if other is not None and not other.business:
        skip = f"{other.label}: ikke næringsareal"
        raise NotBusinessLand(f"{skip} (not business land).", field="arealformal", value=code,
                              details={"skip": skip})
    if code not in codes:
        known = ", ".join(str(c) for c in sorted(codes))
        raise UnknownCode(
            f"Unknown arealformål code {code}. Known codes: {known}.",
            field="arealformal",
            value=code,
        )
    return codes[code]


def normalise_kommunenummer(value: object) -> str:
    """Return the 2020– kommunenummer for ``value`` (pre-2020 numbers are mapped)."""
    text = str(value).strip().zfill(4) if value is not None else ""
    if text in REGION_KOMMUNER:
        return text
    if text in PRE2020_KOMMUNER:
        return PRE2020_KOMMUNER[text]
    listed = ", ".join(f"{k} {v}" for k, v in REGION_KOMMUNER.items())
    raise UnknownCode(key="err_unknown_kommune", params={"value": str(value), "listed": listed},
                      field="kommunenummer", value=value)


def sync_arealformal(session: Session) -> int:
    """Upsert the code list into the ``arealformal`` table; returns the number of codes."""
    rows = [
        {"code": c.code, "name_nb": c.nb, "name_en": c.en, "system": c.system,
         "purpose_group": c.group}
        for c in arealformal_codes().values()
    ]
    stmt = insert(Arealformal).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Arealformal.code],
        set_={k: stmt.excluded[k] for k in ("name_nb", "name_en", "system", "purpose_group")},
    )
    session.execute(stmt)
    return len(rows)
