"""The upload answers in the page's language (issue 11): every reason of a rejected area at
once, Norwegian numbers, the user's own file named, no command-line flags; after a write it
lists what was created, updated, unchanged and skipped, with names, published or not and a
link to each plot (unpublished plots included: only the kommune's planner gets here)."""

from __future__ import annotations

import io
import re
import uuid

import pytest

from tests.ingest.plans import Area, mixed_plan, sosi_plan
from tests.web.test_plans_upload import token  # noqa: F401 - a Grue planner's API token

FLAG = re.compile(r"--[a-z]")


def _upload(client, auth, data: bytes, filename: str, **form):
    return client.post("/api/import", headers={"Authorization": auth["Authorization"]},
                       data={"file": (io.BytesIO(data), filename), "kommune": "3417", **form})


def _plan(tmp_path, tag):
    areas = mixed_plan(tag) + [Area(9999, "X1", 500, lokalid=f"{tag}-bad")]
    return sosi_plan(tmp_path, areas, kommune="3417", planid=tag).read_bytes()


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_a_dry_run_speaks_the_page_language(client, token, tmp_path, lang):  # noqa: F811
    tag = f"L{uuid.uuid4().hex[:5]}"
    res = _upload(client, token, _plan(tmp_path, tag), "Åsbø plan.sos", lang=lang)
    assert res.status_code == 200
    body = res.get_json()
    assert body["file"] == "Åsbø plan.sos" and body["counts"]["rejected"] == 1
    [bad] = body["rejected"]
    reasons = [r["message"] for r in bad["reasons"]]
    if lang == "nb":
        assert reasons == ["Kolonnen «rparealformål»: «9999» er ingen kjent kode."]
        assert "2011 Kjøreveg: ikke næringsareal" in body["skipped_by_code"]
    else:
        assert reasons == ["Column “rparealformål”: “9999” is not a known code."]
        assert "2011 Kjøreveg: not business land" in body["skipped_by_code"]
    assert not FLAG.search(res.get_data(as_text=True))


def test_a_file_error_names_the_users_file_in_norwegian_without_flags(client,
                                                                      token):  # noqa: F811
    csv = b"navn;wkt\nTomt;POLYGON((0 0,1 0,1 1,0 0))\n"
    res = _upload(client, token, csv, "Mine tomter.csv", lang="nb")
    assert res.status_code == 400
    text = res.get_json()["description"]
    assert text.startswith("«Mine tomter.csv» sier ikke hvilket koordinatsystem")
    assert not FLAG.search(text) and "/tmp" not in text
    english = _upload(client, token, csv, "Mine tomter.csv", lang="en").get_json()
    assert english["description"].startswith("“Mine tomter.csv” does not say which coordinate")


def test_after_importing_the_valid_ones_every_plot_is_listed_with_its_link(
        client, token, tmp_path):  # noqa: F811
    tag = f"G{uuid.uuid4().hex[:5]}"
    data = _plan(tmp_path, tag)
    res = _upload(client, token, data, "plan.sos", dry_run="false", allow_partial="true",
                  lang="nb")
    assert res.status_code == 201
    plots = res.get_json()["plots"]
    created = plots["create"]
    assert {p["name"] for p in created} == {"BI1 Næringsområde Åsbø", "BKB2 Industri/lager"}
    assert all(p["published"] is False and p["url"] == f"/plots/{p['plot_id']}"
               for p in created)
    assert len(plots["skipped"]) == 3 and plots["skipped"][0]["skipped"].endswith(
        ": ikke næringsareal")
    # without a language (an API client) messages stay as the command line prints them
    raw = _upload(client, token, b"x", "plan.txt").get_json()["description"]
    assert raw.startswith("plan.txt: unknown file type")
    # the planner may open an unpublished plot's page from the list
    page = client.get(created[0]["url"], headers={"Authorization": token["Authorization"]})
    assert page.status_code in (200, 302)
    again = _upload(client, token, data, "plan.sos", dry_run="false", allow_partial="true",
                    lang="en").get_json()
    assert [p["plot_id"] for p in again["plots"]["unchanged"]] == \
        [p["plot_id"] for p in created]
    assert all(p["url"].endswith("?lang=en") for p in again["plots"]["unchanged"])
