"""Load and faults: the explorer under gunicorn, as it runs in production, on 127.0.0.1 only.

    .venv/bin/python bench/load_faults.py [--duration 60] [--connections 64] [--outage 10]
                                          [--skip-load] [--skip-fault] [--events 300]

1. Creates a PostgreSQL database of its own (dropped at the end), starts bin/start with
   production settings (DEBUG off, a secret key, behind-a-TLS-proxy mode, the article loaded
   plus a synthetic dispute so pages have depth), bound to 127.0.0.1.
2. Load: wrk with 64 connections for 60 seconds, cycling through pages, htmx fragments
   (HX-Request) and searches. Must give zero 5xx and zero socket errors.
3. Faults: a lighter wrk load runs while PostgreSQL is stopped for ~10 seconds and started
   again. Meanwhile a probe requests pages every 100 ms and another polls /healthz every
   100 ms, and a third asks PostgreSQL itself, so each answer can be set against the truth.
   Must hold: during the outage pages answer 503 (not 500, not a hang; the slowest answer is
   reported), the site recovers by itself within 5 seconds of the database's return, and
   /healthz says 503 exactly while the database is down.

PostgreSQL is shared by everyone on this machine: it is always started again, in a
`finally`, even when the script is interrupted. Prints figures; exits 1 when a requirement
does not hold, saying which.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_CLUSTER = ["15", "main"]
HOST = "127.0.0.1"
RECOVERY_LIMIT = 5.0
# wrk's own timeout: an answer slower than this counts as a socket error (a hang).
WRK_TIMEOUT = "5s"

SEARCHES = [
    "Khukumov",
    "pilot",
    "Tajik migrants",
    '"Moscow region"',
    "smuggling -drug",
    "arrest",
    "nothing matches this at all",
    "Rakhmon",
    "Arcadia",
    "\u00e9t\u00e9 \u0442\u0430\u0434\u0436\u0438\u043a",
]

LUA = r"""
-- Cycles through REQUESTS (path, htmx?) and counts statuses per class; done() prints them.
local requests = dofile(os.getenv("LOAD_FAULTS_REQUESTS"))
local threads = {}
local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end
function init(args)
  counter = (tid or 0) * 7919
  s2, s3, s4, s5, s503 = 0, 0, 0, 0, 0
end
function request()
  counter = counter + 1
  local item = requests[counter % #requests + 1]
  local headers = { ["X-Forwarded-Proto"] = "https" }
  if item[2] then headers["HX-Request"] = "true" end
  return wrk.format("GET", item[1], headers)
end
function response(status, headers, body)
  if status >= 500 then
    s5 = s5 + 1
    if status == 503 then s503 = s503 + 1 end
  elseif status >= 400 then s4 = s4 + 1
  elseif status >= 300 then s3 = s3 + 1
  else s2 = s2 + 1 end
end
function done(summary, latency, reqs)
  local t = { s2 = 0, s3 = 0, s4 = 0, s5 = 0, s503 = 0 }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'LOAD_JSON {"requests": %d, "duration_s": %.2f, "s2xx": %d, "s3xx": %d, "s4xx": %d, ' ..
    '"s5xx": %d, "s503": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, ' ..
    '"p50_ms": %.1f, "p90_ms": %.1f, "p99_ms": %.1f, "max_ms": %.1f}\n',
    summary.requests, summary.duration / 1e6, t.s2, t.s3, t.s4, t.s5, t.s503,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


# --- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def admin_sql(statement: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


def server_env(database: str, port: int, workers: int) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_")) and key not in {"CI", "SITE_NAME"}
    }
    env.update(
        PATH=f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}",
        PYTHON=str(VENV_BIN / "python"),
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_BEHIND_TLS_PROXY="1",
        DATABASE_URL=f"postgres://postgres@{HOST}:5432/{database}",
        BIND=HOST,
        PORT=str(port),
        WEB_CONCURRENCY=str(workers),
        LOAD_ARTICLE="1",
        GUNICORN_ACCESS_LOG="/dev/null",
        DJANGO_LOG_LEVEL="WARNING",
    )
    return env


def manage(env: dict, *args: str, code: str | None = None) -> str:
    command = [env["PYTHON"], "manage.py", *args]
    if code is not None:
        command += ["-c", code]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


URLS_CODE = r"""
import json
from django.apps import apps
out = []
for model in apps.get_app_config("disputes").get_models():
    if getattr(model, "url_name", "").startswith("disputes:"):
        for obj in model._default_manager.order_by("pk")[:150]:
            out.append([model.__name__, obj.get_absolute_url()])
print("URLS_JSON " + json.dumps(out))
"""

# load_record leaves PostgreSQL's ID sequences at 1 (see the strict xfail in
# tests/test_roundtrip.py); move them past the article's rows so the generator can insert.
SYNTHETIC_CODE = """
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection
models = apps.get_app_config("disputes").get_models()
with connection.cursor() as cursor:
    for statement in connection.ops.sequence_reset_sql(no_style(), models):
        cursor.execute(statement)
from bench.generate import make_dispute
make_dispute({events}, seed=11, title="Synthetic load dispute")
"""


def build_requests(urls: list[list[str]]) -> list[tuple[str, bool]]:
    """Pages, the htmx fragments the pages ask for, and searches, in a fixed mix."""
    requests: list[tuple[str, bool]] = [("/", False)]
    for kind, url in urls:
        requests.append((url, False))
        if kind == "Event":
            requests.append((url, True))  # the step panel swapped in by htmx
        if kind == "Dispute":
            requests += [(url, True), (url + "?page=2", False), (url + "?page=2", True)]
    for query in SEARCHES:
        path = "/search/?q=" + _quote(query)
        requests += [(path, False), (path, True)]
    return requests


def _quote(text: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(text)


def write_lua_requests(requests, directory: Path) -> Path:
    def lua_string(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    body = ",\n".join(
        f"  {{{lua_string(path)}, {'true' if htmx else 'false'}}}" for path, htmx in requests
    )
    path = directory / "requests.lua"
    path.write_text("return {\n" + body + "\n}\n")
    return path


def get(port: int, path: str, timeout: float = 10.0, headers: dict | None = None):
    """(status, seconds, body) of one request on a fresh connection; status 0 = no answer."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"X-Forwarded-Proto": "https", **(headers or {})})
        response = conn.getresponse()
        body = response.read()
        return response.status, time.monotonic() - started, body
    except (OSError, http.client.HTTPException) as exc:
        return 0, time.monotonic() - started, str(exc).encode()
    finally:
        conn.close()


def wait_healthy(port: int, process: subprocess.Popen, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up; see its log")
        status, _, _ = get(port, "/healthz", timeout=2)
        if status == 200:
            return
        time.sleep(0.2)
    raise RuntimeError("the server did not become healthy in time")


# --- wrk -----------------------------------------------------------------------------------


def run_wrk(port: int, lua: Path, requests_file: Path, connections: int, seconds: int):
    threads = min(4, connections)
    command = [
        shutil.which("wrk") or "/usr/bin/wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        str(lua),
        f"http://{HOST}:{port}/",
    ]
    env = {**os.environ, "LOAD_FAULTS_REQUESTS": str(requests_file)}
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wrk_result(process: subprocess.Popen) -> dict:
    output, _ = process.communicate(timeout=600)
    match = re.search(r"^LOAD_JSON (.*)$", output, re.M)
    if not match:
        raise RuntimeError(f"wrk gave no figures:\n{output}")
    return json.loads(match.group(1))


def socket_errors(result: dict) -> int:
    return result["connect"] + result["read"] + result["write"] + result["timeout"]


# --- the fault run -------------------------------------------------------------------------


@dataclass
class Sample:
    t: float  # seconds since the fault run started
    status: int
    latency: float
    path: str = ""
    body: bytes = b""


@dataclass
class Poller:
    """Calls probe() every `every` seconds in its own thread, recording what it returns."""

    probe: object
    every: float = 0.1
    samples: list = field(default_factory=list)

    def start(self, t0: float):
        self.t0 = t0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        i = 0
        while not self.stop_event.is_set():
            started = time.monotonic()
            sample = self.probe(i)
            sample.t = started - self.t0
            self.samples.append(sample)
            i += 1
            self.stop_event.wait(max(0.0, self.every - (time.monotonic() - started)))

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=30)


def pg_ctl(action: str) -> None:
    subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            *PG_CLUSTER,
            action,
            *(["-m", "fast"] if action == "stop" else []),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


def pg_running() -> bool:
    result = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *PG_CLUSTER, "status"],
        capture_output=True,
        timeout=30,
    )
    return result.returncode == 0


def ensure_pg_started() -> None:
    if not pg_running():
        print("!! PostgreSQL is down: starting it again", flush=True)
        pg_ctl("start")


def db_probe(dsn: str):
    def probe(_i):
        started = time.monotonic()
        try:
            with psycopg.connect(dsn, connect_timeout=1) as conn:
                conn.execute("SELECT 1")
            status = 200
        except psycopg.Error:
            status = 503
        return Sample(0, status, time.monotonic() - started)

    return probe


def http_probe(port: int, paths: list[tuple[str, bool]]):
    def probe(i):
        path, htmx = paths[i % len(paths)]
        status, latency, body = get(port, path, headers={"HX-Request": "true"} if htmx else None)
        return Sample(0, status, latency, path + (" [htmx]" if htmx else ""), body[:4000])

    return probe


def first_stable(samples, since: float, good) -> float | None:
    """When, after `since`, the samples turned good and stayed good."""
    found = None
    for sample in samples:
        if sample.t < since:
            continue
        if good(sample):
            if found is None:
                found = sample.t
        else:
            found = None
    return found


def fault_run(port, lua, requests_file, requests, database, outage: float, args) -> dict:
    dsn = f"postgres://postgres@{HOST}:5432/{database}"
    probe_paths = [p for p in requests if "search" in p[0]][:2] + [
        p for p in requests if "/events/" in p[0]
    ][:3]
    probe_paths += [p for p in requests if "/disputes/" in p[0]][:2]
    pages = Poller(http_probe(port, probe_paths))
    health = Poller(http_probe(port, [("/healthz", False)]))
    truth = Poller(db_probe(dsn))
    before, after = 10.0, 15.0
    t0 = time.monotonic()
    for poller in (pages, health, truth):
        poller.start(t0)
    background = run_wrk(
        port, lua, requests_file, args.fault_connections, int(before + outage + after)
    )
    marks = {}
    try:
        time.sleep(before)
        marks["stop_requested"] = time.monotonic() - t0
        pg_ctl("stop")
        marks["stopped"] = time.monotonic() - t0
        time.sleep(max(0.0, outage - (marks["stopped"] - marks["stop_requested"])))
        marks["start_requested"] = time.monotonic() - t0
        pg_ctl("start")
        marks["started"] = time.monotonic() - t0
    finally:
        ensure_pg_started()
    # When the database answered again, by the independent probe.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready = first_stable(truth.samples, marks["started"] - 2, lambda s: s.status == 200)
        if ready is not None:
            break
        time.sleep(0.1)
    time.sleep(max(0.0, t0 + before + outage + after - time.monotonic()))
    load = wrk_result(background)
    for poller in (pages, health, truth):
        poller.stop()
    return {
        "marks": marks,
        "pages": pages.samples,
        "health": health.samples,
        "truth": truth.samples,
        "load": load,
    }


def analyse_fault(result: dict) -> tuple[list[str], list[str]]:
    """Figures, and the requirements that failed."""
    marks, pages, health, truth = (result[k] for k in ("marks", "pages", "health", "truth"))
    lines, failures = [], []
    down_at = next(
        (s.t for s in truth if s.t >= marks["stop_requested"] and s.status != 200), marks["stopped"]
    )
    up_at = first_stable(truth, marks["start_requested"], lambda s: s.status == 200)
    if up_at is None:
        failures.append("the database probe never saw PostgreSQL answer again")
        up_at = marks["started"]
    lines.append(
        f"PostgreSQL: stop requested at {marks['stop_requested']:.2f}s, down (probe) at "
        f"{down_at:.2f}s, start requested at {marks['start_requested']:.2f}s, answering (probe) at "
        f"{up_at:.2f}s: outage {up_at - down_at:.2f}s"
    )

    during = [s for s in pages if down_at + 0.3 <= s.t <= marks["start_requested"]]
    statuses = _count(s.status for s in during)
    max_latency = max((s.latency for s in during), default=0.0)
    lines.append(
        f"pages during the outage: {len(during)} probes, statuses {statuses}, "
        f"max latency {max_latency * 1000:.0f} ms, median "
        f"{_median([s.latency for s in during]) * 1000:.0f} ms"
    )
    bad = [s for s in during if s.status != 503]
    if bad:
        example = bad[0]
        failures.append(
            f"{len(bad)} of {len(during)} page requests during the outage were not 503 "
            f"(statuses {statuses}); e.g. {example.path} -> {example.status}"
        )
        snippet = re.sub(rb"\s+", b" ", example.body)[:300].decode(errors="replace")
        lines.append(f"  first non-503 answer: {example.path} -> {example.status}: {snippet!r}")
    if max_latency > 2.0:
        failures.append(f"a page took {max_latency:.1f}s to answer during the outage (a hang)")
    site_pages = [s for s in during if s.status == 503]
    if site_pages and not all(b"503" in s.body or b"navailable" in s.body for s in site_pages):
        failures.append("some 503 answers during the outage are not an explanatory page")

    strays = [s for s in pages if s.status not in (200, 503)]
    if strays:
        failures.append(
            f"{len(strays)} page probes got neither 200 nor 503: "
            + ", ".join(f"{s.status} at {s.t:.2f}s ({s.path})" for s in strays[:5])
        )
    recovered = first_stable(pages, up_at, lambda s: s.status == 200)
    recovery = None if recovered is None else max(0.0, recovered - up_at)
    lines.append(
        "pages recovered "
        + ("never" if recovery is None else f"{recovery:.2f}s after the database answered again")
    )
    if recovery is None or recovery > RECOVERY_LIMIT:
        failures.append(
            f"pages did not recover within {RECOVERY_LIMIT:.0f}s of the database's return"
        )

    health_down = [s for s in health if down_at + 0.3 <= s.t <= marks["start_requested"]]
    health_statuses = _count(s.status for s in health_down)
    lies_down = [s for s in health_down if s.status != 503]
    # A poll still in flight when the stop began may rightly see the database go.
    health_up_before = [s for s in health if s.t + s.latency < marks["stop_requested"]]
    lies_before = [s for s in health_up_before if s.status != 200]
    health_recovered = first_stable(health, up_at, lambda s: s.status == 200)
    health_lag = None if health_recovered is None else max(0.0, health_recovered - up_at)
    lines.append(
        f"/healthz: {len(health)} polls; before the outage {len(health_up_before) - len(lies_before)}"
        f"/{len(health_up_before)} said 200; during it statuses {health_statuses}, max latency "
        f"{max((s.latency for s in health_down), default=0) * 1000:.0f} ms; back to 200 "
        + ("never" if health_lag is None else f"{health_lag:.2f}s after the database")
    )
    if lies_before or lies_down:
        failures.append(
            f"/healthz did not tell the truth: {len(lies_before)} non-200 before the outage, "
            f"{len(lies_down)} non-503 during it"
        )
    if health_lag is None or health_lag > RECOVERY_LIMIT:
        failures.append("/healthz did not return to 200 within 5s of the database's return")

    lines.append("timeline (1 s buckets; pages / healthz / database):")
    end = max(s.t for s in truth)
    for second in range(int(end) + 1):
        row = []
        for samples in (pages, health, truth):
            bucket = [s for s in samples if second <= s.t < second + 1]
            row.append(
                " ".join(f"{k}x{v}" for k, v in sorted(_count(s.status for s in bucket).items()))
                or "-"
            )
        lines.append(f"  {second:3d}s  pages {row[0]:<16} healthz {row[1]:<12} db {row[2]}")

    load = result["load"]
    other_5xx = load["s5xx"] - load["s503"]
    lines.append(
        f"background load ({load['requests']} requests): 2xx {load['s2xx']}, 3xx {load['s3xx']}, "
        f"4xx {load['s4xx']}, 503 {load['s503']}, other 5xx {other_5xx}, socket errors "
        f"{socket_errors(load)} (connect {load['connect']}, read {load['read']}, write "
        f"{load['write']}, timeout {load['timeout']}), max latency {load['max_ms']:.0f} ms"
    )
    if other_5xx:
        failures.append(
            f"{other_5xx} answers under load during the fault run were 5xx other than 503"
        )
    if socket_errors(load):
        failures.append(f"{socket_errors(load)} socket errors under load during the fault run")
    return lines, failures


def _count(values) -> dict:
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def _median(values) -> float:
    values = sorted(values)
    return values[len(values) // 2] if values else 0.0


def summarise_log(log_path: Path) -> None:
    """What the server said went wrong: 500s with the exception that caused each."""
    if not log_path.exists():
        return
    lines = log_path.read_text(errors="replace").splitlines()
    errors_500 = [i for i, line in enumerate(lines) if "Internal Server Error:" in line]
    print(f"\nserver log ({log_path}): {len(errors_500)} internal server errors")
    causes: dict[str, int] = {}
    for i in errors_500:
        block = []
        for line in lines[i + 1 : i + 200]:
            if " ERROR " in line or " WARNING " in line:
                break
            block.append(line.strip())
        final = next(
            (line for line in reversed(block) if re.match(r"^[\w.]+(Error|Exception)\b", line)),
            "?",
        )
        causes[final[:200]] = causes.get(final[:200], 0) + 1
    for cause, count in sorted(causes.items(), key=lambda kv: -kv[1]):
        print(f"  {count} x {cause}")


# --- main ----------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--fault-connections", type=int, default=16)
    parser.add_argument("--outage", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--events", type=int, default=300, help="size of the synthetic dispute")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-fault", action="store_true")
    args = parser.parse_args(argv)

    database = f"explorer_load_{os.getpid()}"
    port = free_port()
    env = server_env(database, port, args.workers)
    workdir = Path(tempfile.mkdtemp(prefix="load_faults_"))
    log_path = workdir / "gunicorn.log"
    server = None
    failures: list[str] = []
    admin_sql(f'CREATE DATABASE "{database}"')
    try:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "load_article", "-v0")
        if args.events:
            try:
                manage(env, "shell", code=SYNTHETIC_CODE.format(events=args.events))
            except RuntimeError as exc:
                print(f"(no synthetic dispute: {str(exc).splitlines()[-1]})")
        urls = json.loads(
            re.search(r"^URLS_JSON (.*)$", manage(env, "shell", code=URLS_CODE), re.M).group(1)
        )
        requests = build_requests(urls)
        requests_file = write_lua_requests(requests, workdir)
        lua = workdir / "load_faults.lua"
        lua.write_text(LUA)

        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                ["bin/start"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_healthy(port, server)
        print(
            f"gunicorn: {args.workers} workers on {HOST}:{port}, database {database}; "
            f"{len(requests)} distinct requests ({sum(h for _, h in requests)} htmx fragments, "
            f"{sum('/search/' in p for p, _ in requests)} searches); log {log_path}",
            flush=True,
        )
        timings: dict[str, list[float]] = {}
        for path, htmx in requests:
            status, latency, _ = get(port, path, headers={"HX-Request": "true"} if htmx else None)
            if status != 200:
                failures.append(f"warm-up: {path}{' [htmx]' if htmx else ''} -> {status}")
            kind = path.split("/")[1] or "home"
            timings.setdefault(kind + (" [htmx]" if htmx else ""), []).append(latency)
        print(
            "single-request latency by kind (median / max ms): "
            + ", ".join(
                f"{kind} {_median(v) * 1000:.0f}/{max(v) * 1000:.0f}"
                for kind, v in sorted(timings.items(), key=lambda kv: -_median(kv[1]))
            ),
            flush=True,
        )

        if not args.skip_load:
            print(f"\n== load: {args.connections} connections for {args.duration}s", flush=True)
            load = wrk_result(run_wrk(port, lua, requests_file, args.connections, args.duration))
            print(
                f"requests {load['requests']} in {load['duration_s']:.1f}s = "
                f"{load['requests'] / load['duration_s']:.0f} req/s; 2xx {load['s2xx']}, 3xx "
                f"{load['s3xx']}, 4xx {load['s4xx']}, 5xx {load['s5xx']}; socket errors "
                f"{socket_errors(load)} (connect {load['connect']}, read {load['read']}, write "
                f"{load['write']}, timeout {load['timeout']}); latency p50 {load['p50_ms']:.0f} ms, "
                f"p90 {load['p90_ms']:.0f} ms, p99 {load['p99_ms']:.0f} ms, max {load['max_ms']:.0f} ms",
                flush=True,
            )
            if load["s5xx"]:
                failures.append(f"load: {load['s5xx']} answers were 5xx")
            if socket_errors(load):
                failures.append(f"load: {socket_errors(load)} socket errors")
            if load["s4xx"]:
                failures.append(
                    f"load: {load['s4xx']} answers were 4xx (the request list is wrong)"
                )

        if not args.skip_fault:
            print(
                f"\n== faults: PostgreSQL stopped for {args.outage:.0f}s under "
                f"{args.fault_connections} connections of load",
                flush=True,
            )
            result = fault_run(port, lua, requests_file, requests, database, args.outage, args)
            lines, fault_failures = analyse_fault(result)
            timeline = workdir / "fault_timeline.json"
            timeline.write_text(
                json.dumps(
                    {
                        "marks": result["marks"],
                        **{
                            name: [
                                [round(x.t, 3), x.status, round(x.latency, 4), x.path]
                                for x in result[name]
                            ]
                            for name in ("pages", "health", "truth")
                        },
                    }
                )
            )
            lines.append(f"every sample (t, status, latency, path): {timeline}")
            print("\n".join(lines), flush=True)
            failures += fault_failures
    finally:
        ensure_pg_started()
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        for _ in range(50):
            try:
                admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                break
            except psycopg.OperationalError:
                time.sleep(0.2)
    summarise_log(log_path)
    if failures:
        print("\nFAILED:")
        for failure in failures:
            print(f"  - {failure}")
        return 1
    print("\nOK: every requirement held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
