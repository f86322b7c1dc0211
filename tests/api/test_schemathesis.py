"""The OpenAPI document against the running app: schemathesis sends generated requests (valid and
invalid parameters) with an HR officer's token; no answer may be a server error, and every
answer must have a documented status, content type and schema. Bounded to a few seconds."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from learnhub import db
from tests.api import add_certificate, new_token
from tests.certificates.conftest import complete, open_class

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
]


@pytest.fixture
def hr_secret(app, create_user, unit, trainer, hr, monkeypatch):
    """An HR officer's token, with records and a certificate in scope so pages are not empty."""
    # Generated cases and the auth probes (no token, a wrong token) come fast from one address.
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 100_000)
    monkeypatch.setitem(app.config, "API_FAILURE_LIMIT", 100_000)
    klass = open_class(trainer, "SCHEMA-2026-01")
    for n in range(3):
        person = create_user(f"schema{n}", unit=unit("CM-SNV"))
        complete(klass, person, score=None if n == 2 else "7.25")
        if n == 0:
            add_certificate(klass, person)
    db.session.flush()
    return new_token(hr)


# (operation, generation mode): negative cases need parameters to break.
CASES = [
    ("/api/v1/units", GenerationMode.POSITIVE),
    ("/api/v1/completions", GenerationMode.POSITIVE),
    ("/api/v1/completions", GenerationMode.NEGATIVE),
    ("/api/v1/certificates", GenerationMode.POSITIVE),
    ("/api/v1/certificates", GenerationMode.NEGATIVE),
    ("/api/v1/openapi.json", GenerationMode.POSITIVE),
]


def test_every_operation_is_fuzzed(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    assert {path for path, _mode in CASES} == set(schema.raw_schema["paths"])


@pytest.mark.parametrize(("path", "mode"), CASES, ids=[f"{p} {m.value}" for p, m in CASES])
def test_api_matches_its_openapi_document(app, hr_secret, path, mode):
    # The schema comes from the app itself, as an HR system would read it. (Loaded here rather
    # than through schemathesis.pytest.from_fixture, which relies on pytest internals that
    # pytest 9.2 no longer has.)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path]["GET"]
    headers = {"Authorization": f"Bearer {hr_secret}"}

    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
