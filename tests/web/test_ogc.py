"""OGC API – Features Part 1 and 2: structure (JSON Schema), links, CRS, paging, errors."""

from __future__ import annotations

import jsonschema
import pytest

LINK = {"type": "object", "required": ["href", "rel"],
        "properties": {"href": {"type": "string", "format": "uri"}, "rel": {"type": "string"},
                       "type": {"type": "string"}, "title": {"type": "string"}}}
LANDING = {"type": "object", "required": ["links"],
           "properties": {"title": {"type": "string"}, "links": {"type": "array", "items": LINK}}}
CONFORMANCE = {"type": "object", "required": ["conformsTo"],
               "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}}}
COLLECTION = {
    "type": "object", "required": ["id", "links"],
    "properties": {
        "id": {"type": "string"}, "title": {"type": "string"},
        "links": {"type": "array", "items": LINK},
        "extent": {"type": "object", "properties": {"spatial": {
            "type": "object", "properties": {"bbox": {"type": "array", "minItems": 1, "items": {
                "type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}}}}}},
        "crs": {"type": "array", "items": {"type": "string"}},
        "storageCrs": {"type": "string"},
    }}
COLLECTIONS = {"type": "object", "required": ["links", "collections"],
               "properties": {"links": {"type": "array", "items": LINK},
                              "collections": {"type": "array", "items": COLLECTION}}}
POSITION = {"type": "array", "minItems": 2, "items": {"type": "number"}}
MULTIPOLYGON = {"type": "object", "required": ["type", "coordinates"], "properties": {
    "type": {"enum": ["MultiPolygon"]},
    "coordinates": {"type": "array", "items": {"type": "array", "items": {
        "type": "array", "minItems": 4, "items": POSITION}}}},
    "not": {"required": ["crs"]}}
FEATURE = {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
    "type": {"enum": ["Feature"]}, "id": {"type": ["string", "integer"]},
    "geometry": MULTIPOLYGON, "properties": {"type": ["object", "null"]}}}
FEATURE_COLLECTION = {
    "type": "object", "required": ["type", "features", "links", "numberMatched",
                                   "numberReturned", "timeStamp"],
    "properties": {"type": {"enum": ["FeatureCollection"]},
                   "features": {"type": "array", "items": FEATURE},
                   "links": {"type": "array", "items": LINK},
                   "numberMatched": {"type": "integer", "minimum": 0},
                   "numberReturned": {"type": "integer", "minimum": 0},
                   "timeStamp": {"type": "string", "format": "date-time"}}}


def _ok(client, url, schema, mime="application/json"):
    res = client.get(url, headers={"Accept": mime})
    assert res.status_code == 200, res.get_data(as_text=True)
    body = res.get_json()
    jsonschema.validate(body, schema)
    return res, body


def test_landing_conformance_collections(client):
    _res, landing = _ok(client, "/ogc/", LANDING)
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    _res, conf = _ok(client, "/ogc/conformance", CONFORMANCE)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf["conformsTo"]
    _res, cols = _ok(client, "/ogc/collections", COLLECTIONS)
    assert {c["id"] for c in cols["collections"]} == {"plots", "municipalities"}
    plots = next(c for c in cols["collections"] if c["id"] == "plots")
    assert plots["storageCrs"] == "http://www.opengis.net/def/crs/EPSG/0/25833"
    assert "http://www.opengis.net/def/crs/EPSG/0/25832" in plots["crs"]
    x0, y0, x1, y1 = plots["extent"]["spatial"]["bbox"][0]
    assert 11 < x0 < x1 < 13 and 59.5 < y0 < y1 < 61


def test_html_by_accept_header_and_f(client):
    for url in ("/ogc/", "/ogc/collections", "/ogc/collections/plots",
                "/ogc/collections/plots/items", "/ogc/conformance"):
        res = client.get(url, headers={"Accept": "text/html"})
        assert res.status_code == 200 and res.mimetype == "text/html", url
    assert client.get("/ogc/collections?f=html").mimetype == "text/html"
    assert client.get("/ogc/collections?f=json").mimetype == "application/json"
    assert client.get("/ogc/collections?f=xml").status_code == 400


def test_items_structure_count_and_content_crs(client, published_count):
    res, body = _ok(client, "/ogc/collections/plots/items", FEATURE_COLLECTION,
                    "application/geo+json")
    assert res.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    assert body["numberReturned"] == len(body["features"]) == 10  # default limit
    assert body["numberMatched"] == published_count
    res, body = _ok(client, "/ogc/collections/plots/items?crs=http://www.opengis.net/def/crs/"
                    "EPSG/0/25832&limit=3", FEATURE_COLLECTION)
    assert res.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25832>"
    x, y = body["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 500_000 < x < 700_000 and 6_600_000 < y < 6_800_000  # zone 32 eastings at 12°E


def test_paging_until_exhausted(client, published_count):
    url, ids = "/ogc/collections/plots/items?limit=7", []
    while url:
        body = client.get(url).get_json()
        ids += [f["id"] for f in body["features"]]
        assert body["numberMatched"] == published_count
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
    assert len(ids) == len(set(ids)) == published_count


def test_bbox_crs_and_property_filters(client):
    all_ = client.get("/ogc/collections/plots/items?limit=1000").get_json()["numberMatched"]
    utm = client.get("/ogc/collections/plots/items?limit=1000&bbox=330000,6670000,345000,"
                     "6690000&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/25833").get_json()
    assert 0 < utm["numberMatched"] < all_
    for f in client.get("/ogc/collections/plots/items?limit=1000&kommunenummer=3415"
                        "&availability=ledig&min_daa=10").get_json()["features"]:
        p = f["properties"]
        assert p["kommunenummer"] == "3415" and p["availability"] == "ledig"
        assert p["area_daa"] >= 10
    grp = client.get("/ogc/collections/plots/items?limit=1000&purpose_group=kontor").get_json()
    assert all(f["properties"]["purpose_group"] == "kontor" for f in grp["features"])


def test_datetime_filter(client, published_count):
    future = client.get("/ogc/collections/plots/items?datetime=2999-01-01T00:00:00Z/..")
    assert future.status_code == 200 and future.get_json()["numberMatched"] == 0
    past = client.get("/ogc/collections/plots/items?datetime=../2999-01-01T00:00:00Z")
    assert past.get_json()["numberMatched"] == published_count


def test_single_items_and_municipalities(client):
    first = client.get("/ogc/collections/plots/items?limit=1").get_json()["features"][0]
    res = client.get(f"/ogc/collections/plots/items/{first['id']}?crs=25833")
    assert res.status_code == 200
    assert res.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25833>"
    jsonschema.validate(res.get_json(), FEATURE)
    _res, munis = _ok(client, "/ogc/collections/municipalities/items", FEATURE_COLLECTION)
    assert munis["numberMatched"] == 7
    one = client.get("/ogc/collections/municipalities/items/3419").get_json()
    assert one["properties"]["name"] == "Våler"


@pytest.mark.parametrize("url, status", [
    ("/ogc/collections/nope", 404),
    ("/ogc/collections/nope/items", 404),
    ("/ogc/collections/plots/items/999999999", 404),
    ("/ogc/collections/plots/items/abc", 404),
    ("/ogc/collections/municipalities/items/0301", 404),
    ("/ogc/collections/plots/items?bbox=1,2,3", 400),
    ("/ogc/collections/plots/items?bbox=x,y,z,w", 400),
    ("/ogc/collections/plots/items?crs=EPSG:3857", 400),
    ("/ogc/collections/plots/items?crs=http://www.opengis.net/def/crs/EPSG/0/4326", 400),
    ("/ogc/collections/plots/items?offset=99999999999999999999", 400),
    ("/ogc/collections/plots/items?bbox=330000,6670000,345000,6690000", 400),
    ("/ogc/collections/plots/items?bbox-crs=foo&bbox=1,2,3,4", 400),
    ("/ogc/collections/plots/items?limit=0", 400),
    ("/ogc/collections/plots/items?limit=ten", 400),
    ("/ogc/collections/plots/items?min_daa=abc", 400),
    ("/ogc/collections/plots/items?datetime=yesterday", 400),
    ("/ogc/collections/plots/items?kommunenummer=1;DROP TABLE plot", 400),
    ("/ogc/collections/plots/items?bogus=1", 400),
])
def test_bad_requests(client, url, status):
    res = client.get(url)
    assert res.status_code == status
    assert res.get_json()["description"]


@pytest.mark.parametrize("limit", ["1001", "10000", "99999999999999999999"])
def test_a_limit_above_the_maximum_is_clamped_not_refused(client, limit):
    """OGC 17-069r4 Requirement 22 C: a limit above the maximum SHALL NOT be an error (OWSLib
    asks for limit=10000); the page holds at most 1000 and the links continue from there."""
    res = client.get(f"/ogc/collections/plots/items?limit={limit}")
    assert res.status_code == 200
    body = res.get_json()
    assert body["numberReturned"] == min(body["numberMatched"], 1000)
    res = client.get(f"/ogc/collections/municipalities/items?limit={limit}")
    assert res.status_code == 200
    assert res.get_json()["numberReturned"] == 7


@pytest.mark.parametrize("collection", ["plots", "municipalities"])
@pytest.mark.parametrize("offset", ["10000000", "10000001", "9223372036854775808",
                                    "99999999999999999999"])
def test_a_huge_offset_is_an_empty_page_or_a_400_never_a_500(client, collection, offset):
    res = client.get(f"/ogc/collections/{collection}/items?offset={offset}")
    assert res.status_code in (200, 400)
    if res.status_code == 200:
        assert res.get_json()["features"] == []
    else:
        assert "offset" in res.get_json()["description"]


def _visible(res) -> str:
    import html as htmllib
    import re

    main = res.get_data(as_text=True).split("<main", 1)[1].split("</main>")[0]
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", main.split(">", 1)[1])).split())


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_html_pages_speak_the_pages_language(client, lang):
    """The OGC API's pages for a person: headings, column names, statuses and numbers in the
    page's language (they showed 'plots: 5 of 84', 'id name kommune daa status',
    'under_forhandling' and '9.3' on a Bokmål page)."""
    q = "&lang=en" if lang == "en" else ""
    pid = client.get("/api/plots?limit=1").get_json()["features"][0]["id"]
    pages = {u: _visible(client.get(f"{u}?f=html{q}")) for u in (
        "/ogc/", "/ogc/collections", "/ogc/collections/plots", "/ogc/conformance",
        "/ogc/collections/plots/items", "/ogc/collections/municipalities/items",
        f"/ogc/collections/plots/items/{pid}", "/ogc/collections/municipalities/items/3401")}
    words = {"nb": ("Datasett", "Næringsarealer i Glåmdalen", "Areal (daa)", "Lenker", " av "),
             "en": ("Datasets", "Business plots in Glåmdalen", "Area (daa)", "Links", " of ")}
    text = " | ".join(pages.values())
    for word in words[lang]:
        assert word in text, (lang, word)
    for raw in ("under_forhandling", "area_daa", "kommunenummer_pre2020", "numberMatched",
                "rel=", " self ", "None", "True", "False", "plots:"):
        assert raw not in text, (lang, raw)
    items = pages["/ogc/collections/plots/items"]
    if lang == "nb":
        import re

        assert not re.search(r"\d\.\d", items), items[:300]  # decimal commas in Bokmål
        assert "Ledig" in items and "Available" not in items
    else:
        assert "Available" in items and "Ledig" not in items and "Lenker" not in text
