"""Import messages in the reader's language (issue 11): every reason, warning and file error
is made with its catalogue key, so the upload page can say it in Norwegian with Norwegian
numbers, while the command line keeps the English sentence."""

from __future__ import annotations

import re

import pytest
import shapely

from landreg.errors import LandregError
from landreg.ingest.importer import plan_import
from landreg.ingest.messages import Message, render, render_error, skip_label
from tests.helpers import INSIDE, square_25833
from tests.ingest.files import plots_frame, write


def test_numbers_areas_and_field_names_follow_the_language():
    msg = Message("1.4 daa of the plot's 12.3 daa lie outside …", "imp_r_outside_region",
                  outside_m2=1_400.0, total_m2=12_345.0)
    assert render(msg, "nb").startswith("1,4\u00a0daa av tomtas 12,3\u00a0daa ligger utenfor")
    assert render(msg, "en").startswith("1.4\u00a0daa of the plot's 12.3\u00a0daa lie outside")
    assert render(msg, None) == str(msg)  # the CLI's English sentence, unchanged
    small = Message("35 m² …", "imp_r_outside_region", outside_m2=35.0, total_m2=40.0)
    assert "35\u00a0m² av tomtas 40\u00a0m²" in render(small, "nb")
    missing = Message("name is required …", "imp_r_missing_nocolumn", field="name", column="")
    assert render(missing, "nb").startswith("Navn må fylles ut")
    assert "--" not in render(missing, "nb") and "--" not in render(missing, "en")


def test_skipped_areas_keep_the_national_name_and_say_why_in_the_language():
    label = "2011 Kjøreveg: ikke næringsareal"
    assert skip_label(label, "nb") == label
    assert skip_label(label, "en") == "2011 Kjøreveg: not business land"


def test_every_reason_of_a_feature_is_given_at_once_in_norwegian(session, tmp_path):
    frame = plots_frame("3401", 3, prefix="MSG", formal=[1340, 9999, 1340],
                        navn=["God", None, "Sløyfe"]).drop(columns="ref")  # all new
    x, y = INSIDE["3401"]
    bowtie = shapely.Polygon([(x, y - 900), (x + 60, y - 840), (x + 60, y - 900),
                              (x, y - 840), (x, y - 900)])
    frame.loc[2, "geometry"] = bowtie
    path = write(frame, tmp_path, "gpkg", epsg=25833, name="mine_tomter")
    report = plan_import(session, path, kommune="3401", user="kari")
    assert report.counts["rejected"] == 2
    second = report.to_dict(lang="nb")["features"][1]
    texts = [r["message"] for r in second["reasons"]]
    assert texts == ["Kolonnen «formal»: «9999» er ingen kjent kode.",
                     "Navn må fylles ut for en ny tomt, men kolonnen «navn» er tom."]
    third = report.to_dict(lang="nb")["features"][2]["reasons"][0]["message"]
    assert third.startswith("Flaten er ikke gyldig: krysser seg selv ved ")
    assert "." not in third.split(" ved ")[1].split(" (")[0]  # decimal commas
    english = report.to_dict(lang="en")["features"][1]["reasons"]
    assert english[0]["message"] == "Column “formal”: “9999” is not a known code."
    # the command line's messages stay English, and keep their flags
    plain = [r["message"] for r in report.to_dict()["features"][1]["reasons"]]
    assert "9999" in plain[0] and plain[1].startswith("name is required for a new plot")


def test_a_file_outside_the_region_is_said_once_naming_the_users_file(session, tmp_path):
    oslo = plots_frame("3401", 2, prefix="OSL")
    oslo["geometry"] = [square_25833(262_000 + 100 * i, 6_650_000, 60) for i in range(2)]
    path = write(oslo, tmp_path, "gpkg", epsg=25833, name="upload")
    with pytest.raises(LandregError) as caught:
        plan_import(session, path, user="kari", name="Oslo-plan.gpkg")
    nb = render_error(caught.value, "nb", "Oslo-plan.gpkg")
    assert nb.startswith("Ingen av de 2 flatene i «Oslo-plan.gpkg» ligger i de sju "
                         "Glåmdalskommunene")
    assert "59," in nb and "° Ø" in nb and "upload" not in nb
    assert "Oslo-plan.gpkg" in render_error(caught.value, "en", "Oslo-plan.gpkg")


def test_a_file_without_crs_asks_for_it_on_the_page_not_with_a_flag(session, tmp_path):
    frame = plots_frame("3401", 1, prefix="CRS").set_crs(None, allow_override=True)
    path = write(frame, tmp_path, "csv", name="tomter")
    with pytest.raises(LandregError) as caught:
        plan_import(session, path, user="kari", name="Mine tomter.csv")
    assert "--crs" in caught.value.message  # the command line keeps its flag
    nb = render_error(caught.value, "nb", "Mine tomter.csv")
    assert "«Mine tomter.csv»" in nb and "Koordinatsystem" in nb and "--" not in nb


def test_every_message_key_the_code_uses_is_in_the_catalogue():
    from pathlib import Path

    from landreg.i18n import catalogue
    from landreg.ingest.mapping import NOT_MAPPED

    root = Path(__file__).resolve().parents[2]
    files = [*root.glob("landreg/ingest/*.py"), root / "landreg/web/importing.py",
             root / "webmap/static/landreg-import.js", root / "webmap/templates/import.html"]
    used = set()
    for f in files:
        used |= set(re.findall(r"['\"](imp_[a-z_]*[a-z])['\"]", f.read_text(encoding="utf-8")))
    used |= {f"imp_action_{a}" for a in ("create", "update", "unchanged", "skipped",
                                         "rejected")}
    used |= {f"imp_{g}_{a}" for g in ("group", "done")
             for a in ("create", "update", "unchanged", "skipped")}
    used |= {f"imp_w_{k}" for k in NOT_MAPPED}
    known = set(catalogue()["text"]["nb"])
    assert len(used) > 60 and sorted(used - known) == []
