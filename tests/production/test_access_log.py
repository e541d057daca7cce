"""The access log ``landreg serve`` writes (landreg/served.py): one line per request, after the
answer has been handed over, with the bytes really sent and never a secret query string."""

from __future__ import annotations

import logging

import pytest

from landreg.served import Served, access_line
from landreg.web.auth import ENVIRON_USER


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class CountingTrimmer:
    def __init__(self) -> None:
        self.calls = 0

    def after_request(self) -> None:
        self.calls += 1


def served(app) -> tuple[Served, Keep, CountingTrimmer]:
    log = logging.getLogger(f"test.access.{id(app)}")
    keep = Keep()
    log.handlers, log.propagate = [keep], False
    log.setLevel(logging.INFO)
    trimmer = CountingTrimmer()
    return Served(app, log=log, trimmer=trimmer), keep, trimmer


def environ(method: str = "GET", query: str = "", user: str | None = None) -> dict:
    env = {"REMOTE_ADDR": "10.1.2.3", "REQUEST_METHOD": method, "PATH_INFO": "/api/plots",
           "QUERY_STRING": query, "HTTP_COOKIE": "session=COOKIE-SECRET",
           "HTTP_AUTHORIZATION": "Bearer TOKEN-SECRET"}
    if user:
        env[ENVIRON_USER] = user
    return env


@pytest.mark.parametrize("status,user,method,query,line", [
    ("200 OK", "planner1", "GET", "limit=1&kommune=3401",
     '10.1.2.3 planner1 "GET /api/plots?limit=1&kommune=3401" 200 5 '),
    ("404 NOT FOUND", None, "GET", "access_token=SECRET",
     '10.1.2.3 - "GET /api/plots?[query withheld]" 404 5 '),
    ("201 CREATED", 'quo"te', "POST", "password=SECRET",
     '10.1.2.3 quo"te "POST /api/plots" 201 5 '),
    ("500 INTERNAL SERVER ERROR", None, "HEAD", "", '10.1.2.3 - "HEAD /api/plots" 500 5 '),
])
def test_a_streamed_answer_is_logged_once_when_the_server_closes_it(status, user, method, query,
                                                                    line):
    closed = []

    class Body:
        def __iter__(self):
            yield b"ab"
            yield b"cde"

        def close(self):
            closed.append(True)

    def app(env, start_response):
        start_response(status, [("Content-Type", "text/plain")])
        return Body()

    wrapped, keep, trimmer = served(app)
    body = wrapped(environ(method, query, user), lambda *a: None)
    assert keep.lines == []  # nothing logged before the answer is sent
    assert b"".join(body) == b"abcde"
    body.close()
    body.close()  # a second close changes nothing
    assert closed == [True] and trimmer.calls == 1
    [logged] = keep.lines
    assert logged.startswith(line) and logged.endswith("ms"), logged
    assert "SECRET" not in logged


def test_an_answer_in_one_piece_is_logged_at_once_and_passed_on_unchanged():
    def app(env, start_response):
        start_response("200 OK", [])
        return [b"xyz", b"12"]

    wrapped, keep, trimmer = served(app)
    body = wrapped(environ(), lambda *a: None)
    assert body == [b"xyz", b"12"]  # a list: granian writes it in one piece
    assert keep.lines[0].startswith('10.1.2.3 - "GET /api/plots" 200 5 ') and trimmer.calls == 1


def test_an_app_that_raises_is_logged_as_500_and_the_error_goes_on():
    def app(env, start_response):
        raise RuntimeError("boom")

    wrapped, keep, _trimmer = served(app)
    with pytest.raises(RuntimeError):
        wrapped(environ(), lambda *a: None)
    assert keep.lines[0].startswith('10.1.2.3 - "GET /api/plots" 500 - ')


def test_the_line_never_holds_headers_or_cookies():
    line = access_line(environ(query="kommune=3401"), "200 OK", 12, 0.0123)
    assert line == '10.1.2.3 - "GET /api/plots?kommune=3401" 200 12 12ms'
