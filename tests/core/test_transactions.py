"""Issue 14, build item 8: transactions are begun and committed by the edge (views, CLI commands,
jobs), never by a service in the middle of a domain rule. An AST scan of learnhub/ finds every
call that begins, commits or rolls back a transaction outside the edge; each one allowed is named
here with its reason (docs/architecture.md, "Transactions")."""

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa

from learnhub import db

PACKAGE = Path(__file__).resolve().parents[2] / "learnhub"

#: Calls that begin, commit or end a transaction.
TRANSACTION_CALLS = {"commit", "rollback", "write_transaction"}

#: The edge: modules that own a request's, a command's or a job's unit of work.
EDGE = {
    "__init__.py",
    "cli.py",
    "demo.py",
    "db.py",  # the helper itself
    "errors.py",  # the error handlers roll back what a failed request left
    "accounts/admin.py",
    "accounts/cli.py",
    "accounts/roster_views.py",
    "accounts/twofactor_views.py",
    "accounts/views.py",
    "api/views.py",
    "attendance/views.py",
    "catalog/manage.py",
    "catalog/views.py",
    "certificates/cli.py",
    "certificates/issuers.py",
    "certificates/jobs.py",
    "certificates/register.py",
    "certificates/verify.py",
    "certificates/views.py",
    "classes/views.py",
    "content/cli.py",
    "core/views.py",
    "orgunits/views.py",
    "quizzes/autosave.py",  # the answer save's door: a request's unit of work, as the view's
    "quizzes/manage.py",
    "quizzes/views.py",
    "reports/cli.py",
    "reports/unit_views.py",
    "reports/views.py",
}

#: Services that begin the write themselves, each for a stated reason: (module, function) -> why.
ALLOWED = {
    ("accounts/services.py", "authenticate"): "late writer: the lock after the slow password hash",
    ("accounts/services.py", "reauthenticate"): "late writer: the lock after the slow hash",
    ("accounts/services.py", "change_password"): "late writer: the lock after the slow hash",
    ("accounts/twofactor.py", "verify"): "sign-in step (a late writer): lock after the throttle",
    ("quizzes/services.py", "store_answer"): (
        "lean writer: the lock (BEGIN IMMEDIATE) just before its one guarded UPDATE; the view "
        "commits right after"
    ),
    ("quizzes/services.py", "save_answer"): "the same write for callers outside a request",
    ("quizzes/services.py", "start_attempt"): (
        "late writer (issue 18 build 2): the draw before the lock, the inserts under it"
    ),
    ("quizzes/services.py", "submit_attempt"): (
        "late writer (issue 18 build 2): grading before the lock, the result under it"
    ),
    ("certificates/services.py", "next_register_no"): "a register number is taken under the lock",
    ("certificates/services.py", "_number_and_store"): "a register number under the lock",
    ("certificates/services.py", "_locked"): "a lifecycle change reads its row under the lock",
}


def transaction_calls(root: Path = PACKAGE) -> list[tuple[str, str, str, int]]:
    """(module, innermost function, call, line) of every transaction call outside the edge."""
    found: dict[tuple[str, int], tuple[str, str]] = {}
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name in EDGE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # ast.walk goes outside in, so an inner function overwrites its outer one
        scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]
        for scope in scopes:
            where = scope.name if isinstance(scope, ast.FunctionDef) else "<module>"
            for node in ast.walk(scope):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in TRANSACTION_CALLS
                ):
                    found[name, node.lineno] = (where, node.func.attr)
    return [(name, where, call, line) for (name, line), (where, call) in sorted(found.items())]


def test_no_service_begins_or_commits_a_transaction():
    unexpected = [
        f"{name}:{line} {call}() in {where}"
        for name, where, call, line in transaction_calls()
        if (name, where) not in ALLOWED
    ]
    assert unexpected == []


def test_every_allowed_exception_still_exists():
    seen = {(name, where) for name, where, _call, _line in transaction_calls()}
    assert set(ALLOWED) <= seen, set(ALLOWED) - seen


def test_the_scan_sees_a_commit_in_a_service(tmp_path):
    """The scan itself works: a service that commits is found."""
    (tmp_path / "thing").mkdir()
    (tmp_path / "thing" / "services.py").write_text(
        "from learnhub import db\n\ndef make():\n    db.session.commit()\n", encoding="utf-8"
    )
    assert transaction_calls(tmp_path) == [("thing/services.py", "make", "commit", 4)]


@pytest.mark.no_rollback
def test_write_transaction_never_commits_pending_changes(app):
    """Beginning the write after changes would commit them half-way: it refuses."""
    from learnhub.orgunits.models import OrgUnit, UnitKind

    with app.app_context():
        if db.session.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL locks rows: write_transaction() is a no-op there")
        db.session.scalar(sa.select(sa.literal(1)))  # a read transaction has begun
        db.session.add(OrgUnit(code="X-TX-TEST", name="Thử giao dịch", kind=UnitKind.commune))
        with pytest.raises(RuntimeError, match="after changes"):
            db.write_transaction()
        db.session.rollback()
