"""Pages of the periodic report by unit, a person's training history and the class dossier.

- ``/reports/units`` (+ ``.xlsx``, ``.pdf``): HR and admins; an HR officer's scope applies to
  every row and total, and a unit outside it answers 404.
- ``/reports/annual`` (+ ``.xlsx``, ``.pdf``): the annual report on bồi dưỡng (reports/annual.py),
  HR and admins, scoped like the unit report.
- ``/reports/people``: HR search for a person in their scope.
- ``/reports/people/<id>`` (+ ``.pdf``): the person, HR whose scope covers them, admins; 404
  for anyone else.
- ``/reports/classes/<id>/dossier.zip``: the class's managers, unscoped HR, admins; 404 else.
- ``/reports/reports.css``: the stylesheet of these pages (chart, print layout); CSP forbids
  inline styles.
"""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from learnhub import db, pdf, policy
from learnhub.accounts.auth import role_required
from learnhub.accounts.models import Role, User
from learnhub.certificates.frame import document_frame
from learnhub.classes.models import TrainingClass
from learnhub.reports import annual, dossier, history, periodic
from learnhub.textutil import file_slug
from learnhub.timeutil import format_date, today

bp = Blueprint("unit_reports", __name__, url_prefix="/reports")

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _document_frame(kind: str, symbol: str = "") -> dict:
    """The NĐ 30/2020 frame of a document issued today by the default unit (certificates.frame)."""
    return {"f": document_frame(symbol=symbol, kind=kind), "printed_on": format_date(today())}


# -- the periodic report by unit -------------------------------------------------------------


def _report(vi: bool = False) -> tuple[periodic.Report | None, list[str]]:
    period, errors = periodic.parse_period(request.args)
    code = request.args.get("unit", "").strip()[:40]
    try:
        if vi:
            with force_locale("vi"):
                return periodic.build(current_user, period, code), errors
        return periodic.build(current_user, period, code), errors
    except periodic.NotAllowed:
        abort(404)


def _other_reports() -> list[tuple[str, object]]:
    """Links to the other HR reports that exist in this application."""
    links = []
    rules = {rule.rule: rule.endpoint for rule in current_app.url_map.iter_rules()}
    for path, label in (
        ("/reports/records", _l("Hồ sơ hoàn thành của học viên")),
        ("/register/", _l("Sổ cấp giấy chứng nhận")),
    ):
        if path in rules:
            links.append((url_for(rules[path]), label))
    return links


@bp.get("/units")
@role_required(Role.hr)
def units_report():
    report, errors = _report()
    args = report.period.args()
    if request.args.get("unit") and report.parent is not None:
        args["unit"] = report.parent.code
    return render_template(
        "reports/periodic.html",
        report=report,
        errors=errors,
        raw=request.args,
        choices=report.choices,
        args=args,
        strings=periodic.strings,
        percent=periodic.percent_value,
        years=periodic.offered_years(),
        other_reports=_other_reports(),
    )


def _export_args_or_400() -> None:
    _period, errors = periodic.parse_period(request.args)
    if errors:
        abort(400)


@bp.get("/units.xlsx")
@role_required(Role.hr)
def units_xlsx():
    _export_args_or_400()
    report, _errors = _report(vi=True)
    with force_locale("vi"):
        data = periodic.to_xlsx(report, current_app.config["DOCUMENT_AGENCY"])
    return _download(data, XLSX_MIMETYPE, f"{periodic.file_stem(report)}.xlsx")


@bp.get("/units.pdf")
@role_required(Role.hr)
def units_pdf():
    _export_args_or_400()
    report, _errors = _report(vi=True)
    with force_locale("vi"):
        period = report.period.label()
        rows = [{"key": r.key, "name": r.name, **periodic.strings(r.tally)} for r in report.rows]
        modules = [{"name": r.name, **periodic.strings(r.tally)} for r in report.modules]
    try:
        data = pdf.render(
            "reports/periodic_pdf.html",
            **_document_frame("report", "BC"),
            period=period,
            scope=report.parent.name if report.parent is not None else "",
            rows=rows,
            total=periodic.strings(report.total),
            modules=modules,
            module_total=periodic.strings(report.module_total),
        )
    except pdf.RenderTimeout:
        current_app.logger.warning("unit report PDF timed out: %s rows", len(rows))
        flash(_("Tạo tệp PDF quá lâu. Hãy chọn một đơn vị nhỏ hơn hoặc tải tệp XLSX."), "warning")
        return redirect(url_for(".units_report", **request.args))
    return _download(data, "application/pdf", f"{periodic.file_stem(report)}.pdf")


# -- the annual report on bồi dưỡng -----------------------------------------------------------


def _annual(vi: bool = False) -> tuple[annual.Report, list[str]]:
    args = {"period": periodic.REPORT, "year": request.args.get("year", "")}
    period, errors = periodic.parse_period(args)
    if vi:
        with force_locale("vi"):
            return annual.build(current_user, period.year), errors
    return annual.build(current_user, period.year), errors


@bp.get("/annual")
@role_required(Role.hr)
def annual_report():
    report, errors = _annual()
    return render_template(
        "reports/annual.html",
        report=report,
        errors=errors,
        years=periodic.offered_years(),
        other_reports=_other_reports(),
    )


@bp.get("/annual.xlsx")
@role_required(Role.hr)
def annual_xlsx():
    report, errors = _annual(vi=True)
    if errors:
        abort(400)
    with force_locale("vi"):
        data = annual.to_xlsx(report, current_app.config["DOCUMENT_AGENCY"])
    return _download(data, XLSX_MIMETYPE, f"{annual.file_stem(report)}.xlsx")


@bp.get("/annual.pdf")
@role_required(Role.hr)
def annual_pdf():
    report, errors = _annual(vi=True)
    if errors:
        abort(400)
    with force_locale("vi"):
        period = report.period.label()
    try:
        data = pdf.render(
            "reports/annual_pdf.html",
            f=document_frame(
                symbol="BC",
                kind="annual",
                recipients=("Bộ Nội vụ",),
                copies=("Như trên", "UBND tỉnh (để báo cáo)", "Lưu: VT"),
            ),
            period=period,
            report=report,
        )
    except pdf.RenderTimeout:
        current_app.logger.warning("annual report PDF timed out")
        flash(_("Tạo tệp PDF quá lâu. Hãy tải tệp XLSX."), "warning")
        return redirect(url_for(".annual_report", year=report.period.year))
    return _download(data, "application/pdf", f"{annual.file_stem(report)}.pdf")


# -- a person's training history --------------------------------------------------------------


def _person_or_404(user_id: int) -> User:
    person = db.get_or_404(User, user_id)
    policy.require(policy.may_see_person(current_user, person), "user", user_id, current_user)
    return person


@bp.get("/people")
@role_required(Role.hr)
def people():
    q = " ".join(request.args.get("q", "")[:100].split())
    found, more = history.search(current_user, q, history.SEARCH_LIMIT) if q else ([], False)
    return render_template(
        "reports/history_search.html", q=q, found=found, more=more, limit=history.SEARCH_LIMIT
    )


@bp.get("/people/<int:user_id>")
@login_required
def person_history(user_id: int):
    person = _person_or_404(user_id)
    rows = history.lines(person)
    return render_template(
        "reports/history.html",
        person=person,
        rows=rows,
        summary=history.summary(rows),
        status_labels=history.STATUS_LABELS,
        printed_on=format_date(today()),
    )


@bp.get("/people/<int:user_id>.pdf")
@login_required
def person_history_pdf(user_id: int):
    person = _person_or_404(user_id)
    with force_locale("vi"):
        rows = history.lines(person)
        lines = [row.strings() for row in rows]
        summary = history.summary(rows)
    try:
        data = pdf.render(
            "reports/history_pdf.html",
            **_document_frame("history", "XN"),
            full_name=person.full_name,
            birth_date=format_date(person.birth_date),
            unit=person.unit.name if person.unit is not None else "",
            position=person.position,
            rank=person.rank,
            rows=lines,
            summary=summary,
        )
    except pdf.RenderTimeout:
        current_app.logger.warning("history PDF timed out: user %s", person.id)
        flash(_("Tạo tệp PDF quá lâu. Hãy in trực tiếp trang này."), "warning")
        return redirect(url_for(".person_history", user_id=person.id))
    # Named by the person (their name, then their sign-in name: unique), not by a row's id.
    who = "-".join(filter(None, (file_slug(person.full_name), file_slug(person.login))))
    return _download(data, "application/pdf", f"qua-trinh-boi-duong-{who or person.id}.pdf")


# -- the class dossier -----------------------------------------------------------------------


@bp.get("/classes/<int:class_id>/dossier.zip")
@login_required
def class_dossier(class_id: int):
    training_class = db.get_or_404(TrainingClass, class_id)
    allowed = policy.may_download_dossier(current_user, training_class)
    policy.require(allowed, "class", class_id, current_user)
    data = dossier.build(training_class)
    return _download(data, "application/zip", f"{dossier.folder(training_class)}.zip")


# -- the stylesheet --------------------------------------------------------------------------

STYLESHEET = """\
/* Reports: the bar chart beside the tables, numbers, and the print layout. */
.report-layout { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem;
  align-items: start; }
.report-layout > * { min-width: 0; }
.report-links { display: flex; flex-wrap: wrap; gap: .3rem 1rem; list-style: none; padding: 0; }
.report-form fieldset { border: 1px solid #ccc; border-radius: 6px; margin: 0 0 .6rem; }
.report-form .row { display: flex; flex-wrap: wrap; gap: .4rem .8rem; align-items: end; }
.report-form label { display: block; }
.report-form input, .report-form select { width: auto; max-width: min(20rem, 100%); }
.report-form .row > div { min-width: 0; max-width: 100%; }
.chart { margin: 0; }
.chart ol { list-style: none; padding: 0; margin: 0; }
.chart li { display: grid; grid-template-columns: minmax(0, 18rem) minmax(4rem, 1fr) 4.5rem;
  gap: .5rem; align-items: center; padding: .15rem 0; border-bottom: 1px solid #eee; }
.chart meter { width: 100%; height: 1.1rem; }
.chart .value, td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total th, tr.total td { font-weight: bold; border-top: 2px solid currentColor; }
.print-only { display: none; }
dl.person { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.person dt { font-weight: bold; }
dl.person dd { margin: 0; }
@media print {
  header.top, footer, nav, form, .flashes, .skip, .no-print, .chart { display: none !important; }
  .print-only { display: block; }
  body { font-family: "Liberation Serif", "Times New Roman", serif; font-size: 12pt;
    color: #000; background: #fff; }
  main { margin: 0; padding: 0; max-width: none; }
  a { color: #000; text-decoration: none; }
  .card { border: 0; padding: 0; box-shadow: none; }
  .table-wrap { overflow: visible; }
  table { width: 100%; border-collapse: collapse; font-size: 10.5pt; }
  th, td { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; }
  @page { size: A4 landscape; margin: 20mm 15mm 20mm 25mm; }
}
"""


@bp.get("/reports.css")
def stylesheet():
    response = Response(STYLESHEET, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
