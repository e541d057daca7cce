"""The operators' probes: /health (liveness) and /ready (readiness)."""

from __future__ import annotations

import json

import pytest

from landreg.settings import Settings
from landreg.web import create_app

REMOTE = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture(scope="module")
def built(settings):
    """The suitability layers of the test settings, built (as `landreg layers build` does)."""
    from landreg.scoring.service import Suitability

    Suitability.from_settings(settings, settings.scoring_res)
    return settings


def test_health_is_minimal_and_tells_nothing_about_the_data(settings):
    client = create_app({"TESTING": True}, settings=settings).test_client()
    for environ in ({}, REMOTE):
        res = client.get("/health", environ_overrides=environ)
        assert res.status_code == 200
        assert res.get_json() == {"status": "ok"}
        text = res.get_data(as_text=True)
        assert "127.0.0.1" not in text and "postgres" not in text and "plots" not in text


def test_health_answers_even_when_the_database_does_not():
    bad = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    res = create_app({"TESTING": True}, settings=bad).test_client().get("/health")
    assert res.status_code == 200
    assert res.get_json() == {"status": "ok"}


def test_ready_when_database_migrations_and_layers_are_there(built):
    client = create_app({"TESTING": True}, settings=built).test_client()
    local = client.get("/ready")
    assert local.status_code == 200
    body = local.get_json()
    assert body["status"] == "ready"
    checks = body["checks"]  # details for this machine
    assert checks["database"]["ok"] and checks["database"]["postgis"].startswith("3.")
    assert checks["migrations"]["revision"] == checks["migrations"]["head"]
    assert checks["layers"]["ok"]
    remote = client.get("/ready", environ_overrides=REMOTE)
    assert remote.status_code == 200
    assert remote.get_json() == {"status": "ready"}  # no details for the public


def test_ready_names_the_failed_check_and_keeps_the_details_local(settings):
    bad = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
                   cache_dir=settings.cache_dir, scoring_res=settings.scoring_res)
    client = create_app({"TESTING": True}, settings=bad).test_client()
    remote = client.get("/ready", environ_overrides=REMOTE)
    assert remote.status_code == 503
    body = remote.get_json()
    assert body["status"] == "not ready"
    assert "database" in body["failed"] and "migrations" in body["failed"]
    assert "checks" not in body and "127.0.0.1" not in json.dumps(body)
    local = client.get("/ready").get_json()
    assert local["checks"]["database"]["ok"] is False and local["checks"]["database"]["error"]


def test_ready_says_when_the_layers_are_not_built(settings, tmp_path):
    empty = Settings(database_url=settings.database_url, cache_dir=tmp_path,
                     scoring_res=settings.scoring_res)
    client = create_app({"TESTING": True}, settings=empty).test_client()
    res = client.get("/ready", environ_overrides=REMOTE)
    assert res.status_code == 503
    assert res.get_json() == {"status": "not ready", "failed": ["layers"]}
    local = client.get("/ready").get_json()["checks"]["layers"]
    assert "slope" in local["missing"] and "landreg layers build" in local["hint"]
