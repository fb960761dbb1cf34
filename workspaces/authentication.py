"""API-key authentication for both public surfaces, shaped like DRF's TokenAuthentication."""

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException, AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hushmetrics.ratelimit import client_ip, enforce_rate_limit
from workspaces.keys import PUBLIC_LENGTH, public_part
from workspaces.models import ApiKey, ApiKeyScope
from workspaces.services import api_key_mark_used, api_key_verify

INVALID_KEY_MESSAGE = "Invalid or revoked API key"
AUTH_FAILURE_GROUP = "auth-failures"

logger = logging.getLogger(__name__)


def presented_key(request: Request) -> str | None:
    """The key a request carries (`x-api-key`, else `Authorization: Bearer …`), or None.

    A header that is present but empty counts as a (bad) key, not as no key.
    """
    header: str | None = request.META.get("HTTP_X_API_KEY")
    if header is not None:
        return header.strip()
    authorization: str | None = request.META.get("HTTP_AUTHORIZATION")
    if authorization is None:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return credentials.strip()


def request_api_key(request: Request) -> ApiKey | None:
    """The key `ApiKeyAuthentication` accepted for this request, or None (none presented)."""
    return request.auth if isinstance(request.auth, ApiKey) else None


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates `(None, ApiKey)`; every failure is the same 401, whatever went wrong.

    Rejected keys count against the client IP and the key's prefix (RATE_LIMIT_AUTH_FAILURES);
    past it the client gets 429s for that prefix, so guessing a key is slow. Views that
    require a key add `HasApiKey`; without it a key is optional. A key's `last_used_at` is
    stamped by `ApiKeyApiView`, once the request is accepted, never here: a verified key can
    still be refused (another workspace's, a bad body).
    """

    def authenticate(self, request: Request) -> tuple[None, ApiKey] | None:
        key = presented_key(request)
        if key is None:
            return None
        return self.authenticate_credentials(request, key)

    def authenticate_credentials(self, request: Request, key: str) -> tuple[None, ApiKey]:
        api_key = api_key_verify(key=key)
        if api_key is None:
            # Counted per (client IP, the key's public prefix), and only once a key has
            # failed: a valid key is never refused for other keys' failures from the same
            # address (a NAT, an integration platform), while a guesser of one key gets the
            # same 401 until its own quota is spent, then 429s.
            failures = f"{client_ip(request)}:{public_part(key)[:PUBLIC_LENGTH]}"
            rate = settings.RATE_LIMIT_AUTH_FAILURES
            enforce_rate_limit(
                request, group=AUTH_FAILURE_GROUP, key=failures, rate=rate, increment=False
            )
            enforce_rate_limit(request, group=AUTH_FAILURE_GROUP, key=failures, rate=rate)
            raise AuthenticationFailed(INVALID_KEY_MESSAGE)
        return (None, api_key)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class HasApiKey(BasePermission):
    """Requires an accepted key. No key at all gets the same 401 as a bad one.

    DRF's own path for an anonymous request is NotAuthenticated with its own message; raising
    AuthenticationFailed here keeps the single, uninformative answer.
    """

    def has_permission(self, request: Request, view: object) -> bool:
        if isinstance(request.auth, ApiKey):
            return True
        raise AuthenticationFailed(INVALID_KEY_MESSAGE)


class MissingScope(APIException):
    """A valid key of the right workspace without the scope the endpoint needs (SPEC §10).

    Not a PermissionDenied: the error handler answers those with a bare "Forbidden", and
    this 403 names the scope."""

    status_code = 403
    default_code = "missing_scope"

    def __init__(self, scope: str) -> None:
        super().__init__(f"This API key lacks the {scope} scope")


class ApiKeyApiView(APIView):
    """An endpoint authenticated by `ApiKeyAuthentication` that stamps the key's
    `last_used_at` (at most once a minute) only when it accepts the request: a 2xx, or the
    webhook's 303. A refusal (4xx) or a failure (5xx) leaves the key as it was.

    A presented key must carry `required_scope` (`ingest` unless the view says otherwise),
    else 403; whether a key is needed at all is up to the view's permissions."""

    authentication_classes = [ApiKeyAuthentication]
    required_scope: str = ApiKeyScope.INGEST

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        if isinstance(request.auth, ApiKey) and not request.auth.has_scope(self.required_scope):
            raise MissingScope(self.required_scope)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        # Only a handler answers 2xx/3xx, and it runs after authentication: `request.auth`
        # is already settled here, never computed afresh.
        if 200 <= response.status_code < 400 and isinstance(request.auth, ApiKey):
            try:
                api_key_mark_used(api_key=request.auth)
            except DatabaseError as error:
                # The answer stands: what it reports is committed, and a client told
                # otherwise would send it again.
                logger.warning("api key %s: last_used_at not stamped: %s", request.auth.pk, error)
        return response
