"""The access log's line, made from the few atoms its format names (issue 14), is the line
gunicorn's full set of atoms makes, for every kind of request and answer."""

from __future__ import annotations

import datetime
import logging
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from landreg import gunicorn_conf
from landreg.web.auth import ENVIRON_USER


def _line(logger: gunicorn_conf.AccessLogger, resp, environ) -> str:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger.access_log.handlers = [Keep()]
    logger.access_log.propagate = False
    logger.access(resp, SimpleNamespace(headers=[("Host", "x"), ("Cookie", "c=1")]), environ,
                  datetime.timedelta(microseconds=12_345))
    return records[-1]


@pytest.mark.parametrize("status,sent,user,method,query", [
    ("200 OK", 1234, "planner1", "GET", "limit=1&kommune=3401"),
    ("404 NOT FOUND", 0, None, "GET", "access_token=SECRET"),
    ("201 CREATED", None, 'quo"te', "POST", "password=x"),
    (500, 17, None, "HEAD", ""),
])
def test_the_short_atoms_write_the_line_the_full_ones_wrote(status, sent, user, method, query):
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", gunicorn_conf.ACCESS_LOG_FORMAT)
    logger = gunicorn_conf.AccessLogger(cfg)
    environ = {"REMOTE_ADDR": "10.1.2.3", "REQUEST_METHOD": method, "PATH_INFO": "/api/plots",
               "QUERY_STRING": query, "RAW_URI": f"/api/plots?{query}",
               "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_USER_AGENT": 'agent "x"'}
    if user:
        environ[ENVIRON_USER] = user
    resp = SimpleNamespace(status=status, sent=sent, headers=[("Content-Type", "text/plain")])
    short = _line(logger, resp, environ)
    cfg.set("access_log_format", cfg.access_log_format + " %(U)s")  # gunicorn's atoms
    assert _line(logger, resp, environ) == short + " /api/plots"
    assert "SECRET" not in short
