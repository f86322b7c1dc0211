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
