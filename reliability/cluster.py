"""A throwaway PostGIS cluster and a gunicorn server on loopback, both torn down at the end.

The harness never touches the shared dev cluster: scripts/pg.sh makes its own cluster in a
temporary directory on a free port (with the same owner and runtime roles), migrations run as
the owner, the demo is loaded, and gunicorn serves it as the runtime role exactly as production
does (scripts/gunicorn.conf.py, DEBUG off, persistent connections with health checks).
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """Our own PostGIS cluster, made by scripts/pg.sh in a temporary var/ folder.

    The same set-up as the development cluster: a superuser for set-up only, the owner role
    (`owner_url`: migrations) and the runtime role (`url`: the server, and the harness's own
    checks, which must see what an attacker holding the app's credentials would see).
    """

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gridgov-rel-pg-"))
        self.dir.chmod(0o711)  # as root the cluster runs as postgres, which must reach var/pg
        self.port = free_port()

    def _pg(self, *args: str) -> None:
        env = {
            **os.environ,
            "GRIDGOV_VAR_DIR": str(self.dir),
            "GRIDGOV_PG_PORT": str(self.port),
            "GRIDGOV_PG_SHARED_BUFFERS": "128MB",
        }
        subprocess.run([str(ROOT / "scripts" / "pg.sh"), *args], check=True, env=env, stdout=subprocess.DEVNULL)

    @property
    def url(self) -> str:
        return (self.dir / "database_url").read_text().strip()

    @property
    def owner_url(self) -> str:
        return (self.dir / "database_owner_url").read_text().strip()

    def start(self) -> None:
        self._pg("start")

    def restart(self) -> None:
        self._pg("restart")

    def stop(self) -> None:
        if (self.dir / "pg" / "data" / "postmaster.pid").exists():
            self._pg("stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def manage(
    database_url: str,
    *args: str,
    owner_url: str | None = None,
    media_root: str | None = None,
    var_dir: str | None = None,
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "DATABASE_OWNER_URL": owner_url or database_url}
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
        env.pop("DATABASE_OWNER_URL", None)  # the server runs as the runtime role only
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "-c",
                str(ROOT / "scripts" / "gunicorn.conf.py"),
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
            kw = {"media_root": self.media, "var_dir": self.var, "owner_url": self.cluster.owner_url}
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
