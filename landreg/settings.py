"""Deployment settings from ``LANDREG_*`` environment variables, read when asked."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from landreg.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_PORT = 5433
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - the file name, not a secret


def _default_database_url() -> str:
    port = os.environ.get("LANDREG_PG_PORT", str(DEFAULT_PG_PORT))
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/landreg"


@dataclass(frozen=True)
class Settings:
    """Settings for one landreg process.

    Attributes
    ----------
    database_url:
        SQLAlchemy URL of a PostGIS database (``LANDREG_DATABASE_URL``). Defaults to the
        project-local cluster that ``make run`` starts on ``LANDREG_PG_PORT`` (5433).
    layers_dir:
        Folder with the criteria catalogue, purpose profiles and demo sources
        (``LANDREG_LAYERS_DIR``, default ``layers/`` in the repository).
    cache_dir:
        Where built rasters go (``LANDREG_CACHE_DIR``, default ``layers/cache``, git-ignored).
    scoring_res:
        Cell size in metres of the suitability grid (``LANDREG_SCORING_RES``, default 25).
    trusted_proxies:
        How many reverse proxies stand in front of the app (``LANDREG_TRUSTED_PROXIES``,
        default 0): client addresses are taken from ``X-Forwarded-For`` only that deep.
    instance_dir:
        The app's own writable state (``LANDREG_INSTANCE_DIR``, default ``.local/instance``):
        the session signing key, generated once and shared by every worker and restart.
    backup_dir:
        Where ``landreg db backup`` writes when given no file (``LANDREG_BACKUP_DIR``,
        default ``.local/backups``).
    public_url:
        The address the public reaches the app at, e.g. ``https://landreg.example.org``
        (``LANDREG_PUBLIC_URL``). Absolute links in the OGC API, the OpenAPI document and
        paging links start with it. Unset: they start with the request's own address when its
        host is one of ``allowed_hosts``, and are relative otherwise.
    allowed_hosts:
        Host names whose ``Host`` header may be echoed in links when ``public_url`` is unset
        (``LANDREG_ALLOWED_HOSTS``, comma-separated, ``.example.org`` for every subdomain;
        default ``localhost,127.0.0.1``). Any other host gets relative links.
    tile_cache_mb:
        Memory each server process may keep built vector tiles in (``LANDREG_TILE_CACHE_MB``,
        default 16; 0 turns the cache off).
    """

    database_url: str = field(default_factory=_default_database_url)
    layers_dir: Path = REPO_ROOT / "layers"
    cache_dir: Path = REPO_ROOT / "layers" / "cache"
    secret_key: str | None = None
    max_upload_mb: int = 50
    scoring_res: float = 25.0
    trusted_proxies: int = 0
    instance_dir: Path = REPO_ROOT / ".local" / "instance"
    backup_dir: Path = REPO_ROOT / ".local" / "backups"
    public_url: str | None = None
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1")
    tile_cache_mb: int = 16

    @property
    def demo_gpkg(self) -> Path:
        """The real Kartverket N1000 reference data of the demo region."""
        return self.layers_dir / "sources" / "glamdalen_n1000.gpkg"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read settings from ``LANDREG_*`` variables; unknown values raise a clear error."""
        env = os.environ if environ is None else environ
        kwargs: dict = {}
        if env.get("LANDREG_DATABASE_URL"):
            kwargs["database_url"] = normalise_database_url(env["LANDREG_DATABASE_URL"])
        if env.get("LANDREG_LAYERS_DIR"):
            kwargs["layers_dir"] = Path(env["LANDREG_LAYERS_DIR"])
            kwargs["cache_dir"] = Path(env["LANDREG_LAYERS_DIR"]) / "cache"
        if env.get("LANDREG_CACHE_DIR"):
            kwargs["cache_dir"] = Path(env["LANDREG_CACHE_DIR"])
        for name, key in (("LANDREG_INSTANCE_DIR", "instance_dir"),
                          ("LANDREG_BACKUP_DIR", "backup_dir")):
            if env.get(name):
                kwargs[key] = Path(env[name])
        if env.get("LANDREG_SECRET_KEY"):
            kwargs["secret_key"] = env["LANDREG_SECRET_KEY"]
        if env.get("LANDREG_MAX_UPLOAD_MB"):
            try:
                kwargs["max_upload_mb"] = int(env["LANDREG_MAX_UPLOAD_MB"])
            except ValueError as exc:
                raise ConfigurationError(
                    "LANDREG_MAX_UPLOAD_MB must be a whole number of megabytes",
                    field="LANDREG_MAX_UPLOAD_MB",
                    value=env["LANDREG_MAX_UPLOAD_MB"],
                ) from exc
        if env.get("LANDREG_TRUSTED_PROXIES"):
            value = env["LANDREG_TRUSTED_PROXIES"]
            if not value.isdigit() or int(value) > 10:
                raise ConfigurationError(
                    "LANDREG_TRUSTED_PROXIES is the number of reverse proxies in front of the "
                    "app (0 when none), a whole number from 0 to 10",
                    field="LANDREG_TRUSTED_PROXIES", value=value)
            kwargs["trusted_proxies"] = int(value)
        if env.get("LANDREG_PUBLIC_URL"):
            kwargs["public_url"] = parse_public_url(env["LANDREG_PUBLIC_URL"])
        if env.get("LANDREG_ALLOWED_HOSTS"):
            kwargs["allowed_hosts"] = tuple(
                h.strip().lower() for h in env["LANDREG_ALLOWED_HOSTS"].split(",") if h.strip())
        if env.get("LANDREG_TILE_CACHE_MB"):
            value = env["LANDREG_TILE_CACHE_MB"]
            if not value.isdigit() or int(value) > 4096:
                raise ConfigurationError(
                    "LANDREG_TILE_CACHE_MB is the memory for cached map tiles per server "
                    "process in megabytes, a whole number from 0 (off) to 4096",
                    field="LANDREG_TILE_CACHE_MB", value=value)
            kwargs["tile_cache_mb"] = int(value)
        if env.get("LANDREG_SCORING_RES"):
            try:
                kwargs["scoring_res"] = float(env["LANDREG_SCORING_RES"])
            except ValueError as exc:
                raise ConfigurationError(
                    "LANDREG_SCORING_RES must be a cell size in metres, e.g. 25",
                    field="LANDREG_SCORING_RES", value=env["LANDREG_SCORING_RES"],
                ) from exc
        return cls(**kwargs)


def load_secret_key(instance_dir: Path) -> str:
    """The session signing key kept in ``instance_dir/secret_key``, generated on first use.

    Every worker and every restart signs with the same key, so a login made through one worker
    holds on all of them. The file is created with mode 0600 and ``O_EXCL``: when several
    workers start at once, one writes it and the others read that one."""
    import secrets

    path = instance_dir / SECRET_KEY_FILE
    for _ in range(50):
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            key = ""
        except PermissionError as exc:
            raise ConfigurationError(
                f"Cannot read the session key {path}: it belongs to another user. Start the app "
                "with `landreg serve` (as root or as that user) or set LANDREG_SECRET_KEY.",
                field="LANDREG_INSTANCE_DIR", value=str(instance_dir)) from exc
        if key:
            return key
        try:
            instance_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker is writing it: read it again
            import time

            time.sleep(0.02)
            continue
        except OSError as exc:
            raise ConfigurationError(
                f"Cannot create the session key {path} ({exc.strerror}); make the folder "
                "writable or set LANDREG_SECRET_KEY.",
                field="LANDREG_INSTANCE_DIR", value=str(instance_dir)) from exc
        key = secrets.token_hex(32)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        return key
    raise ConfigurationError(f"The session key file {path} stays empty; remove it.",
                             field="LANDREG_INSTANCE_DIR", value=str(instance_dir))


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def parse_public_url(value: str) -> str:
    """``LANDREG_PUBLIC_URL`` checked: http(s), a host, no query or fragment; no trailing /."""
    from urllib.parse import urlsplit

    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(
            "LANDREG_PUBLIC_URL is the address the public reaches landreg at, such as "
            "https://landreg.example.org (http or https, no query, no user name)",
            field="LANDREG_PUBLIC_URL", value=value)
    return value.strip().rstrip("/")
