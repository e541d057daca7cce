"""/metrics: Prometheus text for this machine and admins only, series bounded by URL rule."""

from __future__ import annotations

from tests.security.conftest import accounts, logged_in  # noqa: F401

REMOTE = {"REMOTE_ADDR": "203.0.113.7"}


def test_metrics_from_localhost_count_requests_per_route(client):
    assert client.get("/api/plots?kommune=3401&limit=5").status_code == 200
    for plot_id in (1, 2, 999999):  # three paths, one route
        client.get(f"/api/plots/{plot_id}")
    res = client.get("/metrics", environ_overrides={"REMOTE_ADDR": "127.0.0.1"})
    assert res.status_code == 200
    assert res.mimetype == "text/plain"
    text = res.get_data(as_text=True)
    assert 'landreg_http_requests_total{method="GET",route="/api/plots",status="200"}' in text
    assert 'route="/api/plots/<int:plot_id>",status="404"' in text
    assert "/api/plots/999999" not in text  # the rule, never the raw path
    assert 'landreg_http_request_duration_seconds_bucket{le="0.005",method="GET",' \
           'route="/api/plots"}' in text
    for gauge in ("landreg_db_pool_size", "landreg_db_pool_checked_out",
                  "landreg_db_pool_overflow"):
        assert f"\n{gauge} " in text
    assert "\nlandreg_db_pool_size 10.0" in text  # landreg.db.get_engine's pool_size


def test_metrics_over_ipv6_loopback(client):
    assert client.get("/metrics", environ_overrides={"REMOTE_ADDR": "::1"}).status_code == 200


def test_metrics_are_refused_to_anonymous_remote_clients(client):
    res = client.get("/metrics", environ_overrides=REMOTE)
    assert res.status_code == 403
    assert "landreg_http" not in res.get_data(as_text=True)
    # a forged X-Forwarded-For does not make a remote client local (no trusted proxy)
    res = client.get("/metrics", environ_overrides=REMOTE,
                     headers={"X-Forwarded-For": "127.0.0.1"})
    assert res.status_code == 403


def test_metrics_are_refused_to_a_remote_planner_and_shown_to_a_remote_admin(
        accounts, logged_in):  # noqa: F811
    assert logged_in(accounts["kv"]).get("/metrics", environ_overrides=REMOTE
                                         ).status_code == 403
    res = logged_in(accounts["admin"]).get("/metrics", environ_overrides=REMOTE)
    assert res.status_code == 200 and "landreg_http_requests_total" in res.get_data(as_text=True)


def test_behind_a_proxy_the_forwarded_client_address_decides(settings):
    from dataclasses import replace

    from landreg.web import create_app

    client = create_app({"TESTING": True}, settings=replace(settings, trusted_proxies=1)
                        ).test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}  # the proxy runs on this machine
    res = client.get("/metrics", environ_overrides=proxy,
                     headers={"X-Forwarded-For": "203.0.113.7"})
    assert res.status_code == 403


def test_the_pool_gauge_returns_to_zero_when_requests_are_done(client):
    client.get("/api/plots?limit=1")
    text = client.get("/metrics").get_data(as_text=True)
    assert "\nlandreg_db_pool_checked_out 0.0" in text
