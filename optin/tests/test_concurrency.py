"""Simultaneous submissions on PostgreSQL: real threads released together by a barrier."""

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from leads.models import Lead
from leads.tests.factories import LeadFactory
from optin.models import OptIn
from optin.services import _lock_email
from optin.tests.conftest import SUBMIT_URL

THREADS = 32

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(key: str, body_for: Callable[[int], dict]) -> list[tuple[int, dict, str | None]]:
    """POST body_for(i) from THREADS threads at once; (status, body, replay header) each."""
    barrier = threading.Barrier(THREADS)
    slots: list[tuple[int, dict, str | None] | None] = [None] * THREADS

    def worker(index: int) -> None:
        try:
            client = APIClient()
            barrier.wait(timeout=30)
            response = client.post(SUBMIT_URL, body_for(index), format="json", HTTP_X_API_KEY=key)
            slots[index] = (
                response.status_code,
                response.json(),
                response.get("Idempotent-Replayed"),
            )
        finally:
            connection.close()  # give the pooled connection back

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    results = [result for result in slots if result is not None]
    assert len(results) == THREADS, "a thread failed or hung"
    statuses = [status for status, _, _ in results]
    assert all(status in (200, 201) for status in statuses), statuses
    return results


def test_one_reference_sent_32_times_at_once_is_one_opt_in(api_key):
    body = {
        "email": "race@example.com",
        "first_name": "Race",
        "source": "TYPEFORM",
        "external_reference": "typeform-race-1",
        "questions_answers": [{"question": "Why?", "answer": "Because", "position": 0}],
    }

    results = _race(api_key.plaintext, lambda _index: body)

    statuses = [status for status, _, _ in results]
    assert statuses.count(201) == 1
    assert statuses.count(200) == THREADS - 1
    assert len({body["data"]["opt_in_id"] for _, body, _ in results}) == 1
    assert len({body["data"]["lead_id"] for _, body, _ in results}) == 1
    assert [replayed for status, _, replayed in results if status == 200] == ["true"] * 31
    assert OptIn.objects.count() == 1
    assert Lead.objects.count() == 1
    assert OptIn.objects.get().answers.count() == 1


def test_one_new_email_in_mixed_case_sent_32_times_at_once_is_one_lead(api_key):
    spellings = ["new.person@example.com", "New.Person@Example.com", "NEW.PERSON@EXAMPLE.COM"]

    def body_for(index: int) -> dict:
        return {
            "email": spellings[index % len(spellings)],
            "first_name": "New",
            "source": "LANDING_PAGE",
            "external_reference": f"landing-{index}",
        }

    results = _race(api_key.plaintext, body_for)

    assert [body["data"]["is_new_lead"] for _, body, _ in results].count(True) == 1
    assert [status for status, _, _ in results].count(201) == 1
    assert Lead.objects.count() == 1
    lead = Lead.objects.get()
    assert {body["data"]["lead_id"] for _, body, _ in results} == {str(lead.id)}
    assert OptIn.objects.filter(lead=lead).count() == THREADS
    assert OptIn.objects.filter(is_new_lead=True).count() == 1


def test_one_reference_with_32_different_emails_is_one_opt_in_and_one_lead(api_key):
    # The losers' leads are rolled back with their attempt: the constraint decides, not a lock.
    def body_for(index: int) -> dict:
        return {
            "email": f"person{index}@example.com",
            "first_name": "P",
            "source": "CALENDLY",
            "external_reference": "calendly-shared",
        }

    results = _race(api_key.plaintext, body_for)

    assert [status for status, _, _ in results].count(201) == 1
    assert len({body["data"]["opt_in_id"] for _, body, _ in results}) == 1
    assert OptIn.objects.count() == 1
    assert Lead.objects.count() == 1


def test_a_new_email_waits_for_a_first_opt_in_of_it_still_being_written(api_key):
    """The race above made deterministic: a first opt-in of an address holds the address's
    lock with its lead written but not committed; another submission of the same address
    (in another letter case) waits for it, then joins that lead instead of making a second."""
    workspace = api_key.workspace
    holding, finished = threading.Event(), threading.Event()
    answer: dict = {}

    def submit() -> None:
        try:
            holding.wait(timeout=10)
            body = {"email": "Late@Example.com", "first_name": "Late", "source": "WEBINAR"}
            response = APIClient().post(
                SUBMIT_URL, body, format="json", HTTP_X_API_KEY=api_key.plaintext
            )
            answer.update(status=response.status_code, data=response.json()["data"])
        finally:
            connection.close()
            finished.set()

    thread = threading.Thread(target=submit)
    thread.start()
    with transaction.atomic():
        _lock_email(workspace=workspace, email="late@example.com")
        first = LeadFactory(workspace=workspace, email="late@example.com")
        holding.set()
        # Commit once the submission waits on the lock (or has answered without waiting).
        deadline = time.monotonic() + 10
        with connection.cursor() as cursor:
            while not finished.is_set() and time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.02)
    thread.join(timeout=30)

    assert answer["status"] == 200, answer
    assert (answer["data"]["lead_id"], answer["data"]["is_new_lead"]) == (str(first.id), False)
    assert Lead.objects.count() == 1
