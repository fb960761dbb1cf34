"""Simultaneous submissions on PostgreSQL: real threads released together by a barrier."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from leads.models import Lead
from optin.models import OptIn
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
