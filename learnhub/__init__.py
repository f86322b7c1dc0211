"""LearnHub: training, attendance and certificates for Cà Mau's đối ngoại nhân dân courses."""

from flask import Flask, g
from werkzeug.routing import IntegerConverter

from learnhub import config as settings

#: The largest id a row can have (ids are INTEGER columns: 32-bit on PostgreSQL).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in LearnHub's URLs is a row id or a small position: a larger number matches no
    route (a 404) instead of overflowing the database driver (SQLite refuses integers beyond 64
    bits with an OverflowError)."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, *args, **kwargs)
        if self.max is None or self.max > MAX_ID:
            self.max = MAX_ID


def create_app(config: dict | None = None) -> Flask:
    """Create and configure the LearnHub application."""
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = IdConverter
    app.config.update(settings.defaults(app.instance_path))
    if config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(settings.from_environment())
    else:
        app.config.update(config)
    if app.config["ENV"] == "production":
        app.config.update(settings.production_overrides())
        if not app.config["SECRET_KEY"]:
            raise RuntimeError(
                "LearnHub refuses to start in production without a secret key: set "
                "LEARNHUB_SECRET_KEY (or SECRET_KEY in instance/config.py) to a long random value, "
                "e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`."
            )
    elif not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = settings.development_secret(app.instance_path)
    app.config["TOTP_REQUIRED_ROLES"] = settings.two_factor_roles(
        app.config["TOTP_REQUIRED_ROLES"], app.config["ENV"]
    )

    from learnhub import db, errors, i18n, security
    from learnhub.quizzes.autosave import AutosaveDoor

    # The answer save's common case is answered before Flask's request handling (see there).
    app.wsgi_app = AutosaveDoor(app, app.wsgi_app)
    proxies = int(app.config["PROXIES"] or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    # Per-request caches (the signed-in user, the CSRF token) live in g. An app context normally
    # lives for one request; when one outlives requests (the test suite), start each request clean.
    app.before_request(lambda: g.__dict__.clear())
    from learnhub.accounts import auth

    db.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)

    from learnhub.accounts.admin import bp as admin_users_bp
    from learnhub.accounts.roster_views import bp as roster_bp
    from learnhub.accounts.twofactor_views import bp as twofactor_bp
    from learnhub.accounts.views import bp as accounts_bp
    from learnhub.api.views import bp as api_bp
    from learnhub.api.views import tokens_bp as api_tokens_bp
    from learnhub.attendance.views import bp as attendance_bp
    from learnhub.audit.views import bp as audit_bp
    from learnhub.catalog.manage import bp as manage_bp
    from learnhub.catalog.views import bp as catalog_bp
    from learnhub.catalog.views import refs_bp
    from learnhub.certificates.issuers import bp as issuers_bp
    from learnhub.certificates.register import bp as register_bp
    from learnhub.certificates.verify import bp as verify_bp
    from learnhub.certificates.views import bp as certificates_bp
    from learnhub.classes.views import bp as classes_bp
    from learnhub.core.views import bp as core_bp
    from learnhub.orgunits.views import bp as orgunits_bp
    from learnhub.quizzes.manage import bp as quiz_manage_bp
    from learnhub.quizzes.views import bp as quizzes_bp
    from learnhub.reports.unit_views import bp as unit_reports_bp
    from learnhub.reports.views import bp as reports_bp

    for blueprint in (
        core_bp,
        accounts_bp,
        twofactor_bp,
        admin_users_bp,
        roster_bp,
        orgunits_bp,
        audit_bp,
        catalog_bp,
        manage_bp,
        refs_bp,
        quizzes_bp,
        quiz_manage_bp,
        classes_bp,
        attendance_bp,
        certificates_bp,
        issuers_bp,
        verify_bp,
        register_bp,
        api_bp,
        api_tokens_bp,
        reports_bp,
        unit_reports_bp,
    ):
        app.register_blueprint(blueprint)

    import learnhub.attendance.services
    import learnhub.certificates.services  # noqa: F401  (issues on completion where allowed)
    from learnhub import pdf

    pdf.check_environment()
    from learnhub.accounts.models import ROLE_LABELS, Role
    from learnhub.core.header import page_header

    app.jinja_env.globals.update(ROLE_LABELS=ROLE_LABELS, Role=Role, page_header=page_header)
    app.json.ensure_ascii = False

    from learnhub.accounts.cli import users
    from learnhub.backup import backup
    from learnhub.certificates.cli import certificates
    from learnhub.cli import db_group, demo
    from learnhub.content.cli import content
    from learnhub.reports.cli import reports

    try:  # `flask bench seed`: only in a development checkout, which has the bench package
        from bench.cli import bench
    except ImportError:
        bench = None

    for command in (db_group, users, content, demo, certificates, backup, reports, bench):
        if command is not None:
            app.cli.add_command(command)
    return app
