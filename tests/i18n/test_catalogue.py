"""The one catalogue both languages share: complete, no duplicates, Norwegian formats."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from landreg import i18n
from landreg.models import AVAILABILITY, OWNERSHIP, PLAN_LEGAL_STATUS, PLAN_STATUS, PURPOSE_GROUPS
from landreg.registry.fields import INTERNAL_FIELDS, PUBLIC_FIELDS


def _entries(node, path=()):
    """Every leaf entry ``{nb: …, en: …}`` of the raw YAML with its path."""
    if isinstance(node, dict) and set(node) == {"nb", "en"}:
        yield path, node
    elif isinstance(node, dict):
        for key, child in node.items():
            yield from _entries(child, (*path, key))


def test_every_entry_has_both_languages_non_empty():
    raw = yaml.safe_load(i18n.CATALOGUE.read_text(encoding="utf-8"))
    entries = list(_entries(raw))
    assert len(entries) > 100
    bad = [".".join(map(str, p)) for p, e in entries
           if not (isinstance(e["nb"], str) and e["nb"].strip()
                   and isinstance(e["en"], str) and e["en"].strip())]
    assert bad == []


def test_both_languages_have_the_same_keys_and_placeholders():
    import string

    cat = i18n.catalogue()
    assert cat["text"]["nb"].keys() == cat["text"]["en"].keys()
    for key, nb in cat["text"]["nb"].items():
        names = {f[1] for f in string.Formatter().parse(nb) if f[1]}
        en = {f[1] for f in string.Formatter().parse(cat["text"]["en"][key]) if f[1]}
        assert names == en, key


def test_a_key_given_twice_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "text.yaml"
    bad.write_text("text:\n  common:\n    a: {nb: x, en: x}\n  map:\n    a: {nb: y, en: y}\n",
                   encoding="utf-8")
    monkeypatch.setattr(i18n, "CATALOGUE", bad)
    i18n.catalogue.cache_clear()
    try:
        with pytest.raises(ValueError, match="'a'"):
            i18n.catalogue()
    finally:
        i18n.catalogue.cache_clear()


def test_every_plot_field_and_coded_value_has_a_label():
    for lang in i18n.LANGS:
        for field in PUBLIC_FIELDS + INTERNAL_FIELDS:
            assert i18n.field_label(field, lang) != field
        for field, codes in (("availability", AVAILABILITY), ("purpose_group", PURPOSE_GROUPS),
                             ("plan_status", PLAN_STATUS), ("ownership", OWNERSHIP),
                             ("plan_legal_status", PLAN_LEGAL_STATUS)):
            assert set(i18n.labels(field, lang)) == set(codes), field


@pytest.mark.parametrize(("value", "digits", "nb", "en"), [
    (43.7, 1, "43,7", "43.7"),
    (1234.5, 1, "1\u00a0234,5", "1,234.5"),
    (96.65, 0, "97", "97"),
    (-3.25, 2, "-3,25", "-3.25"),
    (None, 1, "–", "–"),
])
def test_numbers_are_written_as_readers_of_each_language_write_them(value, digits, nb, en):
    assert i18n.fmt_number(value, digits, "nb") == nb
    assert i18n.fmt_number(value, digits, "en") == en


def test_values_are_labels_not_keys():
    assert i18n.value_label("availability", "under_forhandling") == "Under forhandling"
    assert i18n.value_label("road_access", True) == "Ja"
    assert i18n.value_label("published", False, "en") == "No"
    assert i18n.value_label("area_daa", 71.23187539611085) == "71,2"
    assert i18n.value_label("price_nok_m2", 130.0) == "130"
    assert i18n.fmt_daa(43.7) == "43,7\u00a0daa"
    assert i18n.fmt_date(dt.date(2026, 11, 30)) == "30.11.2026"
    when = dt.datetime(2026, 6, 1, 12, 5, tzinfo=dt.UTC)
    assert i18n.fmt_datetime(when) == "01.06.2026 14:05"  # Oslo summer time


def test_an_unknown_key_raises_rather_than_showing_it():
    with pytest.raises(KeyError):
        i18n.t("no_such_key_anywhere")


def test_a_bare_yes_key_is_refused_not_read_as_a_boolean(tmp_path, monkeypatch):
    bad = tmp_path / "text.yaml"
    bad.write_text("text:\n  common:\n    yes: {nb: Ja, en: 'Yes'}\n", encoding="utf-8")
    monkeypatch.setattr(i18n, "CATALOGUE", bad)
    i18n.catalogue.cache_clear()
    try:
        with pytest.raises(ValueError, match="quote it"):
            i18n.catalogue()
    finally:
        i18n.catalogue.cache_clear()
