"""The pure checks of bench/faults.py: what counts as an allowed failure, and recovery."""

import json

import pytest

from bench import faults

UNAVAILABLE = "Service temporarily unavailable, please retry"


ERROR_B = {"status": "error", "message": UNAVAILABLE}


@pytest.mark.parametrize(
    ("endpoint", "status", "body", "retry_after", "kind"),
    [
        ("create-lead", 503, {"message": UNAVAILABLE}, "5", "503"),
        ("opt-in", 503, ERROR_B, "5", "503"),
        ("opt-in ref", 429, {"status": "error", "message": "Too many requests"}, "60", "429"),
        # The other surface's envelope, a 503 without Retry-After, a 500, an HTML page.
        ("opt-in", 503, {"message": UNAVAILABLE}, "5", "bad"),
        ("webhook JSON", 503, {"message": UNAVAILABLE}, None, "bad"),
        ("create-lead", 500, {"message": "Internal server error"}, "5", "bad"),
        ("create-lead", 503, "<h1>Service Unavailable</h1>", "5", "bad"),
    ],
)
def test_only_json_503s_and_429s_in_their_surfaces_envelope_are_allowed_failures(
    endpoint, status, body, retry_after, kind
):
    html = isinstance(body, str)
    answer = faults.Result(
        endpoint,
        0.0,
        0.1,
        status,
        "text/html; charset=utf-8" if html else "application/json",
        retry_after,
        body if html else json.dumps(body),
    )
    assert faults.failure_kind(answer) == kind


def test_recovery_waits_for_every_endpoint_and_names_the_last_failure():
    def result(endpoint: str, started: float, status: int) -> faults.Result:
        return faults.Result(endpoint, started, started + 0.1, status)

    back = 10.0
    results = [
        result("create-lead", 9.0, 503),
        result("create-lead", 10.5, 201),
        result("opt-in", 10.2, 503),
        result("opt-in", 11.9, 201),
    ]
    every, last_failure = faults.recovery(results, back)
    assert every == pytest.approx(2.0)
    assert last_failure == pytest.approx(0.2)

    never, _ = faults.recovery([*results, result("webhook form", 12.0, 503)], back)
    assert never is None


def test_an_optins_answers_follow_from_its_email_and_are_sent_out_of_order():
    body = faults.optin_body("ref-7@faults.example", external_reference="ref-7")

    assert faults.answers_for("ref-7@faults.example") == [
        ("Question 0 for ref-7@faults.example", "Answer 0", 0),
        ("Question 1 for ref-7@faults.example", "Answer 1", 1),
    ]
    assert [item["position"] for item in body["questions_answers"]] == [1, 0]
    assert (body["source"], body["external_reference"]) == ("TYPEFORM", "ref-7")
