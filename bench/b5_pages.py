"""B5: the weight of a page. Every lesson page of the shipped modules and each module's real quiz
attempt page, loaded by headless Chromium from gunicorn on 127.0.0.1, directly and behind nginx
configured as docs/deploy.md says; every response is recorded with its encoded size.

Target (shared/quality/performance.md): ≤ 50 KB transferred for HTML + CSS + JS, lesson images
aside, usable with JavaScript off. No baseline: the target is a size. KB here is 1,024 bytes.
"""

import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import textwrap
import time
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from alembic import command
from sqlalchemy import func, select

from bench.b1_quiz_burst import free_port, start_server
from learnhub import create_app, db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role
from learnhub.audit.services import SYSTEM
from learnhub.catalog.models import Module
from learnhub.cli import alembic_config
from learnhub.config import ROOT
from learnhub.content.sync import sync_content
from learnhub.orgunits import services as units
from learnhub.quizzes.models import Attempt, AttemptItem, Quiz

TARGET = 50 * 1024
LOGIN = "b5-learner"
PASSWORD = "bench b5 learner passphrase"
CHROMIUM = Path("/usr/bin/chromium")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# As in tests/browser/conftest.py: keep Chromium off the network, let it run as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
#: Resource kinds that count towards the target; images are lesson images, counted aside.
COUNTED = ("document", "stylesheet", "script", "font")
KINDS = (*COUNTED, "image", "other")
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")

#: docs/deploy.md section 6 (without TLS, on loopback: its gzip_types and gzip_comp_level) inside
#: the http block of Debian 12's /etc/nginx/nginx.conf, whose only compression setting is
#: `gzip on;`.
NGINX_CONF = """worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
{user}
events {{ worker_connections 256; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    gzip on;

    upstream learnhub_app {{
        server 127.0.0.1:{upstream};
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 20m;
        gzip_types text/css text/javascript application/javascript application/json;
        gzip_comp_level 5;
        location / {{
            proxy_pass http://learnhub_app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


# -- set-up --------------------------------------------------------------------------------------


def prepare(env: dict[str, str]) -> list[dict]:
    """A fresh database with the shipped content and one learner; the modules and their lessons."""
    os.environ.update(env)
    app = create_app()
    with app.app_context():
        command.upgrade(alembic_config(), "head")
        list(sync_content(SYSTEM, ROOT / "content", Path(env["LEARNHUB_STORAGE_DIR"])))
        accounts.create_user(
            SYSTEM,
            full_name="Nguyễn Thị Hồng Nhung",
            login=LOGIN,
            password=PASSWORD,
            roles=[accounts.Grant(Role.learner)],
            unit=units.by_code("CM-SNV"),
        )
        db.session.commit()
        modules = []
        for module in db.session.scalars(select(Module).order_by(Module.slug)):
            version = module.published_version
            quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == module.id))
            if version is None:
                continue
            modules.append(
                {
                    "slug": module.slug,
                    "lessons": [lesson.slug for lesson in version.lessons],
                    "quiz_id": quiz.id if quiz else None,
                }
            )
        db.session.remove()
    app.extensions["learnhub.engine"].dispose()
    return modules


def start_nginx(tmp: Path, upstream: int) -> tuple[subprocess.Popen | None, int, str]:
    """nginx in front of gunicorn as docs/deploy.md sets it up, or None with the reason."""
    if not Path(NGINX).exists():
        return None, 0, "nginx is not installed (apt-get install nginx)"
    folder = tmp / "nginx"
    folder.mkdir()
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(tmp=folder, user=user, upstream=upstream, port=port), encoding="utf-8"
    )
    proc = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            return None, 0, f"nginx did not start: {proc.stderr.read().decode()[-300:]}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port, ""
        except OSError:
            time.sleep(0.2)
    proc.kill()
    return None, 0, "nginx did not open its port in 20 s"


# -- measuring -----------------------------------------------------------------------------------


def _kind(resource_type: str) -> str:
    if resource_type in ("document", "stylesheet", "script", "font", "image"):
        return resource_type
    return "image" if resource_type == "media" else "other"


def _gzip(body: bytes, level: int) -> int:
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: a gzip stream, as nginx sends
    return len(packer.compress(body) + packer.flush())


def _response(request) -> dict:
    from playwright.sync_api import Error

    response = request.response()
    sizes = request.sizes()
    status = response.status if response else 0
    content_type = response.headers.get("content-type", "") if response else ""
    body = b""
    if response is not None and status == 200:
        try:
            body = response.body()
        except Error:
            body = b""
    text = content_type.startswith(TEXT_TYPES)
    return {
        "kind": _kind(request.resource_type),
        "method": request.method,
        "path": urlsplit(request.url).path,
        "status": status,
        "type": content_type.split(";")[0],
        "headers": max(sizes["responseHeadersSize"], 0),
        "body": max(sizes["responseBodySize"], 0),
        "decoded": len(body),
        "encoding": response.headers.get("content-encoding", "") if response else "",
        "cache": response.headers.get("cache-control", "") if response else "",
        "sent": max(sizes["requestHeadersSize"], 0) + max(sizes["requestBodySize"], 0),
        "gzip1": _gzip(body, 1) if body and text else len(body),
        "gzip6": _gzip(body, 6) if body and text else len(body),
        "html": body.decode("utf-8", "replace") if request.resource_type == "document" else "",
    }


def _visit(page, action, failures: list[str]) -> list[dict]:
    """Every response of what *action* makes the page load, once the network is quiet."""
    finished, failed = [], []

    def on_finished(request) -> None:
        finished.append(request)

    def on_failed(request) -> None:
        failed.append(request)

    page.on("requestfinished", on_finished)
    page.on("requestfailed", on_failed)
    try:
        action()
        page.wait_for_load_state("load")
        page.wait_for_load_state("networkidle")
    finally:
        page.remove_listener("requestfinished", on_finished)
        page.remove_listener("requestfailed", on_failed)
    failures.extend(f"{r.method} {r.url}: {r.failure}" for r in failed)
    responses = [_response(r) for r in finished]
    failures.extend(
        f"{r['method']} {r['path']}: HTTP {r['status']}" for r in responses if r["status"] >= 400
    )
    return responses


def totals(responses: list[dict]) -> dict:
    """Bytes received per kind (headers + encoded body), the counted total, and estimates."""
    by_kind = dict.fromkeys(KINDS, 0)
    for r in responses:
        by_kind[r["kind"]] += r["headers"] + r["body"]
    counted = [r for r in responses if r["kind"] in COUNTED]
    # What the same responses would weigh if every text response were gzipped at level 6
    # (gzip_types covering CSS and JS, gzip_comp_level 6): headers as measured.
    gzip_all = sum(
        r["headers"] + (r["gzip6"] if r["status"] == 200 and not r["encoding"] else r["body"])
        for r in counted
    )
    return {
        "kinds": by_kind,
        "counted": sum(by_kind[k] for k in COUNTED),
        "requests": len(responses),
        "sent": sum(r["sent"] for r in responses),
        "gzip_all": gzip_all,
    }


def anatomy(html: str) -> dict:
    """Where the bytes of a page's HTML go."""
    data = html.encode()
    main = re.search(r"<main\b.*?</main>", html, re.S)
    inner = main.group(0) if main else ""
    csrf = re.findall(r'<input type="hidden" name="csrf_token" value="[^"]*">', inner)
    texts = re.findall(r">([^<]*)<", inner)
    text = sum(len(t.strip().encode()) for t in texts)
    space = sum(len(t.encode()) - len(t.strip().encode()) for t in texts)
    article = re.search(r'<article class="lesson">.*?</article>', inner, re.S)
    return {
        "total": len(data),
        "layout": len(data) - len(inner.encode()),
        "csrf": sum(len(c.encode()) for c in csrf),
        "csrf_count": len(csrf),
        "text": text,
        "whitespace": space,
        "markup": len(inner.encode()) - text - space - sum(len(c.encode()) for c in csrf),
        "questions": inner.count('class="card question"'),
        "article": len(article.group(0).encode()) if article else 0,
    }


def _sign_in(browser, base: str) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập hoặc email").fill(LOGIN)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/dashboard")
    state = context.storage_state()
    context.close()
    return state


def _start_attempts(browser, base: str, state: dict, modules: list[dict]) -> None:
    context = browser.new_context(storage_state=state)
    page = context.new_page()
    for module in modules:
        if module["quiz_id"] is None:
            module["attempt"] = None
            continue
        page.goto(f"{base}/quizzes/{module['quiz_id']}")
        page.get_by_role("button", name="Bắt đầu làm bài").click()
        page.wait_for_url("**/attempts/*")
        module["attempt"] = urlsplit(page.url).path
    context.close()


def measure_page(browser, base: str, state: dict, path: str, failures: list[str]) -> dict:
    """A first visit with an empty cache, then a second visit of the same page (warm)."""
    context = browser.new_context(
        storage_state=state, viewport={"width": 360, "height": 740}, locale="vi-VN"
    )
    page = context.new_page()
    try:
        cold = _visit(page, lambda: page.goto(base + path), failures)
        warm = _visit(page, lambda: page.goto(base + path), failures)
    finally:
        context.close()
    return {"path": path, "cold": cold, "warm": warm}


def measure_no_js(browser, base: str, state: dict, path: str, failures: list[str]) -> dict:
    """The page with JavaScript off, then one answer saved with the question's own button."""
    context = browser.new_context(
        storage_state=state,
        java_script_enabled=False,
        viewport={"width": 360, "height": 740},
        locale="vi-VN",
    )
    page = context.new_page()
    try:
        cold = _visit(page, lambda: page.goto(base + path), failures)
        save = []
        radio = page.locator("form.question input[type=radio]").first
        if radio.count():
            position = radio.evaluate("e => e.form.dataset.position")
            radio.check()
            form = page.locator(f"#q{position}")
            save = _visit(page, lambda: form.get_by_role("button", name="Lưu").click(), failures)
            if not page.locator(f"#q{position} input[type=radio]").first.is_checked():
                failures.append(f"JavaScript off: the answer to question {position} was not kept")
    finally:
        context.close()
    return {"path": path, "cold": cold, "save": save}


def measure_server(browser, label: str, base: str, state: dict, modules: list[dict]) -> dict:
    failures: list[str] = []
    lessons, quizzes = [], []
    for module in modules:
        for slug in module["lessons"]:
            path = f"/modules/{module['slug']}/lessons/{slug}"
            lessons.append(measure_page(browser, base, state, path, failures))
        if module.get("attempt"):
            result = measure_page(browser, base, state, module["attempt"], failures)
            result["module"] = module["slug"]
            quizzes.append(result)
    for p in lessons + quizzes:
        p["cold_totals"], p["warm_totals"] = totals(p["cold"]), totals(p["warm"])
        document = next((r for r in p["cold"] if r["kind"] == "document"), None)
        p["anatomy"] = anatomy(document["html"]) if document else {}
    heaviest_quiz = max(quizzes, key=lambda p: p["cold_totals"]["counted"])
    heaviest_lesson = max(lessons, key=lambda p: p["cold_totals"]["counted"])
    no_js = {
        "quiz": measure_no_js(browser, base, state, heaviest_quiz["path"], failures),
        "lesson": measure_no_js(browser, base, state, heaviest_lesson["path"], failures),
    }
    for p in no_js.values():
        p["cold_totals"], p["save_totals"] = totals(p["cold"]), totals(p["save"])
    for p in lessons + quizzes + list(no_js.values()):
        for r in p["cold"] + p.get("warm", []) + p.get("save", []):
            r.pop("html", None)  # measured; not kept in the result
    return {
        "label": label,
        "lessons": lessons,
        "quizzes": quizzes,
        "no_js": no_js,
        "failures": failures,
    }


def _stored_items(env: dict[str, str]) -> dict[str, int]:
    """Items per attempt path, as stored (to check that the pages showed every question)."""
    os.environ.update(env)
    app = create_app()
    with app.app_context():
        rows = db.session.execute(
            select(Attempt.id, func.count(AttemptItem.id))
            .join(AttemptItem, AttemptItem.attempt_id == Attempt.id)
            .group_by(Attempt.id)
        ).all()
        db.session.remove()
    app.extensions["learnhub.engine"].dispose()
    return {f"/attempts/{attempt_id}": count for attempt_id, count in rows}


def run() -> dict:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise RuntimeError("Chromium is not installed (apt-get install chromium)")
    tmp = Path(tempfile.mkdtemp(prefix="learnhub-b5-"))
    env = {
        "LEARNHUB_ENV": "development",
        "LEARNHUB_SECRET_KEY": secrets.token_hex(32),
        "LEARNHUB_DATABASE_URL": f"sqlite:///{tmp / 'b5.sqlite'}",
        "LEARNHUB_STORAGE_DIR": str(tmp / "storage"),
    }
    servers = []
    try:
        modules = prepare(env)
        port = free_port()
        gunicorn = start_server(env, port, 1, 4)
        nginx, nginx_port, nginx_note = start_nginx(tmp, port)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                direct = f"http://127.0.0.1:{port}"
                state = _sign_in(browser, direct)
                _start_attempts(browser, direct, state, modules)
                servers.append(measure_server(browser, "gunicorn", direct, state, modules))
                if nginx is not None:
                    proxied = f"http://127.0.0.1:{nginx_port}"
                    servers.append(measure_server(browser, "nginx", proxied, state, modules))
                chromium_version = browser.version
                browser.close()
        finally:
            if nginx is not None:
                nginx.terminate()
                nginx.wait(timeout=30)
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        stored = _stored_items(env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for server in servers:
        for quiz in server["quizzes"]:
            quiz["stored_items"] = stored.get(quiz["path"], 0)
    return {
        "servers": servers,
        "nginx_note": nginx_note,
        "chromium": chromium_version,
        "static": {
            name: (ROOT / "learnhub" / "static" / name).stat().st_size
            for name in ("css/app.css", "js/quiz.js")
        },
    }


def correct(r: dict) -> bool:
    """Every page and resource answered without error, every quiz page showed every question of
    its attempt, and the JavaScript-off save kept its answer (sizes are the target, not this)."""
    return bool(r["servers"]) and all(
        not s["failures"]
        and s["quizzes"]
        and all(q["anatomy"].get("questions") == q["stored_items"] > 0 for q in s["quizzes"])
        and all(p["anatomy"].get("article") for p in s["lessons"])
        for s in r["servers"]
    )


# -- the section ---------------------------------------------------------------------------------


def _kb(n: float) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{n / 1024:.1f} KB"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _server(r: dict, label: str) -> dict | None:
    return next((s for s in r["servers"] if s["label"] == label), None)


def _short(path: str) -> str:
    return path.rsplit("/", 1)[-1] if "/lessons/" in path else path


def _cell(t: dict) -> str:
    k = t["kinds"]
    return (
        f"{_kb(t['counted'])} (HTML {_kb(k['document'])}, CSS {_kb(k['stylesheet'])}, "
        f"JS {_kb(k['script'])})"
    )


def _summary_table(r: dict) -> str:
    direct, proxied = _server(r, "gunicorn"), _server(r, "nginx")
    lines = [
        "| Page | Served by | First visit (cold cache): HTML + CSS + JS | Second visit (warm) "
        "| Requests cold / warm | Lesson images | ≤ 50 KB |",
        "|---|---|---|---|---|---|---|",
    ]
    for server in (direct, proxied):
        if server is None:
            continue
        pages = [
            (f"Quiz attempt, `{q['module']}` ({q['anatomy']['questions']} questions)", q)
            for q in server["quizzes"]
        ]
        heaviest = max(server["lessons"], key=lambda p: p["cold_totals"]["counted"])
        pages.append((f"Heaviest lesson, `{_short(heaviest['path'])}`", heaviest))
        for title, p in pages:
            cold, warm = p["cold_totals"], p["warm_totals"]
            lines.append(
                f"| {title} | {server['label']} | {_cell(cold)} | {_cell(warm)} "
                f"| {cold['requests']} / {warm['requests']} | {_kb(cold['kinds']['image'])} "
                f"| {_verdict(cold['counted'] <= TARGET)} |"
            )
        cold_all = [p["cold_totals"]["counted"] for p in server["lessons"]]
        lines.append(
            f"| All {len(cold_all)} lesson pages | {server['label']} | min {_kb(min(cold_all))}, "
            f"median {_kb(statistics.median(cold_all))}, max {_kb(max(cold_all))} "
            f"| max {_kb(max(p['warm_totals']['counted'] for p in server['lessons']))} "
            f"| | {_kb(sum(p['cold_totals']['kinds']['image'] for p in server['lessons']))} "
            f"| {_verdict(max(cold_all) <= TARGET)} |"
        )
    return "\n".join(lines)


def _resource_table(page: dict, other: dict | None) -> str:
    """Each response of one page's first visit, direct; with nginx's figure beside it."""
    lines = [
        "| Response | Status | Headers + body (gunicorn) | Content-Encoding | Cache-Control "
        "| nginx (docs/deploy.md) | gzip -1 / -6 of the body |",
        "|---|---|---|---|---|---|---|",
    ]
    proxied = {(x["kind"], x["path"]): x for x in (other or {}).get("cold", [])}
    for x in sorted(page["cold"], key=lambda x: KINDS.index(x["kind"])):
        behind = proxied.get((x["kind"], x["path"]))
        via = f"{x_total(behind):,} B ({behind['encoding'] or 'identity'})" if behind else "not run"
        lines.append(
            f"| {x['kind']} `{x['path']}` | {x['status']} "
            f"| {x['headers']:,} + {x['body']:,} = {x_total(x):,} B "
            f"| {x['encoding'] or 'none'} | `{x['cache'] or '-'}` | {via} "
            f"| {x['gzip1']:,} / {x['gzip6']:,} B |"
        )
    return "\n".join(lines)


def x_total(x: dict) -> int:
    return x["headers"] + x["body"]


def _anatomy_table(direct: dict) -> str:
    lines = [
        "| Page | HTML | Layout (head, header, footer) | Text (questions, choices, lesson) "
        "| CSRF inputs | Other markup | Whitespace |",
        "|---|---|---|---|---|---|---|",
    ]
    heaviest = max(direct["lessons"], key=lambda p: p["cold_totals"]["counted"])
    rows = [(f"Quiz `{q['module']}`", q["anatomy"]) for q in direct["quizzes"]]
    rows.append((f"Lesson `{_short(heaviest['path'])}`", heaviest["anatomy"]))
    for title, a in rows:
        lines.append(
            f"| {title} | {a['total']:,} B | {a['layout']:,} B | {a['text']:,} B "
            f"| {a['csrf']:,} B ({a['csrf_count']}) | {a['markup']:,} B | {a['whitespace']:,} B |"
        )
    return "\n".join(lines)


def _no_js_lines(server: dict) -> list[str]:
    q, lesson = server["no_js"]["quiz"], server["no_js"]["lesson"]
    questions = next(x for x in server["quizzes"] if x["path"] == q["path"])["anatomy"]["questions"]
    save = q["save_totals"]
    scripts = sum(1 for x in q["cold"] if x["kind"] == "script")
    return [
        f"{server['label']}: the quiz page {_kb(q['cold_totals']['counted'])} cold "
        f"({q['cold_totals']['requests']} requests, {scripts} script fetched), the lesson "
        f"{_kb(lesson['cold_totals']['counted'])}; saving one answer with its **Lưu** button "
        f"(POST, redirect, the page again) {_kb(save['counted'] + save['sent'])} both ways "
        f"({save['requests']} requests): answering all {questions} questions that way moves "
        f"about {_kb(questions * (save['counted'] + save['sent']))}."
    ]


def section(r: dict) -> str:
    direct, proxied = _server(r, "gunicorn"), _server(r, "nginx")
    css, js = r["static"]["css/app.css"], r["static"]["js/quiz.js"]
    intro = (
        f"A fresh SQLite database with the shipped content (`content/`, {len(direct['lessons'])} "
        f"lessons in {len(direct['quizzes'])} modules) and one learner. gunicorn (1 worker, 4 "
        f"threads) serves the app on 127.0.0.1; nginx "
        + (
            "runs in front of it with docs/deploy.md's site (`location /`, `gzip_types "
            "text/css text/javascript application/javascript application/json`, "
            "`gzip_comp_level 5`; HTTP, no TLS) "
            "inside the http block of Debian 12's nginx.conf (`gzip on`)"
            if proxied
            else f"was not run ({r['nginx_note']})"
        )
        + f". Headless Chromium {r['chromium']} (Playwright, Debian's /usr/bin/chromium, a "
        f"360×740 phone viewport) signs in, starts each module's quiz, then loads every lesson "
        f"page and each quiz attempt page (the module's real quiz: every question of its bank) "
        f"in a new browser context: the first visit with an empty cache, then the same page "
        f"again (warm). Every response is recorded with Playwright's `request.sizes()`: "
        f"response headers + body as received (encoded). Counted: document, stylesheets, "
        f"scripts and fonts; images are the lesson images (aside); request bytes are not "
        f"counted. The gzip columns compress the decoded body with zlib (gzip stream) at the "
        f"level given. Static files on disk: app.css {css:,} B, quiz.js {js:,} B."
    )
    worst_direct = max(p["cold_totals"]["counted"] for p in direct["lessons"] + direct["quizzes"])
    worst_proxied = (
        max(p["cold_totals"]["counted"] for p in proxied["lessons"] + proxied["quizzes"])
        if proxied
        else 0
    )
    quiz = max(direct["quizzes"], key=lambda p: p["cold_totals"]["counted"])
    lesson = max(direct["lessons"], key=lambda p: p["cold_totals"]["counted"])
    proxied_quiz = (
        next(p for p in proxied["quizzes"] if p["path"] == quiz["path"]) if proxied else None
    )
    proxied_lesson = (
        next(p for p in proxied["lessons"] if p["path"] == lesson["path"]) if proxied else None
    )
    over = [
        f"`{q['module']}` {_kb(q['cold_totals']['counted'])}"
        for q in direct["quizzes"]
        if q["cold_totals"]["counted"] > TARGET
    ]
    status = [
        f"Behind nginx as docs/deploy.md sets it up (the production path): heaviest page "
        f"{_kb(worst_proxied)} on the first visit, {_verdict(worst_proxied <= TARGET)}."
        if proxied
        else "nginx not run.",
        f"From gunicorn directly (no compression): heaviest page {_kb(worst_direct)}, "
        f"{_verdict(worst_direct <= TARGET)}"
        + (f" (over 50 KB: {', '.join(over)})." if over else "."),
        f"If every text response were gzipped at level 6 (CSS and JS too), the heaviest quiz "
        f"page would be {_kb(quiz['cold_totals']['gzip_all'])} cold.",
        "JavaScript off: every page loads and works (tests/browser/test_no_javascript.py walks "
        "the journey); figures below.",
    ]
    failures = [f for s in r["servers"] for f in s["failures"]]
    cache = next((x["cache"] for x in quiz["cold"] if x["kind"] == "stylesheet"), "")
    parts = [
        "## B5: page weight\n",
        textwrap.fill(intro, 100, break_on_hyphens=False) + "\n",
        _summary_table(r) + "\n",
        textwrap.fill(
            "Target: ≤ 50 KB (51,200 B) transferred for HTML + CSS + JS on the first visit, "
            "lesson images aside, usable with JavaScript off.",
            100,
        )
        + "\n",
        "\n".join(
            textwrap.fill(s, 100, initial_indent="- ", subsequent_indent="  ") for s in status
        )
        + "\n",
        f"### Each response of the heaviest quiz page, first visit (`{quiz['module']}`)\n\n"
        + _resource_table(quiz, proxied_quiz)
        + "\n",
        f"### Each response of the heaviest lesson page, first visit "
        f"(`{_short(lesson['path'])}`)\n\n" + _resource_table(lesson, proxied_lesson) + "\n",
        "### Where the bytes of the HTML go (uncompressed)\n\n" + _anatomy_table(direct) + "\n",
        "### JavaScript off\n\n"
        + "\n".join(
            textwrap.fill(line, 100, initial_indent="- ", subsequent_indent="  ")
            for s in r["servers"]
            for line in _no_js_lines(s)
        )
        + "\n",
        _analysis(r, quiz, proxied_quiz, cache),
    ]
    if failures:
        parts.append("### Failures\n\n" + "\n".join(f"- `{f}`" for f in failures[:20]) + "\n")
    return "\n".join(parts)


def _analysis(r: dict, quiz: dict, proxied_quiz: dict | None, cache: str) -> str:
    a = quiz["anatomy"]
    n = a["questions"]
    per_question = (a["total"] - a["layout"] - a["text"]) / max(n, 1)
    cold = quiz["cold_totals"]["kinds"]
    static = [x for x in quiz["cold"] if x["kind"] in ("stylesheet", "script")]
    static_gzip = sum(x["headers"] + x["gzip6"] for x in static)
    direct_over = [
        q for q in _server(r, "gunicorn")["quizzes"] if q["cold_totals"]["counted"] > TARGET
    ]
    bullets = [
        f"**The quiz page is the heavy one, and its weight is its questions.** The shipped "
        f"quizzes put every question of the bank into each attempt (`per_category = 0`), "
        f"{', '.join(str(q['anatomy']['questions']) for q in _server(r, 'gunicorn')['quizzes'])} "
        f"questions. On the heaviest, the question text itself is {_kb(a['text'])}; the rest "
        f"of the page body is markup, about {per_question:.0f} B per question: each question "
        f"is its own `<form>` (so that it can be saved without JavaScript) with its own CSRF "
        f"input ({a['csrf']:,} B for {a['csrf_count']} tokens), fieldset, labels and Lưu "
        f"button. HTML {_kb(cold['document'])} + CSS {_kb(cold['stylesheet'])} + JS "
        f"{_kb(cold['script'])} uncompressed.",
        "**Slimmed in this step**: the attempt template lost its indentation and blank lines, "
        "the unstyled `<span class=qnum>`, `class=check` on every choice label (now "
        "`.question label` in app.css) and the default `type=submit` of the Lưu buttons, and "
        "computes the CSRF token once (measured when it was made: 41.6 → 36.8 KB of HTML for "
        "the 36-question quiz, 4.6–4.8 KB less per quiz page). app.css has no unused rule "
        f"(every class it styles is used by a template; {_kb(r['static']['css/app.css'])} "
        "unminified). The remaining markup per question is what a form that works without "
        "JavaScript needs, plus the hooks quiz.js uses (`data-position`, `data-kind`, "
        "`.status`).",
        "**Compression is what makes the target hold in production**: gunicorn and the app do "
        "not compress. Behind nginx as docs/deploy.md sets it up (HTML, CSS, JS and JSON "
        "gzipped at level 5)"
        + (
            f", the heaviest quiz page arrives as {_kb(proxied_quiz['cold_totals']['counted'])}"
            if proxied_quiz
            else ""
        )
        + f"; at level 6 the stylesheet and script alone would be {_kb(static_gzip)} (from "
        f"{_kb(cold['stylesheet'] + cold['script'])} uncompressed)."
        + (
            f" Served by gunicorn alone (no nginx), {len(direct_over)} of the "
            f"{len(_server(r, 'gunicorn')['quizzes'])} quiz pages exceed the target."
            if direct_over
            else " Served by gunicorn alone (no nginx), every page still meets the target."
        ),
        f"**The warm visit saves little**: static files are sent with `Cache-Control: "
        f"{cache or 'none'}` (Flask's default, no max-age), so every page view revalidates "
        f"app.css and quiz.js: two 304 answers of headers only (~0.6 KB each, plus ~0.9 KB of "
        f"request headers each way and a round trip each on a slow link). A max-age on "
        f"/static/ (nginx `expires` or `SEND_FILE_MAX_AGE_DEFAULT`, with a version in the URL so "
        f"that an upgrade is seen) would make the second visit the HTML alone. The HTML is "
        f"`no-store` (security.py), rightly, and is downloaded in full every time.",
        "**JavaScript off costs round trips, not page weight**: without quiz.js the page is a "
        "few KB lighter, but each answer is saved by its own form, and each save reloads the "
        "whole attempt page. One form for the whole attempt (one CSRF token, a Save-all button "
        "and the Submit button posting every answer) would save the 30-odd tokens and turn a "
        "JavaScript-off quiz into one round trip; it needs the save view and quiz.js to change "
        "together.",
        "**Lessons are far under the target** and have no images in the shipped content (the "
        "column is 0); a lesson image would be served by `/modules/<slug>/assets/<name>` with "
        "`max-age=86400`, counted aside.",
    ]
    return (
        "### Analysis\n\n"
        + "\n".join(
            textwrap.fill(
                b, 100, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False
            )
            for b in bullets
        )
        + "\n"
    )
