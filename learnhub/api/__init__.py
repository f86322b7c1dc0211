"""The read-only JSON API (/api/v1/…) for provincial HR systems, and personal API tokens.

The constants below are shared by the endpoints (views.py) and their description (openapi.py).
"""

API_PREFIX = "/api/v1"
#: Page sizes of the list endpoints (?limit=).
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
#: A completion record (reports.records): completed; in progress until its class ends; not
#: completed once it has ended.
COMPLETION_STATUSES = ("completed", "in_progress", "not_completed")
#: A certificate on a given day (valid past its valid_until date reads as expired).
CERTIFICATE_STATUSES = ("valid", "expired", "revoked", "superseded")
#: Certificate years accepted by ?year=.
FIRST_YEAR, LAST_YEAR = 2000, 2100
