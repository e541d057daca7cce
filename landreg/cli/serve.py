"""``landreg serve``: the web application under granian, never as root.

Started as root (``make run`` on a fresh machine), it creates the system user ``landreg`` when
missing (as PostgreSQL's packages create ``postgres``), gives it its writable places — the
instance folder (session key), the raster cache and a private temporary folder for uploads —
makes sure it can read the code and the virtualenv, then drops root *before* exec'ing granian,
so no process of the server runs as root (the port is above 1024; a reverse proxy owns 443).
``--dev`` runs Flask's reloading development server instead.

granian (a WSGI server whose workers parse HTTP in Rust) took gunicorn's place for issue 14:
on the same app and machine it served single plots with 0.62 ms of server CPU instead of
0.95 ms (gunicorn's threaded worker spent ~0.35 ms a request in Python on HTTP and threads).
What gunicorn's hooks did — the access log, the memory trim, the metrics of dead workers — is
done around the app in :mod:`landreg.served`. Each worker has its own listening socket
(``SO_REUSEPORT``), so the kernel spreads new connections over the workers.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from landreg.cli import say, settings_of
from landreg.errors import ConfigurationError
from landreg.settings import REPO_ROOT, Settings, load_secret_key

RUN_USER = "landreg"
APP = "landreg.served:app"  # a factory: each worker builds its own app


#: Seconds between starting a new worker and stopping the old one on HUP (see granian_argv).
RELOAD_INTERVAL_S = 10
#: The kernel's switch that hands connections waiting on a closing listener to another
#: worker's (Linux 5.14+); without it they are refused while a worker is replaced.
MIGRATE_REQ = Path("/proc/sys/net/ipv4/tcp_migrate_req")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


def granian_argv(host: str, port: int) -> list[str]:
    """granian's command line for ``landreg serve`` (sizes from ``LANDREG_WORKERS``,
    ``LANDREG_THREADS``, ``LANDREG_GRACEFUL_TIMEOUT``, ``LANDREG_RELOAD_INTERVAL``).

    HUP replaces the workers one at a time (new code after an upgrade: the app is loaded in
    the workers, never in the main process): a new worker starts, and the old one it replaces
    stops :data:`RELOAD_INTERVAL_S` later, when the new one listens (it takes 3-4 s to load
    the app on a busy 2-core machine), so some worker always accepts. TERM lets running
    requests finish before stopping (at most the graceful timeout); a worker that dies is
    started again."""
    cpus = os.cpu_count() or 1
    granian = Path(sys.executable).with_name("granian")
    if not granian.exists():
        granian = Path(shutil.which("granian") or "granian")
    return [str(granian), "--interface", "wsgi", "--factory", APP,
            "--host", host, "--port", str(port),
            "--workers", str(_env_int("LANDREG_WORKERS", min(2 * cpus + 1, 12))),
            "--blocking-threads", str(_env_int("LANDREG_THREADS", 4)),
            "--http", "1", "--no-ws",
            "--respawn-failed-workers",
            "--respawn-interval", str(_env_int("LANDREG_RELOAD_INTERVAL", RELOAD_INTERVAL_S)),
            "--workers-kill-timeout", str(_env_int("LANDREG_GRACEFUL_TIMEOUT", 30)),
            "--working-dir", str(REPO_ROOT),
            "--log-level", os.environ.get("LANDREG_LOG_LEVEL", "info"), "--no-access-log"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Server workers [default: 2 x CPUs + 1, or LANDREG_WORKERS].")
@click.option("--threads", type=click.IntRange(1, 64), default=None,
              help="Threads per worker [default: 4, or LANDREG_THREADS].")
@click.option("--user", "run_user", default=lambda: os.environ.get("LANDREG_RUN_USER", RUN_USER),
              show_default=RUN_USER, help="Account the server runs as when started as root.")
@click.option("--dev", is_flag=True, help="Flask's reloading development server (developers).")
@click.pass_context
def command(ctx: click.Context, host: str, port: int, workers: int | None,
            threads: int | None, run_user: str, dev: bool) -> None:
    """Serve the web application with granian (HUP reloads, TERM stops gracefully)."""
    settings = settings_of(ctx)
    if dev:
        from landreg.web import create_app

        say(ctx, f"landreg (development server) on http://{host}:{port}/")
        create_app(settings=settings).run(host=host, port=port, threaded=True,
                                          use_reloader=True)
        return
    env = server_environment(os.environ)
    # glibc makes up to 8 malloc arenas per core for a worker's threads, each keeping its own
    # freed memory; two held workers 15-20 MB lower under the browser suite (issue 14)
    env.setdefault("MALLOC_ARENA_MAX", "2")
    if workers:
        env["LANDREG_WORKERS"] = str(workers)
    if threads:
        env["LANDREG_THREADS"] = str(threads)
    account = None
    if os.geteuid() == 0:
        if port < 1024:
            raise ConfigurationError(
                "landreg never runs as root, so it cannot bind a port below 1024; serve on "
                "e.g. 5000 behind a reverse proxy (deploy/nginx-landreg.conf).",
                field="--port", value=port)
        account = ensure_user(run_user)
        env.update(prepare_as_root(settings, account, ctx))
        allow_connection_migration()
    elif read_flag(MIGRATE_REQ) == "0":
        click.echo(f"note: {MIGRATE_REQ} is 0, so a reload (HUP) refuses connections while a "
                   "worker is replaced; see deploy/README.md (sysctl)", err=True)
    else:
        load_secret_key(settings.instance_dir)  # create it now, not in racing workers
    env["PROMETHEUS_MULTIPROC_DIR"] = str(fresh_metrics_dir(settings.instance_dir, account))
    argv = granian_argv(host, port)
    who = account.pw_name if account else pwd.getpwuid(os.geteuid()).pw_name
    say(ctx, f"landreg on http://{host}:{port}/ (granian, as user {who}; health: /health)")
    sys.stdout.flush()
    sys.stderr.flush()
    if account is not None:
        drop_privileges(account)
    os.execve(argv[0], argv, env)  # noqa: S606 - the venv's granian, our own arguments


#: CGI names a request brings itself; in the server's environment they would pose as one.
REQUEST_VARIABLES = ("CONTENT_TYPE", "CONTENT_LENGTH", "REMOTE_USER", "AUTH_TYPE",
                     "REMOTE_ADDR", "REMOTE_HOST")


def server_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: ``environ`` without variables that look like a request's.

    granian starts every request's WSGI environ from the process environment and lays the
    request over it, so a variable the request does not carry shows through: an
    ``HTTP_AUTHORIZATION`` (or ``HTTP_X_FORWARDED_FOR``, ``HTTP_COOKIE``, …) exported in the
    shell or unit that starts the server would be a header of every request that lacks it —
    credentials or a client address for every anonymous visitor."""
    return {name: value for name, value in environ.items()
            if not name.startswith("HTTP_") and name not in REQUEST_VARIABLES}


def read_flag(path: Path) -> str | None:
    """A /proc/sys switch's value, or None where the kernel has no such switch."""
    try:
        return path.read_text().strip()
    except OSError:
        return None


def allow_connection_migration(path: Path = MIGRATE_REQ) -> bool:
    """As root: turn on ``net.ipv4.tcp_migrate_req`` (say so), so that a worker replaced on
    reload hands its waiting connections to the others instead of refusing them: 58,277
    refused connections over one reload under 20 busy clients without it, none with it (one
    request of 31,117 cut). Returns whether it is on."""
    value = read_flag(path)
    if value is None:
        return False
    if value == "0":
        try:
            path.write_text("1\n")
        except OSError:
            return False
        click.echo("set net.ipv4.tcp_migrate_req=1 so a reload never refuses connections "
                   "(deploy/README.md: make it permanent)", err=True)
    return True


def fresh_metrics_dir(instance: Path, account: pwd.struct_passwd | None) -> Path:
    """An empty folder for prometheus_client's per-worker files, so ``/metrics`` adds up all
    workers (:func:`landreg.web.metrics.forget_dead_workers` marks a dead worker's gauges)."""
    folder = instance / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    if account is not None:
        os.chown(folder, account.pw_uid, account.pw_gid)
    return folder


def ensure_user(name: str) -> pwd.struct_passwd:
    """The unprivileged system account ``name``, created when missing (no home, no shell)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    # S603/S607: Debian's useradd from PATH (root's PATH) with fixed arguments, no shell
    result = subprocess.run(  # noqa: S603
        ["useradd",  # noqa: S607 "--system", "--user-group", "--no-create-home",
         "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
         "--comment", "landreg web application", name],
        capture_output=True, text=True)
    try:  # a concurrent start may have created it (useradd exits 9 then)
        account = pwd.getpwnam(name)
    except KeyError as exc:
        raise ConfigurationError(f"Cannot create the system user {name!r}: "
                                 f"{result.stderr.strip()}", field="--user", value=name) from exc
    click.echo(f"created the system user {name!r} to run the app (never as root)", err=True)
    return account


def prepare_as_root(settings: Settings, account: pwd.struct_passwd,
                    ctx: click.Context) -> dict[str, str]:
    """Give ``account`` what it needs: read the code, write the instance folder, the cache and
    a private temporary folder. Returns the environment additions for the server."""
    uid, gid = account.pw_uid, account.pw_gid
    interpreter = Path(sys.executable).resolve()
    for path in (interpreter, Path(sys.base_prefix).resolve()):
        blocked = blocked_folders(path, account)
        repo = REPO_ROOT.resolve()
        if blocked and blocked[0] not in (repo, *repo.parents) and repo not in blocked[0].parents:
            raise ConfigurationError(
                f"The virtualenv's Python ({interpreter}) lies in {blocked[0]}, which the "
                f"{account.pw_name} user cannot enter. Rebuild the virtualenv with Debian's "
                "python3: rm -rf .venv && make run PYTHON=/usr/bin/python3",
                field="PYTHON", value=str(interpreter))
    for path in (REPO_ROOT, Path(sys.prefix), settings.layers_dir):
        grant_traverse(path, account)
    instance = settings.instance_dir
    instance.mkdir(parents=True, exist_ok=True)
    grant_traverse(instance.parent, account)
    os.chown(instance, uid, gid)
    instance.chmod(0o700)
    load_secret_key(instance)  # generated once, here, before any worker races for it
    key = instance / "secret_key"
    os.chown(key, uid, gid)
    key.chmod(0o600)
    cache = settings.cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    grant_traverse(cache.parent, account)
    for folder, _dirs, files in os.walk(cache):
        os.chown(folder, uid, gid)
        for name in files:
            os.lchown(os.path.join(folder, name), uid, gid)
    scratch = instance / "tmp"  # private (0700): uploads, exports, matplotlib's cache
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(mode=0o700)
    os.chown(scratch, uid, gid)
    return {"TMPDIR": str(scratch), "MPLCONFIGDIR": str(scratch), "HOME": str(scratch),
            "USER": account.pw_name, "LOGNAME": account.pw_name}


def blocked_folders(path: Path, account: pwd.struct_passwd) -> list[Path]:
    """The folders on the way to ``path`` (itself included) ``account`` cannot enter, top first."""
    path = path.resolve()
    out = []
    for folder in [path, *path.parents]:
        if not folder.is_dir():
            continue
        st = folder.stat()
        if st.st_uid == account.pw_uid or st.st_mode & stat.S_IXOTH:
            continue
        if st.st_gid == account.pw_gid and st.st_mode & stat.S_IXGRP:
            continue
        out.append(folder)
    return out[::-1]


def grant_traverse(path: Path, account: pwd.struct_passwd) -> None:
    """Let ``account`` reach ``path``: add only the search bit (o+x) to ancestors that block it
    (a clone in a ``mktemp -d`` folder is 0700), and say so — like scripts/pg.sh does."""
    for folder in blocked_folders(path, account):
        st = folder.stat()
        click.echo(f"granting o+x on {folder} so the {account.pw_name} user can read the app",
                   err=True)
        folder.chmod(st.st_mode | stat.S_IXOTH)


def drop_privileges(account: pwd.struct_passwd) -> None:
    """Become ``account`` for good (groups, gid, then uid: root cannot come back)."""
    os.setgroups([])
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)
    if os.geteuid() == 0 or os.getuid() == 0:
        raise SystemExit("could not drop root privileges; refusing to serve")
