"""The app as gunicorn serves it in the benchmarks, with the trivial baseline route.

The baseline is a Flask view of the same app (no database, a 2-byte body), so the two are measured
in the same server processes with the same request handling.
"""

from learnhub import create_app

app = create_app()


@app.get("/__bench/trivial")
def trivial():
    return "ok", 200, {"Content-Type": "text/plain"}
