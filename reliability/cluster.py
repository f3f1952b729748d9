"""A throwaway PostGIS cluster and a gunicorn server on loopback, both torn down at the end.

The harness never touches the shared dev cluster (127.0.0.1:54329): it initdb's its own cluster
in a temporary directory on a free port, loads the demo into it and serves it with gunicorn
exactly as production does (DEBUG off, persistent connections with health checks).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")


def pg_bin() -> Path:
    majors = sorted(
        int(p.parent.parent.name) for p in Path("/usr/share/postgresql").glob("*/extension/postgis.control")
    )
    if not majors:
        raise RuntimeError("PostGIS is not installed (run scripts/bootstrap.sh)")
    return Path(f"/usr/lib/postgresql/{majors[-1]}/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.getuid() == 0 else cmd


class Cluster:
    """Our own PostGIS cluster: `start()`, `restart()`, `stop()`; `url` for DATABASE_URL."""

    def __init__(self, *, dbname: str = "gridgov_reliability") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gridgov-rel-pg-"))
        self.data = self.dir / "data"
        self.run = self.dir / "run"
        self.log = self.dir / "server.log"
        self.port = free_port()
        self.user = "gridgov"
        self.password = secrets.token_hex(12)
        self.dbname = dbname
        self.bin = pg_bin()

    @property
    def url(self) -> str:
        return f"postgres://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.dbname}"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            _as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *args]),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        self.data.mkdir()
        self.run.mkdir()
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password + "\n")
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            for p in (self.data, self.run, pwfile):
                shutil.chown(p, "postgres", "postgres")
        subprocess.run(
            _as_owner(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    self.user,
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        pwfile.unlink()
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.run}'\n"
                "max_connections = 100\nshared_buffers = 128MB\nfsync = on\n"
            )
        self._pg_ctl("start")
        self.psql("postgres", f"CREATE DATABASE {self.dbname}")
        self.psql(self.dbname, "CREATE EXTENSION IF NOT EXISTS postgis")

    def psql(self, db: str, sql: str) -> str:
        out = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                db,
                "-v",
                "ON_ERROR_STOP=1",
                "-tAqc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PGPASSWORD": self.password},
        )
        return out.stdout.strip()

    def restart(self) -> None:
        self._pg_ctl("-m", "fast", "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                _as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(self.dir, ignore_errors=True)


def manage(database_url: str, *args: str, media_root: str | None = None, var_dir: str | None = None) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "1"}
    if var_dir:
        env["GRIDGOV_VAR_DIR"] = var_dir
    if media_root:
        env["MEDIA_ROOT"] = media_root
    out = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {(out.stderr or out.stdout)[-800:]}")


class Server:
    """gunicorn serving `database_url` on a free loopback port, as production does (DEBUG off)."""

    def __init__(self, *, database_url: str, media_root: str | None = None, workers: int = 2, extra_env=None) -> None:
        self.database_url = database_url
        self.media_root = media_root or tempfile.mkdtemp(prefix="gridgov-rel-media-")
        self.own_media = media_root is None
        self.port = free_port()
        self.workers = workers
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="gridgov-rel-gunicorn-", suffix=".log")[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        env = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DATABASE_URL": self.database_url,
            "MEDIA_ROOT": self.media_root,
            "CONN_MAX_AGE": "60",
            **self.extra_env,
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "gridgov.wsgi:application",
                "-w",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer /healthz in {timeout:.0f}s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def kill_worker(self) -> int:
        pid = self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
            # Keep the log only when the server logged an error, and say where it is.
            if "Traceback" in self.log_path.read_text(errors="replace"):
                print(f"# gunicorn logged errors: {self.log_path}", file=sys.stderr)
            else:
                self.log_path.unlink(missing_ok=True)
        if self.own_media:
            shutil.rmtree(self.media_root, ignore_errors=True)


class Stack:
    """Own cluster + migrate + demo + gunicorn; a context manager that tears it all down."""

    def __init__(self, *, workers: int = 2) -> None:
        self.cluster = Cluster()
        self.media = tempfile.mkdtemp(prefix="gridgov-rel-media-")
        # Our own var/ (static files, imagery job folders): nothing shared is written.
        self.var = tempfile.mkdtemp(prefix="gridgov-rel-var-")
        self.server: Server | None = None
        self.workers = workers

    def __enter__(self) -> Stack:
        try:
            self.cluster.start()
            kw = {"media_root": self.media, "var_dir": self.var}
            manage(self.cluster.url, "migrate", "--noinput", "-v", "0", **kw)
            manage(self.cluster.url, "createcachetable", **kw)
            manage(self.cluster.url, "load_demo", **kw)
            # WhiteNoise serves STATIC_ROOT when DEBUG is off; ours lives in the temporary var/.
            manage(self.cluster.url, "collectstatic", "--noinput", "-v", "0", **kw)
            self.server = Server(
                database_url=self.cluster.url,
                media_root=self.media,
                workers=self.workers,
                extra_env={"GRIDGOV_VAR_DIR": self.var},
            )
            self.server.start()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.server:
            self.server.stop()
        self.cluster.stop()
        shutil.rmtree(self.media, ignore_errors=True)
        shutil.rmtree(self.var, ignore_errors=True)
