"""The health page."""

from __future__ import annotations

from landreg.settings import Settings
from landreg.web import create_app


def test_health_reports_postgis_and_migrations(settings, session):
    client = create_app({"TESTING": True}, settings=settings).test_client()
    res = client.get("/health")
    assert res.status_code == 200
    body = res.get_json()
    assert body["status"] == "ok"
    db = body["database"]
    assert db["postgis"].startswith("3.")
    assert db["migrations_at_head"] is True


def test_health_says_when_the_database_is_down():
    bad = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    res = create_app({"TESTING": True}, settings=bad).test_client().get("/health")
    assert res.status_code == 503
    assert res.get_json()["status"] == "error"
    assert "127.0.0.1" not in res.get_data(as_text=True)  # no host, even in the error
