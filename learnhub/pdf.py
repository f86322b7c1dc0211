"""PDF rendering: the one home of WeasyPrint in LearnHub (certificates, sign-in sheets, registers).

Templates get plain, autoescaped values; the URL fetcher lets WeasyPrint load bundled static files
and data: URIs only, never the network or the file system at large.

A render has a hard time limit (``PDF_TIMEOUT`` seconds) that holds on any thread: the app
process renders the template to HTML, and WeasyPrint runs in a render process, one per app
process, started on first use and kept warm (its FontConfiguration serves every render). A render
that runs past the limit is stopped by killing that process (the next render starts a new one)
and reported as RenderTimeout; a signal alarm would only work on the main thread, and gunicorn's
threaded workers answer requests on other threads.

A bulk run (issuing a class's certificates) renders with a RenderPool instead: N render processes
of its own (``PDF_WORKERS``, by default one per core), each driven by one thread of the pool, so N
renders run side by side while the app process prepares the next HTML and writes the database.
The pool stops its processes when it closes (no orphan survives it, also after a failure).
"""

import atexit
import base64
import binascii
import ctypes.util
import gc
import logging
import os
import queue
import re
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache, lru_cache
from multiprocessing.connection import Connection
from pathlib import Path

from flask import current_app, render_template

STATIC = Path(__file__).resolve().parent / "static"
#: The folder holding the learnhub package (the render process imports it from there).
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)

#: Fonts a certificate needs (Times New Roman's metric twin, with Vietnamese), by file name.
FONTS = {"Liberation Serif": {"LiberationSerif-Regular.ttf"}}
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")


_RENDER_LOCK = threading.Lock()


class FetchRefused(ValueError):
    pass


class RenderTimeout(RuntimeError):
    """The render ran past PDF_TIMEOUT and was stopped."""


class RenderFailed(RuntimeError):
    """The render process failed (WeasyPrint raised, or the process died)."""


def _data_uri(url: str) -> tuple[str, bytes] | None:
    """The media type and bytes of a base64 data: URI as our templates write them (plain
    base64, no spaces or %-escapes); None for any other form."""
    head, comma, payload = url.partition(",")
    if not comma or not head.endswith(";base64"):
        return None
    try:
        data = base64.b64decode(payload, validate=True)
    except binascii.Error:
        return None
    return head.removeprefix("data:").removesuffix(";base64") or "text/plain", data


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeFetcher(URLFetcher):
        """Only data: URIs and files bundled in learnhub/static/ (by their file:// path)."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                # Our own images (a certificate's QR code, seal and signature) are decoded
                # here: through urllib a QR code's 4 KB URI was quoted, parsed and decoded
                # again, about a millisecond of every certificate's render.
                found = _data_uri(url)
                if found is not None:
                    return URLFetcherResponse(url, found[1], {"Content-Type": found[0]})
                return super().fetch(url, headers)
            if url.startswith("file://"):
                path = Path(url.removeprefix("file://").split("?")[0]).resolve()
                if path.is_relative_to(STATIC) and path.is_file():
                    return super().fetch(url, headers)
            log.warning("PDF render refused to fetch %s", url[:200])
            raise FetchRefused(url[:200])

    return SafeFetcher


def url_fetcher():
    """A new fetcher (they keep per-request state, so one per render)."""
    return _fetcher_class()(timeout=5, allowed_protocols=("data", "file"))


@cache
def _fonts():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def environment_problems() -> list[str]:
    """What is missing for correct, fast PDFs: the fonts and HarfBuzz's subsetter."""
    problems = []
    if ctypes.util.find_library("harfbuzz-subset") is None:
        problems.append(
            "libharfbuzz-subset0 is missing: WeasyPrint embeds whole fonts and renders about 5x "
            "slower (apt-get install libharfbuzz-subset0)"
        )
    installed = {path.name for root in FONT_DIRS if root.is_dir() for path in root.rglob("*.ttf")}
    for family, files in FONTS.items():
        if not files & installed:
            problems.append(
                f"font {family!r} is missing: certificates would fall back to another font "
                "(apt-get install fonts-liberation2)"
            )
    return problems


@cache
def check_environment() -> tuple[str, ...]:
    """Log every problem loudly (at start-up, once per process); returns them."""
    problems = environment_problems()
    for problem in problems:
        log.warning("PDF RENDERING DEGRADED: %s", problem)
    return tuple(problems)


#: Seconds a new render process may take to start (import WeasyPrint); not part of a render.
START_TIMEOUT = 60


class _CapturedLogs(logging.Handler):
    """Warnings logged during a render in the render process, sent back to the app's log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()[:2000]))


#: A document's own style sheets: plain <style> elements (our templates write no other kind).
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


@lru_cache(maxsize=32)
def _parsed_css(text: str):
    """A <style> element's CSS, parsed once per render process (the same few sheets serve
    every certificate: parsing them again cost about a tenth of a render)."""
    from weasyprint import CSS

    base = STATIC.as_uri() + "/"
    return CSS(string=text, base_url=base, url_fetcher=url_fetcher(), font_config=_fonts())


def _html_and_css(html: str) -> tuple[str, list]:
    """The HTML without its <style> elements, and their CSS parsed (cached). WeasyPrint takes
    them as user style sheets: the cascade is the same, since our templates put no other author
    style sheet beside them and no !important in them (style="" attributes still win)."""
    sheets = [_parsed_css(text) for text in _STYLE.findall(html)]
    return _STYLE.sub("", html), sheets


#: Entries of a render process's image cache past which it is emptied (between two renders).
IMAGE_CACHE_ENTRIES = 64


def _serve(connection: "_Pipe") -> None:
    """The render process: HTML in, PDF bytes out, until the app process goes away."""
    from weasyprint import HTML

    _fonts()
    # WeasyPrint's image cache, kept across renders: the issuer's seal and signature are
    # decoded once. Every QR code is a new image, so it is emptied when it grows.
    images: dict = {}
    connection.send(("ready", b"", []))
    root = logging.getLogger()
    frozen = False
    while True:
        try:
            html = connection.recv()
        except (EOFError, OSError):
            return
        if len(images) > IMAGE_CACHE_ENTRIES:
            images.clear()
        captured = _CapturedLogs()
        root.addHandler(captured)
        try:
            html, sheets = _html_and_css(html)
            document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=url_fetcher())
            data = document.write_pdf(stylesheets=sheets, font_config=_fonts(), cache=images)
            reply = ("ok", data, captured.records)
        except Exception as exc:  # reported to the app process, which raises RenderFailed
            reply = ("error", f"{type(exc).__name__}: {exc}"[:2000], captured.records)
        finally:
            root.removeHandler(captured)
        connection.send(reply)
        if not frozen:
            # What the first render left alive (WeasyPrint's and fontconfig's caches, the parsed
            # style sheets) lives as long as this process: move it out of the collector's
            # reach, so that a full collection no longer walks it.
            gc.collect()
            gc.freeze()
            frozen = True


def _child_main(read_fd: int, write_fd: int) -> None:
    """Entry point of the render process (`python -c`, see _RenderProcess)."""
    _serve(_Pipe(Connection(read_fd, writable=False), Connection(write_fd, readable=False)))


class _Pipe:
    """Two one-way connections used as one."""

    def __init__(self, incoming: Connection, outgoing: Connection) -> None:
        self.incoming, self.outgoing = incoming, outgoing

    def send(self, value) -> None:
        self.outgoing.send(value)

    def recv(self):
        return self.incoming.recv()

    def poll(self, timeout: float | None) -> bool:
        return self.incoming.poll(timeout)

    def close(self) -> None:
        self.incoming.close()
        self.outgoing.close()


class _RenderProcess:
    """One warm render process and the pipes to it (used under _RENDER_LOCK only).

    A plain subprocess (not multiprocessing): nothing of the app process is forked (it has
    gunicorn's threads and their locks) and its __main__ is never re-imported.
    """

    def __init__(self) -> None:
        self.owner = os.getpid()
        child_reads, parent_writes = os.pipe()
        parent_reads, child_writes = os.pipe()
        env = dict(os.environ)
        paths = [str(PACKAGE_ROOT), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
        code = f"from learnhub.pdf import _child_main; _child_main({child_reads}, {child_writes})"
        try:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and code)
                [sys.executable, "-c", code], pass_fds=(child_reads, child_writes), env=env
            )
        finally:
            os.close(child_reads)
            os.close(child_writes)
        self.connection = _Pipe(
            Connection(parent_reads, writable=False), Connection(parent_writes, readable=False)
        )
        if not self.connection.poll(START_TIMEOUT):
            self.stop()
            raise RenderFailed(f"the PDF render process did not start in {START_TIMEOUT} s")
        self._receive()

    def _receive(self) -> tuple[str, bytes | str, list]:
        try:
            return self.connection.recv()
        except (EOFError, OSError) as exc:
            self.stop()
            raise RenderFailed("the PDF render process died") from exc

    def render(self, html: str, seconds: float) -> bytes:
        try:
            self.connection.send(html)
        except OSError as exc:
            self.stop()
            raise RenderFailed("the PDF render process died") from exc
        if not self.connection.poll(seconds if seconds > 0 else None):
            self.stop()
            raise RenderTimeout(f"PDF render took longer than {seconds:g} s (stopped)")
        status, payload, records = self._receive()
        for name, level, message in records:
            logging.getLogger(name).log(level, "%s", message)
        if status != "ok":
            raise RenderFailed(str(payload))
        return bytes(payload)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait(5)
        self.connection.close()


_process: _RenderProcess | None = None


def _render_process() -> _RenderProcess:
    """The warm render process, started if there is none (call under _RENDER_LOCK)."""
    global _process
    if _process is not None and _process.owner != os.getpid():
        _process = None  # inherited through a fork: the parent's, never ours to use or stop
    if _process is None or not _process.alive:
        _process = _RenderProcess()
    return _process


def _shutdown() -> None:
    """Stop this process's render process (at exit)."""
    global _process
    if _process is not None and _process.owner == os.getpid():
        _process.stop()
    _process = None


atexit.register(_shutdown)


def html_of(template: str, **context) -> str:
    """The HTML a PDF is rendered from: a Jinja template, autoescaped (in the app process)."""
    return render_template(template, **context)


def timeout() -> float:
    return float(current_app.config.get("PDF_TIMEOUT", 30))


def workers() -> int:
    """Render processes of a bulk run: PDF_WORKERS, or one per core when it is not set."""
    value = current_app.config.get("PDF_WORKERS")
    return max(1, int(value)) if value not in (None, "") else max(1, os.cpu_count() or 1)


def render(template: str, **context) -> bytes:
    """Render a Jinja template (autoescaped) to PDF bytes, within PDF_TIMEOUT seconds.

    Raises RenderTimeout when the render was stopped at its limit, RenderFailed when it failed.
    """
    return render_html(html_of(template, **context))


def render_html(html: str) -> bytes:
    """render() of HTML already made by html_of(), in this app process's warm render process."""
    seconds = timeout()
    # One render at a time per app process: it has one render process. Nothing else is ever
    # locked while this lock is held.
    with _RENDER_LOCK:
        process = _render_process()
        try:
            return process.render(html, seconds)
        finally:
            if not process.alive:
                _forget(process)


def _forget(process: _RenderProcess) -> None:
    global _process
    if _process is process:
        _process = None


class RenderPool:
    """*size* render processes of their own, for a bulk run: submit(html) returns a Future of
    the PDF bytes (or of RenderTimeout / RenderFailed), and up to *size* renders run at once.

    Use it as a context manager: closing it waits for the renders under way (each bounded by
    *seconds*) and stops every process it started. A process that timed out or died is replaced
    by the next render that needs one.
    """

    def __init__(self, size: int, seconds: float) -> None:
        self.size, self.seconds = max(1, size), seconds
        self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="pdf-render")
        self._idle: queue.SimpleQueue[_RenderProcess] = queue.SimpleQueue()
        self._started: list[_RenderProcess] = []
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> "RenderPool":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def submit(self, html: str) -> "Future[bytes]":
        with self._lock:
            if self._closed:
                raise RenderFailed("the PDF render pool is closed")
        return self._executor.submit(self._render, html)

    def _render(self, html: str) -> bytes:
        try:
            process = self._idle.get_nowait()
        except queue.Empty:
            process = self._start()
        if not process.alive:
            process = self._start()
        try:
            return process.render(html, self.seconds)
        finally:
            if process.alive:
                self._idle.put(process)

    def _start(self) -> _RenderProcess:
        with self._lock:
            if self._closed:
                raise RenderFailed("the PDF render pool is closed")
        process = _RenderProcess()
        with self._lock:
            self._started.append(process)
            closed = self._closed
        if closed:  # closed while this one started: it must not outlive the pool
            process.stop()
            raise RenderFailed("the PDF render pool is closed")
        return process

    @property
    def pids(self) -> list[int]:
        """The process ids this pool started (for tests and the bench)."""
        with self._lock:
            return [p.process.pid for p in self._started]

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            started, self._started = self._started, []
        for process in started:
            try:
                process.stop()
            except (OSError, subprocess.TimeoutExpired):
                log.warning("PDF render process %s did not stop cleanly", process.process.pid)
