"""Absolute links in answers (OGC API, OpenAPI document, paging) from a trusted address.

A link built from the request's ``Host`` header points wherever the sender says: a request
with ``Host: evil.example`` (or a poisoned cache in front of the app) would hand every reader
links to another site. Links therefore start with ``LANDREG_PUBLIC_URL`` when it is set; else
with the request's own address only when its host is one of ``LANDREG_ALLOWED_HOSTS``; else
they are relative, which every client resolves against the address it used.
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from werkzeug.sansio.utils import host_is_trusted

from landreg.web.db import settings


def base_url() -> str:
    """The trusted scheme://host[:port] for links of this request, or "" (relative links)."""
    s = settings()
    if s.public_url:
        return s.public_url
    if s.allowed_hosts and host_is_trusted(request.host, s.allowed_hosts):
        return request.host_url.rstrip("/")
    return ""


def external_url(endpoint: str, **values: Any) -> str:
    """``url_for`` for links that leave the app: absolute from :func:`base_url`."""
    return base_url() + url_for(endpoint, **values)
