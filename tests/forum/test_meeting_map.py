"""The meeting map (offline HTML export, issue 12/13): reference layers, plots numbered as in
the list, legend, north arrow, a metric-only scale, the date, the selection in words and
drive-time zones — all inside one file with its own CSP, nothing fetched from a server."""

from __future__ import annotations

import re
from datetime import date

import pytest

PROFILE = "logistics"
#: a plot's number on the map (a DivIcon's markup, escaped inside the map's script)
NUMBER = r'"landreg-plot-no">\' \+ (\d+)'


@pytest.fixture(scope="module")
def client(settings):
    from landreg.web import create_app

    return create_app({"TESTING": True}, settings=settings).test_client()


def _export(client, url: str) -> str:
    res = client.get(url)
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    assert "attachment" in res.headers["Content-Disposition"]
    return res.get_data(as_text=True)


def test_comparison_meeting_map_has_what_a_meeting_needs(client):
    items = client.get(f"/api/rankings/{PROFILE}?availability=ledig&top=3").get_json()["items"]
    plots = ",".join(str(i["plot_id"]) for i in items)
    html = _export(client, f"/compare/export.html?profile={PROFILE}&plots={plots}"
                           "&availability=ledig&isochrones=gardermoen")
    # numbered plots, numbers as in the list beside the map, in the same order
    assert re.findall(NUMBER, html) == ["1", "2", "3"]
    listed = re.findall(r'<li><span class="no">(\d+)</span> <strong>([^<]+)</strong>', html)
    assert [n for n, _ in listed] == ["1", "2", "3"]
    assert [name for _, name in listed] == [i["name"] for i in items]
    # reference layers: E16/Rv2 emphasised, rail, stations, kommune borders
    assert '"color": "#c0392b"' in html and '"weight": 4' in html  # E16/Rv2
    assert "L.circleMarker" in html  # stations
    from webmap import styles  # rail (black, white dashes) and kommune borders (dash-dot) apart

    assert f'"dashArray": "{styles.RAIL_DASHES["dashArray"]}"' in html
    assert f'"dashArray": "{styles.KOMMUNE_DASH}"' in html
    # legend, north arrow, metric-only scale, date, selection in words
    assert "Tegnforklaring" in html and "E16 og Rv2" in html and "Jernbane" in html
    assert 'class="north-arrow"' in html
    assert "L.control.scale({imperial: false" in html
    assert "imperial:!0},onAdd" in html and html.count("L.control.scale(") == 1  # only ours
    assert "Laget " + date.today().strftime("%d.%m.%Y") in html
    assert "Utvalg:</strong> Status: Ledig · Profil: Logistikk og lager" in html
    # drive-time zones 15/30/45/60 min from Gardermoen, drawn and in the legend
    assert html.count('"className": "landreg-isochrone"') == 4
    for m in (15, 30, 45, 60):
        assert f"{m} min kjøring fra Oslo lufthavn Gardermoen" in html
    # one file for a USB stick: its own CSP, no server assets
    assert '<meta http-equiv="Content-Security-Policy"' in html
    assert "/vendor/" not in html and "<script src=" not in html


def test_ranking_meeting_map_in_english_and_bad_destination(client):
    html = _export(client, f"/rankings/{PROFILE}/export.html?availability=ledig&lang=en")
    assert "Legend" in html and "Selection:</strong> Status: Available" in html
    assert "Made " + date.today().strftime("%-d %b %Y") in html
    assert len(re.findall(NUMBER, html)) == 10
    assert "landreg-isochrone" not in html  # only when asked for
    res = client.get(f"/rankings/{PROFILE}/export.html?isochrones=nowhere")
    assert res.status_code == 404 and "nowhere" in res.get_data(as_text=True)


def test_drive_time_zones_on_a_meeting_map_count_as_expensive(settings):
    """An anonymous client cannot make the server compute isochrones without limit through
    the meeting-map exports: a cache miss counts like one on /api/isochrones."""
    from landreg.routing import db as rdb
    from landreg.web import create_app

    app = create_app({"TESTING": True, "LANDREG_EXPENSIVE_LIMIT": (1, 600)}, settings=settings)
    client = app.test_client()
    env = {"REMOTE_ADDR": "198.51.100.77"}
    url = f"/rankings/{PROFILE}/export.html?top=2&isochrones=oslo"
    rdb.ISOCHRONES.clear()
    assert client.get(url, environ_base=env).status_code == 200
    assert client.get(url, environ_base=env).status_code == 200  # cached: free
    rdb.ISOCHRONES.clear()
    res = client.get(url, environ_base=env)
    assert res.status_code == 429 and res.headers.get("Retry-After")
