"""Who may do what: an authorisation matrix generated from the app's URL map (issue 9).

Every (rule, method) of ``app.url_map`` must have an entry in :data:`MATRIX`, with the expected
status for each of four callers: the anonymous public, a planner of the plot's kommune
(Kongsvinger, 3401), a planner of another kommune (Grue, 3417) and a regional admin. A new
route without an entry fails :func:`test_every_route_has_an_entry` — decide who may call it
and add it here. HEAD and OPTIONS are left out: Flask answers them from the GET view and the
method list.

Every cell is a real request against the real app on PostGIS: writes carry the CSRF token of
the caller's session (the anonymous send none to the planners' writes, as a script would; they
send one to the public forms, as a browser does), and they change only plots, enquiries and
comparisons this module creates and removes. Besides the status, every answer to the
anonymous — and every answer of an export meant to leave the building, whoever asks — must not
contain the internal notes, the name of an unpublished plot or an enquirer's e-mail address.

Conventions (after the fixes of issue 9):

- HTML pages send the anonymous to the login page (302 to /login); JSON answers 401.
- A write on a plot: 401 anonymous (not a CSRF 400), 200 for a planner of its kommune and the
  admin, 403 for a planner of another kommune.
- An unpublished plot: 404 for the anonymous, 200 for planners and the admin. Planners of
  other kommuner may read it too: the seven kommuner share one register and their planners
  are colleagues in one region (decided in issue 9; SECURITY.md). Only writes are per kommune.

Cells marked ``# issue 9 #N`` fail on the code before that finding's fix.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from shapely.geometry import mapping
from sqlalchemy import delete, select

from landreg.db import get_engine, session_scope
from landreg.models import Comparison, Enquiry, Plot
from landreg.registry.plots import create_plot, update_plot, withdraw_plot
from tests.helpers import INSIDE, plot_attrs, reproject, square_25833, tile_of
from tests.security.conftest import PASSWORD, csrf_token, login

ANON, OWN, OTHER, ADMIN = "anonymous", "planner-3401", "planner-3417", "admin"
ROLES = (ANON, OWN, OTHER, ADMIN)
#: Each caller comes from its own address, so rate limits of one never stop another (TEST-NET-2).
ADDRESSES = {ANON: "198.51.100.71", OWN: "198.51.100.72", OTHER: "198.51.100.73",
             ADMIN: "198.51.100.74"}
LOGIN = "302 to /login"

Expect = int | frozenset[int] | str


def everyone(status: Expect) -> dict[str, Expect]:
    """The same answer for every caller (public resources)."""
    return dict.fromkeys(ROLES, status)


def planners(anonymous: Expect = 401, ok: Expect = 200) -> dict[str, Expect]:
    """Planners and admins only; the region's planners share it (enquiries, comparisons)."""
    return {ANON: anonymous, OWN: ok, OTHER: ok, ADMIN: ok}


def plot_writers(ok: int = 200) -> dict[str, Expect]:
    """A change to a plot of Kongsvinger: its planners and the admin."""
    return {ANON: 401, OWN: ok, OTHER: 403, ADMIN: ok}


def form_writers(ok: int = 302) -> dict[str, Expect]:
    """A page's form that changes a plot of Kongsvinger: the anonymous are sent to log in,
    its planners and the admin are answered (a redirect after the write), others 403."""
    return {ANON: LOGIN, OWN: ok, OTHER: 403, ADMIN: ok}


def unpublished() -> dict[str, Expect]:
    """An unpublished plot of Kongsvinger: hidden from the public, read by planners."""
    return {ANON: 404, OWN: 200, OTHER: 200, ADMIN: 200}


Body = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Call:
    """One request of the matrix.

    ``path`` may hold ``{pub}``, ``{pub2}`` (published plots of 3401), ``{unpub}`` (an
    unpublished one), ``{enquiry}``, ``{comparison}``, and ``{fresh}``, ``{withdrawn}``,
    ``{edited}`` (a new plot of 3401 for this one request: as created, withdrawn, or edited once
    so that version 1 can be restored). Bodies are built from the same values (``plot``,
    ``version`` of the new plot; ``username``/``password`` of the caller).
    """

    path: str
    expect: Mapping[str, Expect]
    json: Body | None = None
    form: Body | None = None
    anon_csrf: bool = False
    own_session: bool = False
    public_output: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _feature_4326(dx: float) -> dict[str, Any]:
    x, y = INSIDE["3401"]
    return mapping(reproject(square_25833(x - 3000 + dx, y + 2500, 60), 25833, 4326))


def _import_form(v: dict[str, Any]) -> dict[str, Any]:
    x, y = INSIDE["3401"]
    poly = reproject(square_25833(x - 3000, y + 4000, 60), 25833, 4326)
    blob = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": mapping(poly),
        "properties": {"name": f"Matrix import {v['tag']}", "arealformal": 1340,
                       "external_ref": f"MATRIX-{v['tag']}"}}]}).encode()
    return {"file": (io.BytesIO(blob), "matrix.geojson"), "kommune": "3401", "dry_run": "true"}


def _enquiry_form(v: dict[str, Any]) -> dict[str, str]:
    return {"company": f"MATRIX-{v['tag']} AS", "email": f"post-{v['tag']}@example.org",
            "profile": "logistics", "min_daa": "5", "max_daa": "50", "consent": "true"}


PUBLIC = everyone(200)
PUB_PAIR = "profile=logistics&plots={pub},{pub2}"
WITH_UNPUB = "profile=logistics&plots={pub},{unpub}"
#: The vector tile (z 9, some 40 km wide) that holds the sample plots of Kongsvinger.
SAMPLE_TILE = "/tiles/plots/{}/{}/{}.mvt".format(
    *tile_of(INSIDE["3401"][0] - 2500, INSIDE["3401"][1] + 3000, 9))

#: (rule, method) → {variant: request}. Keep it in the order of the URL map's blueprints.
MATRIX: dict[tuple[str, str], dict[str, Call]] = {
    # --- pages -------------------------------------------------------------------------------
    ("/", "GET"): {"front": Call("/", everyone(302))},
    ("/map", "GET"): {"map": Call("/map", PUBLIC)},
    ("/plots/<int:plot_id>", "GET"): {
        "published": Call("/plots/{pub}", PUBLIC),
        # issue 9 (brief): planners read unpublished plots
        "unpublished": Call("/plots/{unpub}", unpublished()),
    },
    ("/plots/<int:plot_id>/history", "GET"): {
        "published": Call("/plots/{pub}/history", planners(LOGIN)),
    },
    ("/import", "GET"): {"form": Call("/import", planners(LOGIN))},
    # --- planners' pages (issue 12): read by the region's planners, written per kommune ------
    ("/mine", "GET"): {
        "list": Call("/mine", planners(LOGIN)),
        "imported": Call("/mine?imported=1", planners(LOGIN)),
    },
    ("/plots/<int:plot_id>/edit", "GET"): {
        # a planner of another kommune reads the form, disabled
        "unpublished": Call("/plots/{unpub}/edit", planners(LOGIN)),
    },
    ("/plots/<int:plot_id>/edit", "POST"): {
        "save": Call("/plots/{fresh}/edit", form_writers(), anon_csrf=True,
                     form=lambda v: {"version": v["version"], "name": f"Matrix edited {v['tag']}",
                                     "arealformal": "1340", "availability": "ledig",
                                     "plan_status": "nåværende", "published": "true"}),
    },
    ("/plots/<int:plot_id>/withdraw", "GET"): {
        "confirm": Call("/plots/{pub}/withdraw", form_writers(ok=200)),
    },
    ("/plots/<int:plot_id>/withdraw", "POST"): {
        "withdraw": Call("/plots/{fresh}/withdraw", form_writers(), anon_csrf=True,
                         form=lambda v: {"version": v["version"], "reason": "matrix"}),
    },
    ("/plots/<int:plot_id>/restore", "POST"): {
        "undo": Call("/plots/{withdrawn}/restore", form_writers(), anon_csrf=True,
                     form=lambda v: {}),
    },
    ("/enquiries/<int:enquiry_id>/status", "POST"): {
        "status": Call("/enquiries/{enquiry}/status", planners(LOGIN, 302), anon_csrf=True,
                       form=lambda v: {"status": "under_arbeid"}),
    },
    ("/comparisons", "GET"): {"list": Call("/comparisons", planners(LOGIN))},
    ("/vendor/<path:filename>", "GET"): {
        "leaflet": Call("/vendor/leaflet/dist/leaflet.js", PUBLIC),
        "outside the allowlist": Call("/vendor/rbush/index.js", everyone(404)),
        "dot-dot out of the allowlist": Call("/vendor/leaflet/../rbush/index.js",
                                             everyone(404)),  # issue 9 #15
    },
    ("/static/<path:filename>", "GET"): {"css": Call("/static/landreg.css", PUBLIC)},
    ("/health", "GET"): {"health": Call("/health", PUBLIC)},
    # readiness: public but minimal (200 when ready, 503 naming the failed check otherwise)
    ("/ready", "GET"): {"ready": Call("/ready", everyone(frozenset({200, 503})))},
    # metrics: this machine or an admin (every caller here comes from a remote address)
    ("/metrics", "GET"): {"metrics": Call("/metrics", {ANON: 403, OWN: 403, OTHER: 403,
                                                       ADMIN: 200})},
    # --- login ---------------------------------------------------------------------------------
    ("/login", "GET"): {"form": Call("/login", PUBLIC)},
    ("/login", "POST"): {
        # each caller logs in with its own password; the anonymous with an unknown name
        "password": Call("/login", {ANON: 401, OWN: 302, OTHER: 302, ADMIN: 302},
                         form=lambda v: {"username": v["username"], "password": v["password"]},
                         anon_csrf=True, own_session=True),
    },
    ("/logout", "POST"): {"logout": Call("/logout", everyone(302), anon_csrf=True,
                                         own_session=True)},
    ("/api/me", "GET"): {"me": Call("/api/me", PUBLIC)},
    # --- search API and OGC API --------------------------------------------------------------
    ("/api/plots", "GET"): {"search": Call("/api/plots?kommune=3401&limit=1000", PUBLIC)},
    ("/api/plots/<int:plot_id>", "GET"): {
        "published": Call("/api/plots/{pub}", PUBLIC),
        # issue 9 (brief): planners read unpublished plots
        "unpublished": Call("/api/plots/{unpub}", unpublished()),
    },
    ("/api/municipalities", "GET"): {"totals": Call("/api/municipalities", PUBLIC)},
    ("/api/reference/<layer>", "GET"): {"roads": Call("/api/reference/roads", PUBLIC)},
    ("/api/codes", "GET"): {"codes": Call("/api/codes", PUBLIC)},
    # issue 13: drive times are public reference data; isochrones are rate-limited when computed
    ("/api/destinations", "GET"): {"list": Call("/api/destinations", PUBLIC)},
    ("/api/isochrones/<destination>", "GET"): {
        "gardermoen": Call("/api/isochrones/gardermoen?minutes=30", PUBLIC),
        "unknown": Call("/api/isochrones/nowhere", everyone(404)),
    },
    ("/api/openapi.json", "GET"): {"document": Call("/api/openapi.json", PUBLIC)},
    ("/api/docs", "GET"): {"page": Call("/api/docs", PUBLIC)},
    ("/ogc/", "GET"): {"landing": Call("/ogc/", PUBLIC)},
    ("/ogc/conformance", "GET"): {"conformance": Call("/ogc/conformance", PUBLIC)},
    ("/ogc/collections", "GET"): {"collections": Call("/ogc/collections", PUBLIC)},
    ("/ogc/collections/<collection_id>", "GET"): {
        "plots": Call("/ogc/collections/plots", PUBLIC),
        "unknown": Call("/ogc/collections/secret", everyone(404)),
    },
    ("/ogc/collections/<collection_id>/items", "GET"): {
        "plots": Call("/ogc/collections/plots/items?limit=1000", PUBLIC),
        "municipalities": Call("/ogc/collections/municipalities/items", PUBLIC),
    },
    ("/ogc/collections/<collection_id>/queryables", "GET"): {
        "plots": Call("/ogc/collections/plots/queryables", PUBLIC),
        "municipalities": Call("/ogc/collections/municipalities/queryables", PUBLIC),
        "unknown": Call("/ogc/collections/secret/queryables", everyone(404)),
    },
    ("/ogc/collections/<collection_id>/items/<feature_id>", "GET"): {
        "published plot": Call("/ogc/collections/plots/items/{pub}", PUBLIC),
        # the OGC API publishes the public register only, whoever asks
        "unpublished plot": Call("/ogc/collections/plots/items/{unpub}", everyone(404)),
        "kommune": Call("/ogc/collections/municipalities/items/3401", PUBLIC),
    },
    ("/api/export", "GET"): {
        # one route for both: the public get public fields of published plots (checked by
        # the content rule below), planners the internal fields too
        "geojson": Call("/api/export?format=geojson&kommune=3401", PUBLIC),
        "csv": Call("/api/export?format=csv&kommune=3401", PUBLIC),
    },
    # --- vector tiles: the anonymous tile is checked not to name the unpublished plot --------
    ("/tiles/plots/<z>/<x>/<y>.mvt", "GET"): {
        "kongsvinger": Call(SAMPLE_TILE, PUBLIC),
        "filtered": Call(SAMPLE_TILE + "?kommune=3401&availability=ledig", PUBLIC),
    },
    # --- suitability -------------------------------------------------------------------------
    ("/api/profiles", "GET"): {"profiles": Call("/api/profiles", PUBLIC)},
    ("/api/plots/<int:plot_id>/scores", "GET"): {
        "published": Call("/api/plots/{pub}/scores", PUBLIC),
        # issue 9 (brief): planners read unpublished plots
        "unpublished": Call("/api/plots/{unpub}/scores", unpublished()),
    },
    ("/api/rankings/<profile>", "GET"): {
        "json": Call("/api/rankings/logistics?kommune=3401", PUBLIC),
        "csv": Call("/api/rankings/logistics?kommune=3401&f=csv", PUBLIC, public_output=True),
    },
    ("/api/candidates/<profile>", "GET"): {"default": Call("/api/candidates/logistics", PUBLIC)},
    ("/api/surface/<profile>.png", "GET"): {"png": Call("/api/surface/logistics.png", PUBLIC)},
    ("/api/surface/<profile>.json", "GET"): {"meta": Call("/api/surface/logistics.json",
                                                          PUBLIC)},
    # --- planning forum ----------------------------------------------------------------------
    ("/api/compare", "GET"): {
        "published": Call("/api/compare?" + PUB_PAIR, PUBLIC),
        "with an unpublished plot": Call("/api/compare?" + WITH_UNPUB,
                                         {**unpublished(), ANON: frozenset({400, 404})}),
    },
    ("/compare", "GET"): {
        "published": Call("/compare?" + PUB_PAIR, PUBLIC),
        "with an unpublished plot": Call("/compare?" + WITH_UNPUB,
                                         {**unpublished(), ANON: frozenset({400, 404})}),
    },
    ("/compare/export.html", "GET"): {
        # the meeting's file leaves the building: public fields only, whoever makes it
        "published": Call("/compare/export.html?" + PUB_PAIR, PUBLIC,
                          public_output=True),  # issue 9 #12
    },
    ("/compare/report.pdf", "GET"): {
        "published": Call("/compare/report.pdf?" + PUB_PAIR, PUBLIC, public_output=True),
    },
    ("/rankings/<profile>/export.html", "GET"): {
        "logistics": Call("/rankings/logistics/export.html", PUBLIC, public_output=True),
    },
    ("/rankings/<profile>/report.pdf", "GET"): {
        "logistics": Call("/rankings/logistics/report.pdf", PUBLIC, public_output=True),
    },
    ("/accounts/report.pdf", "GET"): {"pdf": Call("/accounts/report.pdf", PUBLIC)},
    ("/plots/<int:plot_id>/factsheet.pdf", "GET"): {
        "published": Call("/plots/{pub}/factsheet.pdf", PUBLIC, public_output=True),
        # issue 9 (brief): planners read unpublished plots
        "unpublished": Call("/plots/{unpub}/factsheet.pdf", unpublished()),
    },
    ("/api/accounts", "GET"): {"accounts": Call("/api/accounts", PUBLIC)},
    ("/accounts", "GET"): {"page": Call("/accounts", PUBLIC)},
    ("/api/comparisons", "GET"): {"list": Call("/api/comparisons", planners())},  # issue 9 #12
    ("/api/comparisons", "POST"): {
        "save": Call("/api/comparisons", planners(ok=201),  # issue 9 #15: anonymous CSRF 400
                     json=lambda v: {"name": f"Matrix {v['tag']}", "profile": "logistics",
                                     "plots": [v["pub"], v["pub2"]]}),
    },
    ("/compare/saved/<int:comparison_id>", "GET"): {
        # a link, not a page: the anonymous get a 401 like the API it reopens
        "saved": Call("/compare/saved/{comparison}", planners(401, 302)),  # issue 9 #12
    },
    ("/enquiry", "GET"): {"form": Call("/enquiry", PUBLIC)},
    ("/enquiry", "POST"): {"enquiry": Call("/enquiry", everyone(201), form=_enquiry_form,
                                           anon_csrf=True)},
    ("/enquiries", "GET"): {"page": Call("/enquiries", planners(LOGIN))},
    ("/api/enquiries", "GET"): {"list": Call("/api/enquiries", planners())},
    ("/api/enquiries/<int:enquiry_id>", "PATCH"): {
        "status": Call("/api/enquiries/{enquiry}", planners(),  # issue 9 #15: anonymous CSRF 400
                       json=lambda v: {"status": "under_arbeid"}),
    },
    # --- changes to the register -------------------------------------------------------------
    ("/api/plots/<int:plot_id>/history", "GET"): {
        "published": Call("/api/plots/{pub}/history", planners()),
        "unpublished": Call("/api/plots/{unpub}/history", planners()),
    },
    ("/api/plots", "POST"): {
        "in 3401": Call("/api/plots", plot_writers(201),  # issue 9 #15: anonymous CSRF 400
                        json=lambda v: {"properties": {"name": f"Matrix ny {v['tag']}",
                                                       "arealformal": 1340},
                                        "geometry": _feature_4326(v["dx"])}),
    },
    ("/api/plots/<int:plot_id>", "PATCH"): {
        # issue 9 #15: the anonymous got a CSRF 400
        "attributes": Call("/api/plots/{fresh}", plot_writers(),
                           json=lambda v: {"version": v["version"],
                                           "properties": {"description": "matrix edit"}}),
    },
    ("/api/plots/<int:plot_id>/withdraw", "POST"): {
        # issue 9 #15: the anonymous got a CSRF 400
        "withdraw": Call("/api/plots/{fresh}/withdraw", plot_writers(),
                         json=lambda v: {"version": v["version"], "reason": "matrix"}),
    },
    ("/api/plots/<int:plot_id>/restore", "POST"): {
        # issue 9 #15: the anonymous got a CSRF 400
        "restore": Call("/api/plots/{withdrawn}/restore", plot_writers(),
                        json=lambda v: {"version": v["version"]}),
    },
    ("/api/plots/<int:plot_id>/versions/<int:version>/restore", "POST"): {
        # issue 9 #15: the anonymous got a CSRF 400
        "version 1": Call("/api/plots/{edited}/versions/1/restore", plot_writers(),
                          json=lambda v: {"version": v["version"]}),
    },
    ("/api/import", "POST"): {
        "dry run for 3401": Call("/api/import", plot_writers(),  # issue 9 #15: anonymous CSRF 400
                                 form=_import_form),
    },
}

SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def url_map_entries(app) -> set[tuple[str, str]]:
    """Every (rule, method) the app answers, HEAD and OPTIONS aside."""
    return {(rule.rule, method) for rule in app.url_map.iter_rules()
            for method in rule.methods - SKIPPED_METHODS}


def test_every_route_has_an_entry(app):
    entries = url_map_entries(app)
    missing = sorted(entries - set(MATRIX))
    assert not missing, (
        "These routes have no entry in MATRIX of tests/security/test_authz_matrix.py: "
        + ", ".join(f"{m} {r}" for r, m in missing)
        + ". Add one per route: who may call it (anonymous, planner of the kommune, planner "
          "of another kommune, admin) and with which status.")
    stale = sorted(set(MATRIX) - entries)
    assert not stale, f"MATRIX has entries for routes the app no longer has: {stale}"


CELLS = [pytest.param(rule, method, variant, role, id=f"{method} {rule} [{variant}] {role}")
         for (rule, method), variants in MATRIX.items()
         for variant in variants for role in ROLES]


class Samples:
    """The plots, enquiry and comparison the matrix works on, made and removed here."""

    def __init__(self, database_url: str, accounts: dict[str, str]) -> None:
        self.url = database_url
        self.accounts = accounts
        self.tag = uuid.uuid4().hex[:8]
        self.internal = f"MATRIX-INTERNAL-{self.tag}"
        self.unpub_name = f"MATRIX-UNPUBLISHED-{self.tag}"
        self.email = f"matrix-{self.tag}@example.org"
        self.plots: list[int] = []
        self.n = 0
        self.pub = self._plot(name=f"Matrix {self.tag}", internal_notes=self.internal)
        self.pub2 = self._plot(name=f"Matrix 2 {self.tag}")
        self.unpub = self._plot(name=self.unpub_name, internal_notes=self.internal,
                                published=False)
        with session_scope(get_engine(database_url)) as s:
            enquiry = Enquiry(company=f"MATRIX-{self.tag}", email=self.email,
                              profile="logistics", consent=True, matches=[])
            comparison = Comparison(name=f"Matrix {self.tag}", profile="logistics",
                                    plot_ids=[self.pub, self.pub2],
                                    created_by=accounts["kv"])
            s.add_all([enquiry, comparison])
            s.flush()
            self.enquiry, self.comparison = enquiry.id, comparison.id

    def markers(self) -> list[str]:
        """Text that must never reach the public."""
        return [self.internal, self.unpub_name, self.email]

    def _plot(self, **attrs: Any) -> int:
        x, y = INSIDE["3401"]
        self.n += 1
        # rows of 40, so that many write cells never walk out of the kommune
        geom = square_25833(x - 3000 + 80 * (self.n % 40), y + 3000 + 80 * (self.n // 40), 50)
        with session_scope(get_engine(self.url)) as s:
            plot = create_plot(s, plot_attrs(**attrs), geom, 25833,
                               user=self.accounts["kv"]).plot
        self.plots.append(plot["id"])
        return plot["id"]

    def make(self, kind: str) -> tuple[int, int]:
        """A new plot for one write: as created, withdrawn, or edited once."""
        pid = self._plot(name=f"Matrix {kind} {self.tag}")
        with session_scope(get_engine(self.url)) as s:
            if kind == "withdrawn":
                withdraw_plot(s, pid, expected_version=1, user="matrix")
            elif kind == "edited":
                update_plot(s, pid, {"description": "edited"}, expected_version=1,
                            user="matrix")
        with session_scope(get_engine(self.url)) as s:
            return pid, s.execute(select(Plot.version).where(Plot.id == pid)).scalar_one()

    def values(self, call: Call) -> dict[str, Any]:
        """The placeholders of a call, new plots made for it."""
        v: dict[str, Any] = {"pub": self.pub, "pub2": self.pub2, "unpub": self.unpub,
                             "enquiry": self.enquiry, "comparison": self.comparison,
                             "tag": self.tag, "dx": 80 * ((self.n + 1) % 40)}
        for kind in ("fresh", "withdrawn", "edited"):
            if "{" + kind + "}" in call.path:
                v[kind], v["version"] = self.make(kind)
        self.n += 1  # POST /api/plots puts its plot at dx
        return v

    def remove(self) -> None:
        names = [self.accounts[k] for k in ("kv", "grue", "admin")]
        with session_scope(get_engine(self.url)) as s:
            s.execute(delete(Plot).where(Plot.id.in_(self.plots)))
            s.execute(delete(Plot).where(Plot.name.like(f"Matrix % {self.tag}")))
            s.execute(delete(Comparison).where(Comparison.created_by.in_(names)))
            s.execute(delete(Enquiry).where(Enquiry.company.like(f"MATRIX-{self.tag}%")))


@pytest.fixture(scope="module")
def samples(database_url, accounts) -> Iterator[Samples]:
    made = Samples(database_url, accounts)
    yield made
    made.remove()


def _client(app, role: str, accounts: dict[str, str], address: str | None = None
            ) -> FlaskClient:
    """A test client for ``role`` (logged in through the form) from its own address."""
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = address or ADDRESSES[role]
    user = {OWN: "kv", OTHER: "grue", ADMIN: "admin"}.get(role)
    if user:
        res = login(c, accounts[user])
        assert res.status_code == 302, res.get_data(as_text=True)[:300]
    return c


@pytest.fixture(scope="module")
def clients(app, accounts) -> dict[str, tuple[FlaskClient, str]]:
    """One client per caller with its CSRF token, logged in once for the whole module."""
    out = {}
    for role in ROLES:
        c = _client(app, role, accounts)
        out[role] = (c, csrf_token(c))
    return out


def _matches(res, expected: Expect) -> bool:
    location = urlsplit(res.headers.get("Location", "")).path
    if expected == LOGIN:
        return res.status_code == 302 and location == "/login"
    if res.status_code == 302 and location == "/login":
        return False  # only a LOGIN cell may send the caller to the login page
    if isinstance(expected, frozenset):
        return res.status_code in expected
    return res.status_code == expected


@pytest.mark.parametrize(("rule", "method", "variant", "role"), CELLS)
def test_cell(app, clients, samples, accounts, rule, method, variant, role):
    call = MATRIX[(rule, method)][variant]
    v = samples.values(call)
    user = {OWN: "kv", OTHER: "grue", ADMIN: "admin"}.get(role)
    v["username"] = accounts[user] if user else f"nobody{samples.tag}"
    v["password"] = PASSWORD if user else "not the password"
    path = call.path.format(**v)

    # the sample URL must reach the rule under test, not a neighbour
    adapter = app.url_map.bind("localhost")
    matched, _args = adapter.match(urlsplit(path).path, method=method, return_rule=True)
    assert (matched.rule, method) == (rule, method), f"{path} reaches {matched.rule}"

    if call.own_session:  # login/logout change the session: a client of its own
        web = app.test_client()
        web.environ_base["REMOTE_ADDR"] = ADDRESSES[role]
        if user and rule != "/login":
            assert login(web, accounts[user]).status_code == 302
        token = csrf_token(web)
    else:
        web, token = clients[role]
    headers = {}
    if method != "GET" and (role != ANON or call.anon_csrf):
        headers["X-CSRFToken"] = token
    kwargs: dict[str, Any] = {"headers": headers}
    if call.json is not None:
        kwargs["json"] = call.json(v)
    if call.form is not None:
        kwargs["data"] = call.form(v)
    res = web.open(path, method=method, **kwargs)

    expected = call.expect[role]
    body = res.get_data()
    assert _matches(res, expected), (
        f"{role}: {method} {path} answered {res.status_code} "
        f"{res.headers.get('Location', '')}, expected {expected}: {body[:300]!r}")
    if role == ANON or call.public_output:
        leaked = [m for m in samples.markers() if m.encode() in body]
        assert not leaked, f"{role}: {method} {path} shows {leaked}"
