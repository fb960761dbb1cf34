"""Concurrent webhook retries on PostgreSQL: one submission id, one lead."""

import json
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from leads.models import Lead
from leads.tests.conftest import load_sample, post_sample
from workspaces.tests.factories import WorkspaceFactory

RETRIES = 10


def _race(url: str, send) -> list:
    barrier = threading.Barrier(RETRIES)
    results: list = [None] * RETRIES

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = send(APIClient(), url)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(RETRIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_retries_with_one_idempotency_key_make_one_lead():
    workspace = WorkspaceFactory()

    def send(client, url):
        return client.post(
            url,
            json.dumps({"name": "Ana", "email": "ana@example.com"}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="retry-me",
        )

    responses = _race(f"/v1/webhook/{workspace.id}", send)

    assert all(response is not None for response in responses)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (RETRIES - 1) + [201]
    lead = Lead.objects.get()
    assert {response.json()["id"] for response in responses} == {str(lead.id)}
    assert lead.submission_id == "key:retry-me"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["framer.json", "tally.json", "jotform.json"])
def test_ten_concurrent_builder_retries_make_one_lead(name):
    workspace = WorkspaceFactory()
    sample = load_sample(name)

    responses = _race(f"/v1/webhook/{workspace.id}", lambda c, url: post_sample(c, url, sample))

    assert all(
        response is not None and response.status_code in (200, 201) for response in responses
    )
    assert sum(response.status_code == 201 for response in responses) == 1
    lead = Lead.objects.get()
    assert {response.json()["id"] for response in responses} == {str(lead.id)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_bodies_with_one_key_make_one_lead_and_reveal_it_to_no_other():
    workspace = WorkspaceFactory()
    sent = iter(range(RETRIES))
    lock = threading.Lock()

    def send(client, url):
        with lock:
            n = next(sent)
        return client.post(
            url,
            json.dumps({"email": f"person-{n}@example.com"}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="shared-key",
        )

    responses = _race(f"/v1/webhook/{workspace.id}", send)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (RETRIES - 1)
    lead = Lead.objects.get()
    for response in responses:
        if response.status_code == 409:
            assert lead.email not in response.content.decode()
