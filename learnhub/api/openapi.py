"""The OpenAPI 3.0 description of /api/v1, served at /api/v1/openapi.json.

Kept next to the endpoints and checked against them by tests/api/test_schemathesis.py: every
documented parameter is sent with generated values, and every answer must match its schema.
"""

import copy

from learnhub.api import (
    API_PREFIX,
    CERTIFICATE_STATUSES,
    COMPLETION_STATUSES,
    DEFAULT_LIMIT,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_LIMIT,
)
from learnhub.orgunits.models import UnitKind


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
    "429": {"$ref": "#/components/responses/TooManyRequests"},
}
_LIST_ERRORS = {"400": {"$ref": "#/components/responses/BadRequest"}, **_ERRORS}

_PAGING = [
    _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "Items per page.",
    ),
    _query(
        "after",
        {"type": "string", "maxLength": 200},
        "The `next` value of the previous page (an opaque, signed cursor bound to the resource "
        "and the filters); leave out for the first page. A changed cursor answers 400.",
    ),
]

_DATE = {"type": "string", "format": "date"}
_DATE_TIME = {"type": "string", "format": "date-time"}
_CODE = {"type": "string", "minLength": 1, "maxLength": 40}

_SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "description": "What went wrong (Vietnamese)."}},
    },
    "Unit": {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "name", "kind", "parent", "valid_from", "valid_to", "successor"],
        "properties": {
            "code": {"type": "string", "description": "Stable unit code, e.g. CM-SNV."},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": [k.value for k in UnitKind]},
            "parent": _nullable({"type": "string", "description": "Code of the parent unit."}),
            "valid_from": _nullable(_DATE),
            "valid_to": _nullable(_DATE),
            "successor": _nullable(
                {
                    "type": "string",
                    "description": "Code of the unit that holds this unit's records today "
                    "(after a merger or abolition).",
                }
            ),
        },
    },
    "UnitList": {
        "type": "object",
        "additionalProperties": False,
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": _ref("Unit")}},
    },
    "CompletionRecord": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "full_name",
            "login",
            "unit",
            "class",
            "module",
            "status",
            "completed_at",
            "score",
            "attendance_share",
            "certificate_number",
        ],
        "properties": {
            "id": {"type": "integer", "description": "The enrolment's id (the paging key)."},
            "full_name": {"type": "string", "description": "Họ và tên, Unicode NFC."},
            "login": {"type": "string", "description": "Login name or e-mail."},
            "unit": _nullable({"type": "string", "description": "Code of the person's unit."}),
            "class": {"type": "string", "description": "Class code."},
            "module": {"type": "string", "description": "Module slug."},
            "status": {"type": "string", "enum": list(COMPLETION_STATUSES)},
            "completed_at": _nullable(
                {**_DATE_TIME, "description": "ISO 8601 with the province's offset (+07:00)."}
            ),
            "score": _nullable(
                {"type": "number", "minimum": 0, "maximum": 10, "description": "Quiz result /10."}
            ),
            "attendance_share": _nullable({"type": "number", "minimum": 0, "maximum": 1}),
            "certificate_number": _nullable(
                {"type": "string", "description": "Số vào sổ of the valid certificate."}
            ),
        },
    },
    "CompletionPage": {
        "type": "object",
        "additionalProperties": False,
        "required": ["items", "next"],
        "properties": {
            "items": {"type": "array", "items": _ref("CompletionRecord")},
            "next": _nullable({"type": "string", "description": "Cursor of the next page."}),
        },
    },
    "Certificate": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "number",
            "serial",
            "kind",
            "status",
            "year",
            "issued_on",
            "valid_until",
            "revoked_at",
            "full_name",
            "login",
            "unit",
            "class",
            "module",
            "verify_url",
        ],
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string", "description": "Số vào sổ, e.g. 015/2026/GCN-SNV."},
            "serial": {"type": "string", "description": "Số hiệu printed on the certificate."},
            "kind": {"type": "string", "enum": ["certificate", "confirmation"]},
            "status": {"type": "string", "enum": list(CERTIFICATE_STATUSES)},
            "year": {"type": "integer"},
            "issued_on": _DATE,
            "valid_until": _nullable(_DATE),
            "revoked_at": _nullable(_DATE_TIME),
            "full_name": {"type": "string"},
            "login": {"type": "string"},
            "unit": _nullable({"type": "string"}),
            "class": {"type": "string"},
            "module": {"type": "string"},
            "verify_url": {"type": "string", "format": "uri"},
        },
    },
    "CertificatePage": {
        "type": "object",
        "additionalProperties": False,
        "required": ["items", "next"],
        "properties": {
            "items": {"type": "array", "items": _ref("Certificate")},
            "next": _nullable({"type": "string"}),
        },
    },
}

_ERROR_BODY = {"application/json": {"schema": _ref("Error")}}

_RESPONSES = {
    "BadRequest": {"description": "A parameter is not valid.", "content": _ERROR_BODY},
    "Unauthorized": {
        "description": "No token, or an unknown, malformed, expired or revoked token, or its "
        "owner's account is disabled.",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
        "content": _ERROR_BODY,
    },
    "Forbidden": {
        "description": "The token's owner no longer holds the HR (or admin) role.",
        "content": _ERROR_BODY,
    },
    "TooManyRequests": {
        "description": "Rate limit reached; retry after the given number of seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
        "content": _ERROR_BODY,
    },
}

_DESCRIPTION = """\
Read-only JSON for provincial HR systems: the organisational-unit tree, completion records and
certificates of LearnHub Cà Mau.

Authenticate with a personal API token (created by an HR officer or an administrator at
`/account/tokens`) in the header `Authorization: Bearer <token>`. A token acts as its owner and
sees exactly what the owner's HR scope covers: the people of the owner's units, their subtrees
and the units merged into them (administrators: everyone). Browser sessions are not accepted.

Lists are paged by key: pass `limit` (1–500) and, for the following pages, `after` set to the
`next` value of the previous answer; `next` is null on the last page. Dates are ISO 8601
(`YYYY-MM-DD`); times carry the province's offset (+07:00). Errors are `{"error": "…"}` with
status 400, 401, 403, 404 or 429.
"""

DOCUMENT: dict = {
    "openapi": "3.0.3",
    "info": {
        "title": "LearnHub Cà Mau API",
        "version": "1.0.0",
        "description": _DESCRIPTION,
    },
    "security": [{"bearerAuth": []}],
    "paths": {
        f"{API_PREFIX}/units": {
            "get": {
                "operationId": "listUnits",
                "summary": "The organisational-unit tree, parents before their children.",
                "responses": {"200": _json(_ref("UnitList"), "Every unit."), **_ERRORS},
            }
        },
        f"{API_PREFIX}/completions": {
            "get": {
                "operationId": "listCompletions",
                "summary": "Completion records: one per enrolment, with its completion if any.",
                "description": (
                    "The same records, with the same status and period, as the HR records page "
                    "and its CSV/XLSX exports (one definition, docs/records.md). Status: "
                    "`completed` when the person completed the class; otherwise `not_completed` "
                    "once the class has ended (its end date is before today in the province); "
                    "otherwise `in_progress`. The class's own open/closed state plays no part."
                ),
                "parameters": [
                    *_PAGING,
                    _query(
                        "unit",
                        _CODE,
                        "Unit code: people of that unit, its subtree and units merged into it.",
                    ),
                    _query(
                        "from",
                        _DATE,
                        "First day, inclusive: records of classes that end on or after it "
                        "(every record, completed or not, falls on the day its class ends).",
                    ),
                    _query("to", _DATE, "Last day, inclusive (see `from`)."),
                    _query("module", {"type": "string", "minLength": 1, "maxLength": 100}, "Slug."),
                    _query("class", _CODE, "Class code (case does not matter)."),
                    _query(
                        "status",
                        {"type": "string", "enum": list(COMPLETION_STATUSES)},
                        "completed; not_completed (the class has ended without a completion); "
                        "in_progress (the class has not ended yet).",
                    ),
                    _query(
                        "q",
                        {"type": "string", "minLength": 1, "maxLength": 100},
                        "Person: every word in the name or the login, ignoring case and "
                        "diacritics.",
                    ),
                ],
                "responses": {
                    "200": _json(_ref("CompletionPage"), "A page of records, by id."),
                    **_LIST_ERRORS,
                },
            }
        },
        f"{API_PREFIX}/certificates": {
            "get": {
                "operationId": "listCertificates",
                "summary": "Certificates the token's owner may see (the register's rules).",
                "parameters": [
                    *_PAGING,
                    _query(
                        "year",
                        {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR},
                        "Register year.",
                    ),
                    _query(
                        "status",
                        {"type": "string", "enum": list(CERTIFICATE_STATUSES)},
                        "Status today (a valid certificate past its validity is expired).",
                    ),
                    _query("class", _CODE, "Class code."),
                ],
                "responses": {
                    "200": _json(_ref("CertificatePage"), "A page of certificates, by id."),
                    **_LIST_ERRORS,
                },
            }
        },
        f"{API_PREFIX}/openapi.json": {
            "get": {
                "operationId": "openapiDocument",
                "summary": "This document (no token needed).",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
            }
        },
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal API token (lhp_…), created at /account/tokens.",
            }
        },
        "schemas": _SCHEMAS,
        "responses": _RESPONSES,
    },
}


def document() -> dict:
    """A copy of the document (callers may change theirs)."""
    return copy.deepcopy(DOCUMENT)
