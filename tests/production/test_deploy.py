"""deploy/: the systemd units pass ``systemd-analyze verify`` with no warning, keep the
hardening the guide promises, and the nginx site hands the app what it trusts."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess

import pytest

from landreg.settings import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
UNITS = ("landreg.service", "landreg-backup.service", "landreg-backup.timer")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / name)
    return parser


def test_units_pass_systemd_analyze_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:  # Debian's systemd package is on every Debian server; the check must run
        pytest.fail("systemd-analyze is missing: apt-get install systemd")
    for name in UNITS:  # the units point at /opt/landreg; verify them against this checkout,
        text = (DEPLOY / name).read_text().replace("/opt/landreg", str(REPO_ROOT))
        (tmp_path / name).write_text(text)  # whose .venv/bin/landreg exists
    res = subprocess.run([tool, "verify", *(str(tmp_path / n) for n in UNITS)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == "", res.stderr  # unknown keys and bad values only warn


def test_the_app_unit_runs_unprivileged_and_hardened():
    service = unit("landreg.service")["Service"]
    assert service["User"] == "landreg"
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict",
                       "PrivateTmp": "yes", "ProtectHome": "yes",
                       "CapabilityBoundingSet": ""}.items():
        assert service[key] == value, key
    assert "/var/lib/landreg" in service["ReadWritePaths"]
    assert service["ExecReload"].endswith("-HUP $MAINPID")
    env = dict(line.split("=", 1) for line in (DEPLOY / "landreg.env").read_text().splitlines()
               if line and not line.startswith("#"))
    assert env["LANDREG_INSTANCE_DIR"].startswith("/var/lib/landreg")
    assert env["LANDREG_CACHE_DIR"].startswith("/var/lib/landreg")
    assert env["LANDREG_TRUSTED_PROXIES"] == "1" and env["LANDREG_SECURE_COOKIES"] == "true"
    assert unit("landreg-backup.service")["Service"]["ExecStart"].endswith("db backup")
    assert unit("landreg-backup.timer")["Timer"]["Persistent"] == "true"


def test_the_nginx_site_is_well_formed_and_overwrites_forwarded_headers():
    # nginx is not installed on the test machine (its package starts a server on port 80),
    # so this checks the structure instead of `nginx -t`.
    text = re.sub(r"#.*", "", (DEPLOY / "nginx-landreg.conf").read_text())
    assert text.count("{") == text.count("}")
    for line in text.splitlines():
        line = line.strip()
        assert not line or line.endswith((";", "{", "}")), line
    assert "proxy_pass http://127.0.0.1:5000;" in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text  # one trusted hop
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert re.search(r"listen 443 ssl", text) and "return 301 https://" in text
