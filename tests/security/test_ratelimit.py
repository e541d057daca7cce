"""The shared rate limiter counts atomically across threads (and so across workers)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from landreg import ratelimit
from landreg.db import get_engine


def test_parallel_hits_pass_exactly_the_limit(database_url):
    engine = get_engine(database_url)
    key = f"test:{uuid.uuid4().hex}"
    now = 1_800_000_000.0
    with ThreadPoolExecutor(8) as pool:
        decisions = list(pool.map(
            lambda _: ratelimit.hit(engine, key, limit=5, window=3600, now=now), range(40)))
    assert sum(d.allowed for d in decisions) == 5
    assert sorted(d.hits for d in decisions) == list(range(1, 41))
    refused = [d for d in decisions if not d.allowed]
    assert all(0 < d.retry_after <= 3600 for d in refused)
    assert ratelimit.peek(engine, key, window=3600, now=now) == 40


def test_a_new_window_starts_afresh(database_url):
    engine = get_engine(database_url)
    key = f"test:{uuid.uuid4().hex}"
    t0 = 1_800_000_000.0 - (1_800_000_000 % 60)
    for _ in range(3):
        ratelimit.hit(engine, key, limit=2, window=60, now=t0 + 1)
    assert not ratelimit.hit(engine, key, limit=2, window=60, now=t0 + 59).allowed
    assert ratelimit.hit(engine, key, limit=2, window=60, now=t0 + 61).allowed
