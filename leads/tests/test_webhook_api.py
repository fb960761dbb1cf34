"""POST /v1/webhook/{workspace_id} (A.2) over HTTP."""

import json
import re
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.models import Lead
from leads.tests.conftest import SAMPLE_NAMES, assert_lead_matches, load_sample, post_sample
from workspaces.tests.factories import ApiKeyFactory, WorkspaceFactory

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
NOT_FOUND = {"message": "Workspace not found"}

pytestmark = pytest.mark.django_db


def post_json(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def documented_lead(lead: Lead, workspace) -> dict:
    return {
        "id": str(lead.id),
        "workspace_id": str(workspace.id),
        "name": "John Smith",
        "email": "john@example.com",
        "phone": "",
        "status": "contact",
        "source": "website",
        "value": 0,
        "created_by": None,
        "utm": {"utm_source": "google", "utm_medium": "cpc"},
        "extra_data": {"company": "Acme Inc", "message": "I'd like a demo"},
        "page_url": "https://example.com/contact",
        "created_at": lead.created_at.replace(microsecond=0).isoformat(),
        "updated_at": lead.updated_at.replace(microsecond=0).isoformat(),
    }


def test_the_documented_json_request_returns_the_documented_lead(
    api_client, workspace, webhook_url
):
    body = {
        "name": "John Smith",
        "email": "john@example.com",
        "source": "website",
        "utm_source": "google",
        "utm_medium": "cpc",
        "company": "Acme Inc",
        "message": "I'd like a demo",
    }

    response = post_json(api_client, webhook_url, body, HTTP_REFERER="https://example.com/contact")

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert response.json() == documented_lead(lead, workspace)
    assert list(response.json()) == list(documented_lead(lead, workspace))
    assert ISO_UTC.match(response.json()["created_at"])
    assert (lead.status, lead.is_spam, lead.submission_id) == ("contact", False, None)


def test_the_documented_form_request_returns_the_documented_shape(
    api_client, workspace, webhook_url
):
    response = api_client.post(
        webhook_url,
        "name=John+Smith&email=john@example.com&source=website&utm_source=google",
        content_type="application/x-www-form-urlencoded",
        HTTP_REFERER="https://example.com/contact",
    )

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert response.json() == {
        **documented_lead(lead, workspace),
        "utm": {"utm_source": "google"},
        "extra_data": None,
    }


def test_a_trailing_slash_works_without_a_redirect(api_client, webhook_url):
    response = post_json(api_client, webhook_url + "/", {"name": "A"})
    assert response.status_code == 201
    assert Lead.objects.get().name == "A"


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_each_builder_sample_stores_the_lead_its_expect_describes(
    api_client, workspace, webhook_url, name
):
    sample = load_sample(name)
    expect = sample["expect"]

    response = post_sample(api_client, webhook_url, sample)

    assert response.status_code == expect.get("status_code", 201)
    if "location" in expect:
        assert response["Location"] == expect["location"]
    lead = Lead.objects.get()
    assert response.json()["id"] == str(lead.id)
    stored = {
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "page_url": lead.page_url,
        "utm": lead.utm,
        "extra_data": lead.extra_data,
    }
    assert_lead_matches(stored, expect)
    assert_lead_matches(response.json(), expect)
    assert lead.status == "contact"


@pytest.mark.parametrize(
    "name", [name for name in SAMPLE_NAMES if load_sample(name)["expect"].get("retry_is_duplicate")]
)
def test_a_retried_builder_submission_yields_one_lead(api_client, webhook_url, name):
    sample = load_sample(name)
    first = post_sample(api_client, webhook_url, sample)
    lead = Lead.objects.get()
    updated_at = lead.updated_at

    retry = post_sample(api_client, webhook_url, sample)

    assert first.status_code == sample["expect"].get("status_code", 201)
    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1
    assert Lead.objects.get().updated_at == updated_at


def test_the_same_submission_id_in_another_workspace_is_another_lead(api_client):
    sample = load_sample("tally.json")
    for workspace in (WorkspaceFactory(), WorkspaceFactory()):
        response = post_sample(api_client, f"/v1/webhook/{workspace.id}", sample)
        assert response.status_code == 201
    assert Lead.objects.count() == 2


def test_an_idempotency_key_makes_a_retry_a_duplicate(api_client, webhook_url):
    first = post_json(api_client, webhook_url, {"name": "A"}, HTTP_IDEMPOTENCY_KEY="k-1")
    retry = post_json(api_client, webhook_url, {"name": "A"}, HTTP_IDEMPOTENCY_KEY="k-1")
    other = post_json(api_client, webhook_url, {"name": "A"}, HTTP_IDEMPOTENCY_KEY="k-2")

    assert (first.status_code, retry.status_code, other.status_code) == (201, 200, 201)
    assert retry.json()["id"] == first.json()["id"] != other.json()["id"]
    assert Lead.objects.count() == 2
    assert Lead.objects.get(pk=first.json()["id"]).submission_id == "key:k-1"


def test_json_sent_as_text_plain_is_read_as_json(api_client, webhook_url):
    body = json.dumps({"name": "Ana", "email": "ana@example.com", "utm_source": "x"})

    response = api_client.post(webhook_url, body, content_type="text/plain")

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.utm) == ("Ana", "ana@example.com", {"utm_source": "x"})


def test_an_html_text_plain_form_is_read_as_key_value_lines(api_client, webhook_url):
    body = "name=Ana Silva\r\nemail=ana@example.com\r\nnote=a=b\r\n"

    response = api_client.post(webhook_url, body, content_type="text/plain")

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.extra_data) == (
        "Ana Silva",
        "ana@example.com",
        {"note": "a=b"},
    )


@pytest.mark.parametrize(
    ("body", "extra_data"),
    [
        # a textarea's further lines, a blank one and one that starts with `=` among them
        ("name=Ana\r\nmsg=Hi\r\n\r\n= see below\r\nbye\r\n", {"msg": "Hi\n\n= see below\nbye"}),
        # lines before the first field (no browser writes them) are kept, under ""
        ("stray\r\nname=Ana\r\nnote=x", {"": "stray", "note": "x"}),
    ],
)
def test_a_text_plain_forms_continuation_lines_belong_to_the_field_above(
    api_client, webhook_url, body, extra_data
):
    response = api_client.post(webhook_url, body, content_type="text/plain")

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.name, lead.extra_data) == ("Ana", extra_data)


def test_an_array_of_one_object_is_that_submission_and_of_two_a_400(api_client, webhook_url):
    one = api_client.post(webhook_url, '[{"name": "Ana"}]', content_type="application/json")
    two = api_client.post(
        webhook_url, '[{"name": "Ana"}, {"name": "Rui"}]', content_type="application/json"
    )

    assert (one.status_code, one.json()["name"]) == (201, "Ana")
    assert two.status_code == 400
    assert two.json() == {
        "message": "A JSON array body must hold exactly one object: "
        "send each submission as its own request"
    }
    assert Lead.objects.count() == 1


def test_multipart_fields_past_max_body_bytes_are_a_413_files_are_not(
    api_client, webhook_url, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big_file = SimpleUploadedFile("big.bin", b"x" * 50_000, content_type="application/octet-stream")

    with_file = api_client.post(webhook_url, {"name": "Ana", "f": big_file}, format="multipart")
    big_field = api_client.post(webhook_url, {"name": "A" * 2000}, format="multipart")

    assert with_file.status_code == 201
    assert with_file.json()["extra_data"] == {
        "f": {"name": "big.bin", "size": 50_000, "content_type": "application/octet-stream"}
    }
    assert big_field.status_code == 413
    assert big_field.json() == {"message": "Request body too large (limit 1000 bytes)"}
    assert Lead.objects.count() == 1


def test_json_sent_under_the_form_content_type_is_read_as_json(api_client, webhook_url):
    body = json.dumps({"name": "Ana+Silva", "tags": ["a", "b"]})

    response = api_client.post(webhook_url, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.name, lead.extra_data) == ("Ana+Silva", {"tags": ["a", "b"]})


def test_multipart_stores_file_names_sizes_and_types_not_files(api_client, webhook_url):
    upload = SimpleUploadedFile("cv.pdf", b"%PDF-1.4 not stored", content_type="application/pdf")

    response = api_client.post(
        webhook_url, {"name": "Ana", "resume": upload, "note": "hi"}, format="multipart"
    )

    assert response.status_code == 201
    lead = Lead.objects.get()
    # SPEC A.2 (round 2): their names, sizes and types go to extra_data.
    assert (lead.name, lead.extra_data) == (
        "Ana",
        {"resume": {"name": "cv.pdf", "size": 19, "content_type": "application/pdf"}, "note": "hi"},
    )


def test_repeated_form_keys_become_a_list(api_client, webhook_url):
    response = api_client.post(
        webhook_url,
        "name=Ana&interest=seo&interest=ads&colour[]=red&colour[]=blue",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 201
    assert Lead.objects.get().extra_data == {"interest": ["seo", "ads"], "colour": ["red", "blue"]}


def test_lenient_fields_never_lose_the_submission(api_client, webhook_url):
    body = {"name": "Ana", "source": "Billboard", "value": "a lot", "status": "won"}

    response = post_json(api_client, webhook_url, body)

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.source, lead.value, lead.status) == ("other", 0, "contact")
    assert lead.extra_data == {"source": "Billboard", "value": "a lot", "status": "won"}
    assert response.json()["value"] == 0


def test_a_parsed_value_is_stored_as_money(api_client, webhook_url):
    response = api_client.post(
        webhook_url, "name=A&value=1%2C500.50", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 201
    assert response.json()["value"] == 1500.5
    assert str(Lead.objects.get().value) == "1500.50"


def test_protected_fields_in_the_body_have_no_effect(api_client, workspace, webhook_url):
    other = WorkspaceFactory()
    body: dict[str, Any] = {
        "name": "A",
        "id": str(uuid.uuid4()),
        "workspace_id": str(other.id),
        "status": "won",
        "is_spam": True,
        "created_by": str(uuid.uuid4()),
        "submission_id": "forged",
    }

    response = post_json(api_client, webhook_url, body)

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.id != uuid.UUID(body["id"])
    assert (lead.workspace_id, lead.status, lead.is_spam) == (workspace.id, "contact", False)
    assert (lead.created_by_id, lead.submission_id) == (None, None)
    assert lead.extra_data == {key: value for key, value in body.items() if key != "name"}


def test_a_number_out_of_float_range_is_kept_as_text_not_a_crash(api_client, webhook_url):
    body = '{"name": "A", "budget": 1e400, "ratio": -2.5e-400, "value": 1e400}'

    response = api_client.post(webhook_url, body, content_type="application/json")

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.extra_data == {"budget": "1e400", "ratio": -0.0, "value": "1e400"}
    assert lead.value == 0


def test_nul_characters_are_stripped_not_a_crash(api_client, webhook_url):
    response = post_json(api_client, webhook_url, {"name": "A\x00na", "n\x00ote": {"x": "\x00"}})
    assert response.status_code == 201
    assert (Lead.objects.get().name, Lead.objects.get().extra_data) == ("Ana", {"note": {"x": ""}})


@pytest.mark.parametrize("honeypot", ["_gotcha", "_honeypot"])
def test_a_filled_honeypot_stores_spam_and_answers_as_for_a_real_lead(
    api_client, webhook_url, honeypot
):
    real = api_client.post(
        webhook_url, "name=Real", content_type="application/x-www-form-urlencoded"
    )
    spam = api_client.post(
        webhook_url, f"name=Bot&{honeypot}=buy", content_type="application/x-www-form-urlencoded"
    )

    assert real.status_code == spam.status_code == 201
    assert set(spam.json()) == set(real.json())
    assert "is_spam" not in spam.json()
    assert Lead.objects.get(pk=spam.json()["id"]).is_spam is True
    assert Lead.objects.get(pk=spam.json()["id"]).extra_data is None
    assert Lead.objects.get(pk=real.json()["id"]).is_spam is False


def test_next_on_the_posting_pages_host_is_a_303(api_client, webhook_url):
    response = api_client.post(
        webhook_url,
        "name=Ana&_next=https%3A%2F%2Fshop.example.com%2Fthanks",
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT="text/html",
        HTTP_ORIGIN="https://shop.example.com",
    )
    assert response.status_code == 303
    assert response["Location"] == "https://shop.example.com/thanks"
    assert Lead.objects.get().extra_data is None


def test_a_foreign_host_next_is_not_followed(api_client, webhook_url):
    response = api_client.post(
        webhook_url,
        "name=Ana&_next=https%3A%2F%2Fevil.example%2Fphish",
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT="text/html",
        HTTP_ORIGIN="https://shop.example.com",
        HTTP_REFERER="https://shop.example.com/contact",
    )
    # SPEC §8: a browser post whose `_next` is ignored lands on the service's thank-you page.
    assert response.status_code == 303
    assert response["Location"] == (
        f"{webhook_url}/thanks?back=https%3A%2F%2Fshop.example.com%2Fcontact"
    )
    assert response.json()["id"] == str(Lead.objects.get().id)


def test_next_is_ignored_for_a_client_that_does_not_take_html(api_client, webhook_url):
    response = api_client.post(
        webhook_url,
        "name=Ana&_redirect=https%3A%2F%2Fshop.example.com%2Fthanks",
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT="application/json",
        HTTP_ORIGIN="https://shop.example.com",
    )
    assert response.status_code == 201
    assert "Location" not in response


def test_wordpress_gets_200_with_the_same_body(api_client, webhook_url):
    response = post_json(
        api_client, webhook_url, {"name": "A"}, HTTP_USER_AGENT="WordPress/6.6; https://x.example"
    )
    assert response.status_code == 200
    assert response.json()["id"] == str(Lead.objects.get().id)
    assert response.json()["name"] == "A"


def test_a_preflight_from_any_origin_gets_cors_headers(api_client, webhook_url):
    response = api_client.options(
        webhook_url,
        HTTP_ORIGIN="https://any-site.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, idempotency-key",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "idempotency-key", "framer-webhook-submission-id"} <= allowed
    assert "Access-Control-Allow-Credentials" not in response


def test_a_cross_origin_post_gets_cors_headers(api_client, webhook_url):
    response = post_json(api_client, webhook_url, {"name": "A"}, HTTP_ORIGIN="https://x.example")
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == "*"


def test_a_valid_key_of_the_workspace_is_accepted(api_client, workspace, webhook_url, api_key):
    response = post_json(api_client, webhook_url, {"name": "A"}, HTTP_X_API_KEY=api_key.plaintext)
    assert response.status_code == 201
    assert Lead.objects.count() == 1


# --- 4xx: status, body, nothing written ----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", "application/json"),
        ("{}", "application/json"),
        ("", "application/x-www-form-urlencoded"),
        ("_gotcha=&_next=https%3A%2F%2Fx.example", "application/x-www-form-urlencoded"),
        ("", "text/plain"),
    ],
)
def test_a_body_without_fields_is_a_400(api_client, webhook_url, body, content_type):
    response = api_client.post(webhook_url, body, content_type=content_type)

    assert response.status_code == 400
    assert response.json() == {"message": "Request body has no fields"}
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("[1, 2]", "application/json", "JSON body must be an object"),
        ('"text"', "text/plain", "JSON body must be an object"),
        (
            "{not json",
            "text/plain",
            "JSON parse error - Expecting property name enclosed in "
            "double quotes: line 1 column 2 (char 1)",
        ),
        ("just words", "text/plain", "text/plain body is neither JSON nor key=value lines"),
        (
            '{"name": NaN}',
            "application/json",
            "JSON parse error - Out of range float values are not JSON compliant: 'NaN'",
        ),
    ],
)
def test_an_unreadable_body_is_a_400(api_client, webhook_url, body, content_type, message):
    response = api_client.post(webhook_url, body, content_type=content_type)

    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert Lead.objects.count() == 0


def test_an_unsupported_content_type_is_a_415_naming_the_four_it_takes(api_client, webhook_url):
    response = api_client.post(webhook_url, "<lead/>", content_type="application/xml")

    assert response.status_code == 415
    assert response.json() == {
        "message": 'Unsupported media type "application/xml" in request. Send the body as '
        "application/json, application/x-www-form-urlencoded, multipart/form-data or text/plain."
    }
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("workspace_id", [str(uuid.uuid4()), "not-a-uuid", "1"])
def test_an_unknown_or_malformed_workspace_is_a_404(api_client, db, workspace_id):
    response = post_json(api_client, f"/v1/webhook/{workspace_id}", {"name": "A"})

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert Lead.objects.count() == 0


def test_a_workspace_with_the_webhook_disabled_is_a_404(api_client):
    workspace = WorkspaceFactory(webhook_enabled=False)

    response = post_json(api_client, f"/v1/webhook/{workspace.id}", {"name": "A"})

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert Lead.objects.count() == 0


def test_a_bad_key_is_a_401(api_client, webhook_url):
    response = post_json(api_client, webhook_url, {"name": "A"}, HTTP_X_API_KEY="sk_live_nope")

    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or revoked API key"}
    assert Lead.objects.count() == 0


def test_a_key_of_another_workspace_is_a_401(api_client, webhook_url):
    foreign = ApiKeyFactory(workspace=WorkspaceFactory())

    response = post_json(api_client, webhook_url, {"name": "A"}, HTTP_X_API_KEY=foreign.plaintext)

    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or revoked API key"}
    assert Lead.objects.count() == 0


# --- query budget ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_webhook_post_without_an_id_runs_two_queries(api_client, django_assert_num_queries):
    # transaction=True: no test-wrapping transaction, so no savepoints are counted, as in
    # production (autocommit, no ATOMIC_REQUESTS).
    workspace = WorkspaceFactory()
    # 1. SELECT the workspace; 2. INSERT the lead.
    with django_assert_num_queries(2):
        response = post_json(api_client, f"/v1/webhook/{workspace.id}", {"name": "A"})
    assert response.status_code == 201
    # The worker remembers the workspace for WORKSPACE_CACHE_SECONDS: only the INSERT.
    with django_assert_num_queries(1):
        response = post_json(api_client, f"/v1/webhook/{workspace.id}", {"name": "B"})
    assert response.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_a_webhook_post_with_an_id_runs_two_queries(api_client, django_assert_num_queries):
    workspace = WorkspaceFactory()
    url = f"/v1/webhook/{workspace.id}"
    sample = load_sample("tally.json")
    # 1. SELECT the workspace; 2. INSERT the lead (the unique submission id guards retries).
    with django_assert_num_queries(2):
        response = post_sample(api_client, url, sample)
    assert response.status_code == 201
    # A retry (workspace remembered): 1. the INSERT, refused; 2. SELECT the stored lead.
    with django_assert_num_queries(2):
        response = post_sample(api_client, url, sample)
    assert response.status_code == 200
