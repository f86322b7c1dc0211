"""The audit log page: admins filter who did what to which object."""

from learnhub.accounts import services
from learnhub.audit.services import Actor


def test_filter_by_object_and_action(client, login, admin, learner):
    services.set_enabled(Actor(admin, "10.0.0.1"), learner, False)
    services.update_profile(Actor(admin), admin, position="Trưởng phòng")
    login(admin)
    html = client.get(f"/admin/audit/?object_type=user&object_id={learner.id}").get_data(
        as_text=True
    )
    assert "Khóa tài khoản của" in html
    assert "10.0.0.1" in html
    assert "Trưởng phòng" not in html
    html = client.get("/admin/audit/?group=account").get_data(as_text=True)
    assert "Trưởng phòng" in html


def test_date_filter_and_empty_state(client, login, admin):
    login(admin)
    html = client.get("/admin/audit/?from=01/01/2000&to=02/01/2000").get_data(as_text=True)
    assert "Không có sự kiện nào khớp bộ lọc" in html
