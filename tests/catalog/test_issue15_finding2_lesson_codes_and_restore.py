"""Issue 15, finding 2: "Bài học mới" with the code of an existing lesson silently replaced it.
A new lesson's code must be free, and every version can be restored (as a new version, audited,
after a confirmation)."""

import pytest
from sqlalchemy import select

from learnhub.audit.models import AuditEvent
from learnhub.catalog import services
from tests.support import csrf_token


def _new_lesson(client, module, slug: str, title: str, body: str):
    token = csrf_token(client, f"/manage/modules/{module.id}/lessons/new")
    return client.post(
        f"/manage/modules/{module.id}/lessons/new",
        data={
            "csrf_token": token,
            "slug": slug,
            "title": title,
            "body": body,
            "legal_refs": "",
            "action": "save",
        },
    )


def test_finding_2_new_lesson_with_a_taken_code_is_refused(client, login, trainer, db_session):
    module = services.by_slug("ky-nang-doi-ngoai")
    first = module.latest_version.lessons[0]
    number = module.latest_version.number
    login(trainer)
    response = _new_lesson(client, module, first.slug, "Bài chép đè", "Nội dung thay thế.\n")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Mã bài học “{first.slug}” đã được dùng cho bài “{first.title}”" in html
    db_session.refresh(module)
    assert module.latest_version.number == number  # nothing saved
    assert module.latest_version.lesson(first.slug).body == first.body


def test_finding_2_add_lesson_service_never_replaces(db_session):
    module = services.by_slug("ky-nang-doi-ngoai")
    draft = services.current_draft(module)
    slug = draft.lessons[0][1]
    with pytest.raises(services.CatalogError):
        services.add_lesson(draft, slug, "Khác", "Khác.\n", [])


def test_finding_2_any_version_can_be_restored_as_a_new_version(client, login, trainer, db_session):
    module = services.by_slug("ky-nang-doi-ngoai")
    original = module.latest_version
    lesson = original.lessons[0]
    login(trainer)
    token = csrf_token(client, f"/manage/modules/{module.id}/lessons/{lesson.slug}")
    client.post(
        f"/manage/modules/{module.id}/lessons/{lesson.slug}",
        data={
            "csrf_token": token,
            "title": lesson.title,
            "body": "Nội dung đã bị sửa nhầm.\n",
            "legal_refs": "",
            "action": "save",
        },
    )
    db_session.refresh(module)
    edited = module.latest_version
    assert edited.number == original.number + 1

    versions = client.get(f"/manage/modules/{module.id}/versions").get_data(as_text=True)
    restore_url = f"/manage/modules/{module.id}/versions/{original.number}/restore"
    assert f'href="{restore_url}"' in versions
    # A confirmation page first, showing what will change; nothing is saved by looking.
    confirm = client.get(restore_url)
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "Khôi phục thành phiên bản mới" in page
    assert "Nội dung đã bị sửa nhầm." in page
    db_session.refresh(module)
    assert module.latest_version.id == edited.id

    token = csrf_token(client, restore_url)
    response = client.post(restore_url, data={"csrf_token": token}, follow_redirects=True)
    assert f"Đã khôi phục nội dung phiên bản {original.number}" in response.get_data(as_text=True)
    db_session.refresh(module)
    restored = module.latest_version
    assert restored.number == edited.number + 1  # history is kept, not rewritten
    assert restored.content_hash == original.content_hash
    assert restored.lesson(lesson.slug).body == lesson.body
    event = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "module.restore", AuditEvent.object_id == module.slug)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    assert event.after == {"version": restored.number, "restored_from": original.number}

    # Restoring what is already the latest content changes nothing.
    token = csrf_token(client, restore_url)
    client.post(restore_url, data={"csrf_token": token})
    db_session.refresh(module)
    assert module.latest_version.id == restored.id


def test_finding_2_restore_needs_the_confirmation_form(client, login, trainer, db_session):
    module = services.by_slug("ky-nang-doi-ngoai")
    login(trainer)
    response = client.post(f"/manage/modules/{module.id}/versions/1/restore", data={})
    assert response.status_code == 400
