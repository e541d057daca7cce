"""Absolute links in answers (OGC API, OpenAPI document, paging) from a trusted address.

A link built from the request's ``Host`` header points wherever the sender says: a request
with ``Host: evil.example`` (or a poisoned cache in front of the app) would hand every reader
links to another site. Links therefore start with ``LANDREG_PUBLIC_URL`` when it is set; else
with the request's own address only when its host is one of ``LANDREG_ALLOWED_HOSTS``; else
they are relative, which every client resolves against the address it used.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import request, url_for
from werkzeug.sansio.utils import host_is_trusted

from landreg.web.db import settings

_BASE_KEY = "landreg.base_url"  # the request's own: kept in its WSGI environ


def base_url() -> str:
    """The trusted scheme://host[:port] for links of this request, or "" (relative links);
    worked out once per request (a page of features has three or four links)."""
    base = request.environ.get(_BASE_KEY)
    if base is None:
        s = settings()
        if s.public_url:
            base = s.public_url
        elif s.allowed_hosts:
            env = request.environ
            base = _trusted_base(request.scheme, env.get("HTTP_HOST"), env.get("SERVER_NAME"),
                                 env.get("SERVER_PORT"), s.allowed_hosts)
        else:
            base = ""
        request.environ[_BASE_KEY] = base
    return base


@lru_cache(maxsize=256)
def _trusted_base(scheme: str, http_host: str | None, server_name: str | None,
                  server_port: str | None, allowed: tuple[str, ...]) -> str:
    """The base of links for a request with these facts (all werkzeug's ``host`` and
    ``host_url`` read), worked out once per process for each: the Host check and the URL's
    IRI handling cost more than the rest of the links."""
    if not host_is_trusted(request.host, allowed):
        return ""
    return request.host_url.rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """``url_for`` for links that leave the app: absolute from :func:`base_url`."""
    return base_url() + app_path(endpoint, **values)


def app_path(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)``, built once per process for each endpoint and values
    (and the app's mount point): a path depends on nothing else, and building it is most of
    the cost of a page's links."""
    try:
        return _path(request.script_root, endpoint, tuple(values.items()))
    except TypeError:  # a value that cannot be a key (a list): built as it is
        return url_for(endpoint, **values)


@lru_cache(maxsize=1024)
def _path(script_root: str, endpoint: str, values: tuple[tuple[str, Any], ...]) -> str:
    return url_for(endpoint, **dict(values))
