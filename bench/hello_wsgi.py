"""The bare baseline: a Flask hello app, nothing of LearnHub (no session, no database, no hooks),
served by the same gunicorn options as the app (bench/load.py start_server)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello", 200, {"Content-Type": "text/plain"}
