"""Versions: sync twice changes nothing; an edited file makes a new version; progress survives;
export -> check -> sync returns the same content hash."""

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from learnhub.catalog import services
from learnhub.catalog.models import LessonProgress, ModuleVersion
from learnhub.content.modules import load_module

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def content_copy(app, tmp_path):
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    old = app.config["CONTENT_DIR"]
    app.config["CONTENT_DIR"] = str(target)
    yield target
    app.config["CONTENT_DIR"] = old


def _versions(db_session, module) -> int:
    stmt = (
        select(func.count()).select_from(ModuleVersion).where(ModuleVersion.module_id == module.id)
    )
    return db_session.scalar(stmt)


def test_sync_twice_changes_nothing(runner, db_session):
    module = services.by_slug("doi-ngoai-nhan-dan")
    before = (_versions(db_session, module), module.latest_version.content_hash)
    for _ in range(2):
        result = runner.invoke(args=["content", "sync"])
        assert result.exit_code == 0, result.output
        assert "module doi-ngoai-nhan-dan: unchanged" in result.output
        assert "0 created, 0 updated" in result.output
    assert (_versions(db_session, module), module.latest_version.content_hash) == before


def test_edited_lesson_file_makes_a_new_version_and_keeps_progress(
    runner, db_session, content_copy, learner
):
    module = services.by_slug("doi-ngoai-nhan-dan")
    old_version = module.published_version
    first = old_version.lessons[0]
    services.mark_read(learner, module, first)
    lesson_file = sorted((content_copy / "modules" / module.slug / "lessons").glob("01-*.md"))[0]
    lesson_file.write_text(
        lesson_file.read_text(encoding="utf-8") + "\nMột đoạn bổ sung.\n", encoding="utf-8"
    )

    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert f"module {module.slug}: new version {old_version.number + 1}" in result.output
    db_session.refresh(module)
    assert module.published_version.number == old_version.number + 1
    assert "Một đoạn bổ sung." in module.published_version.lessons[0].body
    # The old version is untouched, and the learner's reading still counts and says what was read.
    assert "Một đoạn bổ sung." not in db_session.get(ModuleVersion, old_version.id).lessons[0].body
    progress = db_session.scalars(
        select(LessonProgress).where(LessonProgress.user_id == learner.id)
    ).one()
    assert progress.version_id == old_version.id
    assert first.slug in services.read_slugs(learner, module)
    # And syncing again changes nothing.
    again = runner.invoke(args=["content", "sync"])
    assert f"module {module.slug}: unchanged" in again.output


def test_browser_edits_survive_a_sync_of_unchanged_files(runner, db_session, admin):
    module = services.by_slug("ky-nang-doi-ngoai")
    draft = services.current_draft(module)
    services.set_lesson(draft, draft.lessons[0][1], "Tiêu đề mới", "Nội dung mới.\n", [])
    edited = services.save_draft(services.Actor(admin), module, draft)
    runner.invoke(args=["content", "sync"])
    db_session.refresh(module)
    assert module.latest_version.id == edited.id


def test_export_check_sync_same_hash(runner, db_session, tmp_path, admin, content_copy):
    module = services.by_slug("quan-ly-to-chuc-pcpnn")
    draft = services.current_draft(module)
    services.set_lesson(
        draft,
        "bai-moi",
        "Bài mới soạn trên trình duyệt",
        "# Bài mới\n\n| Cột | Giá trị |\n|---|---|\n| a | b |\n",
        ["Nghị định 58/2022/NĐ-CP, Điều 3"],
    )
    version = services.save_draft(services.Actor(admin), module, draft)
    services.publish(services.Actor(admin), module)

    out = tmp_path / "exported"
    result = runner.invoke(args=["content", "export", module.slug, str(out)])
    assert result.exit_code == 0, result.output
    folder = out / module.slug
    check = runner.invoke(args=["content", "check", str(folder)])
    assert check.exit_code == 0, check.output

    _source, problems = load_module(folder)
    assert problems == []
    # Sync the exported files as the content of the module: the same content hash comes back.
    shutil.rmtree(content_copy / "modules" / module.slug)
    shutil.copytree(folder, content_copy / "modules" / module.slug)
    sync = runner.invoke(args=["content", "sync"])
    assert sync.exit_code == 0, sync.output
    db_session.refresh(module)
    assert module.latest_version.content_hash == version.content_hash


def test_export_unknown_module(runner, tmp_path):
    result = runner.invoke(args=["content", "export", "khong-co", str(tmp_path)])
    assert result.exit_code != 0
    assert "no module 'khong-co'" in result.output


def test_sync_records_content_hash_and_source(db_session):
    module = services.by_slug("vien-tro-khong-hoan-lai")
    source, _ = load_module(ROOT / "content" / "modules" / module.slug)
    assert module.files_hash == source.content_hash()
    assert module.latest_version.source == "files"
    assert len(module.latest_version.content_hash) == 64


def test_new_module_from_the_browser_has_full_metadata(admin):
    module = services.create_module(
        services.Actor(admin),
        "mo-dun-thu",
        {"title": "Thử", "category": "ky-nang", "summary": "Tóm tắt", "periods": 2},
        admin,
    )
    meta = module.latest_version.meta
    assert meta["quiz"]["pass_mark"] == 5.0
    assert meta["completion"]["attendance_share"] == 0.8
    with pytest.raises(services.CatalogError):
        services.publish(services.Actor(admin), module)  # no lessons yet
