"""Bad input on surface A (`POST /v1/create-lead`, `POST /v1/webhook/{id}`), case by case.

Every refusal is the exact status and `{"message": …}` body (JSON, never HTML or a 5xx) with
nothing written; every lenient case is the exact lead stored. The rules these tables pin:

- JSON is strict on both endpoints, whatever it is labelled (`application/json`, `text/plain`
  or the form type): NaN/Infinity, invalid UTF-8, a non-text charset, a nesting deeper than
  MAX_JSON_DEPTH (100) and a *duplicate key* anywhere are 400s. Duplicate keys are refused,
  not last-wins: keeping either copy would silently drop the other.
- NUL characters are stripped on surface A (surface B refuses them, optin/tests/test_bad_input.py).
  A lone surrogate (`\\ud800`) is a 400 on create-lead, as for its strings already, and
  U+FFFD on the webhook, as Django does with a form's undecodable bytes.
- The webhook is lenient per field, never per body: a wrong type, a 100,000-character string
  or a protected field (`id`, `workspace_id`, `status`, …) costs nothing and ends up in
  extra_data (A.2); create-lead is strict (A.1) and answers 400 naming the field.
- A form is capped at 1,000 fields however it is encoded (`text/plain` lines included).

Related cases live beside the endpoints' own tests (test_lead_api_errors.py: 413s at the
default limit, 1,001 form fields, methods; test_webhook_api.py / test_create_lead_api.py:
single-field validation); the cases here are the ones they do not cover.
"""

import io
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone

from hushmetrics.parsers import MAX_JSON_DEPTH
from leads.models import Lead
from leads.serializers import lead_output
from workspaces.tests.factories import ApiKeyFactory, ProfileFactory, WorkspaceFactory
from workspaces.tests.key_cases import API_KEY_HEADER_CASES

pytestmark = pytest.mark.django_db

CREATE, WEBHOOK = "create-lead", "webhook"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
TEXT = "text/plain"
# In a body, the workspace's id (create-lead needs it; the webhook keeps it as extra data).
WS = "WS_ID"
LONG = 100_000
# Longer than any column, short enough that seven of them fit utm/extra_data's 64 KB budget.
LONG_FIELD = 9_000
# What one string of utm/extra_data may be and still fit the 64 KB budget.
KEPT = 30_000
INVALID_KEY = {"message": "Invalid or revoked API key"}


def nest(levels: int, leaf: str = "1") -> str:
    """`levels` JSON objects, one inside the other."""
    return '{"a": ' * levels + leaf + "}" * levels


def nested(keys: list[str], leaf: Any) -> Any:
    """`leaf` under `keys`, outermost first, as Python dicts."""
    for key in reversed(keys):
        leaf = {key: leaf}
    return leaf


def multipart(fields: dict[str, str]) -> bytes:
    return encode_multipart(BOUNDARY, fields)


def message(text: str) -> dict:
    return {"message": text}


def parse_error(detail: str) -> dict:
    return message(f"JSON parse error - {detail}")


def invalid(field: str, text: str) -> dict:
    # A message that already names its field is the sentence as it is.
    sentence = text if text.startswith(f"{field} ") else f"{field}: {text}"
    return {"message": sentence, "errors": {field: [text]}}


def both(status: int, body: dict) -> dict[str, tuple[int, dict]]:
    return {CREATE: (status, body), WEBHOOK: (status, body)}


def url_for(endpoint: str, workspace) -> str:
    return "/v1/create-lead" if endpoint == CREATE else f"/v1/webhook/{workspace.id}"


def fill(body: str | bytes, workspace) -> bytes:
    raw = body.encode() if isinstance(body, str) else body
    return raw.replace(WS.encode(), str(workspace.id).encode())


def assert_json_error(response, status: int, body: dict) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == body


NOT_AN_OBJECT = message("JSON body must be an object")
ONE_PER_ARRAY = message(
    "A JSON array body must hold exactly one object: send each submission as its own request"
)
TOO_DEEP = parse_error("nested too deeply")


def _non_field(text: str) -> dict:
    return {"message": text, "errors": {"non_field_errors": [text]}}


def _not_a_dict(kind: str) -> dict:
    return _non_field(f"Invalid data. Expected a dictionary, but got {kind}.")


# What a 415 tells the client to send instead: what the endpoint's parsers take.
SEND = {
    CREATE: "application/json",
    WEBHOOK: (
        "application/json, application/x-www-form-urlencoded, multipart/form-data or text/plain"
    ),
}


def _unsupported(content_type: str, endpoint: str = CREATE) -> dict:
    return message(
        f'Unsupported media type "{content_type}" in request. Send the body as {SEND[endpoint]}.'
    )


def _bad_charset(charset: str) -> dict:
    return message(f'Unsupported charset "{charset}" in request Content-Type header.')


# id, Content-Type, body, {endpoint: (status, body)} for every endpoint the case applies to.
REFUSED: list[tuple[str, str, str | bytes, dict[str, tuple[int, dict]]]] = [
    # --- nesting: a 400, never a RecursionError 500 ---------------------------------------
    (
        "nested-10000-objects",
        JSON,
        f'{{"workspace_id": "{WS}", "extra_data": {nest(10_000)}}}',
        both(400, TOO_DEEP),
    ),
    (
        "nested-10000-arrays",
        JSON,
        f'{{"workspace_id": "{WS}", "extra_data": {{"a": {"[" * 10_000}{"]" * 10_000}}}}}',
        both(400, TOO_DEEP),
    ),
    (
        # Under the parser's own recursion limit: a RecursionError 500 further down, before.
        "nested-600-objects",
        JSON,
        f'{{"workspace_id": "{WS}", "extra_data": {nest(600)}}}',
        both(400, TOO_DEEP),
    ),
    (
        "nested-one-level-past-the-limit",
        JSON,
        f'{{"workspace_id": "{WS}", "extra_data": {nest(MAX_JSON_DEPTH)}}}',
        both(400, TOO_DEEP),
    ),
    ("nested-10000-as-text-plain", TEXT, f'{{"name": {nest(10_000)}}}', {WEBHOOK: (400, TOO_DEEP)}),
    ("nested-10000-labelled-form", FORM, f'{{"name": {nest(10_000)}}}', {WEBHOOK: (400, TOO_DEEP)}),
    # --- a body that is not an object ---------------------------------------------------
    (
        "top-level-array",
        JSON,
        f'[{{"workspace_id": "{WS}"}}]',
        {CREATE: (400, _not_a_dict("list"))},  # the webhook's lead: an array of one object
    ),
    (
        "top-level-array-of-two",
        JSON,
        f'[{{"workspace_id": "{WS}"}}, {{"workspace_id": "{WS}"}}]',
        {CREATE: (400, _not_a_dict("list")), WEBHOOK: (400, ONE_PER_ARRAY)},
    ),
    ("top-level-array-of-numbers", JSON, "[1, 2]", {WEBHOOK: (400, NOT_AN_OBJECT)}),
    (
        "top-level-string",
        JSON,
        '"jane@example.com"',
        {CREATE: (400, _not_a_dict("str")), WEBHOOK: (400, NOT_AN_OBJECT)},
    ),
    (
        "top-level-null",
        JSON,
        "null",
        {
            CREATE: (400, _non_field("No data provided")),
            WEBHOOK: (400, NOT_AN_OBJECT),
        },
    ),
    (
        "top-level-number",
        JSON,
        "42",
        {CREATE: (400, _not_a_dict("int")), WEBHOOK: (400, NOT_AN_OBJECT)},
    ),
    (
        "top-level-true",
        JSON,
        "true",
        {CREATE: (400, _not_a_dict("bool")), WEBHOOK: (400, NOT_AN_OBJECT)},
    ),
    ("top-level-null-as-text-plain", TEXT, "null", {WEBHOOK: (400, NOT_AN_OBJECT)}),
    (
        "top-level-array-as-text-plain",
        TEXT,
        '[{"name": "A"}, {"name": "B"}]',
        {WEBHOOK: (400, ONE_PER_ARRAY)},
    ),
    (
        "top-level-array-labelled-form",
        FORM,
        '[{"name": "A"}, {"name": "B"}]',
        {WEBHOOK: (400, ONE_PER_ARRAY)},
    ),
    # --- NaN and the infinities are not JSON --------------------------------------------
    *(
        (
            f"{constant}-literal",
            JSON,
            f'{{"workspace_id": "{WS}", "value": {constant}}}',
            both(
                400, parse_error(f"Out of range float values are not JSON compliant: {constant!r}")
            ),
        )
        for constant in ("NaN", "Infinity", "-Infinity")
    ),
    (
        "NaN-inside-extra-data",
        JSON,
        f'{{"workspace_id": "{WS}", "extra_data": {{"scores": [1, NaN]}}}}',
        both(400, parse_error("Out of range float values are not JSON compliant: 'NaN'")),
    ),
    (
        "Infinity-as-text-plain",
        TEXT,
        '{"name": "A", "value": Infinity}',
        {
            WEBHOOK: (
                400,
                parse_error("Out of range float values are not JSON compliant: 'Infinity'"),
            )
        },
    ),
    (
        "NaN-labelled-form",
        FORM,
        '{"name": "A", "value": NaN}',
        {WEBHOOK: (400, parse_error("Out of range float values are not JSON compliant: 'NaN'"))},
    ),
    # --- duplicate keys: refused, never last-wins ---------------------------------------
    (
        "duplicate-top-level-key",
        JSON,
        f'{{"workspace_id": "{WS}", "name": "Jane", "name": "Eve"}}',
        both(400, parse_error("duplicate key 'name'")),
    ),
    (
        "duplicate-key-inside-extra-data",
        JSON,
        f'{{"workspace_id": "{WS}", "extra_data": {{"plan": "pro", "plan": "free"}}}}',
        both(400, parse_error("duplicate key 'plan'")),
    ),
    (
        "duplicate-key-as-text-plain",
        TEXT,
        '{"email": "a@example.com", "email": "b@example.com"}',
        {WEBHOOK: (400, parse_error("duplicate key 'email'"))},
    ),
    (
        "duplicate-key-labelled-form",
        FORM,
        '{"email": "a@example.com", "email": "b@example.com"}',
        {WEBHOOK: (400, parse_error("duplicate key 'email'"))},
    ),
    # --- invalid UTF-8 in JSON (forms are lenient: see ACCEPTED_BY_THE_WEBHOOK) ----------
    (
        "invalid-utf8-byte-in-json",
        JSON,
        b'{"name": "\xff", "workspace_id": "' + WS.encode() + b'"}',
        both(
            400,
            parse_error("'utf-8' codec can't decode byte 0xff in position 10: invalid start byte"),
        ),
    ),
    (
        "truncated-utf8-sequence-in-json",
        JSON,
        b'{"name": "Jos\xe9", "workspace_id": "' + WS.encode() + b'"}',
        both(
            400,
            parse_error(
                "'utf-8' codec can't decode byte 0xe9 in position 13: invalid continuation byte"
            ),
        ),
    ),
    (
        "invalid-utf8-as-text-plain",
        TEXT,
        b'{"name": "\xff"}',
        {WEBHOOK: (400, message("Body is not valid UTF-8 text"))},
    ),
    (
        "invalid-utf8-json-labelled-form",
        FORM,
        b'{"name": "\xff"}',
        {
            WEBHOOK: (
                400,
                parse_error(
                    "'utf-8' codec can't decode byte 0xff in position 10: invalid start byte"
                ),
            )
        },
    ),
    # --- charsets that are not text encodings (a 500 before) ----------------------------
    *(
        (
            f"json-charset-{charset}",
            f"{JSON}; charset={charset}",
            f'{{"workspace_id": "{WS}"}}',
            both(400, _bad_charset(charset)),
        )
        for charset in ("rot13", "zlib")
    ),
    (
        "form-charset-zlib",
        f"{FORM}; charset=zlib",
        "name=Jane",
        {WEBHOOK: (400, _bad_charset("zlib"))},
    ),
    (
        "multipart-charset-rot13",
        f"{MULTIPART_CONTENT}; charset=rot13",
        multipart({"name": "Jane"}),
        {WEBHOOK: (400, _bad_charset("rot13"))},
    ),
    # --- wrong Content-Type (the webhook takes text/plain on purpose, A.2) ---------------
    *(
        (
            f"content-type-{label}",
            content_type,
            f'{{"workspace_id": "{WS}", "name": "A"}}',
            {endpoint: (415, _unsupported(content_type, endpoint)) for endpoint in SEND},
        )
        for label, content_type in [
            ("xml", "application/xml"),
            ("csv", "text/csv"),
            ("none", ""),
            ("json-patch", "application/json-patch+json"),
        ]
    ),
    (
        "json-labelled-text-plain",
        TEXT,
        f'{{"workspace_id": "{WS}"}}',
        {CREATE: (415, _unsupported(TEXT))},
    ),
    (
        "multipart-to-create-lead",
        MULTIPART_CONTENT,
        multipart({"workspace_id": WS}),
        {CREATE: (415, _unsupported(MULTIPART_CONTENT))},
    ),
    (
        "multipart-without-a-boundary",
        "multipart/form-data",
        "--x--",
        {
            WEBHOOK: (
                400,
                message("Multipart form parse error - Invalid boundary in multipart: None"),
            )
        },
    ),
]


def _refused_params() -> list:
    return [
        pytest.param(endpoint, content_type, body, status, expected, id=f"{endpoint}:{name}")
        for name, content_type, body, answers in REFUSED
        for endpoint, (status, expected) in answers.items()
    ]


@pytest.mark.parametrize(
    ("endpoint", "content_type", "body", "status", "expected"), _refused_params()
)
def test_a_malformed_body_is_refused_in_the_envelope_and_writes_nothing(
    api_client, workspace, endpoint, content_type, body, status, expected
):
    response = api_client.generic(
        "POST", url_for(endpoint, workspace), fill(body, workspace), content_type=content_type
    )

    assert_json_error(response, status, expected)
    assert Lead.objects.count() == 0


# --- create-lead is strict per field (A.1): a 400 naming it ----------------------------------


_SURROGATE = "Surrogate characters are not allowed: U+{}."
STATUS_ONE_OF = "status must be one of: contact, qualified, proposal, negotiation, won, lost"
SOURCE_ONE_OF = "source must be one of: website, referral, social, ad, email, cold_call, other"


def _too_long(limit: int) -> str:
    return f"Ensure this field has no more than {limit} characters."


# id, the body's change, the field named, its message
BAD_FIELDS: list[tuple[str, dict, str, str]] = [
    # 100,000-character strings, in every string field
    ("name-100k", {"name": "n" * LONG}, "name", _too_long(300)),
    ("email-100k", {"email": "e" * LONG}, "email", _too_long(320)),
    ("phone-100k", {"phone": "1" * LONG}, "phone", _too_long(64)),
    ("page-url-100k", {"page_url": "https://x.example/" + "p" * LONG}, "page_url", _too_long(2048)),
    ("workspace-id-100k", {"workspace_id": "w" * LONG}, "workspace_id", "Must be a valid UUID."),
    ("created-by-100k", {"created_by": "c" * LONG}, "created_by", "Must be a valid UUID."),
    ("status-100k", {"status": "s" * LONG}, "status", STATUS_ONE_OF),
    ("source-100k", {"source": "o" * LONG}, "source", SOURCE_ONE_OF),
    # strings as numbers and numbers as strings
    ("value-abc", {"value": "abc"}, "value", "A valid number is required."),
    ("value-1e400-string", {"value": "1e400"}, "value", "A valid number is required."),
    ("value-list", {"value": [500]}, "value", "A valid number is required."),
    ("value-object", {"value": {"amount": 500}}, "value", "A valid number is required."),
    ("email-number", {"email": 123}, "email", "Not a valid string."),
    ("phone-number", {"phone": 15551234567}, "phone", "Not a valid string."),
    ("page-url-list", {"page_url": ["https://x.example"]}, "page_url", "Not a valid string."),
    ("status-number", {"status": 1}, "status", STATUS_ONE_OF),
    ("created-by-number", {"created_by": 12}, "created_by", "Must be a valid UUID."),
    (
        "extra-data-string",
        {"extra_data": "company=Acme"},
        "extra_data",
        'Expected a dictionary of items but got type "str".',
    ),
    ("utm-number", {"utm": 5}, "utm", 'Expected a dictionary of items but got type "int".'),
    # lone surrogates: no UTF-8 column can store one, so a 400 wherever they are
    ("name-surrogate", {"name": "Jane\ud800"}, "name", _SURROGATE.format("D800")),
    (
        "extra-data-surrogate",
        {"extra_data": {"notes": ["ok", {"k": "\ud800"}]}},
        "extra_data",
        _SURROGATE.format("D800"),
    ),
    ("utm-key-surrogate", {"utm": {"utm_source\udfff": "g"}}, "utm", _SURROGATE.format("DFFF")),
]


@pytest.mark.parametrize(
    ("change", "field", "text"), [pytest.param(*case[1:], id=case[0]) for case in BAD_FIELDS]
)
def test_create_lead_refuses_a_bad_field_naming_it(api_client, workspace, change, field, text):
    body = {"workspace_id": str(workspace.id), "name": "Jane", **change}

    response = api_client.post("/v1/create-lead", json.dumps(body), content_type=JSON)

    assert_json_error(response, 400, invalid(field, text))
    assert Lead.objects.count() == 0


def test_create_lead_strips_nul_characters_everywhere(api_client, workspace):
    body = {
        "workspace_id": str(workspace.id),
        "name": "Ja\x00ne",
        "email": "jane\x00@example.com",
        "phone": "+1\x00555",
        "page_url": "https://example.com/\x00pricing",
        "utm": {"utm_\x00source": "goo\x00gle"},
        "extra_data": {"no\x00tes": ["a\x00b", {"k\x00": "\x00"}], "n": 1},
    }

    response = api_client.post("/v1/create-lead", json.dumps(body), content_type=JSON)

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert response.json() == lead_output(lead)
    assert (lead.name, lead.email, lead.phone, lead.page_url) == (
        "Jane",
        "jane@example.com",
        "+1555",
        "https://example.com/pricing",
    )
    assert lead.utm == {"utm_source": "google"}
    assert lead.extra_data == {"notes": ["ab", {"k": ""}], "n": 1}


def test_create_lead_keeps_long_strings_and_deep_nesting_inside_json_objects(api_client, workspace):
    # Only the columns have lengths; utm and extra_data are free-form objects (A.1).
    deep = json.loads(nest(MAX_JSON_DEPTH - 2, '"bottom"'))
    body = {
        "workspace_id": str(workspace.id),
        "utm": {"utm_term": "t" * KEPT},
        "extra_data": {"essay": "e" * KEPT, "deep": deep},
    }

    response = api_client.post("/v1/create-lead", json.dumps(body), content_type=JSON)

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.utm == {"utm_term": "t" * KEPT}
    assert lead.extra_data == {"essay": "e" * KEPT, "deep": deep}
    assert response.json()["extra_data"] == lead.extra_data


# --- the webhook keeps the submission, field by field (A.2) --------------------------------


def _raw_multipart(name: str, value: bytes) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


_EVERY_FIELD_LONG = {
    "name": "n" * LONG_FIELD,
    "email": "e" * LONG_FIELD,
    "phone": "1" * LONG_FIELD,
    "page_url": "https://x.example/" + "p" * LONG_FIELD,
    "source": "s" * LONG_FIELD,
    "value": "9" * LONG_FIELD,
    "utm_source": "u" * LONG_FIELD,
    "company": "c" * LONG_FIELD,
}

# id, Content-Type, body, what the stored lead has (the other fields are the defaults).
ACCEPTED_BY_THE_WEBHOOK: list[tuple[str, str, str | bytes, dict]] = [
    # NUL characters are stripped, in values, keys and nested values, in every encoding
    (
        "nul-in-json",
        JSON,
        json.dumps(
            {
                "name": "A\x00na",
                "email": "ana\x00@example.com",
                "n\x00ote": {"deep": ["x\x00y", {"k\x00": "\x00"}]},
            }
        ),
        {
            "name": "Ana",
            "email": "ana@example.com",
            "extra_data": {"note": {"deep": ["xy", {"k": ""}]}},
        },
    ),
    (
        "nul-in-form",
        FORM,
        "name=A%00na&no%00te=x%00y",
        {"name": "Ana", "extra_data": {"note": "xy"}},
    ),
    (
        "nul-in-multipart",
        MULTIPART_CONTENT,
        multipart({"name": "A\x00na", "note": "x\x00y"}),
        {"name": "Ana", "extra_data": {"note": "xy"}},
    ),
    (
        "nul-in-text-plain",
        TEXT,
        "name=A\x00na\nnote=x\x00y",
        {"name": "Ana", "extra_data": {"note": "xy"}},
    ),
    (
        "nul-in-json-as-text-plain",
        TEXT,
        json.dumps({"name": "A\x00na", "tags": ["\x00vip"]}),
        {"name": "Ana", "extra_data": {"tags": ["vip"]}},
    ),
    # invalid UTF-8 in a form: Django's decoding, the submission is kept
    (
        "percent-encoded-invalid-utf8-in-form",
        FORM,
        "name=Jos%E9&note=%FF",
        {"name": "Jos\ufffd", "extra_data": {"note": "\ufffd"}},
    ),
    (
        "raw-latin1-form",
        FORM,
        b"name=Jos\xe9&note=caf\xe9",
        {"name": "Jos\u00e9", "extra_data": {"note": "caf\u00e9"}},
    ),
    (
        "invalid-utf8-in-multipart",
        MULTIPART_CONTENT,
        _raw_multipart("name", b"Jos\xe9"),
        {"name": "Jos\ufffd"},
    ),
    # lone surrogates (a JSON escape that no UTF-8 column can store) become U+FFFD
    (
        "lone-surrogates-in-json",
        JSON,
        '{"name": "Jos\\ud800", "note": {"k\\udfff": ["\\ud800"]}}',
        {"name": "Jos\ufffd", "extra_data": {"note": {"k\ufffd": ["\ufffd"]}}},
    ),
    # numbers as strings and strings as numbers
    (
        "numbers-where-strings-go",
        JSON,
        '{"name": 42, "email": 123, "phone": 15551234567, "company": 7}',
        {"name": "42", "email": "123", "phone": "15551234567", "extra_data": {"company": 7}},
    ),
    ("value-as-a-string", JSON, '{"name": "A", "value": "500"}', {"name": "A", "value": 500}),
    ("value-as-a-form-string", FORM, "name=A&value=499.99", {"name": "A", "value": 499.99}),
    (
        "unparsable-value",
        JSON,
        '{"name": "A", "value": "abc"}',
        {"name": "A", "value": 0, "extra_data": {"value": "abc"}},
    ),
    (
        "value-true",
        JSON,
        '{"name": "A", "value": true}',
        {"name": "A", "value": 0, "extra_data": {"value": True}},
    ),
    (
        "source-as-a-number",
        JSON,
        '{"name": "A", "source": 1}',
        {"name": "A", "source": "other", "extra_data": {"source": 1}},
    ),
    # a field given more than once: the first answer is the name, every answer is kept
    (
        "name-as-a-list",
        JSON,
        '{"name": ["Jane", "Doe"]}',
        {"name": "Jane", "extra_data": {"name": ["Jane", "Doe"]}},
    ),
    # 9,000 characters in every field: the column gets what fits, extra_data the rest
    (
        "9k-in-every-field",
        JSON,
        json.dumps(_EVERY_FIELD_LONG),
        {
            "name": "n" * 300,
            "email": "e" * 320,
            "phone": "1" * 64,
            "page_url": None,
            "source": "other",
            "value": 0,
            "utm": {"utm_source": "u" * LONG_FIELD},
            "extra_data": {
                key: _EVERY_FIELD_LONG[key]
                for key in ("name", "email", "phone", "page_url", "source", "value", "company")
            },
        },
    ),
    # nesting: up to the limit is kept; a bracket key too deep to nest stays a flat key
    (
        "json-nested-up-to-the-limit",
        JSON,
        f'{{"name": "A", "deep": {nest(MAX_JSON_DEPTH - 1)}}}',
        {"name": "A", "extra_data": {"deep": json.loads(nest(MAX_JSON_DEPTH - 1))}},
    ),
    (
        "bracket-key-10000-deep",
        FORM,
        "name=A&a" + "%5Bx%5D" * 10_000 + "=1",
        {"name": "A", "extra_data": {"a" + "[x]" * 10_000: "1"}},
    ),
    (
        "deep-bracket-key-holding-deep-json",
        JSON,
        f'{{"name": "A", "a{"[x]" * (MAX_JSON_DEPTH - 2)}": {nest(MAX_JSON_DEPTH - 2)}}}',
        {
            "name": "A",
            "extra_data": {
                "a": nested(["x"] * (MAX_JSON_DEPTH - 2), json.loads(nest(MAX_JSON_DEPTH - 2)))
            },
        },
    ),
    (
        "exactly-1000-form-fields",
        FORM,
        "&".join(f"f{index}=x" for index in range(1000)),
        {"extra_data": {f"f{index}": "x" for index in range(1000)}},
    ),
]

LEAD_DEFAULTS = {
    "name": "",
    "email": "",
    "phone": "",
    "status": "contact",
    "source": "other",
    "value": 0,
    "created_by": None,
    "utm": None,
    "extra_data": None,
    "page_url": None,
}


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in ACCEPTED_BY_THE_WEBHOOK],
)
def test_the_webhook_stores_a_lenient_field_as_specified(
    api_client, workspace, content_type, body, expected
):
    response = api_client.generic(
        "POST", f"/v1/webhook/{workspace.id}", fill(body, workspace), content_type=content_type
    )

    assert response.status_code == 201, response.content[:300]
    lead = Lead.objects.get()
    answer = response.json()
    assert answer == lead_output(lead)
    assert {key: answer[key] for key in LEAD_DEFAULTS} == {**LEAD_DEFAULTS, **expected}


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("a" + "[]" * (KEPT // 2) + "x", id="brackets"),
        pytest.param("1" + "!" * (KEPT - 2) + "x", id="bangs"),
    ],
)
def test_a_long_value_of_symbols_is_read_in_linear_time(api_client, workspace, value):
    # The currency-mark regex once took quadratic time on such a run: minutes per request.
    started = time.monotonic()

    response = api_client.post(
        f"/v1/webhook/{workspace.id}", json.dumps({"name": "A", "value": value}), content_type=JSON
    )

    assert time.monotonic() - started < 5
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.value, lead.extra_data) == (0, {"value": value})


# --- protected fields in a webhook body have no effect (A.2) ----------------------------------

_PROTECTED = {
    "id": str(uuid.UUID(int=7)),
    "workspace_id": str(uuid.UUID(int=8)),
    "workspace": str(uuid.UUID(int=8)),
    "status": "won",
    "is_spam": "true",
    "created_by": str(uuid.UUID(int=9)),
    "setter": str(uuid.UUID(int=9)),
    "submission_id": "forged",
    "created_at": "2001-01-01T00:00:00+00:00",
    "updated_at": "2001-01-01T00:00:00+00:00",
}
_FORM_PROTECTED = "&".join(f"{key}={value}" for key, value in _PROTECTED.items()).replace(
    "+", "%2B"
)
_SPELLED = {"Status": "won", "Workspace-ID": str(uuid.UUID(int=8)), "created at": "2001-01-01"}


@pytest.mark.parametrize(
    ("content_type", "body", "stored"),
    [
        pytest.param(JSON, json.dumps({"name": "A", **_PROTECTED}), _PROTECTED, id="json"),
        pytest.param(
            JSON,
            json.dumps({"name": "A", **_PROTECTED, "is_spam": True, "id": 7}),
            {**_PROTECTED, "is_spam": True, "id": 7},
            id="json-typed",
        ),
        pytest.param(FORM, "name=A&" + _FORM_PROTECTED, _PROTECTED, id="form"),
        pytest.param(
            MULTIPART_CONTENT, multipart({"name": "A", **_PROTECTED}), _PROTECTED, id="multipart"
        ),
        pytest.param(
            TEXT,
            "\n".join(["name=A", *(f"{key}={value}" for key, value in _PROTECTED.items())]),
            _PROTECTED,
            id="text-plain-lines",
        ),
        pytest.param(JSON, json.dumps({"name": "A", **_SPELLED}), _SPELLED, id="other-spellings"),
        pytest.param(
            FORM,
            "fields%5Bname%5D%5Bvalue%5D=A&fields%5Bstatus%5D%5Bvalue%5D=won"
            f"&fields%5Bid%5D%5Bvalue%5D={uuid.UUID(int=7)}",
            {"status": "won", "id": str(uuid.UUID(int=7))},
            id="elementor-wrapped",
        ),
    ],
)
def test_protected_fields_in_a_webhook_body_have_no_effect(
    api_client, workspace, content_type, body, stored
):
    ProfileFactory(workspace=workspace, id=uuid.UUID(int=9))
    started = timezone.now()

    response = api_client.generic(
        "POST", f"/v1/webhook/{workspace.id}", fill(body, workspace), content_type=content_type
    )

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert response.json() == lead_output(lead)
    assert lead.id not in (uuid.UUID(int=7), 7)
    assert lead.name == "A"
    assert (lead.workspace_id, lead.status, lead.is_spam) == (workspace.id, "contact", False)
    assert (lead.created_by_id, lead.setter_id, lead.submission_id) == (None, None, None)
    assert started <= lead.created_at <= lead.updated_at <= timezone.now() + timedelta(seconds=1)
    # SPEC A.2: "any other field goes into extra_data", under the key it was posted as.
    assert lead.extra_data == stored


# --- size and field-count limits ---------------------------------------------------------------

LIMIT = 4096


def _json_of_size(size: int) -> str:
    """A body valid for both endpoints, `size` bytes long once WS is the workspace id."""
    head = f'{{"workspace_id": "{WS}", "extra_data": {{"pad": "'
    return head + "x" * (size - len(head) - len('"}}') - (36 - len(WS))) + '"}}'


@pytest.mark.parametrize(
    ("endpoint", "content_type", "body"),
    [
        pytest.param(CREATE, JSON, _json_of_size(LIMIT + 1), id="create-lead:json-one-byte-over"),
        pytest.param(WEBHOOK, JSON, _json_of_size(LIMIT + 1), id="webhook:json-one-byte-over"),
        pytest.param(CREATE, FORM, "name=" + "x" * LIMIT, id="create-lead:form"),
        pytest.param(
            CREATE, MULTIPART_CONTENT, multipart({"name": "x" * LIMIT}), id="create-lead:multipart"
        ),
        pytest.param(WEBHOOK, TEXT, "name=" + "x" * LIMIT, id="webhook:text-plain"),
    ],
)
def test_a_body_over_the_limit_is_a_413(
    api_client, settings, workspace, endpoint, content_type, body
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT

    response = api_client.generic(
        "POST", url_for(endpoint, workspace), fill(body, workspace), content_type=content_type
    )

    assert_json_error(response, 413, message(f"Request body too large (limit {LIMIT} bytes)"))
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("endpoint", [CREATE, WEBHOOK])
def test_a_body_of_exactly_the_limit_is_accepted(api_client, settings, workspace, endpoint):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    body = fill(_json_of_size(LIMIT), workspace)
    assert len(body) == LIMIT

    response = api_client.generic("POST", url_for(endpoint, workspace), body, content_type=JSON)

    assert response.status_code == 201
    extra_data = Lead.objects.get().extra_data
    assert extra_data is not None
    assert extra_data["pad"] == json.loads(body)["extra_data"]["pad"]


@pytest.mark.parametrize("endpoint", [CREATE, WEBHOOK])
def test_a_chunked_body_over_the_limit_is_a_413(api_client, settings, workspace, endpoint):
    # What gunicorn hands over for `Transfer-Encoding: chunked`: no Content-Length, the
    # de-chunked body on wsgi.input (the webhook's real-server proof: test_chunked_bodies.py).
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    body = fill(_json_of_size(LIMIT + 1), workspace)

    response = api_client.generic(
        "POST",
        url_for(endpoint, workspace),
        b"",
        content_type=JSON,
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body)},
    )

    assert_json_error(response, 413, message(f"Request body too large (limit {LIMIT} bytes)"))
    assert Lead.objects.count() == 0


_FIELDS_1001 = {f"f{index}": "1" for index in range(1001)}


@pytest.mark.parametrize(
    ("endpoint", "content_type", "body", "status", "expected"),
    [
        pytest.param(
            WEBHOOK,
            TEXT,
            "\n".join(f"{key}={value}" for key, value in _FIELDS_1001.items()),
            413,
            message("Too many fields (limit 1000)"),
            id="webhook:text-plain-lines",
        ),
        pytest.param(
            WEBHOOK,
            MULTIPART_CONTENT,
            encode_multipart(
                BOUNDARY,
                {"name": "A", "files": [SimpleUploadedFile(f"{n}.txt", b"x") for n in range(101)]},
            ),
            413,
            message("Too many files (limit 100)"),
            id="webhook:101-files",
        ),
        pytest.param(
            CREATE,
            FORM,
            "&".join(f"{key}={value}" for key, value in _FIELDS_1001.items()),
            415,
            _unsupported(FORM),
            id="create-lead:form",
        ),
        pytest.param(
            CREATE,
            MULTIPART_CONTENT,
            multipart(_FIELDS_1001),
            415,
            _unsupported(MULTIPART_CONTENT),
            id="create-lead:multipart",
        ),
    ],
)
def test_more_than_1000_form_fields_are_refused(
    api_client, workspace, endpoint, content_type, body, status, expected
):
    response = api_client.generic(
        "POST", url_for(endpoint, workspace), fill(body, workspace), content_type=content_type
    )

    assert_json_error(response, status, expected)
    assert Lead.objects.count() == 0


# --- API keys (A.4): optional, but a presented key must be valid ------------------------------


@pytest.mark.parametrize(("headers", "accepted"), API_KEY_HEADER_CASES)
@pytest.mark.parametrize("endpoint", [CREATE, WEBHOOK])
def test_an_api_key_edge_case_is_a_401_or_the_key(
    api_client, workspace, api_key, endpoint, headers, accepted
):
    body = json.dumps({"workspace_id": str(workspace.id), "name": "Jane"})

    response = api_client.post(
        url_for(endpoint, workspace), body, content_type=JSON, **headers(api_key.plaintext)
    )

    if accepted:
        assert response.status_code == 201
        assert Lead.objects.get().name == "Jane"
    else:
        assert_json_error(response, 401, INVALID_KEY)
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
        assert Lead.objects.count() == 0


def test_a_key_of_another_workspace_padded_is_still_a_401(api_client, workspace):
    foreign = ApiKeyFactory(workspace=WorkspaceFactory())
    body = json.dumps({"workspace_id": str(workspace.id)})

    response = api_client.post(
        "/v1/create-lead", body, content_type=JSON, HTTP_X_API_KEY=f" {foreign.plaintext} "
    )

    assert_json_error(response, 401, INVALID_KEY)
    assert Lead.objects.count() == 0
