"""Finding 4: one anonymous GET (``/api/candidates/<p>?threshold=0``) cost seconds of CPU and
three in parallel stalled the site. Answers are now cached, the threshold is bounded, and a
client gets 429 with Retry-After after its share of expensive computations."""

from __future__ import annotations

import uuid

from landreg.scoring.service import MAX_CANDIDATES, Suitability
from landreg.web import create_app


def _client(settings, limit: int):
    app = create_app({"TESTING": True, "LANDREG_EXPENSIVE_LIMIT": (limit, 600)},
                     settings=settings)
    addr = f"198.51.100.{uuid.uuid4().int % 250 + 1}"  # a client of its own
    web = app.test_client()
    web.environ_base["REMOTE_ADDR"] = addr
    return web


def test_the_n_plus_first_expensive_request_gets_429(settings):
    web = _client(settings, 3)
    codes = []
    for i in range(4):
        codes.append(web.get(f"/api/rankings/logistics?weights=slope:{20 + i},"
                             f"dist_main_road:{80 - i}"))
    assert [r.status_code for r in codes[:3]] == [200, 200, 200], codes[0].get_json()
    assert codes[3].status_code == 429
    assert 0 < int(codes[3].headers["Retry-After"]) <= 600
    again = web.get("/api/surface/logistics.png?weights=slope:50,dist_main_road:50")
    assert again.status_code == 429  # every expensive endpoint shares the limit


def test_a_second_identical_candidates_request_is_served_from_cache(settings):
    web = _client(settings, 100)
    suit = Suitability.from_settings(settings, settings.scoring_res)
    url = "/api/candidates/logistics?threshold=81.5"
    first = web.get(url)
    assert first.status_code == 200 and first.headers["X-Cache"] == "miss"
    hits = suit.candidate_cache.hits
    second = web.get(url)
    assert second.headers["X-Cache"] == "hit"
    assert suit.candidate_cache.hits == hits + 1
    assert second.get_json()["features"] == first.get_json()["features"]


def test_unbounded_questions_are_refused_or_bounded(settings):
    web = _client(settings, 100)
    res = web.get("/api/candidates/logistics?threshold=0")
    assert res.status_code == 400 and res.get_json()["field"] == "threshold"
    res = web.get("/api/rankings/logistics?candidates=true&threshold=0")
    assert res.status_code == 400
    body = web.get("/api/candidates/logistics?threshold=50").get_json()
    assert body["numberReturned"] <= MAX_CANDIDATES
