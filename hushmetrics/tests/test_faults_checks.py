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


LEAD, OPTIN = "lead.created", "optin.created"


def event(id: str, type: str, subject: str, created: float, **outcome) -> faults.EventRow:
    return faults.EventRow(id, type, subject, created, **{"succeeded": True, **outcome})


def test_outbound_checks_count_missing_orphan_and_duplicate_deliveries():
    events = [
        event("e1", LEAD, "lead-1", 1.0),
        event("e2", OPTIN, "optin-1", 1.0),
        event("e3", LEAD, "lead-2", 2.0, attempts=2),  # received twice, after the fault
        event("e4", LEAD, "lead-3", 2.0, succeeded=False),  # still pending: missing
        event("e5", LEAD, "lead-4", 2.0),  # succeeded, but the receiver never saw it
        event("e6", LEAD, "rolled-back", 2.0, succeeded=False, failed=True),
    ]
    receipts = [
        faults.Receipt("e1", 1.1, True),
        faults.Receipt("e1", 1.2, True),  # a duplicate before the first fault (at 1.5)
        faults.Receipt("e2", 1.1, True),
        faults.Receipt("e3", 2.1, True),
        faults.Receipt("e3", 9.0, False),  # a duplicate after it, badly signed
        faults.Receipt("e6", 2.1, True),
        faults.Receipt("stray", 3.0, True),
    ]
    leads = {"lead-1", "lead-2", "lead-3", "lead-4", "lead-5"}  # lead-5 has no event

    data = faults.check_outbound(events, leads, {"optin-1"}, receipts, first_fault=1.5)

    assert data == {
        "events": 6,
        "events delivered": 3,
        "events missing": 3,
        "deliveries failed": 1,
        "events retried": 1,
        "events without their write": 1,
        "writes without their event": 1,
        "unknown webhook-ids": 1,
        "bad signatures": 1,
        "duplicate receipts": 2,
        "duplicates before a fault": 1,
    }
    received = [receipts[0], *receipts[2:5]]
    clean = faults.check_outbound(events[:3], {"lead-1", "lead-2"}, {"optin-1"}, received, 0)
    assert [name for name in faults.OUTBOUND_MUST_BE_ZERO if clean[name]] == ["bad signatures"]


def test_outbound_figures_per_scenario_and_when_the_backlog_drained():
    scenarios = [
        faults.Scenario("baseline", "steady", 0.0),
        faults.Scenario("e. worker SIGKILL", "steady", 10.0, back=12.0),
        faults.Scenario("f. broker down", "steady", 20.0, back=30.0),
    ]
    events = [
        event("e1", LEAD, "l1", 1.0),
        event("e2", LEAD, "l2", 11.0, attempts=2),
        event("e3", LEAD, "l3", 11.5),
        event("e4", LEAD, "l4", 25.0, succeeded=False),
    ]
    receipts = [
        faults.Receipt("e1", 1.5, True),
        faults.Receipt("e2", 11.2, True),  # in flight at the kill, then redelivered
        faults.Receipt("e3", 15.5, True),
        faults.Receipt("e2", 47.0, True),
    ]

    baseline, killed, broker = (
        faults.outbound_in_scenario(events, receipts, scenarios, index) for index in range(3)
    )

    assert baseline == {
        "events": 1,
        "delivered": 1,
        "retried": 0,
        "duplicates": 0,
        "p50 s": pytest.approx(0.5),
        "max s": pytest.approx(0.5),
        "resumed s": None,  # no fault ended in it
        "drained s": None,
    }
    assert killed["events"] == killed["delivered"] == 2
    assert (killed["retried"], killed["duplicates"]) == (1, 0)
    assert (killed["p50 s"], killed["max s"]) == (pytest.approx(4.0), pytest.approx(4.0))
    assert killed["resumed s"] == pytest.approx(3.5)  # the first request after 12.0: 15.5
    assert killed["drained s"] == pytest.approx(3.5)  # e3, committed before 12.0, at 15.5
    # e4 was never received: nothing committed before the broker's return drained; the
    # duplicate of e2 arrived during this scenario.
    assert (broker["events"], broker["delivered"], broker["duplicates"]) == (1, 0, 1)
    assert broker["drained s"] is None and broker["p50 s"] is None
    assert broker["resumed s"] == pytest.approx(17.0)
