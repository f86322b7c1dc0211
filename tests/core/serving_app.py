"""A WSGI app for tests/core/test_serving.py: a request that holds its thread until the test
lets it go, and an answer save that returns at once. Not LearnHub: it shows what the worker
class does with the threads, whatever the app does in them."""

import gc
import os
import time
from pathlib import Path

#: The folder the test shares with the server: a file "started-N" per held request that began,
#: and "release", which the test creates to let them finish.
SIGNALS = Path(os.environ.get("SERVING_TEST_DIR", "."))


def app(environ, start_response):
    if environ["PATH_INFO"] == "/frozen":
        body = str(gc.get_freeze_count()).encode()
    elif environ["PATH_INFO"] == "/hold":
        (SIGNALS / f"started-{time.monotonic_ns()}").touch()
        deadline = time.monotonic() + 120
        while not (SIGNALS / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.01)  # bounded: the test creates the file, or 120 s pass
        body = b"released"
    else:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        body = environ["REQUEST_METHOD"].encode() + b" " + environ["PATH_INFO"].encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
