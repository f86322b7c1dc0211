"""Issue 14, finding 4: a birth date in the future was accepted."""

from datetime import timedelta

import pytest

from learnhub import db
from learnhub.accounts import services
from learnhub.audit.services import Actor
from learnhub.timeutil import today
from tests.support import csrf_token


def test_finding4_birth_date_in_the_future_refused(admin, learner, client, login):
    tomorrow = today() + timedelta(days=1)
    with pytest.raises(services.BadBirthDate, match="không được sau ngày hôm nay"):
        services.create_user(
            Actor(admin), full_name="Lê Văn Tương Lai", login="tuonglai", birth_date=tomorrow
        )
    with pytest.raises(services.BadBirthDate):
        services.update_profile(Actor(admin), learner, birth_date=tomorrow)
    assert learner.birth_date != tomorrow
    services.update_profile(Actor(admin), learner, birth_date=today())  # today is a date of birth
    login(admin)
    url = f"/admin/users/{learner.id}"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "full_name": learner.full_name,
            "login": learner.login,
            "birth_date": tomorrow.strftime("%d/%m/%Y"),
            "unit": learner.unit.code if learner.unit else "",
        },
    )
    assert response.status_code == 400
    assert "Ngày sinh không được sau ngày hôm nay." in response.get_data(as_text=True)
    db.session.expire_all()
    assert learner.birth_date == today()
