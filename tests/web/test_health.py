"""The health page."""

from __future__ import annotations

from landreg.settings import Settings
from landreg.web import create_app


def test_health_reports_database_postgis_and_plot_count(settings, session):
    client = create_app({"TESTING": True}, settings=settings).test_client()
    res = client.get("/health")
    assert res.status_code == 200
    body = res.get_json()
    assert body["status"] == "ok"
    db = body["database"]
    assert db["postgis"].startswith("3.")
    assert db["plots"] >= 80
    assert db["revision"] == db["head_revision"]


def test_health_says_when_the_database_is_down():
    bad = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    res = create_app({"TESTING": True}, settings=bad).test_client().get("/health")
    assert res.status_code == 503
    assert res.get_json()["status"] == "error"
