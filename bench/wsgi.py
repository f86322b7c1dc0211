"""The app as gunicorn serves it in the benchmarks, plus the trivial baseline route.

The baseline (no database, a tiny response) runs in the same server processes as LearnHub, so
the two are measured under the same conditions.
"""

from learnhub import create_app

learnhub_app = create_app()


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/__bench/trivial":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    return learnhub_app(environ, start_response)
