"""One error envelope per public surface, for every error either surface can produce.

Surface A (`/v1`) answers `{"message": …}`; surface B (`/api/`) answers
`{"status": "error", "message": …}`. Both may add `"errors": {field: [messages]}`. The DRF
exception handler, the Django error handlers and the request-size middleware all render
through `error_response`, so a client sees one format whatever failed.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found, server_error
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)

# Seconds a client should wait before retrying when the database is unavailable.
UNAVAILABLE_RETRY_AFTER = 5


def is_optin_path(path: str) -> bool:
    return path.startswith("/api/")


def is_api_path(path: str) -> bool:
    return path.startswith(("/v1/", "/api/")) or path == "/v1"


def error_response(
    request: HttpRequest,
    status: int,
    message: str,
    *,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    """Render an error in the envelope of the surface `request` was made to."""
    body: dict[str, Any] = {"message": message}
    if is_optin_path(request.path):
        body = {"status": "error", "message": message}
    if errors:
        body["errors"] = errors
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested ValidationError detail as {"field.sub": ["message", …]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and prefix:
                name = prefix
            flat.update(_flatten(value, name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            flat.update(_flatten(item, f"{prefix}[{index}]" if prefix else f"[{index}]"))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def validation_message(errors: dict[str, list[str]]) -> str:
    """A human sentence naming the first invalid field (as-is when it already names it)."""
    field, messages = next(iter(errors.items()))
    message = messages[0]
    if field == "non_field_errors" or message.startswith(field.split(".")[0]):
        return message
    return f"{field}: {message}"


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse:
    """DRF's EXCEPTION_HANDLER: every error of an API view, in its surface's envelope."""
    request = context["request"]
    view = context.get("view")
    set_rollback()

    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        return error_response(request, 400, validation_message(errors), errors=errors)
    if isinstance(exc, exceptions.ParseError):
        return error_response(request, 400, str(exc.detail))
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
        headers = {}
        if view is not None and (challenge := view.get_authenticate_header(request)):
            headers["WWW-Authenticate"] = challenge
        return error_response(request, 401, str(exc.detail), headers=headers)
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, int(exc.wait or 1))
        return error_response(request, 429, "Too many requests", headers={"Retry-After": str(wait)})
    if isinstance(exc, exceptions.NotFound | Http404):
        message = str(exc.detail) if isinstance(exc, exceptions.NotFound) else str(exc)
        return error_response(request, 404, message or "Not found")
    if isinstance(exc, exceptions.MethodNotAllowed):
        allow = ", ".join(view.allowed_methods) if view is not None else ""
        return error_response(
            request, 405, f"Method {request.method} not allowed", headers={"Allow": allow}
        )
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return error_response(request, 415, str(exc.detail))
    if isinstance(exc, exceptions.NotAcceptable):
        return error_response(request, 406, str(exc.detail))
    if isinstance(exc, RequestDataTooBig):
        return error_response(request, 413, "Request body too large")
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return error_response(request, 413, _too_many_message(exc))
    if isinstance(exc, Ratelimited):
        # django-ratelimit's own exception is a PermissionDenied: without this it is a 403.
        return error_response(request, 429, "Too many requests", headers={"Retry-After": "60"})
    if isinstance(exc, SuspiciousOperation):
        return error_response(request, 400, "Malformed request")
    if isinstance(exc, exceptions.PermissionDenied | PermissionDenied):
        return error_response(request, 403, "Forbidden")
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error("database unavailable: %s", exc)
        return error_response(
            request,
            503,
            "Service temporarily unavailable, please retry",
            headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
        )
    if isinstance(exc, exceptions.APIException):
        return error_response(request, exc.status_code, str(exc.detail))
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
    else:
        logger.exception("unhandled error in %s", request.path)
    return error_response(request, 500, "Internal server error")


def _too_many_message(exc: Exception) -> str:
    if isinstance(exc, TooManyFilesSent):
        return f"Too many files (limit {settings.DATA_UPLOAD_MAX_NUMBER_FILES})"
    return f"Too many fields (limit {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})"


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Catch-all for unknown paths under the API prefixes (works with DEBUG on too)."""
    return error_response(request, 404, "Not found")


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request.path):
        return error_response(request, 404, "Not found")
    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if is_api_path(request.path):
        return error_response(request, 500, "Internal server error")
    return server_error(request)


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request.path):
        if isinstance(exception, RequestDataTooBig):
            return error_response(request, 413, "Request body too large")
        if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
            return error_response(request, 413, _too_many_message(exception))
        return error_response(request, 400, "Malformed request")
    from django.views.defaults import bad_request

    return bad_request(request, exception)
