"""Hostile input never makes a 500 (issue 9): property-based fuzzing of the OpenAPI document,
and hostile values in every query parameter and path variable of every GET route.

1. Every operation of ``/api/openapi.json`` is fuzzed with schemathesis against the WSGI app:
   valid requests (positive mode) and requests that break the schema (negative mode), a
   bounded and derandomized number of each, so a run in CI is the run on your machine. The
   only check is schemathesis' ``not_a_server_error``: a wrong value must be a 4xx that names
   it, never a 5xx. The operations come from the document itself, so a new one is fuzzed too.
2. Independently of the document, every GET rule of the URL map gets NUL bytes, 10 kB strings,
   right-to-left marks and emoji, negative and huge numbers, ``../`` paths, ``%00`` and SQL in
   each of its path variables and query parameters, once as the public and, where the public
   is sent away, as the admin (who reaches every code path). Sample URLs come from the
   authorisation matrix (tests/security/test_authz_matrix.py), which has one for every route.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from landreg.web import ogc, params
from landreg.web.openapi import openapi_document
from tests.security.test_authz_matrix import (
    ADMIN,
    ANON,
    LOGIN,
    MATRIX,
    Samples,
    _client,
)

#: Examples per operation and generation mode: bounded so `make test` stays quick.
EXAMPLES = 15
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def _operations() -> list:
    """(path, method, mode) of every operation of the document; the negative mode only where
    there is something to break (an operation without parameters has no invalid request)."""
    out = []
    for path, ops in openapi_document("http://localhost")["paths"].items():
        for method, op in ops.items():
            modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE]
                                                 if op.get("parameters") else [])
            out += [pytest.param(path, method.upper(), mode,
                                 id=f"{method.upper()} {path} {mode.value}") for mode in modes]
    return out


@pytest.fixture(scope="module")
def api_schema(app) -> Any:
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.mark.parametrize(("path", "method", "mode"), _operations())
def test_openapi_operation_never_gives_a_server_error(api_schema, path, method, mode):
    operation = api_schema[path][method]

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case: Any) -> None:
        response = case.call()
        case.validate_response(response, checks=[not_a_server_error])

    fuzz()


HOSTILE = [
    "\x00", "%00", "A" * 10_240, "Æøå \u202edlrow 日本 🙂", "-99999999999999999999",
    "99999999999999999999999", "NaN", "1e309", "../../../../etc/passwd",
    "' OR 1=1; DROP TABLE plot; --",
]
#: For views that render a map or a PDF whatever the value (and for ``lang``, which every
#: page passes through one lookup), a few: all of them would take minutes.
FEW = ["\x00", "A" * 10_240, "Æøå \u202e 🙂 ../' OR 1=1 --"]
HEAVY = {"forum.compare_pdf", "forum.ranking_pdf", "forum.accounts_pdf", "forum.factsheet",
         "forum.compare_page", "forum.compare_export", "forum.ranking_export",
         "forum.accounts_page", "pages.map_page", "pages.plot_page", "pages.history_page"}

#: url_for's own keywords: a view that passes query parameters on to url_for must not 500.
URL_FOR_KEYS = ("_method", "_external", "_scheme", "_anchor")
COMPARE = ("profile", "plots", "weights", "lang")
#: The query parameters each view reads (the names it checks against); views not named here
#: read ``lang`` only. The plot filters (params.PLOT_PARAMS) are one parser, fuzzed in full
#: through /api/plots; the other views that take them get their own parameters and two filters.
QUERY_PARAMS: dict[str, tuple[str, ...]] = {
    "api.plots": tuple(params.PLOT_PARAMS),
    "api.plot": ("crs",),
    "edit.export": ("format", "crs", "kommune", "q"),
    "suitability.ranking": ("weights", "f", "top", "candidates", "threshold", "kommune", "q"),
    "suitability.candidates": ("threshold", "weights"),
    "suitability.surface_png": ("weights",),
    "suitability.surface_meta": ("weights",),
    "ogc.landing": ("f",),
    "ogc.conformance": ("f",),
    "ogc.collections": ("f",),
    "ogc.collection": ("f",),
    "ogc.items": ogc.PLOT_ITEM_PARAMS,
    "ogc.item": ("f", "crs"),
    "forum.compare_api": COMPARE,
    "forum.compare_page": COMPARE,
    "forum.compare_export": COMPARE,
    "forum.compare_pdf": COMPARE,
    "forum.ranking_export": ("weights", "top", "lang"),
    "forum.ranking_pdf": ("weights", "top", "lang"),
    "auth.login_form": ("next",),
    "pages.index": (*URL_FOR_KEYS, "lang"),  # issue 9 #15: /?_method=POST gave a 500
}

GET_RULES = sorted((rule, method) for (rule, method) in MATRIX if method == "GET")


@pytest.fixture(scope="module")
def samples(database_url, accounts) -> Iterator[Samples]:
    made = Samples(database_url, accounts)
    yield made
    made.remove()


@pytest.fixture(scope="module")
def fuzz_clients(app, accounts) -> dict[str, Any]:
    # addresses of their own: the matrix's callers never share a rate limit with the fuzzing
    return {ANON: _client(app, ANON, accounts, "198.51.100.81"),
            ADMIN: _client(app, ADMIN, accounts, "198.51.100.84")}


def _with_path_value(rule: str, args: dict[str, Any], name: str, value: str) -> str:
    """The rule with its sample arguments, and ``value`` (quoted) in place of ``name``."""
    def sub(m: re.Match) -> str:
        converter, arg = m.group(1) or "", m.group(2)
        if arg == name:
            return quote(value, safe="/" if converter.startswith("path") else "")
        return quote(str(args[arg]), safe="/")
    return re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", sub, rule)


def _requests(app, rule: str, sample: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(path, query) pairs: the sample with one hostile value in one place each."""
    split = urlsplit(sample)
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    endpoint, args = app.url_map.bind("localhost").match(split.path, method="GET")
    values = FEW if endpoint in HEAVY else HOSTILE
    for name in args:
        for value in values:
            yield _with_path_value(rule, args, name, value), query
    for name in QUERY_PARAMS.get(endpoint, ("lang",)):
        for value in FEW if name == "lang" else values:
            yield split.path, {**query, name: value}


@pytest.mark.parametrize(("rule", "method"), GET_RULES, ids=[r for r, _m in GET_RULES])
def test_hostile_values_in_every_get_route(app, fuzz_clients, samples, accounts, rule,
                                           method):
    call = next(iter(MATRIX[(rule, method)].values()))
    sample = call.path.format(**samples.values(call))
    callers = [ANON] + ([ADMIN] if call.expect[ANON] in (401, LOGIN) else [])
    errors = []
    for role in callers:
        web = fuzz_clients[role]
        for path, query in _requests(app, rule, sample):
            res = web.get(path, query_string=query)
            if res.status_code >= 500:
                errors.append((role, path[:80], {k: v[:40] for k, v in query.items()},
                               res.status_code, res.get_data(as_text=True)[:120]))
    assert not errors, "\n".join(map(repr, errors))
