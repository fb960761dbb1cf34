"""Opt-in promises the API answer and the stored rows show: a race's loser is never the new
lead, and answers sent with tied positions keep the order they were sent in (the tests
`make mutation` found missing; see TESTING.md)."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from leads.models import Lead
from leads.tests.factories import LeadFactory
from optin.models import OptIn
from optin.services import optin_submit
from optin.tests.conftest import SUBMIT_URL

THREADS = 16


def _answers(opt_in_id: str) -> list[tuple[int, str]]:
    """The answers in the order the admin lists them (by position)."""
    return list(OptIn.objects.get(pk=opt_in_id).answers.values_list("position", "question"))


@pytest.mark.django_db
def test_answers_with_tied_positions_keep_the_order_they_were_sent_in(submit):
    sent = [
        {"question": "B1", "answer": "b", "position": 2},
        {"question": "A1", "answer": "a", "position": 1},
        {"question": "B2", "answer": "b", "position": 2},
        {"question": "A2", "answer": "a", "position": 1},
        {"question": "B3", "answer": "b", "position": 2},
        {"question": "C1", "answer": "c", "position": 3},
    ]
    body = {"email": "a@example.com", "first_name": "A", "source": "TYPEFORM"}

    response = submit({**body, "questions_answers": sent})

    assert response.status_code == 201
    assert _answers(response.json()["data"]["opt_in_id"]) == [
        (1, "A1"),
        (1, "A2"),
        (2, "B1"),
        (2, "B2"),
        (2, "B3"),
        (3, "C1"),
    ]


@pytest.mark.django_db
def test_answers_all_at_one_position_are_all_stored_in_the_order_sent(submit):
    sent = [{"question": f"Q{n}", "answer": str(n), "position": 0} for n in range(5)]
    body = {"email": "a@example.com", "first_name": "A", "source": "TYPEFORM"}

    response = submit({**body, "questions_answers": sent})

    assert response.status_code == 201
    assert _answers(response.json()["data"]["opt_in_id"]) == [(0, f"Q{n}") for n in range(5)]


@pytest.mark.django_db
def test_a_known_email_fills_only_blank_fields_and_is_not_a_new_lead(submit, workspace):
    lead = LeadFactory(workspace=workspace, email="jane@example.com", name="", phone="")
    body = {
        "email": "JANE@example.com",
        "first_name": "Jane",
        "last_name": "Doe",
        "phone_e164": "+14155552671",
        "phone_country": "US",
        "source": "LANDING_PAGE",
        "traffic": {"utm_source": "fb", "landing_page": "https://a.example/apply"},
    }

    response = submit(body)

    assert response.status_code == 200
    assert response.json()["data"]["is_new_lead"] is False
    assert response.json()["data"]["lead_id"] == str(lead.id)
    row = Lead.objects.get(pk=lead.pk)
    assert (row.name, row.phone, row.utm, row.page_url) == (
        "Jane Doe",
        "+14155552671",
        {"utm_source": "fb"},
        "https://a.example/apply",
    )
    assert OptIn.objects.get().is_new_lead is False


@pytest.mark.django_db
def test_the_service_called_with_only_the_required_fields_stores_blanks(api_key):
    result = optin_submit(
        api_key=api_key, email="min@example.com", first_name="Min", source="LANDING_PAGE"
    )

    opt_in = OptIn.objects.get(pk=result.opt_in.pk)
    lead = Lead.objects.get(pk=opt_in.lead_id)
    assert (result.is_new_lead, result.replayed) == (True, False)
    assert (opt_in.last_name, opt_in.phone_e164, opt_in.phone_country) == ("", "", "")
    assert (opt_in.provider_form_id, opt_in.provider_form_name) == ("", "")
    assert opt_in.external_reference is None
    assert (opt_in.utm_source, opt_in.referrer, opt_in.landing_page) == ("", "", "")
    assert (lead.name, lead.phone, lead.utm, lead.page_url) == ("Min", "", None, None)
    assert opt_in.answers.count() == 0


def _race(key: str, body_for) -> list[tuple[int, dict, str | None]]:
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def worker(index: int) -> None:
        try:
            client = APIClient()
            barrier.wait(timeout=30)
            response = client.post(SUBMIT_URL, body_for(index), format="json", HTTP_X_API_KEY=key)
            results[index] = (
                response.status_code,
                response.json(),
                response.get("Idempotent-Replayed"),
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(result is not None for result in results), "a thread failed or hung"
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("emails", ["same", "different"])
def test_the_losers_of_a_same_reference_race_are_replays_and_not_the_new_lead(api_key, emails):
    def body_for(index: int) -> dict:
        email = "race@example.com" if emails == "same" else f"racer{index}@example.com"
        return {
            "email": email,
            "first_name": "Race",
            "source": "TYPEFORM",
            "external_reference": "typeform-race-new-lead",
        }

    results = _race(api_key.plaintext, body_for)

    winners = [body for status, body, _ in results if status == 201]
    losers = [(body, replayed) for status, body, replayed in results if status != 201]
    assert len(winners) == 1
    assert winners[0]["data"]["is_new_lead"] is True
    assert len(losers) == THREADS - 1
    assert all(status == 200 for status, _, _ in results if status != 201)
    assert [body["data"]["is_new_lead"] for body, _ in losers] == [False] * (THREADS - 1)
    assert [replayed for _, replayed in losers] == ["true"] * (THREADS - 1)
    assert {body["data"]["opt_in_id"] for body, _ in losers} == {winners[0]["data"]["opt_in_id"]}
    assert Lead.objects.count() == 1
    assert OptIn.objects.get().is_new_lead is True
