"""GET /v1/leads (SPEC §10): filters, orders, keyset pagination, the cursor, bad input."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from leads.cursors import CURSOR_SALT
from leads.models import Lead
from leads.tests.factories import LeadFactory
from workspaces.tests.factories import ApiKeyFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(lead: Lead, created: datetime, updated: datetime | None = None) -> Lead:
    """Give `lead` these timestamps (auto_now fields cannot be set through save)."""
    Lead.objects.filter(pk=lead.pk).update(created_at=created, updated_at=updated or created)
    lead.refresh_from_db()
    return lead


@pytest.fixture
def reader(workspace) -> APIClient:
    key = ApiKeyFactory(workspace=workspace, scopes=["leads:read"])
    return APIClient(HTTP_X_API_KEY=key.plaintext)


@pytest.fixture
def leads(workspace) -> list[Lead]:
    """Six leads an hour apart (oldest first), of varied status, source and spam."""
    specs: list[dict[str, Any]] = [
        {"name": "Ana Garcia", "email": "Ana@Example.com", "status": "contact", "source": "ad"},
        {"name": "Bo Chen", "email": "bo@example.org", "status": "won", "source": "website"},
        {"name": "Cy Smith", "email": "cy@acme.test", "status": "won", "source": "ad"},
        {"name": "Spam Bot", "email": "bot@spam.test", "is_spam": True, "source": "ad"},
        {"name": "Di Rossi", "email": "di@example.com", "phone": "+15550001234"},
        {"name": "Ed Kim", "email": "ed@example.com", "status": "lost", "source": "email"},
    ]
    return [
        at(LeadFactory(workspace=workspace, **spec), T0 + timedelta(hours=n))
        for n, spec in enumerate(specs)
    ]


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.json()
    return [lead["name"] for lead in response.json()["data"]]


def get_all(client: APIClient, **params: Any) -> list[dict[str, Any]]:
    """Every page of the query, following next_cursor."""
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = client.get("/v1/leads", {**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.json()
        body = response.json()
        seen.extend(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_newest_first_without_spam_by_default(reader, leads):
    response = reader.get("/v1/leads")
    assert names(response) == ["Ed Kim", "Di Rossi", "Cy Smith", "Bo Chen", "Ana Garcia"]
    body = response.json()
    assert body["next_cursor"] is None
    first = body["data"][0]
    assert first["created_at"] == "2026-03-01T17:00:00+00:00"
    assert set(first) == {
        "id", "workspace_id", "name", "email", "phone", "status", "source", "value",
        "created_by", "utm", "extra_data", "page_url", "created_at", "updated_at",
        "setter", "is_spam",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"order": "created_at"}, ["Ana Garcia", "Bo Chen", "Cy Smith", "Di Rossi", "Ed Kim"]),
        ({"status": "won"}, ["Cy Smith", "Bo Chen"]),
        ({"source": "ad"}, ["Cy Smith", "Ana Garcia"]),
        ({"status": "won", "source": "ad"}, ["Cy Smith"]),
        ({"email": "ANA@example.COM"}, ["Ana Garcia"]),
        ({"email": "ana@example"}, []),  # exact, not contains
        ({"q": "ROSS"}, ["Di Rossi"]),  # name, any case
        ({"q": "example.org"}, ["Bo Chen"]),  # email
        ({"q": "0001234"}, ["Di Rossi"]),  # phone
        ({"q": "%%%"}, []),  # LIKE wildcards are text
        ({"q": "Di Rossi"}, ["Di Rossi"]),  # a space within one field
        # The search index joins the fields with spaces; a term across two is no match.
        ({"q": "example.com Di"}, []),
        ({"q": "Rossi +1555"}, []),
        ({"spam": "only"}, ["Spam Bot"]),
        ({"spam": "include"},
         ["Ed Kim", "Di Rossi", "Spam Bot", "Cy Smith", "Bo Chen", "Ana Garcia"]),
        # Bounds are exclusive.
        ({"created_after": "2026-03-01T14:00:00+00:00"}, ["Ed Kim", "Di Rossi"]),
        ({"created_before": "2026-03-01T14:00:00Z"}, ["Bo Chen", "Ana Garcia"]),
        ({"created_after": "2026-03-01T13:00:00", "created_before": "2026-03-01T16:00:00"},
         ["Cy Smith"]),
        # Another offset is the same instant.
        ({"created_after": "2026-03-01T09:00:00-05:00"}, ["Ed Kim", "Di Rossi"]),
        # `+00:00` sent unencoded arrives as a space: read as the + it was.
        ({"created_after": "2026-03-01T14:00:00 00:00"}, ["Ed Kim", "Di Rossi"]),
        ({"created_after": "2026-03-02"}, []),
    ],
)  # fmt: skip
def test_filters(reader, leads, params, expected):
    assert names(reader.get("/v1/leads", params)) == expected


def test_updated_at_order_and_updated_after(reader, leads):
    # Touch Bo then Ana later: oldest change first, exclusive bound.
    at(leads[1], leads[1].created_at, T0 + timedelta(days=1))
    at(leads[0], leads[0].created_at, T0 + timedelta(days=2))
    assert names(reader.get("/v1/leads", {"order": "updated_at"}))[-2:] == ["Bo Chen", "Ana Garcia"]
    since = reader.get(
        "/v1/leads", {"order": "updated_at", "updated_after": "2026-03-02T12:00:00Z"}
    )
    assert names(since) == ["Ana Garcia"]


def test_another_workspaces_leads_are_never_listed(reader, leads):
    other = WorkspaceFactory()
    LeadFactory(workspace=other, name="Not Yours", email="ana@example.com")
    listed = get_all(reader, spam="include", limit=1)
    assert "Not Yours" not in [lead["name"] for lead in listed]
    assert names(reader.get("/v1/leads", {"email": "ana@example.com"})) == ["Ana Garcia"]


@pytest.mark.parametrize("order", ["-created_at", "created_at", "updated_at"])
def test_paging_sees_every_lead_once_even_with_equal_timestamps(reader, workspace, order):
    # 25 leads sharing 5 timestamps: the id breaks ties, so pages neither skip nor repeat.
    made = [at(LeadFactory(workspace=workspace), T0 + timedelta(minutes=n % 5)) for n in range(25)]
    seen = get_all(reader, order=order, limit=4)
    ids = [lead["id"] for lead in seen]
    assert sorted(ids) == sorted(str(lead.id) for lead in made)
    assert len(ids) == len(set(ids)) == 25
    keys = [
        (lead.created_at if order != "updated_at" else lead.updated_at, str(lead.id))
        for lead in made
    ]
    expected = sorted(keys, reverse=order.startswith("-"))
    assert ids == [lead_id for _value, lead_id in expected]


def test_limit_and_next_cursor(reader, leads):
    first = reader.get("/v1/leads", {"limit": 2}).json()
    assert [lead["name"] for lead in first["data"]] == ["Ed Kim", "Di Rossi"]
    second = reader.get("/v1/leads", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [lead["name"] for lead in second["data"]] == ["Cy Smith", "Bo Chen"]
    # The limit may change between pages; the filters and order may not.
    last = reader.get("/v1/leads", {"limit": 200, "cursor": second["next_cursor"]}).json()
    assert ([lead["name"] for lead in last["data"]], last["next_cursor"]) == (["Ana Garcia"], None)
    exact = reader.get("/v1/leads", {"limit": 5}).json()
    assert len(exact["data"]) == 5 and exact["next_cursor"] is None  # no empty last page


def test_filtered_paging_keeps_the_filter(reader, workspace):
    for n in range(7):
        at(
            LeadFactory(workspace=workspace, status="won" if n % 2 else "lost"),
            T0 + timedelta(minutes=n),
        )
    seen = get_all(reader, status="won", limit=2)
    assert [lead["status"] for lead in seen] == ["won"] * 3


def _page_cursor(client: APIClient, **params: Any) -> str:
    cursor = client.get("/v1/leads", {"limit": 1, **params}).json()["next_cursor"]
    assert cursor
    return str(cursor)


@pytest.mark.parametrize(
    ("cursor_params", "query_params"),
    [
        ({}, {"status": "won"}),  # a filter added
        ({"status": "won"}, {"status": "lost"}),  # a filter changed
        ({"status": "won"}, {}),  # a filter dropped
        ({}, {"order": "created_at"}),  # another order
        ({"q": "example"}, {"q": "EXAMPLE"}),
        ({"spam": "exclude"}, {"spam": "include"}),
        ({}, {"created_after": "2026-01-01T00:00:00Z"}),
    ],
)
def test_a_cursor_is_only_valid_for_its_own_query(reader, leads, cursor_params, query_params):
    cursor = _page_cursor(reader, **cursor_params)
    response = reader.get("/v1/leads", {"limit": 1, "cursor": cursor, **query_params})
    assert response.status_code == 400
    assert "another query" in response.json()["errors"]["cursor"][0]


def test_the_default_written_out_is_the_same_query(reader, leads):
    cursor = _page_cursor(reader)
    explicit = {"order": "-created_at", "spam": "exclude", "cursor": cursor}
    assert reader.get("/v1/leads", explicit).status_code == 200


def test_a_cursor_of_another_workspace_is_refused(reader, leads):
    other = WorkspaceFactory()
    for n in range(3):
        at(LeadFactory(workspace=other, name=f"Other {n}"), T0 + timedelta(minutes=n))
    other_client = APIClient(
        HTTP_X_API_KEY=ApiKeyFactory(workspace=other, scopes=["leads:read"]).plaintext
    )
    foreign = _page_cursor(other_client)
    response = reader.get("/v1/leads", {"limit": 1, "cursor": foreign})
    assert response.status_code == 400
    assert "Other" not in response.content.decode()


def test_forged_truncated_and_stale_cursors_are_400s(reader, leads, settings):
    cursor = _page_cursor(reader)
    payload = signing.loads(cursor, salt=CURSOR_SALT)
    forged_payload = {**payload, "k": ["2026-03-01T14:00:00+00:00", str(uuid.uuid4())]}
    forged_with_other_key = signing.dumps(forged_payload, salt=CURSOR_SALT, key="not-our-key")
    unsigned = cursor.rsplit(":", 1)[0]
    head, stamp, sig = cursor.rsplit(":", 2)
    flipped = f"{head[:-1]}{'A' if head[-1] != 'A' else 'B'}:{stamp}:{sig}"
    other_salt = signing.dumps(payload, salt="something-else")
    for bad in (
        cursor[:-3],
        cursor[: len(cursor) // 2],
        unsigned,
        flipped,
        forged_with_other_key,
        other_salt,
        "x",
        "..:::",
        "%00",
        "é" * 40,
    ):
        response = reader.get("/v1/leads", {"cursor": bad})
        assert response.status_code == 400, bad
        assert response.json()["message"].startswith("cursor: This cursor is not valid")
    # Signed by us, but with the keyset in a shape we never write: still a 400.
    odd = signing.dumps({**payload, "k": "nonsense"}, salt=CURSOR_SALT)
    assert reader.get("/v1/leads", {"cursor": odd}).status_code == 400
    # Stale: older than CURSOR_MAX_AGE.
    import leads.cursors as cursors

    old = cursors.CURSOR_MAX_AGE
    cursors.CURSOR_MAX_AGE = timedelta(seconds=-1)
    try:
        stale = reader.get("/v1/leads", {"cursor": cursor})
    finally:
        cursors.CURSOR_MAX_AGE = old
    assert stale.status_code == 400
    assert "expired" in stale.json()["message"]


def test_a_cursor_made_with_another_secret_key_is_refused(reader, leads, settings):
    cursor = _page_cursor(reader)
    settings.SECRET_KEY = "rotated-" + "x" * 50
    assert reader.get("/v1/leads", {"cursor": cursor}).status_code == 400


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": "0"}, "limit", "limit must be a whole number from 1 to 200"),
        ({"limit": "201"}, "limit", "limit must be a whole number from 1 to 200"),
        ({"limit": "-5"}, "limit", "limit must be a whole number from 1 to 200"),
        ({"limit": "ten"}, "limit", "limit must be a whole number from 1 to 200"),
        ({"limit": "2.5"}, "limit", "limit must be a whole number from 1 to 200"),
        ({"limit": ""}, "limit", "limit must be a whole number from 1 to 200"),
        ({"limit": "9" * 2000}, "limit", "limit must be a whole number from 1 to 200"),
        ({"status": "closed"}, "status", "status must be one of: contact, qualified, proposal, "
         "negotiation, won, lost"),
        ({"status": "WON"}, "status", "status must be one of"),
        ({"source": "tiktok"}, "source", "source must be one of: website, referral, social, ad, "
         "email, cold_call, other"),
        ({"spam": "yes"}, "spam", "spam must be one of: exclude, only, include"),
        ({"order": "-updated_at"}, "order", "order must be one of: -created_at, created_at, "
         "updated_at"),
        ({"order": "name"}, "order", "order must be one of"),
        ({"q": "ab"}, "q", "q must be at least 3 characters"),
        ({"q": ""}, "q", "q must be at least 3 characters"),
        ({"q": "x" * 201}, "q", "no more than 200"),
        ({"email": ""}, "email", "may not be blank"),
        ({"created_after": "yesterday"}, "created_after", "Enter an ISO 8601 date and time"),
        ({"created_after": "2026-02-30T00:00:00Z"}, "created_after", "ISO 8601"),
        ({"created_before": "2026-03-01T25:00:00Z"}, "created_before", "ISO 8601"),
        ({"updated_after": "1700000000"}, "updated_after", "ISO 8601"),
        ({"updated_after": "2026-03-01T00:00:00+25:00"}, "updated_after", "ISO 8601"),
        ({"created_after": "0001-01-01T00:00:00+01:00"}, "created_after", "ISO 8601"),
        ({"created_after": "9999-12-31T23:59:59-01:00"}, "created_after", "ISO 8601"),
        ({"page": "2"}, "page", "page is not a parameter of this endpoint"),
        ({"offset": "50"}, "offset", "offset is not a parameter of this endpoint"),
        ({"Status": "won"}, "Status", "Status is not a parameter of this endpoint"),
    ],
)  # fmt: skip
def test_bad_parameters_are_400s_naming_them(reader, leads, params, field, message):
    response = reader.get("/v1/leads", params)
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"]
    assert message in body["errors"][field][0]
    assert field in body["message"]


def test_every_bad_parameter_is_named_at_once(reader, leads):
    body = reader.get("/v1/leads", {"limit": "0", "q": "a", "nope": "1"}).json()
    assert set(body["errors"]) == {"limit", "q", "nope"}


def test_a_parameter_given_twice_is_a_400(reader, leads):
    response = reader.get("/v1/leads?status=won&status=lost")
    assert response.status_code == 400
    assert response.json()["errors"] == {"status": ["status may be given only once"]}


def test_a_nul_in_a_search_matches_no_lead(reader, leads):
    # No stored lead holds one (every surface strips them): an empty page, not an error.
    for params in ({"q": "Ana\x00"}, {"email": "ana@example.com\x00"}, {"q": "\x00\x00\x00"}):
        response = reader.get("/v1/leads", params)
        assert (response.status_code, response.json()) == (200, {"data": [], "next_cursor": None})


def test_nul_and_odd_text_in_parameters_is_never_a_500(reader, leads):
    for query in ("q=a%00bc", "email=%00", "q=%ED%A0%80xx", "q=%FF%FE%FD", "cursor=%00", "%00=1"):
        response = reader.get(f"/v1/leads?{query}")
        assert response.status_code in (200, 400), query
        assert response.json()  # JSON either way, never an error page


def test_no_key_bad_key_and_missing_scope(workspace, leads):
    assert APIClient().get("/v1/leads").status_code == 401
    bad = APIClient(HTTP_X_API_KEY="sk_live_" + "x" * 40).get("/v1/leads")
    assert (bad.status_code, bad.json()) == (401, {"message": "Invalid or revoked API key"})
    for scopes in (["ingest"], ["leads:write"]):
        key = ApiKeyFactory(workspace=workspace, scopes=scopes)
        response = APIClient(HTTP_X_API_KEY=key.plaintext).get("/v1/leads")
        assert response.status_code == 403
        assert response.json() == {"message": "This API key lacks the leads:read scope"}


def test_the_path_works_with_and_without_a_trailing_slash(reader, leads):
    assert names(reader.get("/v1/leads/"))[0] == "Ed Kim"
    assert reader.post("/v1/leads", {}, format="json").status_code == 405


def test_rate_limit_read_per_key(workspace, leads, settings):
    settings.RATE_LIMIT_READ = "3/h"
    first = APIClient(
        HTTP_X_API_KEY=ApiKeyFactory(workspace=workspace, scopes=["leads:read"]).plaintext
    )
    second = APIClient(
        HTTP_X_API_KEY=ApiKeyFactory(workspace=workspace, scopes=["leads:read"]).plaintext
    )
    assert [first.get("/v1/leads").status_code for _ in range(3)] == [200, 200, 200]
    throttled = first.get("/v1/leads")
    assert throttled.status_code == 429
    assert throttled.json() == {"message": "Too many requests"}
    assert int(throttled["Retry-After"]) >= 1
    assert second.get("/v1/leads").status_code == 200  # per key


def test_query_count_is_the_same_on_every_page(reader, workspace, django_assert_num_queries):
    for n in range(30):
        at(LeadFactory(workspace=workspace), T0 + timedelta(minutes=n))
    reader.get("/v1/leads", {"limit": 5})  # stamps the key's last_used_at (once a minute)
    cursor = None
    for _page in range(6):
        # 1. the API key with its workspace (authentication); 2. the page of leads (limit + 1
        # rows, keyset condition). No COUNT, no per-lead query, whatever the depth.
        with django_assert_num_queries(2):
            response = reader.get(
                "/v1/leads", {"limit": 5, **({"cursor": cursor} if cursor else {})}
            )
        assert response.status_code == 200
        cursor = response.json()["next_cursor"]
    assert cursor is None


def test_the_page_query_uses_the_keyset_not_an_offset(reader, workspace):
    for n in range(6):
        at(LeadFactory(workspace=workspace), T0 + timedelta(minutes=n))
    cursor = _page_cursor(reader)
    with CaptureQueriesContext(connection) as queries:
        reader.get("/v1/leads", {"limit": 1, "cursor": cursor})
    page_sql = queries.captured_queries[-1]["sql"].upper()
    assert "OFFSET" not in page_sql and "LIMIT 2" in page_sql
