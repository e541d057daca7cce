"""The forum's words for rankings and selections, shared by the pages, the PDFs, the CSV and
the meeting map so that a screen and its exports say the same thing (issue 12).

- :func:`rank_text`: "nr. 1 av 14 i utvalget · nr. 8 i regionen" from a ranking item;
- :func:`filter_summary`: "Status: Ledig · Kommune: Kongsvinger · Profil: Lager/logistikk";
- :func:`enquiry_needs`: an enquiry's drive-time and distance needs in words;
- :func:`reason_text`: a broken hard limit in words ("Helning 12,3 > 8 %");
- :func:`weights_text`: the weights line with criterion names, not ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from landreg.i18n import DASH, field_label, fmt_number, t, value_label
from landreg.registry.distances import KINDS
from landreg.scoring.service import Suitability

#: Parameters of the /api/plots filters, in the order the summary names them.
_LISTS = {"availability": "availability", "purpose_group": "purpose_group"}
_BOOLS = ("byggeklar", "road_access", "water_sewer")
#: ``what value op bound (limit)`` as written by landreg.scoring.engine.
_REASON = re.compile(
    r"^(?P<what>\w+) (?P<value>\S+) (?P<op>[<>]) (?P<bound>\S+) \((?P<limit>\w+)\)$")


def rank_text(item: dict[str, Any], count: int, lang: str = "nb") -> str:
    """What a ranking item's place reads as everywhere (``tr('rank_label', …)``)."""
    rank, region = item.get("rank"), item.get("region_rank")
    if rank is None and region is None:  # e.g. a sold plot compared under Status = Ledig
        return t("forum_rank_outside", lang)
    if rank is None:
        return t("forum_rank_region_only", lang, region_rank=region)
    if region is None:
        return t("rank_label_selection", lang, rank=rank, count=count)
    return t("rank_label", lang, rank=rank, count=count, region_rank=region)


def criterion_name(suitability: Suitability, cid: str, lang: str = "nb") -> str:
    """A criterion's name in ``lang`` (its id only if the catalogue does not know it)."""
    c = suitability.catalogue.criteria.get(cid)
    if c is None:
        return field_label(cid, lang) if cid == "area_daa" else cid
    return c.name_nb if lang == "nb" else c.name_en


def weights_text(suitability: Suitability, weights: dict[str, float], lang: str = "nb") -> str:
    """``Vekter: Helning 20 %, Avstand til jernbane 30 %``."""
    return t("forum_weights", lang) + ": " + ", ".join(
        f"{criterion_name(suitability, k, lang)} {fmt_number(v, 0, lang)}\u00a0%"
        for k, v in weights.items())


def reason_text(suitability: Suitability, reason: str, lang: str = "nb") -> str:
    """A broken limit (``slope 12.3 > 8 (max_slope)``) as ``Helning 12,3 > 8 %``."""
    m = _REASON.match(reason)
    if not m:
        return reason
    what = m["what"]
    c = suitability.catalogue.criteria.get(what)
    unit = "daa" if what == "area_daa" else (c.unit if c is not None else "")
    try:
        value, bound = float(m["value"]), float(m["bound"])
    except ValueError:
        return reason
    digits = 0 if abs(value) >= 100 else 1
    return (f"{criterion_name(suitability, what, lang)} {fmt_number(value, digits, lang)} "
            f"{m['op']} {fmt_number(bound, 0 if bound == int(bound) else 1, lang)}"
            + (f"\u00a0{unit}" if unit else ""))


def reasons_text(suitability: Suitability, reasons: list[str], lang: str = "nb") -> str:
    """Several broken limits, or a dash."""
    return "; ".join(reason_text(suitability, r, lang) for r in reasons) or DASH


def filter_summary(session: Session, suitability: Suitability, args: dict[str, str],
                   profile: str | None, lang: str = "nb") -> str:
    """The selection on screen in words: the filters of /api/plots in ``args`` and the
    profile, e.g. ``Status: Ledig · Kommune: Kongsvinger · Profil: Lager/logistikk``."""
    from landreg.models import Municipality

    parts: list[str] = []

    def items(name: str) -> list[str]:
        return [v.strip() for v in (args.get(name) or "").split(",") if v.strip()]

    for name, field in _LISTS.items():
        if items(name):
            parts.append(f"{field_label(field, lang)}: "
                         + ", ".join(value_label(field, v, lang) for v in items(name)))
    if items("kommune"):
        names = dict(session.execute(select(Municipality.kommunenummer, Municipality.name)
                                     .where(Municipality.kommunenummer.in_(items("kommune"))))
                     .all())
        parts.append(f"{t('kommune', lang)}: "
                     + ", ".join(names.get(k, k) for k in items("kommune")))
    if items("arealformal"):
        parts.append(f"{field_label('arealformal', lang)}: {', '.join(items('arealformal'))}")
    for name, key in (("min_daa", "min_daa"), ("max_daa", "max_daa")):
        if args.get(name):
            parts.append(f"{t(key, lang)}: {_num(args[name], lang)}")
    for name in _BOOLS:
        if args.get(name) in ("true", "false"):
            parts.append(f"{field_label(name, lang)}: "
                         f"{value_label(name, args[name] == 'true', lang)}")
    if args.get("min_power_mw"):
        parts.append(t("forum_filter_power", lang, mw=_num(args["min_power_mw"], lang)))
    if args.get("q"):
        parts.append(t("forum_filter_q", lang, q=args["q"][:80]))
    if args.get("bbox"):
        parts.append(t("forum_filter_bbox", lang))
    if args.get("near"):
        parts.append(t("forum_filter_near", lang, m=_num(args.get("distance") or "0", lang)))
    if args.get("within_min") and args.get("to"):
        to = _destination_name(suitability, args["to"], lang)
        parts.append(t("forum_filter_within", lang, min=_num(args["within_min"], lang), to=to))
    parts += distance_needs({k: args.get(f"{k}_km") for k in KINDS}, lang)
    if profile:
        try:
            p = suitability.profile(profile)
            parts.append(f"{t('forum_profile', lang)}: {p.name_nb if lang == 'nb' else p.name_en}")
        except Exception:  # noqa: BLE001 - an unknown profile is reported where it is used
            parts.append(f"{t('forum_profile', lang)}: {profile}")
    if args.get("weights"):
        parts.append(t("forum_filter_own_weights", lang))
    if not any(p for p in parts if not p.startswith(t("forum_profile", lang))):
        parts.insert(0, t("forum_filter_none", lang))
    return " · ".join(parts)


def distance_needs(km: Mapping[str, Any], lang: str) -> list[str]:
    """"At most N km (straight line) from E16/Rv2 …" for each distance kind given in ``km``
    ({kind: km as a number or query text; None or empty when not asked})."""
    return [t(f"forum_filter_km_{kind}", lang, km=_num(str(km[kind]), lang))
            for kind in KINDS if km.get(kind) not in (None, "")]


def enquiry_needs(enquiry: Any, suitability: Suitability, lang: str) -> list[str]:
    """An enquiry's drive-time and distance needs as a planner reads them."""
    out = []
    if enquiry.within_min is not None and enquiry.within_to:
        out.append(t("forum_filter_within", lang, min=_num(str(enquiry.within_min), lang),
                     to=_destination_name(suitability, enquiry.within_to, lang)))
    return out + distance_needs({k: getattr(enquiry, f"{k}_km") for k in KINDS}, lang)


def _num(raw: str, lang: str) -> str:
    try:
        value = float(raw)
    except ValueError:
        return raw[:20]
    return fmt_number(value, 0 if value == int(value) else 1, lang)


def _destination_name(suitability: Suitability, target: str, lang: str) -> str:
    from landreg.routing.network import destination_names

    if suitability.layers_dir is None:
        return target
    try:
        names = destination_names(suitability.layers_dir).get(target)
    except Exception:  # noqa: BLE001 - no network configured: the id is all there is
        return target
    return target if names is None else (names[0] if lang == "nb" else names[1])
