"""The submission's query count does not grow with its Q&A."""

import pytest
from django.db import connection

from leads.tests.factories import LeadFactory
from workspaces.tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _body(reference: str, answers: int, email: str) -> dict:
    return {
        "email": email,
        "first_name": "Jane",
        "last_name": "Doe",
        "source": "TYPEFORM",
        "external_reference": reference,
        "questions_answers": [
            {"question": f"Question {i}?", "answer": f"Answer {i}", "position": i}
            for i in range(answers)
        ],
        "traffic": {"utm_source": "facebook", "utm_content": "user_2setter"},
    }


@pytest.fixture
def warm_key(submit, workspace):
    """The key's last_used_at is stamped, so no request below writes it (≤ once a minute)."""
    ProfileFactory(workspace=workspace, clerk_user_id="user_2setter")
    assert submit(_body("warm-up", 0, "warm@example.com")).status_code == 201


# Counted as in production: no test-wrapping transaction (transaction=True), so the
# service's transaction is BEGIN … COMMIT (counted by transaction_queries()).
#  1. SELECT api key by prefix (authentication)
#  2. SELECT opt-in by (workspace, source, external_reference) (idempotency; no transaction)
#  -  SELECT pg_advisory_xact_lock(…) (PostgreSQL only: SQLite writers are already serial)
#  3. SELECT active profile by clerk id (setter from utm_content)
#  4. SELECT earliest lead by LOWER(email)
#  5. INSERT lead, opt-in and question answers (however many): one statement on PostgreSQL
#     (`hushmetrics.inserts.rows_insert`), three INSERTs elsewhere
def new_lead_queries() -> int:
    return 5 if connection.vendor == "postgresql" else 7


def transaction_queries() -> int:
    """BEGIN and COMMIT, and on PostgreSQL the advisory lock between them."""
    return 3 if connection.vendor == "postgresql" else 2


@pytest.mark.usefixtures("warm_key")
@pytest.mark.parametrize("answers", [1, 50])
def test_new_lead_submission_query_count_does_not_grow_with_answers(
    submit, django_assert_num_queries, answers
):
    expected = new_lead_queries() + transaction_queries()
    with django_assert_num_queries(expected):
        response = submit(_body(f"new-{answers}", answers, f"new{answers}@example.com"))
    assert response.status_code == 201


# As above, but the lead exists: its blank fields are filled in by one UPDATE, then the
# opt-in and its answers are one INSERT statement on PostgreSQL (two elsewhere).
def existing_lead_queries() -> int:
    return 6 if connection.vendor == "postgresql" else 7


@pytest.mark.usefixtures("warm_key")
@pytest.mark.parametrize("answers", [1, 50])
def test_existing_lead_submission_query_count_does_not_grow_with_answers(
    submit, workspace, django_assert_num_queries, answers
):
    LeadFactory(workspace=workspace, email="known@example.com", phone="")
    expected = existing_lead_queries() + transaction_queries()
    with django_assert_num_queries(expected):
        response = submit(_body(f"known-{answers}", answers, "KNOWN@example.com"))
    assert response.status_code == 200


#  1. SELECT api key; 2. SELECT opt-in by reference — found. No lock, nothing written.
REPLAY_QUERIES = 2


@pytest.mark.usefixtures("warm_key")
def test_replay_reads_and_writes_nothing_else(submit, django_assert_num_queries):
    with django_assert_num_queries(REPLAY_QUERIES):
        response = submit(_body("warm-up", 0, "warm@example.com"))
    assert response["Idempotent-Replayed"] == "true"
