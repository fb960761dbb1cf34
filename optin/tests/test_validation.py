"""Every 400 of the submit endpoint: its exact body, and nothing written."""

import json

import pytest

from leads.tests.factories import LeadFactory
from optin.tests.conftest import SUBMIT_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nothing_written")]

SOURCE_MESSAGE = (
    "source must be one of: CALENDLY, MANUAL, TYPEFORM, WEBINAR, NEWSLETTER, LANDING_PAGE, OTHER"
)
VALID = {"email": "jane@example.com", "first_name": "Jane", "source": "LANDING_PAGE"}


def _error(field: str, message: str) -> dict:
    return {"status": "error", "message": message, "errors": {field: [message]}}


@pytest.fixture(autouse=True)
def _existing_lead(workspace):
    # A lead whose blank fields a wrongly accepted submission would fill in.
    return LeadFactory(workspace=workspace, email="jane@example.com", phone="", utm=None)


@pytest.mark.parametrize(
    "source",
    [None, "", "landing_page", "FACEBOOK", 3, ["LANDING_PAGE"], {"x": 1}, " LANDING_PAGE"],
)
def test_bad_source_gets_the_documented_message(submit, source):
    response = submit({**VALID, "source": source})
    assert response.status_code == 400
    assert response.json() == _error("source", SOURCE_MESSAGE)


def test_missing_source_gets_the_documented_message(submit):
    body = {key: value for key, value in VALID.items() if key != "source"}
    response = submit(body)
    assert response.status_code == 400
    assert response.json() == _error("source", SOURCE_MESSAGE)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"first_name": "Jane", "source": "OTHER"}, "email", "email is required"),
        ({**VALID, "email": None}, "email", "email is required"),
        ({**VALID, "email": "  "}, "email", "email is required"),
        ({**VALID, "email": "jane"}, "email", "email must be a valid email address"),
        ({**VALID, "email": "jane@localhost"}, "email", "email must be a valid email address"),
        ({**VALID, "email": "jane@@example.com"}, "email", "email must be a valid email address"),
        (
            {**VALID, "email": "jane doe@example.com"},
            "email",
            "email must be a valid email address",
        ),
        ({**VALID, "email": 42}, "email", "email must be a string"),
        (
            {**VALID, "email": "a" * 250 + "@example.com"},
            "email",
            "email must be at most 254 characters",
        ),
        ({"email": "jane@example.com", "source": "OTHER"}, "first_name", "first_name is required"),
        ({**VALID, "first_name": ""}, "first_name", "first_name is required"),
        ({**VALID, "first_name": "   "}, "first_name", "first_name is required"),
        ({**VALID, "first_name": None}, "first_name", "first_name is required"),
        ({**VALID, "first_name": ["Jane"]}, "first_name", "first_name must be a string"),
        ({**VALID, "first_name": True}, "first_name", "first_name must be a string"),
        (
            {**VALID, "first_name": "J" * 151},
            "first_name",
            "first_name must be at most 150 characters",
        ),
        ({**VALID, "last_name": 7}, "last_name", "last_name must be a string"),
        (
            {**VALID, "last_name": "D" * 151},
            "last_name",
            "last_name must be at most 150 characters",
        ),
        (
            {**VALID, "first_name": "J" * 150, "last_name": "D" * 150},
            "last_name",
            "last_name is too long: first_name and last_name together must be at most 299 "
            "characters",
        ),
        (
            {**VALID, "phone_e164": "4155552671", "phone_country": "US"},
            "phone_e164",
            "phone_e164 must be in E.164 format, such as +14155552671",
        ),
        (
            {**VALID, "phone_e164": "+1 415 555 2671", "phone_country": "US"},
            "phone_e164",
            "phone_e164 must be in E.164 format, such as +14155552671",
        ),
        (
            {**VALID, "phone_e164": "+1" + "4" * 16, "phone_country": "US"},
            "phone_e164",
            "phone_e164 must be at most 16 characters",
        ),
        (
            {**VALID, "phone_e164": "+14155552671"},
            "phone_country",
            "phone_country is required when phone_e164 is given",
        ),
        (
            {**VALID, "phone_e164": "+14155552671", "phone_country": ""},
            "phone_country",
            "phone_country is required when phone_e164 is given",
        ),
        (
            {**VALID, "phone_e164": "+14155552671", "phone_country": "GB"},
            "phone_e164",
            "phone_e164 is not a valid phone number for GB",
        ),
        (
            {**VALID, "phone_e164": "+1415555", "phone_country": "US"},
            "phone_e164",
            "phone_e164 is not a valid phone number for US",
        ),
        (
            {**VALID, "phone_e164": "+14155552671", "phone_country": "USA"},
            "phone_country",
            "phone_country must be an ISO 3166-1 alpha-2 country code, such as US",
        ),
        (
            {**VALID, "phone_country": "ZZ"},
            "phone_country",
            "phone_country must be an ISO 3166-1 alpha-2 country code, such as US",
        ),
        (
            {**VALID, "provider_form_id": "f" * 256},
            "provider_form_id",
            "provider_form_id must be at most 255 characters",
        ),
        (
            {**VALID, "provider_form_name": "f" * 256},
            "provider_form_name",
            "provider_form_name must be at most 255 characters",
        ),
        (
            {**VALID, "external_reference": "r" * 256},
            "external_reference",
            "external_reference must be at most 255 characters",
        ),
        (
            {**VALID, "external_reference": 12345},
            "external_reference",
            "external_reference must be a string",
        ),
        ({**VALID, "phone": "+14155552671"}, "phone", "phone is not a recognised field"),
        ({**VALID, "utm_source": "google"}, "utm_source", "utm_source is not a recognised field"),
    ],
)
def test_invalid_field_is_a_400_naming_it(submit, body, field, message):
    response = submit(body)
    assert response.status_code == 400
    assert response.json() == _error(field, message)


@pytest.mark.parametrize(
    ("traffic", "field", "message"),
    [
        ("facebook", "traffic", "traffic must be an object"),
        (["facebook"], "traffic", "traffic must be an object"),
        ({"utm_source": 1}, "traffic.utm_source", "traffic.utm_source must be a string"),
        *[
            (
                {name: "x" * 256},
                f"traffic.{name}",
                f"traffic.{name} must be at most 255 characters",
            )
            for name in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
        ],
        (
            {"referrer": "x" * 2049},
            "traffic.referrer",
            "traffic.referrer must be at most 2048 characters",
        ),
        (
            {"landing_page": "x" * 2049},
            "traffic.landing_page",
            "traffic.landing_page must be at most 2048 characters",
        ),
        ({"utm_id": "1"}, "traffic.utm_id", "traffic.utm_id is not a recognised field"),
    ],
)
def test_invalid_traffic_is_a_400_naming_the_field(submit, traffic, field, message):
    response = submit({**VALID, "traffic": traffic})
    assert response.status_code == 400
    assert response.json() == _error(field, message)


QA = {"question": "Why?", "answer": "Because", "position": 0}


@pytest.mark.parametrize(
    ("items", "field", "message"),
    [
        ({"question": "Why?"}, "questions_answers", "questions_answers must be an array"),
        ("Why?", "questions_answers", "questions_answers must be an array"),
        ([QA] * 51, "questions_answers", "questions_answers must have at most 50 items"),
        ([QA, "Why?"], "questions_answers[1]", "questions_answers[1] must be an object"),
        (
            [QA, {"answer": "x", "position": 1}],
            "questions_answers[1].question",
            "questions_answers[1].question is required",
        ),
        (
            [{**QA, "question": ""}],
            "questions_answers[0].question",
            "questions_answers[0].question is required",
        ),
        (
            [{**QA, "question": "q" * 1001}],
            "questions_answers[0].question",
            "questions_answers[0].question must be at most 1000 characters",
        ),
        (
            [{**QA, "answer": "a" * 10_001}],
            "questions_answers[0].answer",
            "questions_answers[0].answer must be at most 10000 characters",
        ),
        (
            [{**QA, "answer": ["a", "b"]}],
            "questions_answers[0].answer",
            "questions_answers[0].answer must be a string",
        ),
        (
            [{**QA, "position": -1}],
            "questions_answers[0].position",
            "questions_answers[0].position must be 0 or more",
        ),
        (
            [{**QA, "position": 2**31}],
            "questions_answers[0].position",
            "questions_answers[0].position must be at most 2147483647",
        ),
        (
            [{**QA, "position": "first"}],
            "questions_answers[0].position",
            "questions_answers[0].position must be a whole number",
        ),
        (
            [{**QA, "position": 1.5}],
            "questions_answers[0].position",
            "questions_answers[0].position must be a whole number",
        ),
        (
            [{**QA, "type": "text"}],
            "questions_answers[0].type",
            "questions_answers[0].type is not a recognised field",
        ),
    ],
)
def test_invalid_questions_answers_are_a_400_naming_the_item(submit, items, field, message):
    response = submit({**VALID, "questions_answers": items})
    assert response.status_code == 400
    assert response.json() == _error(field, message)


def test_every_invalid_field_is_listed_and_the_first_one_named(submit):
    response = submit({"email": "nope", "source": "X", "traffic": {"utm_source": 1}, "zip": 1})
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "message": "email must be a valid email address",
        "errors": {
            "email": ["email must be a valid email address"],
            "first_name": ["first_name is required"],
            "source": [SOURCE_MESSAGE],
            "traffic.utm_source": ["traffic.utm_source must be a string"],
            "zip": ["zip is not a recognised field"],
        },
    }


@pytest.mark.parametrize("raw", ["[]", '["email"]', '"jane@example.com"', "42", "null", "true"])
def test_body_that_is_not_an_object_is_a_400(api_client, api_key, raw):
    response = api_client.post(
        SUBMIT_URL, raw, content_type="application/json", HTTP_X_API_KEY=api_key.plaintext
    )
    assert response.status_code == 400
    assert response.json() == _error("non_field_errors", "The request body must be a JSON object")


def test_empty_body_is_a_400_naming_the_first_required_field(api_client, api_key):
    response = api_client.post(
        SUBMIT_URL, "", content_type="application/json", HTTP_X_API_KEY=api_key.plaintext
    )
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "message": "email is required",
        "errors": {
            "email": ["email is required"],
            "first_name": ["first_name is required"],
            "source": [SOURCE_MESSAGE],
        },
    }


def test_malformed_json_is_a_400(api_client, api_key):
    response = api_client.post(
        SUBMIT_URL, "{bad", content_type="application/json", HTTP_X_API_KEY=api_key.plaintext
    )
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "message": "JSON parse error - Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Ja\x00ne", "first_name: Null characters are not allowed."),
        ("Ja\ud800ne", "first_name: Surrogate characters are not allowed: U+D800."),
    ],
)
def test_characters_the_database_cannot_store_are_a_400(api_client, api_key, value, message):
    # PostgreSQL refuses NUL in text and psycopg cannot encode a lone surrogate: a 400, not a 500.
    raw = json.dumps({**VALID, "first_name": value})  # ASCII, with \u escapes
    response = api_client.post(
        SUBMIT_URL, raw, content_type="application/json", HTTP_X_API_KEY=api_key.plaintext
    )
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "message": message,
        "errors": {"first_name": [message.split(": ", 1)[1]]},
    }
