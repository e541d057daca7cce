"""Column mapping: which column of a file feeds which field of the register.

Same-named columns, the names national plans and common Norwegian files use (:data:`ALIASES`),
or an explicit ``field=column`` mapping (:func:`resolve_mapping`); attributes that only look
like a field (``eierform``) are named in :data:`NOT_MAPPED` and left out with a note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from landreg.errors import InvalidInput
from landreg.ingest.messages import keyed
from landreg.registry.fields import (
    EDITABLE_FIELDS,
)

#: Fields an import can set: the editable ones, and ``landreg_id`` to match our own exports.
IMPORT_FIELDS: tuple[str, ...] = (*EDITABLE_FIELDS, "landreg_id")
#: Column names recognised for each field besides its own name. Compared without case, accents
#: (æ→ae, ø→o, å→a) or punctuation, so ``Arealformål``, ``AREALFORMAL`` and ``areal_formal`` match.
ALIASES: dict[str, tuple[str, ...]] = {
    # A plan's own identity first: NPAD lokalId (identifikasjon), SOSI ..IDENT/..LOKALID.
    "external_ref": ("ekstern_ref", "ekstern_id", "referanse", "ref", "site_reference",
                     "lokalid", "identifikasjon_lokalid", "identifikasjon"),
    "name": ("navn", "tomtenavn", "områdenavn", "site_name_address", "feltnavn",
             "feltbetegnelse"),
    "kommunenummer": ("kommunenr", "kommune_nr", "knr", "komm"),
    "arealformal": ("arealformål", "arealformaal", "formål", "formaal", "formal",
                    "rp_arealformål", "kp_arealformål"),
    # Kommuneplan arealbruksstatus 1 nåværende / 2 framtidig. A plan's ``planstatus`` is its
    # legal status (plan_legal_status), never nåværende/framtidig.
    "plan_status": ("status", "arealbruksstatus", "arealstatus"),
    "plan_id": ("planid", "planident", "planidentifikasjon", "arealplan_id"),
    "plan_name": ("plannavn",),
    "plan_legal_status": ("planstatus", "planstat", "plan_juridisk_status"),
    "availability": ("tilgjengelighet", "ledighet", "salgsstatus"),
    "road_access": ("vegtilkomst", "veitilkomst", "adkomst", "atkomst"),
    "water_sewer": ("vann_avløp", "vann_og_avløp", "va"),
    "power_capacity_mw": ("effekt_mw", "kapasitet_mw", "strøm_mw", "kraft_mw"),
    # Not ``eierform``: in a plan that is 1 offentlig / 2 felles / 3 annen (who the area is
    # for), not who owns the plot. It is left out with a note (:data:`NOT_MAPPED`).
    "ownership": ("eierskap", "eier"),
    "price_nok_m2": ("pris_kr_m2", "pris_nok_m2", "pris_m2", "pris"),
    "max_bya_pct": ("bya", "bya_pct", "maks_bya", "maks_bya_pct"),
    "max_height_m": ("maks_høyde", "maks_hoyde_m", "byggehøyde", "høyde"),
    "contact": ("kontakt", "kontaktperson", "epost"),
    "description": ("beskrivelse", "omtale"),
    "internal_notes": ("internt_notat", "interne_notater", "notat"),
    "published": ("publisert", "publiser"),
}
#: Plan attributes that look like a field but mean something else: column key → the note.
NOT_MAPPED: dict[str, str] = {
    "eierform": ("{column}: the plan's eierform (1 offentlig, 2 felles, 3 annen) says whom an "
                 "area is for, not who owns the plot; it is not imported as ownership."),
}
#: Plan-id columns as national plans name them: the plan id is unique within its kommune
#: only, so the register stores ``<kommunenummer>_<planidentifikasjon>``.
PLAN_ID_COLUMNS = frozenset({"planidentifikasjon", "planid", "planident"})


def column_key(name: object) -> str:
    """A column name compared without case, accents (æ→ae, ø→o, å→a) or punctuation."""
    t = str(name).strip().lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return "".join(c for c in t if c.isalnum())


def resolve_mapping(
    columns: Sequence[object], mapping: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Decide which source column feeds which field.

    Parameters
    ----------
    columns:
        The source's attribute columns.
    mapping:
        Explicit ``field → column`` choices; they win over the defaults. The field may be
        given by a Norwegian alias (``arealformål=FORMAL``); an empty column (``status=``)
        switches a default off. Column names are matched exactly, then ignoring case.

    Returns
    -------
    tuple
        ``{field: column}`` and the list of columns not used.
    """
    cols = [str(c) for c in columns]
    by_key: dict[str, str] = {}
    for c in cols:
        by_key.setdefault(column_key(c), c)
    field_by_key = {column_key(f): f for f in IMPORT_FIELDS}
    for f, aliases in ALIASES.items():
        for a in aliases:
            field_by_key.setdefault(column_key(a), f)
    chosen: dict[str, str] = {}
    off: set[str] = set()
    for given_field, column in (mapping or {}).items():
        f = field_by_key.get(column_key(given_field))
        if f is None:
            raise keyed(InvalidInput(
                f"Unknown field {given_field!r} in the mapping. "
                f"Fields: {', '.join(IMPORT_FIELDS)}.",
                field="mapping", value=given_field,
            ), "imp_e_mapping_field", given=str(given_field), fields=", ".join(IMPORT_FIELDS))
        if column is None or not str(column).strip():
            off.add(f)
            continue
        found = column if column in cols else next(
            (c for c in cols if c.lower() == str(column).lower()), None)
        if found is None:
            raise keyed(InvalidInput(
                f"The mapping {given_field}={column} names a column the file does not have. "
                f"Its columns are: {', '.join(cols) or 'none'}.",
                field="mapping", value=column,
            ), "imp_e_mapping_column", given=f"{given_field}={column}",
                columns=", ".join(cols) or "–")
        chosen[f] = found
    used = set(chosen.values())
    alias_of = {column_key(a): f for f, aliases in ALIASES.items() for a in aliases}
    for f in IMPORT_FIELDS:
        if f in chosen or f in off:
            continue
        for alias in (f, *ALIASES.get(f, ())):
            c = by_key.get(column_key(alias))
            if (alias == f and c is not None and alias_of.get(column_key(c), f) != f
                    and c.lower() != f):
                continue  # "planstatus" is plan_legal_status's, though it looks like plan_status
            if c is not None and c not in used:
                chosen[f] = c
                used.add(c)
                break
    return chosen, [c for c in cols if c not in used]



def national_plan_id(ids: np.ndarray, kommuner: np.ndarray) -> np.ndarray:
    """``planidentifikasjon`` → ``3401_2019003`` (the kommune the area lies in, then the id)."""
    out = ids.copy()
    for i, (pid, k) in enumerate(zip(ids, kommuner, strict=True)):
        if pid is not None and k is not None and not str(pid).startswith(f"{k}_"):
            out[i] = f"{k}_{pid}"[:100]
    return out

