"""Surface A: POST /v1/create-lead (A.1) and the universal webhook (A.2)."""

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.http import HttpResponse
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import (
    APIException,
    AuthenticationFailed,
    NotAuthenticated,
    NotFound,
    ParseError,
    ValidationError,
)
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from hushmetrics.pages import is_browser
from hushmetrics.parsers import PayloadTooLarge, json_size
from hushmetrics.ratelimit import client_ip, enforce_rate_limit
from hushmetrics.text import strip_nul
from leads.models import JSON_COLUMN_MAX_BYTES
from leads.pages import browser_post_location, connected_page
from leads.parsers import (
    DiscardingMultiPartParser,
    JSONObjectParser,
    LenientFormParser,
    PlainTextParser,
    form_fields,
    uploads,
)
from leads.schema import CREATE_LEAD_SCHEMA, WEBHOOK_GET_SCHEMA, WEBHOOK_SCHEMA
from leads.serializers import LeadCreateInputSerializer, lead_output
from leads.services import SubmissionIdReused, lead_create, webhook_lead_ingest
from leads.webhook import EmptySubmission, WebhookSubmission, normalise
from workspaces.authentication import INVALID_KEY_MESSAGE, ApiKeyApiView, request_api_key
from workspaces.models import Workspace
from workspaces.selectors import (
    profile_get,
    workspace_cache_forget,
    workspace_get,
    workspace_get_cached,
)

WORKSPACE_NOT_FOUND = "Workspace not found"


class SubmissionIdConflict(APIException):
    status_code = 409
    default_detail = "This submission id was already used with a different body"
    default_code = "submission_id_reused"


ONE_SUBMISSION_PER_ARRAY = (
    "A JSON array body must hold exactly one object: send each submission as its own request"
)


API_KEY_REQUIRED = "An API key is required for this workspace"


@contextmanager
def workspace_still_there(workspace: Workspace) -> Iterator[None]:
    """A write for a cached workspace that another process has since deleted fails on the
    foreign key: answer it like any unknown workspace (404), not with a 500."""
    try:
        yield
    except IntegrityError:
        workspace_cache_forget(workspace_id=workspace.id)
        if workspace_get(workspace_id=workspace.id) is None:
            raise NotFound(WORKSPACE_NOT_FOUND) from None
        raise


class JsonAnswerNegotiation(DefaultContentNegotiation):
    """Always answer JSON, whatever `Accept` says: a browser's HTML form sends
    `Accept: text/html` and must get its lead (or its 303), never a 406."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type


def check_api_key(request: Request, workspace: Workspace, *, required: bool) -> None:
    """A.4: a presented key (already verified) must belong to `workspace`; maybe one is due."""
    api_key = request_api_key(request)
    if api_key is not None and api_key.workspace_id != workspace.id:
        raise AuthenticationFailed(INVALID_KEY_MESSAGE)
    if required and api_key is None:
        raise NotAuthenticated(API_KEY_REQUIRED)


class LeadCreateApi(ApiKeyApiView):
    parser_classes = [JSONObjectParser]
    content_negotiation_class = JsonAnswerNegotiation

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Counted before authentication and parsing, so a flood costs no database work.
        ip = client_ip(request)
        enforce_rate_limit(
            request, group="create-lead", key=ip, rate=settings.RATE_LIMIT_CREATE_LEAD
        )
        super().initial(request, *args, **kwargs)

    @extend_schema(**CREATE_LEAD_SCHEMA)
    def post(self, request: Request) -> Response:
        serializer = LeadCreateInputSerializer(data=strip_nul(request.data))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        workspace_id = data.pop("workspace_id")
        api_key = request_api_key(request)
        workspace: Workspace | None
        if api_key is not None and api_key.workspace_id == workspace_id:
            workspace = api_key.workspace  # read with the key, this request
        else:
            workspace = workspace_get_cached(workspace_id=workspace_id)
        if workspace is None:
            raise NotFound(WORKSPACE_NOT_FOUND)
        check_api_key(request, workspace, required=workspace.require_api_key)
        created_by_id = data.pop("created_by")
        if created_by_id is not None:
            data["created_by"] = profile_get(workspace=workspace, profile_id=created_by_id)
            if data["created_by"] is None:
                raise ValidationError({"created_by": ["No profile with this id in the workspace."]})
        with workspace_still_there(workspace):
            lead = lead_create(workspace=workspace, **data)
        return Response(lead_output(lead), status=201)


def _fields(request: Request) -> dict[str, Any]:
    """The body as a dict: repeated form keys as lists; a JSON array of one object (Zapier's
    "wrap request in array") as that object."""
    data = request.data
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        data = data[0]
    elif isinstance(data, list) and len(data) > 1 and all(isinstance(item, dict) for item in data):
        raise ParseError(ONE_SUBMISSION_PER_ARRAY)
    if isinstance(data, MultiValueDict):
        return form_fields(data)
    if isinstance(data, dict):
        return dict(data)
    raise ParseError("JSON body must be an object")


def check_json_columns(submission: WebhookSubmission) -> None:
    """A 413 when the fields a delivery keeps in `utm` or `extra_data` pass the columns' budget
    (JSON_COLUMN_MAX_BYTES); create-lead checks its own in the serializer."""
    for column in ("utm", "extra_data"):
        if json_size(getattr(submission, column)) > JSON_COLUMN_MAX_BYTES:
            raise PayloadTooLarge(
                f"Too much data: the fields kept in {column} come to more than "
                f"{JSON_COLUMN_MAX_BYTES} bytes"
            )


class WebhookApi(ApiKeyApiView):
    parser_classes = [
        JSONObjectParser,
        LenientFormParser,
        DiscardingMultiPartParser,
        PlainTextParser,
    ]
    content_negotiation_class = JsonAnswerNegotiation

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Per workspace and IP: form platforms post every customer's forms from a few IPs.
        # Then per workspace, whatever the IP: many IPs together get no more than that.
        # A request refused by the first is not counted by the second.
        try:
            workspace_key = str(uuid.UUID(kwargs["workspace_id"]))
        except ValueError:
            workspace_key = None  # a 404 whatever happens: one shared bucket, no workspace's
        key = f"{workspace_key or 'malformed'}:{client_ip(request)}"
        if request.method in ("GET", "HEAD"):
            # Looking at the endpoint spends no workspace's submission quota.
            ip = client_ip(request)
            enforce_rate_limit(
                request, group="webhook-page", key=ip, rate=settings.RATE_LIMIT_WEBHOOK
            )
            return super().initial(request, *args, **kwargs)
        enforce_rate_limit(request, group="webhook", key=key, rate=settings.RATE_LIMIT_WEBHOOK)
        if workspace_key is not None:
            enforce_rate_limit(
                request,
                group="webhook-workspace",
                key=workspace_key,
                rate=settings.RATE_LIMIT_WEBHOOK_WORKSPACE,
            )
        super().initial(request, *args, **kwargs)

    @extend_schema(**WEBHOOK_GET_SCHEMA)
    def get(self, request: Request, workspace_id: str) -> HttpResponse:
        """SPEC §8: is this URL connected? A page for a browser, JSON for anything else."""
        workspace = workspace_get_cached(workspace_id=workspace_id)
        if workspace is None or not workspace.webhook_enabled:
            raise NotFound(WORKSPACE_NOT_FOUND)
        check_api_key(request, workspace, required=False)
        if is_browser(request):
            return connected_page(request, workspace)
        return Response(
            {
                "message": "Send form submissions here with POST",
                "workspace": {"id": str(workspace.id), "name": workspace.name},
            }
        )

    @extend_schema(**WEBHOOK_SCHEMA)
    def post(self, request: Request, workspace_id: str) -> HttpResponse:
        workspace = workspace_get_cached(workspace_id=workspace_id)
        if workspace is None or not workspace.webhook_enabled:
            raise NotFound(WORKSPACE_NOT_FOUND)
        check_api_key(request, workspace, required=False)
        fields = _fields(request)
        try:
            submission = normalise(fields, request.headers, uploads(request.FILES))
        except EmptySubmission:
            raise ParseError("Request body has no fields") from None
        check_json_columns(submission)
        with workspace_still_there(workspace):
            try:
                lead, created = webhook_lead_ingest(workspace=workspace, submission=submission)
            except SubmissionIdReused:
                raise SubmissionIdConflict from None
        if is_browser(request):
            # Post/redirect/get: a reload of where the visitor lands posts nothing again.
            location = browser_post_location(workspace, fields, request.headers)
            return Response(lead_output(lead), status=303, headers={"Location": location})
        if submission.redirect_to:
            return Response(
                lead_output(lead), status=303, headers={"Location": submission.redirect_to}
            )
        if not created:
            return Response(lead_output(lead), status=200, headers={"Idempotent-Replayed": "true"})
        # Elementor counts any status but 200 as a failed delivery (and retries).
        wordpress = request.headers.get("User-Agent", "").startswith("WordPress/")
        return Response(lead_output(lead), status=200 if wordpress else 201)
