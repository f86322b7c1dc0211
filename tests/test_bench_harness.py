"""The benchmark harness counts what it says it counts (issue 18, honest benchmarks): the bench-only
route stays out of the app, wrk's errors are read, and the exam's client never retries."""

import asyncio
import concurrent.futures

from bench import b1_quiz_burst as b1
from bench import load
from bench.load import AsyncBrowser, Tally, WrkResult, parse_wrk, quiet, run_wrk

WRK_OUT = """Running 10s test @ http://127.0.0.1:8000/attempts/1/items/1
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    70.00ms   10.00ms 500.00ms   90.00%
  Latency Distribution
     50%   65.20ms
     75%   80.00ms
     90%   95.00ms
     99%    1.20s
  7001 requests in 10.01s, 1.50MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:    699.40
Transfer/sec:    150.00KB
BENCH {"bad": 4, "sample": "HTTP 409 saved:false"}
"""


def test_bench_noop_route_is_not_in_the_app(app):
    assert not [r.rule for r in app.url_map.iter_rules() if "__bench" in r.rule]


def test_wrk_report_counts_refused_responses_and_socket_errors():
    result = parse_wrk("save", WRK_OUT, server_cpu=7.0, load=(1.0, 0.5, 0.2))
    assert (result.requests, result.rps, result.non_2xx) == (7001, 699.40, 4)
    assert (result.p50_ms, result.p99_ms) == (65.2, 1200.0)
    assert result.errors == 4 + 5
    assert round(result.server_cpu_ms, 3) == round(7000 / 7001, 3)


def test_async_client_counts_a_timed_out_post_once_and_never_retries():
    async def scenario():
        connections = 0

        async def silent(reader, writer):
            nonlocal connections
            connections += 1
            await reader.read()  # never answers; returns when the client hangs up
            writer.close()
            await writer.wait_closed()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        tally = Tally()
        got = await AsyncBrowser(port, tally, timeout=0.3).post_json("save", "/x", {}, "t")
        await asyncio.sleep(0.1)  # the handler sees the client hang up and closes its side
        server.close()
        await server.wait_closed()
        return got, tally, connections

    # In a thread of its own: the browser tests' Playwright keeps an event loop running in this
    # one for the session, and asyncio.run() refuses to start inside a running loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        got, tally, connections = pool.submit(asyncio.run, scenario()).result()
    assert got is None
    assert connections == 1
    assert tally.errors == ["save: client timeout after 0 s"]
    assert "save" not in tally.latencies


def test_wrk_waits_for_a_quiet_machine_and_gives_up_at_its_timeout():
    """A wrk run starts only after a second with the machine mostly idle (the exam before it
    leaves the cores busy), and never waits past the timeout."""
    seconds = iter([0.30, 0.62, 0.95, 0.99])
    _waited, share = quiet(threshold=0.9, timeout=60, sample=lambda: next(seconds))
    assert share == 0.95
    assert next(seconds) == 0.99  # it stopped sampling at the first quiet second

    busy = []
    _waited, share = quiet(threshold=0.9, timeout=0, sample=lambda: busy.append(1) or 0.2)
    assert (len(busy), share) == (1, 0.2)


def test_wrk_warms_the_server_up_first_and_counts_its_errors_but_not_its_time(monkeypatch):
    """Each measured wrk run follows the same load for WARMUP_SECONDS (the workers' first
    requests compile templates and fill caches): the figures are the measured run's alone, and
    an error of the warm-up is still an error."""
    warm_out = WRK_OUT.replace('"bad": 4', '"bad": 2').replace("7001 requests", "900 requests")
    clean_out = WRK_OUT.replace('"bad": 4', '"bad": 0').replace(
        "Socket errors: connect 0, read 2, write 0, timeout 3\n", ""
    )
    runs, cpu = [], iter([10.0, 17.0])
    monkeypatch.setattr(load, "quiet", lambda: (0.0, 1.0))
    monkeypatch.setattr(load, "cpu_seconds", lambda pid: next(cpu))

    def fake_wrk(port, path, script, env, threads, connections, seconds):
        runs.append((path, script, env, connections, seconds))
        return warm_out if len(runs) == 1 else clean_out

    monkeypatch.setattr(load, "_wrk", fake_wrk)
    result = run_wrk(
        "lesson", 1, 8000, "/m/x", "get.lua", {"A": "1"}, connections=50, seconds=10,
        session=lambda: {"BENCH_COOKIE": "session=s"}, warmup=3,
    )  # fmt: skip
    env = {"A": "1", "BENCH_COOKIE": "session=s"}
    assert runs == [("/m/x", "get.lua", env, 50, 3), ("/m/x", "get.lua", env, 50, 10)]
    assert (result.requests, result.bad, result.socket_errors) == (7001, 0, 0)
    assert round(result.server_cpu_ms, 3) == round(7000 / 7001, 3)  # the measured run's CPU
    assert result.warmup_errors == 2 + 5
    assert result.errors == 7

    runs.clear()
    cpu = iter([10.0, 17.0])
    assert run_wrk("hello", 1, 8000, "/", "get.lua", seconds=10, warmup=0).errors == 2 + 5
    assert len(runs) == 1  # no warm-up asked: the one run is the measured one


def _wrk_run(name: str, rps: float, errors: int = 0) -> WrkResult:
    return WrkResult(
        name=name, requests=int(rps * 10), seconds=10.0, rps=rps, p50_ms=5.0, p99_ms=20.0,
        bad=errors, socket_errors=0, non_2xx=0, bad_sample="", server_cpu_ms=1.0,
        load=(1.0, 1.0, 1.0),
    )  # fmt: skip


def test_b1_judges_each_target_by_the_median_round_against_the_faster_neighbouring_hello():
    """B1's throughput runs in rounds (hello, then each target; one more hello after the last
    round): a round's ratio is against the faster of the hellos either side of it, and the
    verdict is the median round's, so neither one slow hello nor one lucky run decides it."""
    figures = [  # hello, save, lesson
        (8000, 2100, 2100),
        (7000, 1980, 1800),
        (7600, 1700, 1850),
    ]
    w = {
        "rounds": [
            {
                "hello": _wrk_run("hello", hello),
                "signed_in": _wrk_run("signed_in", 2500),
                "save": _wrk_run("save", save),
                "attempt": _wrk_run("attempt", 1300),
                "lesson": _wrk_run("lesson", lesson),
            }
            for hello, save, lesson in figures
        ],
        "hello_last": _wrk_run("hello_last", 6800),
        "attempt_bytes": 17_000,
    }
    # Round 1 against 8,000 (its own hello), round 2 against round 3's 7,600, round 3 against
    # its own 7,600 (the last hello, 6,800, is slower).
    assert b1.round_ratios(w, "save") == [2100 / 8000, 1980 / 7600, 1700 / 7600]
    assert b1.target_met(w, "save")  # median 0.2605 ≥ 0.25, though round 3 missed
    assert b1.round_ratios(w, "lesson") == [2100 / 8000, 1800 / 7600, 1850 / 7600]
    assert not b1.target_met(w, "lesson")  # median 0.2434: one round above is not enough
    assert b1.median_run(w, "lesson").rps == 1850
    table = b1._wrk_table(w)
    save_row = next(line for line in table.splitlines() if line.startswith("| Answer save"))
    lesson_row = next(line for line in table.splitlines() if line.startswith("| Lesson page"))
    assert "**0.261** (2 of 3 rounds met)" in save_row
    assert "| met |" in save_row
    assert "**0.243** (1 of 3 rounds met)" in lesson_row
    assert "**not met**" in lesson_row
    assert "2,100 / 1,800 / 1,850" in lesson_row
    # An error in any round's run is an error of B1.
    assert b1.correct({"backends": {}, "wrk": w})
    w["rounds"][2]["lesson"] = _wrk_run("lesson", 1850, errors=1)
    assert not b1.correct({"backends": {}, "wrk": w})


def test_the_growth_workloads_burst_runs_on_top_of_the_seeded_data(monkeypatch):
    """The growth run measures B1, then B5, B2 and B3 on each size's seeded database: B1's
    burst must not empty it first (it did: the later workloads then ran on B1's data alone),
    while B1's own PostgreSQL run still starts from an empty database."""
    calls = []
    monkeypatch.setattr(b1, "_reset_pg", lambda url: calls.append(("reset", url)))
    monkeypatch.setattr(b1, "prepare", lambda env, learners: calls.append("prepare") or {})
    monkeypatch.setattr(b1, "stop_server", lambda server: None)
    monkeypatch.setattr(b1, "free_port", lambda: 1)
    monkeypatch.setattr(b1, "ramp", lambda pid, port, n: {})
    monkeypatch.setattr(b1, "exam", lambda env, pid, port, ready: {})

    class Server:
        pid = 1

    monkeypatch.setattr(b1, "start_server", lambda env, port: Server())
    url = "postgresql://bench@127.0.0.1/seeded"
    b1._backend(url, on_data=True)
    assert calls == ["prepare"]
    calls.clear()
    b1._backend(url)
    assert calls == [("reset", url), "prepare"]
