"""Trainers: author modules and lessons in the browser, upload assets, publish, compare versions."""

import difflib
import re
import unicodedata
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from learnhub import db, policy
from learnhub.accounts.auth import current_actor, role_required
from learnhub.accounts.forms import ConfirmForm
from learnhub.accounts.models import Role
from learnhub.catalog import services
from learnhub.catalog.forms import (
    AssetForm,
    CompletionRuleForm,
    LessonForm,
    ModuleForm,
    NewLessonForm,
    NewModuleForm,
    refs_list,
)
from learnhub.catalog.models import Module, ModuleVersion
from learnhub.catalog.views import lesson_html
from learnhub.content.export import lesson_file, module_toml
from learnhub.formats.markdown import link_problem

bp = Blueprint("manage", __name__, url_prefix="/manage/modules")


def _editable(module_id: int) -> Module:
    module = db.get_or_404(Module, module_id)
    policy.require(
        policy.may_edit_module(current_user, module), "module", module_id, current_user, 403
    )
    return module


@bp.get("/")
@role_required(Role.trainer)
def index():
    modules = [
        m
        for m in db.session.scalars(select(Module).order_by(Module.slug))
        if policy.may_edit_module(current_user, m)
    ]
    return render_template("manage/index.html", modules=modules)


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.trainer)
def new():
    form = NewModuleForm()
    if form.validate_on_submit():
        meta = {
            "title": form.title.data,
            "category": form.category.data,
            "summary": services.normalise_text(form.summary.data).strip(),
            "periods": form.periods.data,
            "legal_refs": refs_list(form.legal_refs.data),
        }
        try:
            module = services.create_module(current_actor(), form.slug.data, meta, current_user)
        except services.CatalogError as exc:
            form.slug.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Đã tạo chuyên đề (bản nháp). Hãy thêm bài học."), "success")
            return redirect(url_for(".module", module_id=module.id))
    return render_template("manage/new.html", form=form)


@bp.get("/<int:module_id>")
@role_required(Role.trainer)
def module(module_id: int):
    module = _editable(module_id)
    version = module.latest_version
    form = _meta_form(version)
    return _module_page(module, form)


def _meta_form(version: ModuleVersion) -> ModuleForm:
    return ModuleForm(
        data={**version.meta, "legal_refs": "\n".join(version.meta.get("legal_refs", []))}
    )


def _module_page(module: Module, form: ModuleForm, rule_form: CompletionRuleForm | None = None):
    version = module.latest_version
    return render_template(
        "manage/module.html",
        module=module,
        version=version,
        form=form,
        rule_form=rule_form or CompletionRuleForm.of(version.completion_rule()),
        asset_form=AssetForm(),
        confirm=ConfirmForm(),
    )


@bp.post("/<int:module_id>")
@role_required(Role.trainer)
def update(module_id: int):
    module = _editable(module_id)
    form = ModuleForm()
    if not form.validate():
        return _module_page(module, form), 400
    draft = services.current_draft(module)
    draft.meta.update(
        title=form.title.data,
        category=form.category.data,
        summary=services.normalise_text(form.summary.data).strip(),
        periods=form.periods.data,
        legal_refs=refs_list(form.legal_refs.data),
    )
    version = services.save_draft(current_actor(), module, draft)
    db.session.commit()
    flash(
        _("Đã lưu phiên bản %(n)s.", n=version.number) if version else _("Không có thay đổi."),
        "success",
    )
    return redirect(url_for(".module", module_id=module.id))


@bp.post("/<int:module_id>/completion")
@role_required(Role.trainer)
def completion_rule(module_id: int):
    module = _editable(module_id)
    rule_form = CompletionRuleForm()
    if not rule_form.validate():
        form = _meta_form(module.latest_version)
        return _module_page(module, form, rule_form), 400
    rule, _errors = rule_form.rule()
    draft = services.set_completion_rule(services.current_draft(module), rule)
    version = services.save_draft(current_actor(), module, draft)
    db.session.commit()
    flash(
        _("Đã lưu phiên bản %(n)s.", n=version.number) if version else _("Không có thay đổi."),
        "success",
    )
    return redirect(url_for(".module", module_id=module.id))


def _link_problems(module: Module, body: str) -> list[str]:
    version = module.latest_version
    assets = set(version.assets)
    files = {f"{x.position:02d}-{x.slug}.md" for x in version.lessons}
    found = re.findall(r"(!?)\[[^\]]*\]\(\s*<?([^)\s>]+)", body)
    return [p for image, target in found if (p := link_problem(target, bool(image), assets, files))]


@bp.route(
    "/<int:module_id>/lessons/new",
    methods=["GET", "POST"],
    defaults={"lesson_slug": None},
    endpoint="new_lesson",
)
@bp.route("/<int:module_id>/lessons/<lesson_slug>", methods=["GET", "POST"])
@role_required(Role.trainer)
def lesson(module_id: int, lesson_slug: str | None):
    module = _editable(module_id)
    existing = module.latest_version.lesson(lesson_slug) if lesson_slug else None
    if lesson_slug and existing is None:
        abort(404)
    form = (LessonForm if existing else NewLessonForm)(
        data={
            "title": existing.title,
            "body": existing.body,
            "legal_refs": "\n".join(existing.legal_refs),
        }
        if existing
        else None
    )
    preview = None
    if form.validate_on_submit():
        body = services.normalise_text(form.body.data)
        problems = _link_problems(module, body)
        if request.form.get("action") == "preview" or problems:
            form.body.errors = problems
            preview = lesson_html(module, body)
        else:
            draft = services.current_draft(module)
            refs = refs_list(form.legal_refs.data)
            try:
                if existing:
                    services.set_lesson(draft, existing.slug, form.title.data, body, refs)
                else:
                    services.add_lesson(draft, form.slug.data, form.title.data, body, refs)
            except services.CatalogError as exc:
                (form.title if existing else form.slug).errors = [str(exc)]
            else:
                version = services.save_draft(current_actor(), module, draft)
                db.session.commit()
                flash(
                    _("Đã lưu phiên bản %(n)s.", n=version.number)
                    if version
                    else _("Không có thay đổi."),
                    "success",
                )
                return redirect(url_for(".module", module_id=module.id))
    return render_template(
        "manage/lesson.html", module=module, lesson=existing, form=form, preview=preview
    )


@bp.post("/<int:module_id>/lessons/<lesson_slug>/move")
@role_required(Role.trainer)
def move(module_id: int, lesson_slug: str):
    module = _editable(module_id)
    if not ConfirmForm().validate():
        abort(400)
    step = -1 if request.form.get("direction") == "up" else 1
    try:
        draft = services.move_lesson(services.current_draft(module), lesson_slug, step)
    except services.CatalogError:
        abort(404)
    services.save_draft(current_actor(), module, draft)
    db.session.commit()
    return redirect(url_for(".module", module_id=module.id))


def _asset_name(filename: str, mime: str) -> str:
    stem = (
        unicodedata.normalize("NFKD", filename.rsplit(".", 1)[0]).encode("ascii", "ignore").decode()
    )
    stem = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:60] or "tep"
    ext = {
        "image/png": "png",
        "image/jpeg": "jpg",
        "image/gif": "gif",
        "image/webp": "webp",
        "application/pdf": "pdf",
    }[mime]
    return f"{stem}.{ext}"


@bp.post("/<int:module_id>/assets")
@role_required(Role.trainer)
def upload(module_id: int):
    module = _editable(module_id)
    form = AssetForm()
    if not form.validate() or not form.file.data:
        flash(_("Hãy chọn một tệp."), "error")
        return redirect(url_for(".module", module_id=module.id))
    data = form.file.data.read()  # at most MAX_CONTENT_LENGTH: Werkzeug refuses more (413)
    try:
        stored, scaled = services.store_upload(Path(current_app.config["STORAGE_DIR"]), data)
    except services.AssetTooLarge:
        db.session.rollback()
        abort(413)  # the app's error page: a file over the limit that is not a photo
    except services.CatalogError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".module", module_id=module.id))
    name = _asset_name(form.file.data.filename or "tep", stored.mime)
    draft = services.current_draft(module)
    draft.assets[name] = stored.sha256
    services.save_draft(current_actor(), module, draft)
    db.session.commit()
    if scaled:
        flash(_("Ảnh lớn hơn 5 MB nên đã được thu nhỏ trước khi lưu."), "info")
    flash(
        _("Đã tải lên. Chèn vào bài học bằng: %(md)s", md=f"![mô tả](../assets/{name})"), "success"
    )
    return redirect(url_for(".module", module_id=module.id))


@bp.post("/<int:module_id>/publish")
@role_required(Role.trainer)
def publish(module_id: int):
    module = _editable(module_id)
    if not ConfirmForm().validate():
        abort(400)
    try:
        if request.form.get("action") == "unpublish":
            services.unpublish(current_actor(), module)
            message = _("Đã chuyển về bản nháp; học viên không còn thấy chuyên đề.")
        else:
            version = services.publish(current_actor(), module)
            message = _("Đã công bố phiên bản %(n)s.", n=version.number)
    except services.CatalogError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".module", module_id=module.id))
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".module", module_id=module.id))


def _files(module: Module, version: ModuleVersion) -> dict[str, str]:
    files = {"module.toml": module_toml(module, version)}
    for x in version.lessons:
        files[f"lessons/{x.position:02d}-{x.slug}.md"] = lesson_file(
            x.title, list(x.legal_refs), x.body
        )
    for name, text in version.banks.items():
        files[f"questions/{name}"] = text
    for name, digest in version.assets.items():
        files[f"assets/{name}"] = f"sha256 {digest}\n"
    return files


def diff_versions(
    module: Module, old: ModuleVersion, new: ModuleVersion
) -> list[tuple[str, list[str]]]:
    """Unified diffs, file by file, between two versions (status lines aside)."""
    a, b = _files(module, old), _files(module, new)
    out = []
    for name in sorted(set(a) | set(b)):
        left = [x for x in a.get(name, "").splitlines() if not x.startswith("status =")]
        right = [x for x in b.get(name, "").splitlines() if not x.startswith("status =")]
        lines = list(
            difflib.unified_diff(
                left, right, f"v{old.number}/{name}", f"v{new.number}/{name}", lineterm="", n=2
            )
        )
        if lines:
            out.append((name, lines))
    return out


@bp.get("/<int:module_id>/versions")
@role_required(Role.trainer)
def versions(module_id: int):
    module = _editable(module_id)
    rows = db.session.scalars(
        select(ModuleVersion)
        .where(ModuleVersion.module_id == module.id)
        .order_by(ModuleVersion.number.desc())
    ).all()
    return render_template("manage/versions.html", module=module, versions=rows)


def _version(module: Module, number: int) -> ModuleVersion:
    stmt = select(ModuleVersion).where(
        ModuleVersion.module_id == module.id, ModuleVersion.number == number
    )
    return db.session.scalar(stmt) or abort(404)


@bp.route("/<int:module_id>/versions/<int:old>/restore", methods=["GET", "POST"])
@role_required(Role.trainer)
def restore(module_id: int, old: int):
    """Confirm, then make version *old*'s content the latest again (as a new version)."""
    module = _editable(module_id)
    version = _version(module, old)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate():
            abort(400)
        restored = services.restore_version(current_actor(), module, version)
        db.session.commit()
        flash(
            _(
                "Đã khôi phục nội dung phiên bản %(old)s thành phiên bản mới %(n)s (chưa công bố).",
                old=version.number,
                n=restored.number,
            )
            if restored
            else _("Phiên bản mới nhất đã có đúng nội dung này; không có thay đổi."),
            "success",
        )
        return redirect(url_for(".module", module_id=module.id))
    latest = module.latest_version
    return render_template(
        "manage/restore.html",
        module=module,
        version=version,
        latest=latest,
        diffs=diff_versions(module, latest, version),
        form=form,
    )


@bp.get("/<int:module_id>/versions/<int:old>/<int:new>")
@role_required(Role.trainer)
def diff(module_id: int, old: int, new: int):
    module = _editable(module_id)

    a, b = _version(module, old), _version(module, new)
    return render_template(
        "manage/diff.html", module=module, old=a, new=b, diffs=diff_versions(module, a, b)
    )
