"""R3, hostile input: schemathesis over /api/schema/, and a corpus of bad files through every
upload endpoint (a clear 4xx each, nothing left in the database or under MEDIA_ROOT).

The hostile vector files (corpus.vector_files: VRT, GML entities, KML links, hostile .prj/.cpg,
GeoJSON crs links, GeoPackage views, zips with tricks) go to every vector upload endpoint as a
planner, so that they are really read: each must get a 4xx, never show the secret file it
names, and never make the server fetch from the `Listener` this process runs.
"""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import psycopg
import requests

from . import corpus
from .cluster import ROOT
from .load import Result, token

ST = str(ROOT / ".venv" / "bin" / "st")

# Upload endpoints the issues name; those missing from the schema are reported as absent.
NAMED_UPLOADS = [
    ("/api/patrol/photos/", "photo"),
    ("/api/zoning/import/", "file"),
    ("/api/zoning/analyze/", "file"),
]
# Sessions, tokens and the cache (login and upload throttle counters) change by design.
IGNORED_TABLES = {"django_session", "authtoken_token", "django_admin_log", "gridgov_cache"}
VECTOR_UPLOADS = ("/api/zoning/",)  # the endpoints that read vector files
SECRET = "GRIDGOV-SECRET-4711"


class Listener:
    """An HTTP server on loopback recording every request it gets (a hostile file must cause none)."""

    def __init__(self):
        self.requests: list[str] = []
        seen = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                seen.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"type": "FeatureCollection", "features": []}')

            do_HEAD = do_GET
            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Listener:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def schemathesis(
    base: str, *, tok: str, max_examples: int, max_time: int, include: str | None = None, label: str = "schemathesis"
) -> tuple[bool, str]:
    """Run the schemathesis CLI: no 5xx, no response contradicting the schema. Return (ok, summary).

    `include` limits the run to paths matching that regex; `label` names its figures and log.
    """
    cmd = [
        ST,
        "run",
        f"{base}/api/schema/",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "-n",
        str(max_examples),
        "--max-time",
        str(max_time),
        "-w",
        "2",
        "--seed",
        "7",
        "-H",
        f"Authorization: Token {tok}",
        "--exclude-path",
        "/api/auth/token/",  # throttled on purpose; R4 covers it
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
        *(["--include-path-regex", include] if include else []),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=max_time + 120)
    text = out.stdout + out.stderr
    failures = re.findall(r"^_+ (\w+ \S+) _+$", text, flags=re.M)
    codes = re.findall(r"❌ (ST\d+ [^:]+): (\d+)", text)
    ops = re.search(r"Tested: (\d+)", text)
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"gridgov-reliability-{label}.log"
    log.write_text(text)
    if out.returncode != 0:
        print(f"# R3 {label} failures (full output in {log}):", file=sys.stderr)
        for block in re.split(r"\n(?=_+ \w+ \S+ _+\n)", text):
            if block.startswith("_"):
                print("#   " + "\n#   ".join(block.strip().splitlines()[:14]), file=sys.stderr)
    summary = f"{label}_ops={ops.group(1) if ops else '?'} {label}_failures={len(failures)}" + (
        f"({','.join(f.replace(' ', '_') for f in failures)})" if failures else ""
    )
    if codes:
        summary += " " + ",".join(f"{c.split()[0]}x{n}" for c, n in codes)
    return out.returncode == 0, summary


def upload_endpoints(base: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Every multipart endpoint of the schema (with its file field), and the named ones absent."""
    import yaml

    schema = yaml.safe_load(requests.get(f"{base}/api/schema/", timeout=30).text)
    found: dict[str, str] = {}
    for path, ops in schema.get("paths", {}).items():
        post = ops.get("post") or {}
        content = (post.get("requestBody") or {}).get("content", {})
        form = content.get("multipart/form-data")
        if not form:
            continue
        ref = form.get("schema", {})
        if "$ref" in ref:
            ref = schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]
        fields = [n for n, p in ref.get("properties", {}).items() if p.get("format") == "binary"]
        if fields and "{" not in path:
            found[path] = fields[0]
    absent = [p for p, _ in NAMED_UPLOADS if p not in found]
    return sorted(found.items()), absent


def snapshot(database_url: str, media_root: str) -> tuple[dict[str, int], set[str]]:
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            ).fetchall()
            if r[0] not in IGNORED_TABLES
        ]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    files = {str(p.relative_to(media_root)) for p in Path(media_root).rglob("*") if p.is_file()}
    return counts, files


def _send(session: requests.Session, url: str, field: str, filename: str, ctype: str, data) -> int | str:
    if callable(data):  # streamed: a multipart body built on the fly with a Content-Length
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()

        def body():
            yield head
            yield from data()
            yield tail

        try:
            r = session.post(
                url,
                data=body(),
                headers={
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Content-Length": str(len(head) + corpus.BIG_BYTES + len(tail)),
                },
                timeout=300,
            )
        except requests.ConnectionError:
            return "reset"  # the server refused before reading it all: acceptable, nothing stored
        return r.status_code
    r = session.post(url, files={field: (filename, data, ctype)}, timeout=120)
    return r.status_code


def run_corpus(base: str, *, tok: str, database_url: str, media_root: str) -> tuple[bool, str, list[str]]:
    endpoints, absent = upload_endpoints(base)
    session = requests.Session()
    session.headers["Authorization"] = f"Token {tok}"
    bad: list[str] = []
    sent = 0
    before = snapshot(database_url, media_root)
    bad_files = corpus.files()
    for name, filename, ctype, data in bad_files:
        for path, field in endpoints:
            status = _send(session, base + path, field, filename, ctype, data)
            sent += 1
            if not (status == "reset" or (isinstance(status, int) and 400 <= status < 500)):
                bad.append(f"{name}->{path}={status}")
    vector = [(p, f) for p, f in endpoints if p.startswith(VECTOR_UPLOADS)]
    v_files, v_sent, v_bad, fetched = run_vector_corpus(base, tok=token(base, "planner"), endpoints=vector)
    sent += v_sent
    bad += v_bad
    after = snapshot(database_url, media_root)
    rows = {t: after[0].get(t, 0) - n for t, n in before[0].items() if after[0].get(t, 0) != n}
    new_files = sorted(after[1] - before[1])
    escaped = [p for p in ("/tmp/gridgov-zip-slip.txt", "/etc/gridgov-abs.txt") if Path(p).exists()]
    if rows:
        bad.append(f"rows_left={rows}")
    if new_files:
        bad.append(f"files_left={new_files[:3]}")
    if escaped:
        bad.append(f"zip_slip_escaped={escaped}")
    summary = (
        f"upload_endpoints={len(endpoints)} bad_files={len(bad_files)} vector_files={v_files} "
        f"sent={sent} not_4xx={len([b for b in bad if '->' in b])} leaked={len([b for b in bad if 'leaked' in b])} "
        f"fetched={fetched} rows_left={sum(abs(v) for v in rows.values())} files_left={len(new_files)}"
        + "".join(f" skipped(absent)={p}" for p in absent)
    )
    return not bad, summary, bad


def run_vector_corpus(base: str, *, tok: str, endpoints: list[tuple[str, str]]) -> tuple[int, int, list[str], int]:
    """The hostile vector files to each vector endpoint: (files, sent, problems, requests seen)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Token {tok}"
    bad: list[str] = []
    sent = 0
    with tempfile.TemporaryDirectory(prefix="gridgov-r3-") as tmp, Listener() as listener:
        secret = Path(tmp) / "secret.csv"
        secret.write_text(f"secret\n{SECRET}\n")
        files = corpus.vector_files(listener=listener.url, secret=str(secret))
        for name, filename, ctype, data in files:
            for path, field in endpoints:
                r = session.post(
                    base + path, files={field: (filename, data, ctype)}, data={"reason": "R3", "dry_run": "true"}
                )
                sent += 1
                if not 400 <= r.status_code < 500:
                    bad.append(f"{name}->{path}={r.status_code}")
                if SECRET in r.text:
                    bad.append(f"{name}->{path} leaked the secret")
        if listener.requests:
            bad.append(f"fetched={listener.requests[:5]}")
        return len(files), sent, bad, len(listener.requests)


def run_hostile(*, base: str, database_url: str, media_root: str, quick: bool = False) -> Result:
    tok = token(base, "city_supervisor")
    c_ok, c_summary, c_bad = run_corpus(base, tok=tok, database_url=database_url, media_root=media_root)
    for b in c_bad:
        print(f"# R3 corpus: {b}", file=sys.stderr)
    s_ok, s_summary = schemathesis(base, tok=tok, max_examples=5 if quick else 25, max_time=40 if quick else 150)
    # The supervisor may not edit zoning, so with its token the zoning writes only ever answer
    # 403 and their input handling goes untested; a second, shorter pass as the planner reaches it.
    p_ok, p_summary = schemathesis(
        base,
        tok=token(base, "planner"),
        max_examples=5 if quick else 25,
        max_time=20 if quick else 60,
        include="^/api/zoning/",
        label="schemathesis_planner",
    )
    ok = c_ok and s_ok and p_ok
    return Result(line=f"R3 hostile {s_summary} {p_summary} {c_summary} {'PASS' if ok else 'FAIL'}", ok=ok)
