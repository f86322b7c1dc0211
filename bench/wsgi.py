"""The app as gunicorn serves it in the benchmarks, plus one bench-only route.

`/__bench/signed-in` is the signed-in no-op baseline: the whole request handling of a signed-in
page (session cookie, user row by primary key, session checks, CSRF set-up) and no view work. It
exists only in this WSGI module, never in the app that `create_app()` builds for production or
the tests, so it has no entry in the access matrices.
"""

from flask_login import login_required

from learnhub import create_app

app = create_app()


@app.get("/__bench/signed-in")
@login_required
def signed_in_noop():
    return "ok", 200, {"Content-Type": "text/plain"}
