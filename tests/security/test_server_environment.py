"""Attack: a variable in the server's environment posing as a request header.

granian builds each request's WSGI environ from the process environment with the request laid
over it, so a variable named like a header (``HTTP_AUTHORIZATION``, ``HTTP_X_FORWARDED_FOR``)
that a request does not send showed through as if it had: one token exported in the shell or
systemd unit that starts ``landreg serve`` logged every anonymous visitor in as its owner.
``landreg serve`` now starts the server without such variables (landreg.cli.serve)."""

from __future__ import annotations

import requests

from landreg.cli.serve import server_environment
from tests.production.conftest import (  # noqa: F401 - fixtures
    kv_planner_token,
    private_dir,
    server_factory,
)


def test_a_token_in_the_servers_environment_logs_nobody_in(server_factory,  # noqa: F811
                                                           database_url):
    name, token = kv_planner_token(database_url, "envtok")
    srv = server_factory(database_url, workers=1, HTTP_AUTHORIZATION=f"Bearer {token}",
                         HTTP_X_FORWARDED_FOR="10.9.8.7", CONTENT_TYPE="text/evil")
    anonymous = requests.get(srv.url + "/api/me", timeout=30)
    assert anonymous.status_code == 200
    assert anonymous.json().get("username") is None, anonymous.json()
    # the token still works when a request really carries it
    sent = requests.get(srv.url + "/api/me", headers={"Authorization": f"Bearer {token}"},
                        timeout=30)
    assert sent.json().get("username") == name


def test_only_request_like_variables_are_dropped():
    env = {"PATH": "/usr/bin", "LANDREG_WORKERS": "3", "HTTP_COOKIE": "session=x",
           "HTTP_PROXY": "http://proxy", "CONTENT_LENGTH": "5", "REMOTE_USER": "admin",
           "HTTPS_ONLY": "1"}
    assert server_environment(env) == {"PATH": "/usr/bin", "LANDREG_WORKERS": "3",
                                       "HTTPS_ONLY": "1"}
