"""One error envelope per public surface, for every error either surface can produce.

Surface A (`/v1`) answers `{"message": …}`; surface B (`/api/`) answers
`{"status": "error", "message": …}`. Both may add `"errors": {field: [messages]}`. Whatever
failed is first made the DRF exception it is answered as (`as_api_exception`), then rendered
in one place (`api_error_response`): by the DRF exception handler, the Django error handlers
and the request-size middleware alike, so a client sees one format whatever failed.
"""

import logging
import math
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.defaults import bad_request, page_not_found, server_error
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from hushmetrics.pages import ERROR_PAGES, error_page, is_browser

logger = logging.getLogger(__name__)

# Seconds a client should wait before retrying when the database is unavailable.
UNAVAILABLE_RETRY_AFTER = 5
NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


def is_optin_path(path: str) -> bool:
    return path.startswith("/api/")


def is_api_path(path: str) -> bool:
    return path.startswith(("/v1/", "/api/")) or path == "/v1"


# The universal webhook's own path: a person's browser posts forms to it (SPEC §8).
WEBHOOK_PATH = re.compile(r"^/v1/webhook/[^/]+/?$")


def wants_error_page(request: HttpRequest, exc: exceptions.APIException) -> bool:
    """A browser's request to the webhook failing with a status that has a page (SPEC §8)."""
    return (
        exc.status_code in ERROR_PAGES
        and WEBHOOK_PATH.match(request.path) is not None
        and is_browser(request)
    )


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "Request body too large"
    default_code = "payload_too_large"


def throttled_wait(exc: exceptions.Throttled) -> int | None:
    """The whole seconds a Throttled was raised with (DRF rounds `wait` up), or None."""
    wait: int | None = exc.wait  # type: ignore[attr-defined]  # set by Throttled.__init__, not in its stubs
    return wait


class TooManyRequests(exceptions.Throttled):
    """A 429 that says only "Too many requests": when to retry is in Retry-After (DRF's
    Throttled would repeat it in the message)."""

    def __init__(self, wait: float | None) -> None:
        super().__init__(detail="Too many requests")
        self.wait = max(1, math.ceil(wait or 1))


class ServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "Service temporarily unavailable, please retry"
    default_code = "service_unavailable"
    wait = UNAVAILABLE_RETRY_AFTER


def as_api_exception(exc: Exception, request: HttpRequest) -> exceptions.APIException:
    """`exc` as the DRF exception it is answered as, with the message the client gets.

    Django's own exceptions become DRF's (as DRF's default handler does for Http404 and
    PermissionDenied), a lost database a 503, anything unexpected a 500 (logged).
    """
    if isinstance(exc, exceptions.Throttled):
        return TooManyRequests(wait=throttled_wait(exc))
    if isinstance(exc, exceptions.MethodNotAllowed):
        return exceptions.MethodNotAllowed(
            str(request.method), detail=f"Method {request.method} not allowed"
        )
    if isinstance(exc, exceptions.PermissionDenied | PermissionDenied):
        return exceptions.PermissionDenied("Forbidden")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return _with_what_to_send(exc, request)
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "Not found")
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, TooManyFilesSent):
        return PayloadTooLarge(f"Too many files (limit {settings.DATA_UPLOAD_MAX_NUMBER_FILES})")
    if isinstance(exc, TooManyFieldsSent):
        return PayloadTooLarge(f"Too many fields (limit {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})")
    if isinstance(exc, SuspiciousOperation | BadRequest | MultiPartParserError):
        return exceptions.ParseError("Malformed request")
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error("database unavailable: %s", exc)
        return ServiceUnavailable()
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
    else:
        logger.exception("unhandled error in %s", request.path)
    return exceptions.APIException("Internal server error")


def _with_what_to_send(
    exc: exceptions.UnsupportedMediaType, request: HttpRequest
) -> exceptions.UnsupportedMediaType:
    """The 415, naming the content types the endpoint takes (its parsers')."""
    types = [parser.media_type for parser in getattr(request, "parsers", None) or ()]
    if not types:
        return exc
    listed = types[0] if len(types) == 1 else f"{', '.join(types[:-1])} or {types[-1]}"
    return exceptions.UnsupportedMediaType(
        request.content_type or "", detail=f"{exc.detail} Send the body as {listed}."
    )


def api_error_response(request: HttpRequest, exc: exceptions.APIException) -> HttpResponse:
    """`exc` in the envelope of the surface `request` was made to, with its headers; for a
    person's browser posting a form to the webhook, an HTML page with the same status."""
    response = (
        error_page(request, exc.status_code)
        if wants_error_page(request, exc)
        else _json_error(request, exc)
    )
    if auth_header := getattr(exc, "auth_header", None):
        response["WWW-Authenticate"] = auth_header
    if wait := getattr(exc, "wait", None):
        response["Retry-After"] = str(int(wait))
    return response


def _json_error(request: HttpRequest, exc: exceptions.APIException) -> JsonResponse:
    body: dict[str, Any] = {"message": str(exc.detail)}
    if isinstance(exc, exceptions.ValidationError):
        errors = error_paths(exc.detail)
        body = {"message": validation_message(errors), "errors": errors}
    if is_optin_path(request.path):
        body = {"status": "error", **body}
    return JsonResponse(body, status=exc.status_code)


def error_paths(detail: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested ValidationError detail as {"path": [messages]}, one entry per field.

    Paths read as the body is written: `traffic.utm_source`, `questions_answers[3].question`
    (a ListSerializer's errors come keyed by item index, or as a list; both read the same). A
    nested field's message that starts with its own name is made to start with its whole
    path instead: `question is required` there reads `questions_answers[3].question is
    required`.
    """
    if isinstance(detail, dict) and detail and all(isinstance(key, int) for key in detail):
        detail = [detail.get(index, {}) for index in range(max(detail) + 1)]
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = path if key == NON_FIELD else f"{path}.{key}" if path else str(key)
            flat.update(error_paths(value, name))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            flat.update(error_paths(item, f"{path}[{index}]"))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {path or NON_FIELD: [_from_path(str(message), path) for message in messages]}


def _from_path(message: str, path: str) -> str:
    own_name = re.sub(r"\[\d+\]$", "", path.rsplit(".", 1)[-1])
    if own_name != path and message.startswith(f"{own_name} "):
        return path + message[len(own_name) :]
    return message


def validation_message(errors: dict[str, list[str]]) -> str:
    """A human sentence naming the first invalid field (as-is when it already names it)."""
    field, messages = next(iter(errors.items()))
    message = messages[0]
    if field == NON_FIELD or message.startswith(field.split(".")[0]):
        return message
    return f"{field}: {message}"


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse:
    """DRF's EXCEPTION_HANDLER: every error of an API view, in its surface's envelope."""
    set_rollback()
    request = context["request"]
    return api_error_response(request, as_api_exception(exc, request))


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Catch-all for unknown paths under the API prefixes (works with DEBUG on too)."""
    return api_error_response(request, exceptions.NotFound("Not found"))


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request.path):
        return not_found(request)
    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if is_api_path(request.path):
        return api_error_response(request, exceptions.APIException("Internal server error"))
    return server_error(request)


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400s (a body too large or with too many fields, a malformed request)."""
    if is_api_path(request.path):
        return api_error_response(request, as_api_exception(exception, request))
    return bad_request(request, exception)
