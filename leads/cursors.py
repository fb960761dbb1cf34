"""The opaque cursor of GET /v1/leads: where the next page starts, bound to the query it
came from.

A cursor is the last lead's sort value and id (the keyset), signed with Django's signing
(SECRET_KEY, a salt of its own, a timestamp) together with a digest of the key's workspace,
the order and the filters. So a forged, truncated or edited cursor fails the signature, one
made for another workspace or other filters fails the digest, and one older than
CURSOR_MAX_AGE is stale: each a 400, never a page of rows it was not made for.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core import signing

# The salt names the format: a change to what a cursor holds changes it, and every older
# cursor then fails its signature (a 400) instead of being misread.
CURSOR_SALT = "hushmetrics.leads.cursor.v1"
# Long enough for any paging run, even a paused one; a sync job resumes later from
# `updated_after`, not from a cursor kept for weeks.
CURSOR_MAX_AGE = timedelta(days=7)


class InvalidCursor(ValueError):
    """The cursor cannot be used for this query; the message says why, for the 400."""


@dataclass(frozen=True)
class Keyset:
    """The last row of a page, in the list's order: its sort value and its id."""

    value: datetime
    id: uuid.UUID


def query_digest(*, workspace_id: uuid.UUID, order: str, filters: dict[str, Any]) -> str:
    """What a cursor is bound to: the workspace, the order and every filter (not `limit`,
    which may change from page to page)."""
    canonical = json.dumps(
        {"workspace": str(workspace_id), "order": order, "filters": filters},
        sort_keys=True,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def cursor_encode(*, keyset: Keyset, digest: str) -> str:
    """The signed, URL-safe cursor for the page after `keyset`."""
    payload = {"k": [keyset.value.isoformat(), str(keyset.id)], "q": digest}
    return signing.dumps(payload, salt=CURSOR_SALT, compress=True)


def cursor_decode(cursor: str, *, digest: str) -> Keyset:
    """The keyset `cursor` holds, if it was made by this service for this very query and is
    not stale; else InvalidCursor."""
    try:
        payload = signing.loads(cursor, salt=CURSOR_SALT, max_age=CURSOR_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidCursor(
            "This cursor has expired: start again without it (sync jobs: use updated_after)"
        ) from None
    except (signing.BadSignature, ValueError, TypeError, OverflowError):
        # BadSignature covers a forged or cut cursor; the others a malformed one.
        raise InvalidCursor("This cursor is not valid: pass next_cursor exactly as given") from None
    if not isinstance(payload, dict) or payload.get("q") != digest:
        raise InvalidCursor(
            "This cursor belongs to another query: pass the same filters and order as the "
            "request that returned it"
        )
    try:
        value, lead_id = payload["k"]
        return Keyset(value=datetime.fromisoformat(value), id=uuid.UUID(lead_id))
    except (KeyError, TypeError, ValueError):
        raise InvalidCursor("This cursor is not valid: pass next_cursor exactly as given") from None
