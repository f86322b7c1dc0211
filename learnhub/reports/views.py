"""The HR completion-records page and its CSV/XLSX exports (exactly the filtered rows, all pages).

Every query is limited to the signed-in user's HR scope (records.statement), so an HR officer of
one unit can neither see nor export another unit's people, whatever the query string says.
"""

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import aliased

from learnhub import db, policy
from learnhub.accounts.auth import role_required
from learnhub.accounts.models import Role
from learnhub.catalog.models import Module, ModuleVersion
from learnhub.orgunits import services as units
from learnhub.reports import exports, records
from learnhub.textutil import collation_key
from learnhub.timeutil import today

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _unit_choices() -> list:
    """Units the user may report on (their scope; everything for admins), in tree order."""
    allowed = policy.unit_id_set(current_user)
    return [u for u in units.tree() if allowed is None or u.id in allowed]


def _module_choices() -> list[tuple[str, str]]:
    """(slug, title) of every module, by title (the published version's, else the latest)."""
    published = aliased(ModuleVersion)
    latest = aliased(ModuleVersion)
    stmt = (
        select(Module.slug, published.meta, latest.meta)
        .outerjoin(published, published.id == Module.published_version_id)
        .outerjoin(latest, latest.id == Module.latest_version_id)
        .order_by(Module.slug)
    )
    out = []
    for slug, pub_meta, latest_meta in db.session.execute(stmt):
        meta = pub_meta or latest_meta or {}
        out.append((slug, meta.get("title") or slug))
    return sorted(out, key=lambda item: collation_key(item[1]))


def _form_page(parsed: records.Parsed, status: int = 200, result=None, size=records.PER_PAGE):
    return render_template(
        "reports/records.html",
        f=parsed.filters,
        raw=parsed.raw,
        errors=parsed.errors,
        result=result,
        titles=records.module_titles() if result is not None and result.rows else {},
        size=size,
        default_size=records.PER_PAGE,
        unit_choices=_unit_choices(),
        module_choices=_module_choices(),
        statuses=records.STATUSES,
        status_labels=records.STATUS_LABELS,
    ), status


@bp.get("/records")
@role_required(Role.hr)
def records_page():
    parsed = records.parse_filters(request.args)
    if parsed.errors:
        return _form_page(parsed, 400)
    size = records.per_page(request.args.get("per_page"))
    stmt = records.statement(parsed.filters, current_user)
    result = records.page(
        stmt,
        after=records.cursor(request.args.get("after")),
        before=records.cursor(request.args.get("before")),
        size=size,
    )
    return _form_page(parsed, 200, result, size)


def _file_stem() -> str:
    return f"ho-so-hoan-thanh-{today():%Y%m%d}"


def _export_rows(parsed: records.Parsed):
    return records.document_rows(records.statement(parsed.filters, current_user))


@bp.get("/records.csv")
@role_required(Role.hr)
def records_csv():
    parsed = records.parse_filters(request.args)
    if parsed.errors:
        return _form_page(parsed, 400)
    chunks = records.csv_chunks(records.statement(parsed.filters, current_user))
    return exports.csv_response(chunks, f"{_file_stem()}.csv")


@bp.get("/records.xlsx")
@role_required(Role.hr)
def records_xlsx():
    parsed = records.parse_filters(request.args)
    if parsed.errors:
        return _form_page(parsed, 400)
    file = exports.xlsx_file(records.EXPORT_COLUMNS, _export_rows(parsed), "Hồ sơ hoàn thành")
    return exports.xlsx_response(file, f"{_file_stem()}.xlsx")
