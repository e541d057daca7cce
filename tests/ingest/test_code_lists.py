"""The arealformål code lists (landreg/data/arealformal.yaml) against their source.

The source is DiBK's plan map styles, transcribed as data with its attribution to
``tests/ingest/fixtures/dibk_plan_codes.yaml`` (repository, commit, date in its header): every
national code is drawn there with its name. Business codes, the ones the register files plots
under and shows, must carry the source's name; every code must exist in its list; and every
code of the 2008-act lists must be known, so no national code is "unknown" to an import.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from landreg.registry.codes import CODES_FILE, all_arealformal_codes, arealformal_codes

SOURCE = Path(__file__).parent / "fixtures" / "dibk_plan_codes.yaml"
#: Which source list(s) a ``system`` names: all of them for rp+kp, either one for 1985 codes.
LISTS = {"rp": ("RpArealformål",), "kp": ("KpArealformål",),
         "rp+kp": ("RpArealformål", "KpArealformål"), "pbl1985": ("RpFormål", "KpArealbruk")}
#: Where the source's own label is misspelt (1120 "Fritidsbebygelse") or cut short (2900).
SOURCE_GLITCHES = {1120, 2900}
#: Known to landreg, not drawn by the styles: "Kombinerte LNFR-formål" (SOSI Plan 4.5).
NOT_IN_SOURCE = {5800}
_BOTH = re.compile(r"^(?P<rp>.+) \(RpFormål\) / (?P<kp>.+) \(KpArealbruk\)$")


def _norm(name: str) -> str:
    name = re.sub(r"\s*\((RpFormål |KpArealbruk )?PBL 1985\)$", "", name)
    name = re.sub(r"\s*\(utgått\)$", "", name)
    return re.sub(r"[\s\-–]+", " ", name.replace("é", "e")).strip().lower()


@pytest.fixture(scope="module")
def source() -> dict[str, dict[int, str]]:
    raw = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    assert raw["source"].startswith("https://github.com/") and len(raw["commit"]) == 40
    return {name: {int(c): n for c, n in lst["codes"].items()}
            for name, lst in raw["lists"].items()}


def _matches(code: int, system: str, name: str, source: dict[str, dict[int, str]]) -> bool:
    """Is ``code`` in every list ``system`` names, under ``name`` (in one of them)?"""
    names = [source[lst].get(code) for lst in LISTS[system]]
    if system == "pbl1985":  # the same number means different things in the two 1985 lists
        both = _BOTH.match(name)
        if both:
            return _norm(both["rp"]) == _norm(names[0] or "") and \
                _norm(both["kp"]) == _norm(names[1] or "")
        return any(n and _norm(n) == _norm(name) for n in names)
    if "(utgått)" in name:  # withdrawn: may be gone from one of the current lists
        names = [n for n in names if n]
    return bool(names) and all(names) and any(_norm(n) == _norm(name) for n in names)


def test_every_business_code_has_the_source_name(source):
    wrong = [(c.code, c.system, c.nb, [source[lst].get(c.code) for lst in LISTS[c.system]])
             for c in arealformal_codes().values()
             if not (c.nb.endswith("(utgått)") and not any(
                 source[lst].get(c.code) for lst in LISTS[c.system]))
             and not _matches(c.code, c.system, c.nb, source)]
    assert wrong == []


def test_every_other_code_is_in_its_list_with_its_name(source):
    business = set(arealformal_codes())
    wrong = [(c.code, c.system, c.nb) for c in all_arealformal_codes().values()
             if c.code not in business and c.code not in SOURCE_GLITCHES | NOT_IN_SOURCE
             and not _matches(c.code, c.system, c.nb, source)]
    assert wrong == []


def test_every_national_2008_code_is_known(source):
    known = set(all_arealformal_codes())
    missing = {lst: sorted(set(source[lst]) - known) for lst in ("RpArealformål", "KpArealformål")}
    assert missing == {"RpArealformål": [], "KpArealformål": []}


def test_the_data_file_names_its_source_and_nothing_is_left_unverified():
    text = CODES_FILE.read_text(encoding="utf-8")
    assert "styles.ft.dibk.no" in text and "9dadcdd6" in text
    assert "verified: false" not in text
    assert not [c.code for c in all_arealformal_codes().values() if not c.verified]
