"""/healthz answers ok when the app and the database answer, and says so when not."""

from learnhub import create_app


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_healthz_reports_a_dead_database(tmp_path):
    broken = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path}/no/such/dir/db",
        }
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert "database" in response.get_data(as_text=True)
    broken.extensions["learnhub.engine"].dispose()


def test_pages_say_when_the_database_is_unavailable(tmp_path):
    """Not a 500: a page that says the database is unavailable, asks to retry (Retry-After) and
    needs nothing from the database to render; JSON clients get JSON."""
    broken = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path}/no/such/dir/db",
        }
    )
    client = broken.test_client()
    response = client.get("/verify/ABCDEFGHABCDEFGHABCDEFGHAB")
    text = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Hệ thống tạm thời gián đoạn" in text
    assert "Traceback" not in text
    api = client.get("/api/v1/units", headers={"Authorization": "Bearer x"})
    assert api.status_code == 503
    assert api.get_json()["error"] == "Hệ thống tạm thời gián đoạn"
    broken.extensions["learnhub.engine"].dispose()
