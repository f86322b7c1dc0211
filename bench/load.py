"""What the benchmarks measure with: gunicorn as docs/deploy.md runs it, `wrk` (a C client) for
throughput, a thread-light asyncio HTTP client for the exam, and /proc readings of the server.

Nothing here retries a request: a failed or timed-out request is an error, counted once.
"""

import asyncio
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = Path(__file__).resolve().parent / "wrk"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
#: docs/deploy.md, section 5: `gunicorn --worker-class learnhub.serving.AnswersFirstWorker
#: --workers 4 --threads 8 … --access-logfile -` with LEARNHUB_DATABASE_POOL_SIZE=8 on
#: PostgreSQL; `--threads 3` and a pool of 3 on SQLite (more threads share a worker's
#: interpreter lock with its answer threads; on SQLite the thread that holds the one write lock
#: waits for that interpreter lock too, so every extra thread lengthens every writer's turn).
WORKERS = 4
#: BENCH_WORKER_CLASS=gthread runs gunicorn's own threaded worker instead, for an A/B.
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "learnhub.serving.AnswersFirstWorker")
THREADS = {"postgresql": 8, "sqlite": 3}


def threads_for(env: dict[str, str]) -> int:
    """The deployed threads per worker for the database *env* names."""
    url = env.get("LEARNHUB_DATABASE_URL", "")
    return THREADS["postgresql" if url.startswith("postgresql") else "sqlite"]


USER_AGENT = "learnhub-bench"
TICK = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    env: dict[str, str],
    port: int,
    workers: int = WORKERS,
    threads: int | None = None,
    app: str = "bench.wsgi:app",
) -> subprocess.Popen:
    """gunicorn with docs/deploy.md's options (its worker class, an access log on stdout, which
    goes to /dev/null here instead of the journal), on 127.0.0.1:*port*; *threads* by default
    as deployed for the database, and a connection pool as large as the threads."""
    threads = threads or threads_for(env)
    env = {"LEARNHUB_DATABASE_POOL_SIZE": str(threads), **env}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "--worker-class",
            WORKER_CLASS,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "-",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            app,
        ],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("gunicorn did not start")
    # Every worker has loaded the app once the master has its children.
    while len(_children(proc.pid)) < workers and time.time() < deadline:
        time.sleep(0.2)
    return proc


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def server_pids(pid: int) -> list[int]:
    """The gunicorn master and its workers."""
    return [pid, *_children(pid)]


def cpu_seconds(pid: int) -> float:
    """utime + stime of the master and its current workers, from /proc/<pid>/stat."""
    total = 0
    for p in server_pids(pid):
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / TICK


class ServerMemory:
    """Samples the resident memory of the server (master + workers) every *interval* seconds in a
    thread: the peak of their sum and of one worker, in MiB."""

    def __init__(self, pid: int, interval: float = 0.5):
        self.pid, self.interval = pid, interval
        self.peak_total = self.peak_worker = self.start_total = 0.0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss(pid: int) -> float:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return 0.0
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        return int(found[1]) / 1024 if found else 0.0

    def sample(self) -> float:
        workers = [self._rss(pid) for pid in _children(self.pid)]
        total = self._rss(self.pid) + sum(workers)
        self.peak_total = max(self.peak_total, total)
        self.peak_worker = max([self.peak_worker, *workers])
        return total

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.sample()

    def start(self) -> None:
        self.start_total = self.sample()
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.sample()


# --- wrk --------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    name: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    #: Responses the script did not accept (any status but the expected one, or a save that
    #: was not acknowledged), and wrk's own socket errors (connect, read, write, timeout).
    bad: int
    socket_errors: int
    non_2xx: int
    bad_sample: str
    server_cpu_ms: float  # server CPU (master + workers) per request
    load: tuple[float, float, float]  # os.getloadavg() at the end of the run
    #: The machine's idle share (both cores) in the second before wrk started, and the seconds
    #: waited for it (see quiet()).
    idle_before: float = 1.0
    waited: float = 0.0
    #: Errors of the warm-up run before it (run_wrk's *warmup*): not in its figures, but errors.
    warmup_errors: int = 0

    @property
    def errors(self) -> int:
        return self.bad + self.socket_errors + self.warmup_errors


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _ms(text: str) -> float:
    value = re.match(r"([\d.]+)(us|ms|s)", text)
    n = float(value[1])
    return {"us": n / 1000, "ms": n, "s": n * 1000}[value[2]]


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all cores, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)  # idle + iowait


def idle_share(seconds: float = 1.0) -> float:
    """The share of the machine's CPU time (all cores) that was idle over the next *seconds*."""
    idle, total = _cpu_times()
    time.sleep(seconds)
    idle2, total2 = _cpu_times()
    return (idle2 - idle) / max(total2 - total, 1)


#: The idle share a second must show before a wrk run starts, and how long to wait for it.
QUIET = 0.9
QUIET_TIMEOUT = 120.0


def quiet(
    threshold: float = QUIET, timeout: float = QUIET_TIMEOUT, sample=idle_share
) -> tuple[float, float]:
    """Wait until the machine is idle (a second with at least *threshold* of its CPU time idle,
    not the load average, which lags a minute behind), at most *timeout* seconds: a throughput
    run right after the exam otherwise shares the cores with what the exam left running.
    Returns (seconds waited, the last second's idle share); *sample* measures one second."""
    started = time.perf_counter()
    while True:
        share = sample()
        waited = time.perf_counter() - started
        if share >= threshold or waited >= timeout:
            return waited, share


#: Seconds of the same load before each measured wrk run, not counted: a gunicorn worker's
#: first requests compile templates and fill the app's per-process caches (the kept pages, the
#: lesson HTML, the question forms), which a server that has been up a minute has done.
#: Measured with wrk, 5 s runs on SQLite: the lesson page cost 0.90-0.96 ms of the server's
#: user CPU a request from cold workers and 0.82-0.83 ms after 2 s of the same load.
WARMUP_SECONDS = int(os.environ.get("BENCH_WRK_WARMUP_SECONDS", "3"))


def run_wrk(
    name: str,
    server_pid: int,
    port: int,
    path: str,
    script: str,
    env: dict[str, str] | None = None,
    threads: int = 2,
    connections: int = 50,
    seconds: int = 10,
    session: Callable[[], dict[str, str]] | None = None,
    warmup: int = WARMUP_SECONDS,
) -> WrkResult:
    """`wrk -t2 -c50 -d10s --latency -s bench/wrk/<script>` against 127.0.0.1:*port* *path*,
    once the machine is quiet, with the server's CPU read from /proc before and after.
    *session*, when given, is called once the machine is quiet, just before wrk starts: the
    variables of a session signed in then (wrk sends one cookie and never takes a new one, and
    the app rewrites a session's cookie once a minute). The same load runs *warmup* seconds
    first, its time and CPU not counted and its errors counted (WARMUP_SECONDS)."""
    waited, idle = quiet()
    if session is not None:
        env = {**(env or {}), **session()}
    warm = None
    if warmup:
        warm = _wrk(port, path, script, env, threads, connections, warmup)
        waited, idle = quiet()
    cpu_before = cpu_seconds(server_pid)
    out = _wrk(port, path, script, env, threads, connections, seconds)
    cpu = cpu_seconds(server_pid) - cpu_before
    result = parse_wrk(name, out, cpu, os.getloadavg())
    result.idle_before, result.waited = idle, waited
    if warm is not None:
        result.warmup_errors = parse_wrk(name, warm, 0.0, (0.0, 0.0, 0.0)).errors
    return result


def _wrk(
    port: int,
    path: str,
    script: str,
    env: dict[str, str] | None,
    threads: int,
    connections: int,
    seconds: int,
) -> str:
    """One wrk run; its report."""
    return subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(WRK_DIR / script),
            f"http://127.0.0.1:{port}{path}",
        ],
        env={**os.environ, **(env or {})},
        cwd=WRK_DIR,  # the scripts require("common") from there
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def parse_wrk(
    name: str, out: str, server_cpu: float, load: tuple[float, float, float]
) -> WrkResult:
    """wrk's report (with --latency) and the script's "BENCH {json}" line."""
    found = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    requests = int(found[1])
    elapsed = float(found[2]) * (1 if found[3] == "s" else 0.001)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bench = json.loads(re.search(r"^BENCH (.*)$", out, re.M)[1])
    return WrkResult(
        name=name,
        requests=requests,
        seconds=elapsed,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        p50_ms=_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M)[1]),
        p99_ms=_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M)[1]),
        bad=bench["bad"],
        socket_errors=sum(int(x) for x in sockets.groups()) if sockets else 0,
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        bad_sample=bench["sample"],
        server_cpu_ms=server_cpu * 1000 / max(requests, 1),
        load=load,
    )


# --- a blocking client, for set-up (one signed-in learner) -------------------------------------


class Client:
    """One browser for set-up steps: a connection per request, a cookie jar, no retry."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = {"User-Agent": USER_AGENT, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, data

    def get(self, path: str):
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict[str, str]):
        body = urlencode(fields).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def sign_in(self, login: str, password: str) -> None:
        status, _h, body = self.get("/login")
        token = CSRF.search(body.decode())[1]
        status, _h, _b = self.post_form(
            "/login", {"login": login, "password": password, "csrf_token": token}
        )
        if status != 302:
            raise RuntimeError(f"sign-in of {login}: HTTP {status}")

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


# --- a thread-light asyncio client, for the exam and the sign-in ramp --------------------------


@dataclass
class Tally:
    """Every request of a run: latencies per kind, and every error (never retried)."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def error(self, message: str) -> None:
        self.errors.append(message)


class AsyncBrowser:
    """One learner: a new connection per request (gunicorn closes idle keep-alive connections
    after 2 s, and a human pauses longer), the session cookie kept from Set-Cookie."""

    def __init__(self, port: int, tally: Tally, timeout: float):
        self.port, self.tally, self.timeout = port, tally, timeout
        self.cookies: dict[str, str] = {}

    async def request(
        self,
        kind: str,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes] | None:
        """The response, or None after counting an error (timeout, connection, HTTP 5xx)."""
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"User-Agent: {USER_AGENT}"]
        lines += ["Connection: close", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        started = time.perf_counter()
        try:
            data = await asyncio.wait_for(self._exchange(raw), self.timeout)
        except TimeoutError:
            self.tally.error(f"{kind}: client timeout after {self.timeout:.0f} s")
            return None
        except OSError as exc:
            self.tally.error(f"{kind}: {exc!r}")
            return None
        self.tally.latencies.setdefault(kind, []).append(time.perf_counter() - started)
        head, _, content = data.partition(b"\r\n\r\n")
        if not head:
            self.tally.error(f"{kind}: empty response")
            return None
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        self.tally.statuses[status] = self.tally.statuses.get(status, 0) + 1
        headers = {}
        for line in header_lines:
            key, _, value = line.partition(":")
            key, value = key.strip().lower(), value.strip()
            if key == "set-cookie":
                jar = SimpleCookie()
                jar.load(value)
                for name, morsel in jar.items():
                    self.cookies[name] = morsel.value
            else:
                headers[key] = value
        return status, headers, content

    async def _exchange(self, raw: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(raw)
            await writer.drain()
            return await reader.read()  # until the server closes (Connection: close)
        finally:
            writer.close()

    async def post_form(self, kind: str, path: str, fields: dict[str, str]):
        body = urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return await self.request(kind, "POST", path, body, headers)

    async def post_json(self, kind: str, path: str, data: dict, token: str):
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-CSRFToken": token,
        }
        return await self.request(kind, "POST", path, json.dumps(data).encode(), headers)
