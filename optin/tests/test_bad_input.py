"""Bad input on surface B (`POST /api/opt-in/submit`), case by case.

Every refusal is the exact status and `{"status": "error", "message": …}` body (JSON, never
HTML or a 5xx) and writes nothing: no lead, opt-in or answer, no lead changed. The rules:

- The body is strict JSON: NaN/Infinity, invalid UTF-8, a non-text charset, a nesting deeper
  than MAX_JSON_DEPTH (100) and a duplicate key anywhere are 400s. Duplicate keys are
  refused, not last-wins: keeping either copy would silently drop the other.
- This surface refuses what the database cannot store: a NUL character or a lone surrogate in
  any string is a 400 naming the field (surface A strips NULs instead; leads/tests/
  test_bad_input.py), as is a 100,000-character string, a number where a string goes or a
  string where a number goes (`"position": "1"`).
- Keys: surrounding whitespace is not part of a header's value (RFC 9110 §5.5), so a padded
  valid key is that key; anything else that is not exactly one valid key is the one 401.

Related cases live in test_validation.py (every field's own 400s, non-object bodies),
test_errors.py (404/405/413/415/500) and test_auth.py (missing, unknown, revoked keys).
"""

import io
import json
from typing import Any

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from hushmetrics.parsers import MAX_JSON_DEPTH
from optin.models import OptIn
from optin.tests.conftest import SUBMIT_URL, table_counts
from workspaces.tests.key_cases import API_KEY_HEADER_CASES

pytestmark = [pytest.mark.django_db]

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
VALID = {"email": "jane@example.com", "first_name": "Jane", "source": "LANDING_PAGE"}
LONG = 100_000
SOURCE_MESSAGE = (
    "source must be one of: CALENDLY, MANUAL, TYPEFORM, WEBINAR, NEWSLETTER, LANDING_PAGE, OTHER"
)
INVALID_KEY = {"status": "error", "message": "Invalid or revoked API key"}


def nest(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


def error(message: str, errors: dict[str, list[str]] | None = None) -> dict:
    body: dict[str, Any] = {"status": "error", "message": message}
    if errors:
        body["errors"] = errors
    return body


def unsupported(content_type: str) -> dict:
    """A 415: this surface takes JSON only, and says so."""
    return error(
        f'Unsupported media type "{content_type}" in request. Send the body as application/json.'
    )


def field_error(path: str, text: str) -> dict:
    """A field's 400: messages that start with the path are the message as they are."""
    message = text if text.startswith(path) else f"{path}: {text}"
    return error(message, {path: [text]})


def parse_error(detail: str) -> dict:
    return error(f"JSON parse error - {detail}")


def with_value(path: str, value: Any) -> dict:
    """VALID with `value` at `path` (`email`, `traffic.referrer`, `questions_answers[0].answer`)."""
    if path.startswith("traffic."):
        return {**VALID, "traffic": {path.split(".", 1)[1]: value}}
    if path.startswith("questions_answers[0]."):
        item = {"question": "Why?", path.split(".", 1)[1]: value}
        return {**VALID, "questions_answers": [item]}
    return {**VALID, path: value}


@pytest.fixture
def post_json(api_client, api_key):
    """POST `body` as ASCII JSON (lone surrogates as `\\ud800` escapes) with the key."""

    def _post(body: dict):
        return api_client.post(
            SUBMIT_URL, json.dumps(body), content_type=JSON, HTTP_X_API_KEY=api_key.plaintext
        )

    return _post


def assert_json_error(response, status: int, body: dict) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == body


# Every string field of the body and its length limit (SPEC §4: 400 past it, never a cut).
STRING_FIELDS = [
    ("email", 254),
    ("first_name", 150),
    ("last_name", 150),
    ("phone_e164", 16),
    ("phone_country", 8),
    ("provider_form_id", 255),
    ("provider_form_name", 255),
    ("external_reference", 255),
    ("questions_answers[0].question", 1000),
    ("questions_answers[0].answer", 10_000),
    *((f"traffic.{name}", 255) for name in ("utm_source", "utm_medium", "utm_campaign")),
    *((f"traffic.{name}", 255) for name in ("utm_content", "utm_term")),
    ("traffic.referrer", 2048),
    ("traffic.landing_page", 2048),
]

# id, the body, the path the 400 names, its message
BAD_FIELDS: list[tuple[str, dict, str, str]] = [
    *(
        (
            f"{path}-100k",
            with_value(path, "x" * LONG),
            path,
            f"{path} must be at most {limit} characters",
        )
        for path, limit in STRING_FIELDS
    ),
    ("source-100k", with_value("source", "S" * LONG), "source", SOURCE_MESSAGE),
    # PostgreSQL stores no NUL in text: refused here (surface A strips them)
    *(
        (f"{path}-nul", with_value(path, "ab\x00c"), path, "Null characters are not allowed.")
        for path, _ in STRING_FIELDS
    ),
    ("source-nul", with_value("source", "LANDING_PAGE\x00"), "source", SOURCE_MESSAGE),
    # and no UTF-8 column stores a lone surrogate
    *(
        (
            f"{path}-surrogate",
            with_value(path, "ab\ud800"),
            path,
            "Surrogate characters are not allowed: U+D800.",
        )
        for path, _ in STRING_FIELDS
    ),
    # numbers as strings and strings as numbers
    *(
        (
            f"position-{label}",
            with_value("questions_answers[0].position", value),
            "questions_answers[0].position",
            "questions_answers[0].position must be a whole number",
        )
        for label, value in [("string", "1"), ("true", True), ("list", [1]), ("object", {"n": 1})]
    ),
    ("email-number", with_value("email", 123), "email", "email must be a string"),
    (
        "phone-number",
        with_value("phone_e164", 14155552671),
        "phone_e164",
        "phone_e164 must be a string",
    ),
    (
        "country-number",
        with_value("phone_country", 1),
        "phone_country",
        "phone_country must be a string",
    ),
    ("source-number", with_value("source", 1), "source", SOURCE_MESSAGE),
    (
        "answer-number",
        with_value("questions_answers[0].answer", 42),
        "questions_answers[0].answer",
        "questions_answers[0].answer must be a string",
    ),
    (
        "question-number",
        with_value("questions_answers[0].question", 7),
        "questions_answers[0].question",
        "questions_answers[0].question must be a string",
    ),
    (
        "referrer-number",
        with_value("traffic.referrer", 1),
        "traffic.referrer",
        "traffic.referrer must be a string",
    ),
]


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(
    ("body", "path", "text"), [pytest.param(*case[1:], id=case[0]) for case in BAD_FIELDS]
)
def test_a_bad_field_is_a_400_naming_it(post_json, body, path, text):
    assert_json_error(post_json(body), 400, field_error(path, text))


@pytest.mark.usefixtures("nothing_written")
def test_a_nul_in_a_field_name_is_an_unknown_field(post_json):
    response = post_json({**VALID, "first\x00name": "Jane", "traffic": {"utm_\x00source": "fb"}})

    assert_json_error(
        response,
        400,
        error(
            "traffic.utm_\x00source is not a recognised field",
            {
                "traffic.utm_\x00source": ["traffic.utm_\x00source is not a recognised field"],
                "first\x00name": ["first\x00name is not a recognised field"],
            },
        ),
    )


def _body(**changes: Any) -> str:
    return json.dumps({**VALID, **changes})


_TOO_DEEP = parse_error("nested too deeply")

# id, Content-Type, raw body, status, answer
REFUSED: list[tuple[str, str, str | bytes, int, dict]] = [
    # nesting: a 400, never a RecursionError 500 (DRF's own parser gave one past ~950)
    ("nested-10000-objects", JSON, f'{{"email": {nest(10_000)}}}', 400, _TOO_DEEP),
    ("nested-10000-arrays", JSON, "[" * 10_000 + "]" * 10_000, 400, _TOO_DEEP),
    ("nested-600", JSON, _body()[:-1] + f', "traffic": {nest(600)}}}', 400, _TOO_DEEP),
    (
        "nested-past-the-limit",
        JSON,
        _body()[:-1] + f', "traffic": {nest(MAX_JSON_DEPTH)}}}',
        400,
        _TOO_DEEP,
    ),
    # NaN and the infinities are not JSON
    *(
        (
            f"{constant}-literal",
            JSON,
            _body()[:-1]
            + f', "questions_answers": [{{"question": "Q", "position": {constant}}}]}}',
            400,
            parse_error(f"Out of range float values are not JSON compliant: {constant!r}"),
        )
        for constant in ("NaN", "Infinity", "-Infinity")
    ),
    # duplicate keys: refused, never last-wins
    (
        "duplicate-email",
        JSON,
        '{"email": "jane@example.com", "first_name": "Jane", "source": "OTHER", '
        '"email": "eve@example.com"}',
        400,
        parse_error("duplicate key 'email'"),
    ),
    (
        "duplicate-key-in-traffic",
        JSON,
        _body()[:-1] + ', "traffic": {"utm_source": "fb", "utm_source": "google"}}',
        400,
        parse_error("duplicate key 'utm_source'"),
    ),
    (
        "duplicate-key-in-an-answer",
        JSON,
        _body()[:-1] + ', "questions_answers": [{"question": "Q", "answer": "a", "answer": "b"}]}',
        400,
        parse_error("duplicate key 'answer'"),
    ),
    # invalid UTF-8
    (
        "invalid-utf8-byte",
        JSON,
        b'{"email": "\xff", "first_name": "Jane", "source": "OTHER"}',
        400,
        parse_error("'utf-8' codec can't decode byte 0xff in position 11: invalid start byte"),
    ),
    (
        "truncated-utf8-sequence",
        JSON,
        b'{"first_name": "Jos\xe9", "email": "jane@example.com", "source": "OTHER"}',
        400,
        parse_error(
            "'utf-8' codec can't decode byte 0xe9 in position 19: invalid continuation byte"
        ),
    ),
    *(
        (
            f"charset-{charset}",
            f"{JSON}; charset={charset}",
            _body(),
            400,
            error(f'Unsupported charset "{charset}" in request Content-Type header.'),
        )
        for charset in ("rot13", "zlib")
    ),
    # wrong Content-Type (form, multipart and text/plain: test_errors.py)
    *(
        (
            f"content-type-{label}",
            content_type,
            _body(),
            415,
            unsupported(content_type),
        )
        for label, content_type in [
            ("xml", "application/xml"),
            ("csv", "text/csv"),
            ("none", ""),
            ("json-patch", "application/json-patch+json"),
        ]
    ),
    # more than 1,000 form fields: never parsed, this surface takes JSON only
    (
        "1001-form-fields",
        FORM,
        "&".join(f"f{index}=1" for index in range(1001)),
        415,
        unsupported(FORM),
    ),
    (
        "1001-multipart-fields",
        MULTIPART_CONTENT,
        encode_multipart(BOUNDARY, {f"f{index}": "1" for index in range(1001)}),
        415,
        unsupported(MULTIPART_CONTENT),
    ),
]


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(
    ("content_type", "body", "status", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED],
)
def test_a_malformed_body_is_refused_in_the_envelope(
    api_client, api_key, content_type, body, status, expected
):
    raw = body.encode() if isinstance(body, str) else body

    response = api_client.generic(
        "POST", SUBMIT_URL, raw, content_type=content_type, HTTP_X_API_KEY=api_key.plaintext
    )

    assert_json_error(response, status, expected)


LIMIT = 4096


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(
    ("content_type", "body", "extra"),
    [
        pytest.param(FORM, "email=" + "x" * LIMIT, {}, id="form"),
        pytest.param(
            MULTIPART_CONTENT,
            encode_multipart(BOUNDARY, {"email": "x" * LIMIT}),
            {},
            id="multipart",
        ),
        pytest.param(JSON, _body(first_name="x" * LIMIT), {}, id="json"),
        # what gunicorn hands over for `Transfer-Encoding: chunked`: no Content-Length
        pytest.param(
            JSON,
            b"",
            {
                "CONTENT_LENGTH": "",
                "HTTP_TRANSFER_ENCODING": "chunked",
                "wsgi.input": io.BytesIO(_body(first_name="x" * LIMIT).encode()),
            },
            id="chunked-json",
        ),
    ],
)
def test_a_body_over_the_limit_is_a_413(api_client, api_key, settings, content_type, body, extra):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    raw = body.encode() if isinstance(body, str) else body

    response = api_client.generic(
        "POST",
        SUBMIT_URL,
        raw,
        content_type=content_type,
        HTTP_X_API_KEY=api_key.plaintext,
        **extra,
    )

    assert_json_error(response, 413, error(f"Request body too large (limit {LIMIT} bytes)"))


def test_a_whole_float_position_is_the_whole_number(post_json):
    # JSON has one number type: 2.0 is 2 (a string "2" is not a number: see BAD_FIELDS).
    response = post_json({**VALID, "questions_answers": [{"question": "Q", "position": 2.0}]})

    assert response.status_code == 201
    assert list(OptIn.objects.get().answers.values_list("position", flat=True)) == [2]


# --- API keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("headers", "accepted"), API_KEY_HEADER_CASES)
def test_an_api_key_edge_case_is_the_one_401_or_the_key(api_client, api_key, headers, accepted):
    before = table_counts()

    response = api_client.post(SUBMIT_URL, VALID, format="json", **headers(api_key.plaintext))

    if accepted:
        assert response.status_code == 201
        opt_in = OptIn.objects.get()
        assert (opt_in.api_key_id, opt_in.email) == (api_key.id, "jane@example.com")
    else:
        assert_json_error(response, 401, INVALID_KEY)
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
        assert table_counts() == before
