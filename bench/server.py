"""Server under load: 100 concurrent clients log in, then loop over reads, against uvicorn
on PostgreSQL over loopback; beside a bare FastAPI endpoint served the same way, with the
same generator and uvicorn options, in the same run (the floor of uvicorn + FastAPI on this
machine).

Logins go through httpx. The read loops use a lean generator, because on a 2-CPU machine an
httpx client with 100 connections eats most of a CPU that the server then lacks: `raw`
(default) is one keep-alive asyncio stream per client, a few microseconds of Python per
request; `wrk` (Debian's package) runs the same requests from C. Each phase prints the CPUs
busy in the generator, the server, PostgreSQL and the whole machine (the rest is whatever
else runs on it), so a run shows whether the generator was the bottleneck.

Prints p50/p99 latency, throughput and errors for logins, reads and the bare endpoint, and
the reads' p99 as a multiple of the bare endpoint's.
Goal: reads p99 ≤ 250 ms, no errors. Logins are reported apart: each is one Argon2id
verification at production cost, CPU-bound by design.

Run: `.venv/bin/python bench/server.py [--clients 100] [--seconds 10] [--workers 2]
[--generator raw|wrk] [--uvicorn "--loop uvloop"] [--profile DIR]` (ZCTUI_TEST_PG_URL
overrides the database; --profile writes py-spy's collapsed stacks of each worker).
Exit 1 when the goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from stdnum.cn import ric

from zctui.server import admin
from zctui.server.db import make_engine, migrate
from zctui.server.models import Account, Application
from zctui.server.security import Security
from zctui.server.settings import ServerSettings

PG = os.environ.get("ZCTUI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "Bench#2024pw"
BARE = (
    "from fastapi import FastAPI\n"
    "app = FastAPI()\n"
    "@app.get('/ping')\n"
    "def ping() -> dict[str, bool]:\n"
    "    return {'ok': True}\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _birth_id(n: int) -> str:
    body = f"1309021985{1 + n // 28 % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # it wants a placeholder check digit


def seed(url: str, clients: int) -> list[str]:
    engine = make_engine(url)
    migrate(engine)
    sec = Security(ServerSettings(db_url=url))
    ids = []
    with Session(engine, expire_on_commit=False) as db:
        admin.create_unit(db, name="沧州市职改办", kind="office", city="沧州市")
        unit = admin.create_unit(db, name="沧州市人民医院", parent="沧州市职改办")
        hashed = sec.hash(PASSWORD)  # one production-cost hash, shared: seeding stays quick
        for n in range(clients):
            ident = _birth_id(n)
            acc = Account(id_number=ident, name=f"申报人{n}", role="applicant", unit_id=unit.id,
                          password_hash=hashed, must_change=False, default_set_at=None)  # fmt: skip
            db.add(acc)
            db.flush()
            from zctui.server.content import person_for

            pid = person_for(db, ident, acc.name)
            db.add(Application(person_id=pid, owner_id=acc.id, unit_id=unit.id, year=2025,
                               unit_name=unit.name, city=unit.city))  # fmt: skip
            ids.append(ident)
        db.commit()
    engine.dispose()
    return ids


def start(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", *args, "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--no-proxy-headers", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server did not start: {proc.stderr.read().decode() if proc.stderr else ''}")


class Stats:
    def __init__(self) -> None:
        self.ms: list[float] = []
        self.errors = 0

    def line(self, name: str, seconds: float) -> str:
        if len(self.ms) < 2:
            return f"{name:<8} n={len(self.ms)}, errors {self.errors}"
        q = statistics.quantiles(self.ms, n=100)
        return (
            f"{name:<8} n={len(self.ms):>6}  p50 {q[49]:7.1f} ms  p99 {q[98]:7.1f} ms  "
            f"{len(self.ms) / seconds:8.0f} req/s  errors {self.errors}"
        )


def _p99(stats: Stats) -> float:
    return statistics.quantiles(stats.ms, n=100)[98] if len(stats.ms) > 1 else float("inf")


# ---------------------------------------------------------------- CPU, from /proc (Linux)
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _processes() -> list[tuple[int, int, str]]:
    """(pid, ppid, command name) of every process."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                head, tail = (entry / "stat").read_text().rsplit(")", 1)
            except OSError:
                continue
            out.append((int(entry.name), int(tail.split()[1]), head.split("(", 1)[1]))
    return out


def _tree(root: int, procs: list[tuple[int, int, str]]) -> set[int]:
    pids, grew = {root}, True
    while grew:
        more = {pid for pid, ppid, _ in procs if ppid in pids} - pids
        grew = bool(more)
        pids |= more
    return pids


def cpu_seconds(server: int) -> dict[str, float]:
    """CPU seconds so far of this process and its children (the load generator), the server
    process tree, every PostgreSQL process, and the whole machine (busy, all CPUs)."""
    procs = _processes()
    mine = _tree(os.getpid(), procs) - _tree(server, procs)
    pg = {pid for pid, _, name in procs if name.startswith("postgres")}
    stat = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = sum(int(v) for v in stat) - int(stat[3]) - int(stat[4])  # less idle, iowait
    return {
        "generator": sum(_ticks(p) for p in mine) / _TICK,
        "server": sum(_ticks(p) for p in _tree(server, procs)) / _TICK,
        "postgres": sum(_ticks(p) for p in pg) / _TICK,
        "machine": busy / _TICK,
    }


def cpu_line(
    before: dict[str, float], after: dict[str, float], seconds: float, requests: int
) -> str:
    """The CPUs each party kept busy, and the server's CPU per request: on a shared machine
    the latencies follow whatever else runs, this much less."""
    used = {k: (after[k] - before[k]) / seconds for k in before}
    cpus = os.cpu_count() or 1
    per = used["server"] * seconds / max(requests, 1) * 1000
    return (
        f"         CPUs busy: generator {used['generator']:.2f}, server {used['server']:.2f}, "
        f"PostgreSQL {used['postgres']:.2f}; machine {used['machine']:.2f} of {cpus}; "
        f"server CPU {per:.2f} ms/request"
    )


# ---------------------------------------------------------------- the load generators
async def _answer(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (uvicorn always sends Content-Length): its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    at = head.lower().find(b"\r\ncontent-length:")
    if at < 0:
        raise ValueError("no Content-Length")
    length = int(head[at + 17 : head.index(b"\r\n", at + 2)])
    await reader.readexactly(length)
    return status


async def raw_loop(port: int, requests: list[bytes], until: float, stats: Stats) -> None:
    """One keep-alive connection sending `requests` round and round: a few microseconds of
    Python per request, where httpx spends a millisecond and steals the server's CPU."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        n = 0
        while time.monotonic() < until:
            start = time.perf_counter()
            writer.write(requests[n % len(requests)])
            n += 1
            try:
                status = await _answer(reader)
            except (OSError, ValueError, asyncio.IncompleteReadError):
                stats.errors += 1
                return
            stats.ms.append((time.perf_counter() - start) * 1000)
            if status >= 400:
                stats.errors += 1
    finally:
        writer.close()


def _get(path: str, token: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n".encode()


def read_plan(token: str, app_id: str) -> list[bytes]:
    """One client's loop: who am I, my application, the announcements."""
    return [_get("/auth/me", token), _get(f"/applications/{app_id}", token),
            _get("/public/announcements")]  # fmt: skip


async def run_raw(port: int, plans: list[list[bytes]], seconds: float, stats: Stats) -> None:
    until = time.monotonic() + seconds
    await asyncio.gather(*(raw_loop(port, plan, until, stats) for plan in plans))


WRK_SCRIPT = """
local plans, n = {}, 0
function init(args)
  for line in io.lines(args[1]) do
    local path, token = line:match("([^\\t]*)\\t?(.*)")
    local headers = {}
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    table.insert(plans, wrk.format("GET", path, headers))
  end
end
function request()
  n = n + 1
  return plans[(n - 1) % #plans + 1]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d\\n", summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50),
    latency:percentile(99)))
end
"""


def run_wrk(
    port: int, plans: list[list[bytes]], clients: int, seconds: float
) -> tuple[int, int, float, float]:
    """wrk (C, one thread) with the same requests; its own percentiles, in ms."""
    tmp = Path(tempfile.mkdtemp(prefix="zctui-wrk-"))
    (tmp / "plan.lua").write_text(WRK_SCRIPT)
    lines = []
    for plan in plans:
        for raw in plan:
            head = raw.decode().split("\r\n")
            token = next((h.split()[-1] for h in head if h.startswith("Authorization")), "")
            lines.append(f"{head[0].split()[1]}\t{token}")
    (tmp / "plan.txt").write_text("\n".join(lines) + "\n")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "30s",
         "-s", str(tmp / "plan.lua"), f"http://127.0.0.1:{port}", "--", str(tmp / "plan.txt")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    n, errors, p50, p99 = next(ln for ln in out.splitlines() if ln.startswith("WRK ")).split()[1:]
    return int(n), int(errors), int(p50) / 1000, int(p99) / 1000


def profile(server: int, out: Path | None, seconds: float) -> list[subprocess.Popen[bytes]]:
    """py-spy (not a dependency: pip install it) on each worker, collapsed stacks into out/."""
    if out is None:
        return []
    out.mkdir(parents=True, exist_ok=True)
    workers = sorted(_tree(server, _processes()) - {server})
    return [
        subprocess.Popen(
            [
                "py-spy",
                "record",
                "-p",
                str(pid),
                "-d",
                str(int(seconds) - 1),
                "-r",
                "200",
                "-f",
                "raw",
                "--nonblocking",
                "--gil",  # only what holds the GIL: where the CPU goes
                "-o",
                str(out / f"worker-{pid}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in workers
    ]


async def log_in(base: str, ident: str, logins: Stats, go: asyncio.Barrier) -> list[bytes]:
    """Log in (timed), find my application: my read loop, or [] when that failed."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        start = time.perf_counter()
        try:
            r = await c.post("/auth/login", json={"id_number": ident, "password": PASSWORD})
        except httpx.HTTPError:
            r = None
        if r is None or r.status_code != 200:
            logins.errors += 1
            await go.wait()
            return []
        logins.ms.append((time.perf_counter() - start) * 1000)
        token = r.json()["token"]
        # Before waiting: a connection idle past uvicorn's keep-alive (5 s) may be closed
        # just as it is reused.
        mine = await c.get("/applications", headers={"Authorization": f"Bearer {token}"})
        await go.wait()
        return read_plan(token, mine.json()[0]["id"])


async def log_in_all(base: str, ids: list[str], logins: Stats) -> list[list[bytes]]:
    go = asyncio.Barrier(len(ids))
    plans = await asyncio.gather(*(log_in(base, i, logins, go) for i in ids))
    return [p for p in plans if p]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--generator", choices=("raw", "wrk"), default="raw")
    p.add_argument("--uvicorn", default="", help="more uvicorn options, for both servers")
    p.add_argument("--profile", type=Path, help="py-spy the app's workers during the reads")
    a = p.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin_engine = create_engine(PG)
    with admin_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG}?options=-csearch_path%3D{schema}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ids = seed(url, a.clients)
        env = {**os.environ, "ZCTUI_SERVER_DB_URL": url, "ZCTUI_SERVER_SECRET": "bench"}
        opts = ["--workers", str(a.workers), *a.uvicorn.split()]
        app_port, bare_port = free_port(), free_port()
        procs.append(start(["--factory", "zctui.server.app:create_app", *opts], env, app_port))
        bare_dir = Path(tempfile.mkdtemp(prefix="zctui-bare-"))
        (bare_dir / "bare_app.py").write_text(BARE)
        procs.append(start(["--app-dir", str(bare_dir), "bare_app:app", *opts], env, bare_port))
        logins, reads, bare = Stats(), Stats(), Stats()
        t = time.monotonic()
        plans = asyncio.run(log_in_all(f"http://127.0.0.1:{app_port}", ids, logins))
        login_seconds = time.monotonic() - t
        lines = [f"{a.clients} clients, {a.seconds:.0f} s each, uvicorn {' '.join(opts)}, "
                 f"PostgreSQL over loopback, generator {a.generator}",
                 f"{logins.line('login', login_seconds)} (all {a.clients} in "
                 f"{login_seconds:.1f} s, httpx)"]  # fmt: skip
        bare_plans = [[_get("/ping")] for _ in plans]
        figures = []
        for name, port, plan, stats in (
            ("reads", app_port, plans, reads),
            ("bare", bare_port, bare_plans, bare),
        ):
            before = cpu_seconds(procs[0 if port == app_port else 1].pid)
            spies = profile(procs[0].pid, a.profile, a.seconds) if port == app_port else []
            if a.generator == "wrk":
                n, errors, p50, p99 = run_wrk(port, plan, len(plan), a.seconds)
                done = n
                stats.errors = errors
                lines.append(f"{name:<8} n={n:>6}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
                             f"{n / a.seconds:8.0f} req/s  errors {errors}")  # fmt: skip
            else:
                asyncio.run(run_raw(port, plan, a.seconds, stats))
                p99 = _p99(stats)
                done = len(stats.ms)
                lines.append(stats.line(name, a.seconds))
            figures.append(p99)
            after = cpu_seconds(procs[0 if port == app_port else 1].pid)
            for spy in spies:
                spy.wait(30)
            lines.append(cpu_line(before, after, a.seconds, done))
        print("\n".join(lines))
        print(f"reads p99 / bare p99: {figures[0] / figures[1]:.2f}")
        ok = figures[0] <= 250 and reads.errors == 0 and logins.errors == 0
        print("goal (reads p99 ≤ 250 ms, no errors):", "met" if ok else "MISSED")
        return 0 if ok else 1
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        with admin_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin_engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
