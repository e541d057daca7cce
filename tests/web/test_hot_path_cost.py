"""What keeps the hot path cheap (issue 14) stays in place: prepared statements keep one
generic plan, and a page of GeoJSON leaves in one write."""

from __future__ import annotations

from sqlalchemy import text

from landreg.db import get_engine
from landreg.web.api import ONE_WRITE_MAX, geojson_bytes_response


def test_pool_connections_keep_generic_plans(database_url):
    """A prepared search statement is planned once per connection, not per request (the
    kommune search re-planned every time: 0.8 ms of PostgreSQL CPU each)."""
    with get_engine(database_url).connect() as conn:
        assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_generic_plan"


def test_small_page_is_one_write_large_page_is_not_copied(app):
    with app.test_request_context("/"):
        small = geojson_bytes_response([b'{"a":', b"[1,2]", b"}"], 4326)
        assert small.response == [b'{"a":[1,2]}\n']  # one item: one write by the server
        big_features = b"x" * ONE_WRITE_MAX
        big = geojson_bytes_response([b"[", big_features, b"]"], 4326)
        assert len(big.response) == 4 and big.response[1] is big_features  # not copied
        one = geojson_bytes_response(b'{"id":1}', 25833)
        assert one.response == [b'{"id":1}\n']
        assert one.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25833>"
