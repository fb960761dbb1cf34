"""Abuse on the open internet (issue: slow clients, replayed ids, oversized payloads, shared
IPs): each case as an attacker would send it, and what the service answers."""

import json
import logging

import pytest
from rest_framework.test import APIClient

from hushmetrics.logs import DisallowedHostOnce
from leads.models import Lead
from leads.webhook import redirect_target
from optin.models import OptIn
from workspaces.tests.factories import WorkspaceFactory


def many_keys(count: int) -> dict[str, str]:
    return {f"k{n}": "v" for n in range(count)}


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.mark.django_db
class TestJsonFieldBudget:
    """A JSON body carries at most MAX_JSON_FIELDS (1,000) object members in all, like a form."""

    def test_webhook_refuses_60000_keys_with_a_413_and_stores_nothing(self, client, workspace):
        body = json.dumps({"email": "a@example.com", **many_keys(60_000)})
        response = client.post(f"/v1/webhook/{workspace.id}", body, content_type="application/json")
        assert response.status_code == 413
        assert response.json() == {"message": "Too many fields (limit 1000)"}
        assert Lead.objects.count() == 0

    def test_webhook_counts_members_of_nested_objects_too(self, client, workspace):
        nested = {"email": "a@example.com", "a": many_keys(600), "b": {"c": many_keys(600)}}
        response = client.post(
            f"/v1/webhook/{workspace.id}", json.dumps(nested), content_type="application/json"
        )
        assert response.status_code == 413
        assert Lead.objects.count() == 0

    def test_webhook_text_plain_json_has_the_same_budget(self, client, workspace):
        body = json.dumps({"email": "a@example.com", **many_keys(2_000)})
        response = client.post(f"/v1/webhook/{workspace.id}", body, content_type="text/plain")
        assert response.status_code == 413
        assert response.json() == {"message": "Too many fields (limit 1000)"}

    def test_webhook_accepts_a_body_at_the_budget(self, client, workspace):
        body = json.dumps({"email": "a@example.com", **many_keys(999)})
        response = client.post(f"/v1/webhook/{workspace.id}", body, content_type="application/json")
        assert response.status_code == 201
        extra_data = Lead.objects.get().extra_data
        assert extra_data is not None and len(extra_data) == 999

    def test_create_lead_refuses_a_bloated_extra_data(self, client, workspace):
        body = {"workspace_id": str(workspace.id), "extra_data": many_keys(5_000)}
        response = client.post("/v1/create-lead", json.dumps(body), content_type="application/json")
        assert response.status_code == 413
        assert response.json() == {"message": "Too many fields (limit 1000)"}
        assert Lead.objects.count() == 0

    def test_opt_in_refuses_it_in_its_own_envelope(self, client, api_key):
        body = {"email": "a@example.com", "first_name": "A", "source": "OTHER", **many_keys(1_500)}
        response = client.post(
            "/api/opt-in/submit",
            json.dumps(body),
            content_type="application/json",
            HTTP_X_API_KEY=api_key.plaintext,
        )
        assert response.status_code == 413
        assert response.json() == {"status": "error", "message": "Too many fields (limit 1000)"}
        assert OptIn.objects.count() == 0

    def test_the_budget_comes_from_the_environment(self, client, workspace, settings):
        settings.MAX_JSON_FIELDS = 10
        body = json.dumps({"email": "a@example.com", **many_keys(10)})
        response = client.post(f"/v1/webhook/{workspace.id}", body, content_type="application/json")
        assert response.status_code == 413
        assert response.json() == {"message": "Too many fields (limit 10)"}


@pytest.mark.django_db
class TestBadHostLogging:
    """A made-up `Host` is logged once per host per minute, at WARNING, with no traceback."""

    @pytest.fixture
    def records(self, caplog):
        caplog.set_level(logging.DEBUG)
        # The filter remembers hosts for a minute in this process: start each test afresh.
        for log_filter in logging.getLogger("django.security.DisallowedHost").filters:
            assert isinstance(log_filter, DisallowedHostOnce)
            log_filter._last_logged.clear()

        def security_records() -> list[logging.LogRecord]:
            return [
                r
                for r in caplog.records
                if r.name.startswith(("django.security", "django.request", "hushmetrics"))
            ]

        return security_records

    @pytest.mark.parametrize(
        "path", ["/v1/health", "/v1/create-lead", "/api/opt-in/submit", "/admin/login/"]
    )
    def test_a_flood_with_one_bad_host_logs_one_warning(self, client, records, path):
        for _ in range(20):
            response = client.post(
                path, "{}", content_type="application/json", HTTP_HOST="evil.example"
            )
            assert response.status_code == 400
        logged = records()
        assert len(logged) == 1, [r.getMessage() for r in logged]
        assert logged[0].levelno == logging.WARNING
        assert logged[0].exc_info is None
        assert "evil.example" in logged[0].getMessage()

    def test_each_host_is_logged_once(self, client, records):
        for host in ["a.example", "b.example", "a.example", "b.example"]:
            client.get("/v1/health", HTTP_HOST=host)
        assert [r.getMessage().count("a.example") for r in records()] == [1, 0]

    def test_a_huge_host_is_cut_in_the_log(self, client, records):
        client.get("/v1/health", HTTP_HOST="x" * 5000)
        (record,) = records()
        assert len(record.getMessage()) < 200


@pytest.mark.django_db
class TestWorkspaceWebhookBudget:
    """RATE_LIMIT_WEBHOOK_WORKSPACE caps a workspace's webhook whatever the IPs, on top of the
    per-(workspace, IP) RATE_LIMIT_WEBHOOK."""

    @pytest.fixture(autouse=True)
    def limits(self, settings):
        settings.RATE_LIMIT_WEBHOOK = "3/m"
        settings.RATE_LIMIT_WEBHOOK_WORKSPACE = "5/m"

    def post(self, client, workspace, ip: str, n: int) -> list[int]:
        return [
            client.post(
                f"/v1/webhook/{workspace.id}",
                {"email": f"{ip}-{i}@example.com"},
                REMOTE_ADDR=ip,
            ).status_code
            for i in range(n)
        ]

    def test_three_ips_together_get_no_more_than_the_workspace_budget(self, client, workspace):
        statuses = [
            *self.post(client, workspace, "198.51.100.1", 3),
            *self.post(client, workspace, "198.51.100.2", 3),
            *self.post(client, workspace, "198.51.100.3", 3),
        ]
        assert statuses == [201] * 5 + [429] * 4
        assert Lead.objects.filter(workspace=workspace).count() == 5

    def test_the_429_says_when_to_come_back(self, client, workspace):
        self.post(client, workspace, "198.51.100.1", 3)
        self.post(client, workspace, "198.51.100.2", 2)
        response = client.post(
            f"/v1/webhook/{workspace.id}", {"email": "x@example.com"}, REMOTE_ADDR="198.51.100.3"
        )
        assert response.status_code == 429
        assert response.json() == {"message": "Too many requests"}
        assert 1 <= int(response["Retry-After"]) <= 60

    def test_requests_one_ip_had_refused_do_not_spend_the_workspace_budget(self, client, workspace):
        assert self.post(client, workspace, "198.51.100.1", 10) == [201] * 3 + [429] * 7
        assert self.post(client, workspace, "198.51.100.2", 3) == [201, 201, 429]

    def test_another_workspace_keeps_its_own_budget(self, client, workspace, other_workspace):
        self.post(client, workspace, "198.51.100.1", 3)
        self.post(client, workspace, "198.51.100.2", 3)
        assert self.post(client, other_workspace, "198.51.100.3", 3) == [201] * 3


@pytest.fixture
def other_workspace():
    return WorkspaceFactory(name="Other Co")


@pytest.mark.django_db
class TestSubmissionIdReuse:
    """A seen submission id with the same body replays the lead; with another body it is a 409
    that reveals nothing of the stored lead (Stripe's rule for idempotency keys)."""

    CONFLICT = {"message": "This submission id was already used with a different body"}

    def post(self, client, workspace, body: dict, **headers: str):
        return client.post(
            f"/v1/webhook/{workspace.id}",
            json.dumps(body),
            content_type="application/json",
            **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
        )

    def test_a_retry_with_the_same_body_gets_the_stored_lead(self, client, workspace):
        body = {"name": "Jane Doe", "email": "jane@example.com", "phone": "+15550100"}
        first = self.post(client, workspace, body, **{"Idempotency-Key": "order-1001"})
        again = self.post(client, workspace, body, **{"Idempotency-Key": "order-1001"})
        assert first.status_code == 201
        assert again.status_code == 200
        assert again["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()

    def test_key_order_and_spacing_do_not_make_another_body(self, client, workspace):
        headers = {"Idempotency-Key": "order-7"}
        self.post(client, workspace, {"email": "a@example.com", "name": "A"}, **headers)
        again = client.post(
            f"/v1/webhook/{workspace.id}",
            '{ "name" : "A",  "email": "a@example.com" }',
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="order-7",
        )
        assert again.status_code == 200

    def test_a_guessed_key_with_another_body_gets_409_and_nothing_of_the_lead(
        self, client, workspace
    ):
        stored = {"name": "Jane Doe", "email": "jane@example.com", "phone": "+15550100"}
        self.post(client, workspace, stored, **{"Idempotency-Key": "order-1001"})
        probe = self.post(client, workspace, {"x": "1"}, **{"Idempotency-Key": "order-1001"})
        assert probe.status_code == 409
        assert probe.json() == self.CONFLICT
        assert "Idempotent-Replayed" not in probe
        for secret in ("Jane", "jane@example.com", "15550100"):
            assert secret not in probe.content.decode()
        assert Lead.objects.count() == 1

    def test_a_builder_s_own_id_is_protected_the_same_way(self, client, workspace):
        jotform = {"submissionID": "5912345678901234567", "rawRequest": '{"q3_email": "j@x.io"}'}
        assert self.post(client, workspace, jotform).status_code == 201
        forged = {**jotform, "rawRequest": '{"q3_email": "attacker@evil.test"}'}
        response = self.post(client, workspace, forged)
        assert response.status_code == 409
        assert response.json() == self.CONFLICT
        assert "j@x.io" not in response.content.decode()

    def test_a_form_post_retried_is_still_a_replay(self, client, workspace):
        form = {"name": "Jo", "email": "jo@example.com"}
        url = f"/v1/webhook/{workspace.id}"
        assert client.post(url, form, HTTP_IDEMPOTENCY_KEY="f-1").status_code == 201
        assert client.post(url, form, HTTP_IDEMPOTENCY_KEY="f-1").status_code == 200
        assert client.post(url, {**form, "x": "y"}, HTTP_IDEMPOTENCY_KEY="f-1").status_code == 409

    def test_a_lead_stored_without_a_fingerprint_is_never_revealed(self, client, workspace):
        self.post(client, workspace, {"email": "old@example.com"}, **{"Idempotency-Key": "old"})
        Lead.objects.update(submission_fingerprint=None)  # as stored before fingerprints
        again = self.post(
            client, workspace, {"email": "old@example.com"}, **{"Idempotency-Key": "old"}
        )
        assert again.status_code == 409
        assert again.json() == self.CONFLICT


@pytest.mark.django_db
class TestNextTarget:
    """`_next` with control characters is refused (never a 500 after the commit), the
    Location is the checked URL, and an https page never redirects to http. A refused
    target is ignored: the browser lands on the service's thank-you page (SPEC §8)."""

    def post(self, client, workspace, target: str, origin: str = "https://acme.example"):
        return client.post(
            f"/v1/webhook/{workspace.id}",
            {"email": "v@example.com", "_next": target},
            HTTP_ACCEPT="text/html,application/xhtml+xml",
            HTTP_ORIGIN=origin,
        )

    def assert_refused(self, response, workspace, target: str) -> None:
        assert response.status_code == 303
        assert response["Location"] == f"/v1/webhook/{workspace.id}/thanks"
        headers = {"Accept": "text/html", "Origin": "https://acme.example"}
        assert redirect_target({"_next": target}, headers) is None

    @pytest.mark.parametrize(
        "target",
        [
            "https://acme.example/thanks\r\nSet-Cookie: x=1",
            "https://acme.example/thanks\nX: 1",
            "https://acme.example/\tthanks",
            "https://acme.example/thanks page",
            "https://acme.example/thanks\x7f",
        ],
    )
    def test_control_characters_are_refused_and_the_lead_kept(self, client, workspace, target):
        response = self.post(client, workspace, target)
        self.assert_refused(response, workspace, target)
        assert "Set-Cookie" not in response and "X" not in response
        assert Lead.objects.get().email == "v@example.com"

    def test_an_https_page_never_redirects_to_http(self, client, workspace):
        response = self.post(client, workspace, "http://acme.example/thanks")
        self.assert_refused(response, workspace, "http://acme.example/thanks")

    def test_an_http_page_may_redirect_to_https(self, client, workspace):
        response = self.post(
            client, workspace, "https://acme.example/thanks", origin="http://acme.example"
        )
        assert response.status_code == 303
        assert response["Location"] == "https://acme.example/thanks"

    def test_credentials_in_the_target_are_refused(self, client, workspace):
        response = self.post(client, workspace, "https://acme.example@evil.example/thanks")
        self.assert_refused(response, workspace, "https://acme.example@evil.example/thanks")

    def test_a_valid_target_is_the_location(self, client, workspace):
        response = self.post(client, workspace, "https://ACME.example/thanks?from=form#top")
        assert response.status_code == 303
        assert response["Location"] == "https://ACME.example/thanks?from=form#top"


@pytest.mark.django_db
class TestJsonColumnBudget:
    """`utm` and `extra_data` hold at most 64 KB as JSON."""

    def test_create_lead_refuses_a_64kb_extra_data_naming_the_field(self, client, workspace):
        body = {"workspace_id": str(workspace.id), "extra_data": {"notes": "x" * 70_000}}
        response = client.post("/v1/create-lead", json.dumps(body), content_type="application/json")
        assert response.status_code == 400
        assert response.json()["errors"] == {"extra_data": ["At most 65536 bytes as JSON."]}
        assert Lead.objects.count() == 0

    def test_create_lead_refuses_a_bloated_utm(self, client, workspace):
        body = {"workspace_id": str(workspace.id), "utm": {"utm_term": "é" * 40_000}}
        response = client.post("/v1/create-lead", json.dumps(body), content_type="application/json")
        assert response.status_code == 400
        assert "utm" in response.json()["errors"]

    def test_create_lead_takes_extra_data_just_under_the_budget(self, client, workspace):
        notes = "x" * (65536 - len('{"notes":""}'))
        body = {"workspace_id": str(workspace.id), "extra_data": {"notes": notes}}
        response = client.post("/v1/create-lead", json.dumps(body), content_type="application/json")
        assert response.status_code == 201
        assert Lead.objects.get().extra_data == {"notes": notes}

    def test_the_webhook_refuses_extra_fields_past_the_budget(self, client, workspace):
        fields = {"email": "a@example.com", "message": "x" * 40_000, "more": "y" * 40_000}
        response = client.post(f"/v1/webhook/{workspace.id}", fields)
        assert response.status_code == 413
        assert response.json() == {
            "message": "Too much data: the fields kept in extra_data come to more than 65536 bytes"
        }
        assert Lead.objects.count() == 0

    def test_the_webhook_keeps_a_long_message_under_the_budget(self, client, workspace):
        fields = {"email": "a@example.com", "message": "x" * 60_000}
        response = client.post(f"/v1/webhook/{workspace.id}", fields)
        assert response.status_code == 201
        extra_data = Lead.objects.get().extra_data
        assert extra_data is not None
        assert len(extra_data["message"]) == 60_000


@pytest.mark.django_db
@pytest.mark.parametrize("padding", ["\x1e", " ", "\t"])
def test_a_string_over_its_limit_as_sent_is_refused_even_if_trimming_would_fit_it(
    client, workspace, padding
):
    # The schema's maxLength is for the string as sent; DRF trims before it checks.
    body = {"workspace_id": str(workspace.id), "name": padding + "n" * 300}
    response = client.post("/v1/create-lead", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    assert Lead.objects.count() == 0
