"""A small HTTP load generator on threads and keep-alive connections (127.0.0.1 only)."""

import http.client
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Client:
    """One simulated browser: a keep-alive connection and a cookie jar."""

    def __init__(self, host: str, port: int, stats: Stats):
        self.host, self.port, self.stats = host, port, stats
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.cookies: dict[str, str] = {}

    def close(self) -> None:
        self.conn.close()

    def request(
        self,
        kind: str,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict, bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError, TimeoutError) as exc:
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    self.stats.error(f"{kind}: {exc!r}")
                    return 0, {}, b""
        self.stats.add(kind, time.perf_counter() - started)
        for value in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        if response.status >= 400:
            self.stats.error(f"{kind}: HTTP {response.status} {path}")
        return response.status, dict(response.headers), data

    def get(self, kind: str, path: str):
        return self.request(kind, "GET", path)

    def post_form(self, kind: str, path: str, fields: dict[str, str]):
        return self.request(
            kind,
            "POST",
            path,
            urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def post_json(self, kind: str, path: str, data: dict, token: str):
        return self.request(
            kind,
            "POST",
            path,
            json.dumps(data).encode(),
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-CSRFToken": token,
            },
        )


def hammer(
    host: str,
    port: int,
    path: str,
    total: int,
    concurrency: int,
    stats: Stats,
    kind: str,
    cookies: dict[str, str] | None = None,
) -> float:
    """GET *path* *total* times from *concurrency* threads; returns requests per second."""
    per_thread = total // concurrency

    def run():
        client = Client(host, port, stats)
        client.cookies.update(cookies or {})
        for _ in range(per_thread):
            client.get(kind, path)
        client.close()

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per_thread * concurrency / (time.perf_counter() - started)
