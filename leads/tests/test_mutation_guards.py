"""What the lead service and the webhook's money, redirect and retry-key helpers promise, as
the stored row and the HTTP answer show it (the tests `make mutation` found missing; see
TESTING.md)."""

import hashlib
import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from leads.models import Lead
from leads.services import lead_create, lead_edit, lead_touch, lead_update
from leads.tests.conftest import load_sample, post_sample
from leads.tests.factories import LeadFactory
from outbound.tests.factories import DestinationFactory
from workspaces.tests.factories import ProfileFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
HTML = {"HTTP_ACCEPT": "text/html"}


def _post_json(api_client, url, body, **headers):
    return api_client.post(url, json.dumps(body), content_type="application/json", **headers)


# --- money: what a builder posts is what is stored ------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("1,500", "1500.00"),  # a thousands comma, not a decimal one
        ("12,5", "12.50"),  # one digit after a lone comma: decimals
        ("12,50", "12.50"),
        ("1 500", "1500.00"),
        ("1\u00a0500", "1500.00"),  # a no-break space, as browsers' number formatting sends
        ("1'500", "1500.00"),  # Swiss grouping
        ("1,500,000", "1500000.00"),
        ("1,50,000", "150000.00"),  # Indian grouping (lakh): every comma is a separator
        ("1.500,50", "1500.50"),
        ("1,500.50", "1500.50"),
        ("$1,500", "1500.00"),
        ("1.500,00 €", "1500.00"),
        ("USD 99", "99.00"),
        ("99 EUR", "99.00"),
        ("0,99", "0.99"),
        (".5", "0.50"),
        ("999999999999.99", "999999999999.99"),  # the largest amount the column holds
        ("10.005", "10.00"),
        ("10.015", "10.02"),  # half to even, to the cent
    ],
)
def test_a_posted_amount_is_stored_as_that_many_units(api_client, webhook_url, raw, stored):
    response = _post_json(api_client, webhook_url, {"name": "Ana", "value": raw})

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.value == Decimal(stored)
    assert str(lead.value) == stored
    assert response.json()["value"] == float(stored)
    assert (lead.extra_data or {}).get("value") is None  # understood, so not kept raw


@pytest.mark.parametrize(
    ("raw", "stored"),
    [(1500, "1500.00"), (19.99, "19.99"), (0, "0.00"), (1e3, "1000.00")],
)
def test_a_json_number_is_stored_as_money(api_client, webhook_url, raw, stored):
    response = _post_json(api_client, webhook_url, {"name": "Ana", "value": raw})

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert str(lead.value) == stored
    assert (lead.extra_data or {}).get("value") is None  # zero included: it was understood


@pytest.mark.parametrize(
    "raw",
    [
        "1000000000000",  # past the column
        "-1,500",
        "1-500",
        "1.2.3,4,5",
        "1,000.000,50",  # a comma on both sides of the point: no reading is safe
        "1.500,000.50",
        "12abc",
        "1e5",
        "$",
        "-",
        ".",
        ",",
        "NaN",
        "Infinity",
        True,
        {"amount": 1500},
    ],
)
def test_an_amount_that_cannot_be_read_stores_zero_and_keeps_what_was_sent(
    api_client, webhook_url, raw
):
    response = _post_json(api_client, webhook_url, {"name": "Ana", "value": raw})

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.value == Decimal("0")
    assert lead.extra_data is not None
    assert lead.extra_data["value"] == raw


def test_an_amount_sent_as_a_list_is_read_from_its_first_answer_and_kept(api_client, webhook_url):
    # A field sent more than once is read from its first non-empty answer (issue 17); the
    # list is kept as it was sent.
    response = _post_json(api_client, webhook_url, {"name": "Ana", "value": ["", "1,500", "9"]})

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.value == Decimal("1500.00")
    assert lead.extra_data is not None
    assert lead.extra_data["value"] == ["", "1,500", "9"]


def test_a_form_encoded_amount_with_spaces_and_a_comma_is_stored(api_client, webhook_url):
    response = api_client.post(webhook_url, "name=Ana&value=+1+500%2C5+", content_type=FORM)

    assert response.status_code == 201
    assert str(Lead.objects.get().value) == "1500.50"


# --- redirect: `_next` only back to the posting page's own site -----------------------------


def _form(api_client, url, next_field: str, **headers):
    return api_client.post(url, f"name=Ana&{next_field}", content_type=FORM, **headers)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_ORIGIN": "https://shop.example.com"},
        {"HTTP_REFERER": "https://shop.example.com/contact"},
    ],
    ids=["no-origin-no-referer", "null-origin", "same-origin", "referer"],
)
@pytest.mark.parametrize(
    "target",
    ["javascript:alert(1)", "JavaScript://shop.example.com/%0aalert(1)", "data:text/html,hi"],
)
def test_a_script_next_is_never_followed(api_client, webhook_url, headers, target):
    response = _form(api_client, webhook_url, f"_next={quote(target)}", **HTML, **headers)

    # A browser's post lands on our own thank-you page instead (SPEC §8).
    assert response.status_code == 303
    assert response["Location"].startswith(f"{webhook_url}/thanks")
    assert "script" not in response["Location"].lower()
    assert "data:" not in response["Location"]
    assert Lead.objects.get().name == "Ana"


@pytest.mark.parametrize(
    ("next_field", "headers", "location"),
    [
        # Host names compare case-insensitively.
        (
            "_next=https%3A%2F%2FShop.Example.COM%2Fthanks",
            {"HTTP_ORIGIN": "https://shop.example.com"},
            "https://Shop.Example.COM/thanks",
        ),
        # http and https both count as the posting page's site.
        (
            "_next=http%3A%2F%2Fshop.example.com%2Fthanks",
            {"HTTP_REFERER": "http://shop.example.com/form"},
            "http://shop.example.com/thanks",
        ),
        # `_redirect` is read when `_next` is empty.
        (
            "_next=&_redirect=https%3A%2F%2Fshop.example.com%2Fok",
            {"HTTP_ORIGIN": "https://shop.example.com"},
            "https://shop.example.com/ok",
        ),
        # A `null` Origin (sandboxed frame, file://) falls back to the Referer.
        (
            "_next=https%3A%2F%2Fshop.example.com%2Fthanks",
            {"HTTP_ORIGIN": "null", "HTTP_REFERER": "https://shop.example.com/contact"},
            "https://shop.example.com/thanks",
        ),
        # Printable punctuation is no control character; an http page may go to https.
        (
            "_next=https%3A%2F%2Fshop.example.com%2Fthanks%21",
            {"HTTP_ORIGIN": "http://shop.example.com"},
            "https://shop.example.com/thanks!",
        ),
    ],
)
def test_a_next_on_the_posting_site_is_a_303_to_it(
    api_client, webhook_url, next_field, headers, location
):
    response = _form(api_client, webhook_url, next_field, HTTP_ACCEPT="Text/HTML", **headers)

    assert response.status_code == 303
    assert response["Location"] == location
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    ("next_field", "headers"),
    [
        ("_next=ftp%3A%2F%2Fshop.example.com%2Ff", {"HTTP_ORIGIN": "https://shop.example.com"}),
        ("_next=%2F%2Fshop.example.com%2Fthanks", {"HTTP_ORIGIN": "https://shop.example.com"}),
        ("_next=http%3A%2F%2F%5B%3A%3A1", {"HTTP_ORIGIN": "http://[::1]"}),  # unparsable
        ("_next=https%3A%2F%2Fshop.example.com%2Fx", {"HTTP_ORIGIN": "http://[::1"}),
        (
            "_next=https%3A%2F%2Fshop.example.com%3A8443%2Fx",
            {"HTTP_ORIGIN": "https://shop.example.com"},
        ),
        ("_next=https%3A%2F%2Fshop.example.com%2Fx", {"HTTP_ORIGIN": "ftp://shop.example.com"}),
        (
            "_next=https%3A%2F%2Fshop.example.com%2Fx",
            {"HTTP_ORIGIN": "https://evil.example", "HTTP_REFERER": "https://shop.example.com/"},
        ),
        ("_redirect=https%3A%2F%2Fevil.example%2Fx", {"HTTP_REFERER": "https://shop.example.com/"}),
        # Neither side names a host: nothing to compare, so nothing is followed.
        ("_next=https%3A%2Fthanks", {"HTTP_REFERER": "https:/contact"}),
        ("_next=http%3A%2F%2F%5Bbad", {"HTTP_ORIGIN": "http://[bad"}),
        ("_next=ftp%3A%2F%2Fshop.example.com%2Ff", {"HTTP_ORIGIN": "ftp://shop.example.com"}),
        # An https page never sends its visitor to http.
        (
            "_next=http%3A%2F%2Fshop.example.com%2Fthanks",
            {"HTTP_ORIGIN": "https://shop.example.com"},
        ),
        # Control characters and spaces are refused, not cleaned (urlsplit drops a tab).
        (
            "_next=https%3A%2F%2Fshop.example.com%2Fa%20b",
            {"HTTP_ORIGIN": "https://shop.example.com"},
        ),
        (
            "_next=https%3A%2F%2Fshop.example.com%2Fa%09b",
            {"HTTP_ORIGIN": "https://shop.example.com"},
        ),
        (
            "_next=https%3A%2F%2Fshop.example.com%2Fa%7Fb",
            {"HTTP_ORIGIN": "https://shop.example.com"},
        ),
        (
            "_next=https%3A%2F%2Fshop.example.com%2Fa%1Fb",
            {"HTTP_ORIGIN": "https://shop.example.com"},
        ),
        # A user name alone is credentials too (`https://token@host/`), on either side.
        (
            "_next=https%3A%2F%2Ftoken%40shop.example.com%2Fx",
            {"HTTP_ORIGIN": "https://shop.example.com"},
        ),
        (
            "_next=https%3A%2F%2Fshop.example.com%2Fx",
            {"HTTP_REFERER": "https://u@shop.example.com/"},
        ),
    ],
)
def test_a_next_off_the_posting_site_is_refused(api_client, webhook_url, next_field, headers):
    response = _form(api_client, webhook_url, next_field, **HTML, **headers)

    # Refused: a browser's post lands on our own thank-you page instead (SPEC §8).
    assert response.status_code == 303
    assert response["Location"].startswith(f"{webhook_url}/thanks")
    assert response.json()["id"] == str(Lead.objects.get().id)


@pytest.mark.parametrize(("length", "followed"), [(2000, True), (2001, False)])
def test_a_next_is_followed_up_to_2000_characters(api_client, webhook_url, length, followed):
    site = "https://shop.example.com/"
    target = site + "a" * (length - len(site))
    headers = {"HTTP_ORIGIN": "https://shop.example.com"}

    response = _form(api_client, webhook_url, f"_next={quote(target, safe='')}", **HTML, **headers)

    assert response.status_code == 303
    if followed:
        assert response["Location"] == target
    else:  # longer: ignored (a huge Location breaks proxies), our thank-you page instead
        assert response["Location"].startswith(f"{webhook_url}/thanks")


def test_a_next_to_the_posting_site_is_ignored_without_html_in_accept(api_client, webhook_url):
    response = _form(
        api_client,
        webhook_url,
        "_next=https%3A%2F%2Fshop.example.com%2Fthanks",
        HTTP_ACCEPT="application/json, text/plain",
        HTTP_ORIGIN="https://shop.example.com",
    )
    assert response.status_code == 201
    assert "Location" not in response


# --- the retry key: which header names the submission, and how it is stored -----------------


@pytest.mark.parametrize(
    ("headers", "stored"),
    [
        ({"HTTP_IDEMPOTENCY_KEY": "order-7"}, "key:order-7"),
        ({"HTTP_IDEMPOTENCY_KEY": "  order-7  "}, "key:order-7"),
        ({"HTTP_FRAMER_WEBHOOK_SUBMISSION_ID": "sub-1"}, "framer:sub-1"),
        (
            {"HTTP_IDEMPOTENCY_KEY": "order-7", "HTTP_FRAMER_WEBHOOK_SUBMISSION_ID": "sub-1"},
            "key:order-7",
        ),
        (
            {"HTTP_IDEMPOTENCY_KEY": "   ", "HTTP_FRAMER_WEBHOOK_SUBMISSION_ID": "sub-1"},
            "framer:sub-1",
        ),
        ({"HTTP_IDEMPOTENCY_KEY": ""}, None),
        ({}, None),
        ({"HTTP_IDEMPOTENCY_KEY": "k" * 200}, "key:" + "k" * 200),  # the longest kept as sent
        (
            {"HTTP_IDEMPOTENCY_KEY": "k" * 201},
            "key:sha256:" + hashlib.sha256(b"k" * 201).hexdigest(),
        ),
        (
            {"HTTP_FRAMER_WEBHOOK_SUBMISSION_ID": "f" * 300},
            "framer:sha256:" + hashlib.sha256(b"f" * 300).hexdigest(),
        ),
    ],
)
def test_the_retry_header_is_stored_as_the_submission_id(api_client, webhook_url, headers, stored):
    response = _post_json(api_client, webhook_url, {"name": "Ana"}, **headers)

    assert response.status_code == 201
    row = Lead.objects.get()
    assert row.submission_id == stored
    # The body's fingerprint is kept only with a submission id, to tell its retries.
    assert (row.submission_fingerprint is None) == (stored is None)


def test_a_retry_with_the_same_long_key_is_the_same_lead(api_client, webhook_url):
    key = "k" * 500
    first = _post_json(api_client, webhook_url, {"name": "Ana"}, HTTP_IDEMPOTENCY_KEY=key)
    again = _post_json(api_client, webhook_url, {"name": "Ana"}, HTTP_IDEMPOTENCY_KEY=key)
    other = _post_json(api_client, webhook_url, {"name": "Ana"}, HTTP_IDEMPOTENCY_KEY=key + "x")

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json()["id"] == first.json()["id"] != other.json()["id"]
    assert Lead.objects.count() == 2


def test_an_idempotency_key_wins_over_the_builders_own_id(api_client, webhook_url):
    response = post_sample(
        api_client, webhook_url, load_sample("jotform.json"), HTTP_IDEMPOTENCY_KEY="mine"
    )

    assert response.status_code in (201, 303)
    assert Lead.objects.get().submission_id == "key:mine"


# --- lead_update / lead_touch: only the columns they mean to write --------------------------


def test_lead_create_with_only_a_workspace_stores_blanks(workspace):
    lead = lead_create(workspace=workspace)

    row = Lead.objects.get(pk=lead.pk)
    assert (row.name, row.email, row.phone) == ("", "", "")
    assert (row.status, row.source, row.value) == ("contact", "other", Decimal("0"))
    assert (row.utm, row.extra_data, row.page_url, row.submission_id) == (None, None, None, None)
    assert row.is_spam is False


@pytest.mark.parametrize("with_destination", [False, True])
def test_lead_create_stores_its_setter_and_creator(workspace, with_destination):
    # Without a destination the lead is one ORM insert; with one, it is written with its
    # event (rows_insert): both keep the people named.
    if with_destination:
        DestinationFactory(workspace=workspace)
        workspace.refresh_from_db()
    setter, creator = ProfileFactory(workspace=workspace), ProfileFactory(workspace=workspace)

    lead = lead_create(workspace=workspace, name="Ana", setter=setter, created_by=creator)

    row = Lead.objects.get(pk=lead.pk)
    assert (row.setter_id, row.created_by_id) == (setter.pk, creator.pk)


def test_an_edit_naming_the_same_setter_and_creator_changes_nothing_and_reads_no_profile(
    workspace, django_assert_num_queries
):
    setter, creator = ProfileFactory(workspace=workspace), ProfileFactory(workspace=workspace)
    lead = LeadFactory(workspace=workspace, setter=setter, created_by=creator)
    before = Lead.objects.get(pk=lead.pk).updated_at
    # The people are compared by id: the locked read of the lead is the only query (with
    # the test transaction's savepoint and its release), and nothing is written.
    with django_assert_num_queries(3):
        lead_edit(lead=lead, data={"setter": setter, "created_by": creator})

    assert Lead.objects.get(pk=lead.pk).updated_at == before


def _staff_edit(lead: Lead, **fields) -> None:
    """A concurrent edit by staff: the row changes, the caller's instance does not know."""
    Lead.objects.filter(pk=lead.pk).update(**fields)


def test_lead_update_writes_only_the_changed_columns(workspace):
    lead = LeadFactory(workspace=workspace, name="Ana", phone="", status=Lead.Status.CONTACT)
    before = Lead.objects.get(pk=lead.pk).updated_at
    _staff_edit(lead, status=Lead.Status.QUALIFIED, email="staff@example.com")

    returned = lead_update(lead=lead, data={"phone": "+14155552671", "name": "Ana"})

    row = Lead.objects.get(pk=lead.pk)
    assert row.phone == "+14155552671"
    assert row.status == Lead.Status.QUALIFIED  # the staff edit is not reverted
    assert row.email == "staff@example.com"
    assert row.name == "Ana"
    assert row.updated_at > before
    assert returned is lead
    assert lead.phone == "+14155552671"


def test_lead_update_with_nothing_changed_writes_nothing(workspace, django_assert_num_queries):
    lead = LeadFactory(workspace=workspace, name="Ana", phone="+14155552671")
    before = Lead.objects.get(pk=lead.pk).updated_at

    with django_assert_num_queries(0):
        lead_update(lead=lead, data={"name": "Ana", "phone": "+14155552671"})

    assert Lead.objects.get(pk=lead.pk).updated_at == before


def test_lead_update_writes_each_changed_field(workspace):
    setter = ProfileFactory(workspace=workspace)
    lead = LeadFactory(workspace=workspace, name="Ana", value=Decimal("0"))

    lead_update(
        lead=lead,
        data={
            "name": "Ana B",
            "value": Decimal("1500.00"),
            "setter": setter,
            "utm": {"utm_source": "x"},
            "is_spam": True,
        },
    )

    row = Lead.objects.get(pk=lead.pk)
    assert (row.name, row.value, row.setter_id, row.utm, row.is_spam) == (
        "Ana B",
        Decimal("1500.00"),
        setter.pk,
        {"utm_source": "x"},
        True,
    )


@pytest.mark.parametrize(
    "data",
    [
        {"workspace": "other"},
        {"submission_id": "key:forged"},
        {"id": "x"},
        {"created_at": "x"},
        {"name": "Ana B", "workspace": "other"},
        {"workspace": "other", "submission_id": "key:forged", "name": "Ana B"},
    ],
)
def test_lead_update_refuses_fields_that_are_not_editable(workspace, data):
    other = WorkspaceFactory()
    data = {key: other if value == "other" else value for key, value in data.items()}
    lead = LeadFactory(workspace=workspace, name="Ana", submission_id="key:real")

    with pytest.raises(ValueError, match="not editable") as error:
        lead_update(lead=lead, data=data)

    refused = sorted(set(data) - {"name"})
    assert str(error.value) == f"not editable: {', '.join(refused)}"
    row = Lead.objects.get(pk=lead.pk)
    assert (row.workspace_id, row.submission_id, row.name) == (workspace.pk, "key:real", "Ana")
    assert lead.workspace_id == workspace.pk
    assert lead.name == "Ana"


def test_lead_touch_moves_only_updated_at(workspace):
    lead = LeadFactory(workspace=workspace, name="Ana", phone="")
    Lead.objects.filter(pk=lead.pk).update(updated_at=timezone.now() - timedelta(days=1))
    before = Lead.objects.get(pk=lead.pk).updated_at
    _staff_edit(lead, name="Ana (VIP)", phone="+14155552671", status=Lead.Status.QUALIFIED)

    returned = lead_touch(lead=lead)

    row = Lead.objects.get(pk=lead.pk)
    assert (row.name, row.phone, row.status) == (
        "Ana (VIP)",
        "+14155552671",
        Lead.Status.QUALIFIED,
    )
    assert row.updated_at > before
    assert returned is lead


# --- a submission id's body: a retry is the same lead, another body a 409 -------------------


def test_a_retry_with_its_fields_in_another_order_is_the_same_submission(api_client, webhook_url):
    first = _post_json(
        api_client,
        webhook_url,
        {"name": "José", "email": "jose@example.com"},
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    retry = _post_json(
        api_client,
        webhook_url,
        {"email": "jose@example.com", "name": "José"},
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert Lead.objects.count() == 1


def test_a_seen_submission_id_with_another_body_is_a_409(api_client, webhook_url):
    first = _post_json(api_client, webhook_url, {"name": "Ana"}, HTTP_IDEMPOTENCY_KEY="k-1")
    other = _post_json(api_client, webhook_url, {"name": "Bob"}, HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, other.status_code) == (201, 409)
    assert other.json()["message"].startswith(
        "This submission id was already used with a different body"
    )
    assert list(Lead.objects.values_list("name", flat=True)) == ["Ana"]


def test_a_seen_submission_id_with_another_file_is_a_409(api_client, webhook_url):
    def post(content: bytes):
        upload = SimpleUploadedFile("cv.pdf", content, content_type="application/pdf")
        return api_client.post(
            webhook_url,
            {"name": "Ana", "cv": upload},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="k-1",
        )

    first, retry, other = post(b"one"), post(b"one"), post(b"another file")

    assert (first.status_code, retry.status_code, other.status_code) == (201, 200, 409)
    assert retry.json()["id"] == first.json()["id"]
    assert Lead.objects.count() == 1


def test_a_retry_of_a_body_with_a_lone_surrogate_is_the_same_submission(api_client, webhook_url):
    # JSON may escape a lone surrogate ("\ud800"); the body's fingerprint must still be taken.
    body = '{"name": "Ana \\ud800", "email": "ana@example.com"}'

    first = api_client.post(
        webhook_url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    retry = api_client.post(
        webhook_url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert Lead.objects.count() == 1
