"""Every exception is made a DRF exception first, then rendered in one place."""

import json

import pytest
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import OperationalError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.test import RequestFactory
from rest_framework import exceptions

from hushmetrics import errors

UNAVAILABLE = "Service temporarily unavailable"
# (exception, status, message, headers)
CASES = [
    (Http404(), 404, "Not found", {}),
    (Http404("Workspace not found"), 404, "Workspace not found", {}),
    (PermissionDenied(), 403, "Forbidden", {}),
    (exceptions.PermissionDenied(), 403, "Forbidden", {}),
    (RequestDataTooBig(), 413, "Request body too large", {}),
    (TooManyFieldsSent(), 413, "Too many fields (limit 1000)", {}),
    (TooManyFilesSent(), 413, "Too many files (limit 100)", {}),
    (SuspiciousOperation(), 400, "Malformed request", {}),
    (BadRequest(), 400, "Malformed request", {}),
    (MultiPartParserError("no boundary"), 400, "Malformed request", {}),
    (exceptions.Throttled(wait=2.5), 429, "Too many requests", {"Retry-After": "3"}),
    (exceptions.Throttled(), 429, "Too many requests", {"Retry-After": "1"}),
    (
        OperationalError("gone"),
        503,
        "Service temporarily unavailable, please retry",
        {"Retry-After": "5"},
    ),
    (RuntimeError("internals"), 500, "Internal server error", {}),
]


def _answer(response) -> tuple[int, dict, dict]:
    headers = {name: response[name] for name in ("Retry-After",) if response.has_header(name)}
    return response.status_code, json.loads(response.content), headers


@pytest.mark.parametrize(("exc", "status", "message", "headers"), CASES)
@pytest.mark.parametrize(
    ("path", "envelope"),
    [("/v1/create-lead", {}), ("/api/opt-in/submit", {"status": "error"})],
)
def test_each_exception_answers_in_the_surface_s_envelope(
    exc, status, message, headers, path, envelope
):
    request = RequestFactory().post(path)
    response = errors.exception_handler(exc, {"request": request, "view": None})
    assert _answer(response) == (status, {**envelope, "message": message}, headers)


@pytest.mark.parametrize(
    "exc",
    [
        RequestDataTooBig(),
        TooManyFieldsSent(),
        TooManyFilesSent(),
        SuspiciousOperation(),
        BadRequest(),
        MultiPartParserError("no boundary"),
    ],
)
def test_django_s_400_handler_answers_as_the_api_s_handler_does(exc):
    """One mapping: a body Django refuses before DRF reads as one refused in a view."""
    request = RequestFactory().post("/v1/webhook/x")
    via_drf = errors.exception_handler(exc, {"request": request, "view": None})
    via_django = errors.handler400(request, exc)
    assert _answer(via_django) == _answer(via_drf)
    assert via_django.status_code in (400, 413)


@pytest.mark.parametrize(
    "items",
    [
        # A ListSerializer's errors, keyed by index (DRF's dict format) or as a list.
        {3: {"question": [exceptions.ErrorDetail("question is required")]}},
        [{}, {}, {}, {"question": ["question is required"]}],
    ],
)
def test_error_paths_name_each_field_by_its_path_in_the_body(items):
    detail = {
        "questions_answers": items,
        "traffic": {"utm_source": ["utm_source must be a string"]},
        "email": ["email is required"],
        "phone_country": ["This field is required."],
        "non_field_errors": ["Invalid data."],
    }
    assert errors.error_paths(detail) == {
        "questions_answers[3].question": ["questions_answers[3].question is required"],
        "traffic.utm_source": ["traffic.utm_source must be a string"],
        "email": ["email is required"],
        "phone_country": ["This field is required."],
        "non_field_errors": ["Invalid data."],
    }


def test_error_paths_of_a_bare_message_and_a_nested_non_field_error():
    assert errors.error_paths(["Expected a dictionary."]) == {
        "non_field_errors": ["Expected a dictionary."]
    }
    nested = {"traffic": {"non_field_errors": ["traffic must be an object"]}}
    assert errors.error_paths(nested) == {"traffic": ["traffic must be an object"]}
