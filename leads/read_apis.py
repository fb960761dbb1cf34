"""Surface A's lead read and update API (SPEC §10): GET /v1/leads, GET/PATCH/DELETE
/v1/leads/{id}. Always with a key; the workspace is the key's; each operation needs its
scope."""

import uuid
from dataclasses import asdict
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from hushmetrics.ratelimit import enforce_rate_limit
from hushmetrics.text import strip_nul
from leads.cursors import InvalidCursor, cursor_decode, cursor_encode, query_digest
from leads.extensions import lead_detail_parts
from leads.models import Lead
from leads.parsers import JSONObjectParser
from leads.read_schema import (
    LEAD_DELETE_SCHEMA,
    LEAD_DETAIL_SCHEMA,
    LEAD_LIST_SCHEMA,
    LEAD_PATCH_SCHEMA,
)
from leads.read_serializers import (
    LeadListQuerySerializer,
    LeadUpdateInputSerializer,
    lead_read_output,
)
from leads.selectors import LeadOrder, lead_get, lead_keyset, lead_list
from leads.services import lead_edit, lead_erase
from workspaces.authentication import ApiKeyApiView, HasApiKey
from workspaces.models import ApiKey, ApiKeyScope, Workspace
from workspaces.selectors import profile_get

LEAD_NOT_FOUND = "Lead not found"
RATE_LIMIT_GROUP = "leads-api"


class LeadApiView(ApiKeyApiView):
    """A key is required (401 as in A.4), then the view's scope (403), then RATE_LIMIT_READ
    per key, counted like the other limits."""

    permission_classes = [HasApiKey]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        enforce_rate_limit(
            request, group=RATE_LIMIT_GROUP, key=str(self.api_key.pk), rate=settings.RATE_LIMIT_READ
        )

    @property
    def api_key(self) -> ApiKey:
        key = self.request.auth
        assert isinstance(key, ApiKey)  # noqa: S101 - HasApiKey has already refused anything else
        return key

    @property
    def workspace(self) -> Workspace:
        return self.api_key.workspace

    def get_lead(self, lead_id: str) -> Lead:
        """The key's workspace's lead with this id; any other id (another workspace's, a
        malformed one) is the same 404, so ids of other workspaces reveal nothing."""
        try:
            pk = uuid.UUID(lead_id)
        except ValueError:
            raise NotFound(LEAD_NOT_FOUND) from None
        lead = lead_get(workspace=self.workspace, lead_id=pk)
        if lead is None:
            raise NotFound(LEAD_NOT_FOUND)
        return lead


class LeadListApi(LeadApiView):
    required_scope = ApiKeyScope.LEADS_READ

    @extend_schema(**LEAD_LIST_SCHEMA)
    def get(self, request: Request) -> Response:
        query = LeadListQuerySerializer.from_query(request.query_params)
        query.is_valid(raise_exception=True)
        filters, order = query.filters(), LeadOrder(query.validated_data["order"])
        limit = query.validated_data["limit"]
        digest = query_digest(
            workspace_id=self.workspace.id, order=order.value, filters=asdict(filters)
        )
        after = None
        if "cursor" in query.validated_data:
            try:
                after = cursor_decode(query.validated_data["cursor"], digest=digest)
            except InvalidCursor as error:
                raise ValidationError({"cursor": [str(error)]}) from None
        # One row more than the page: whether there is a next page, without a COUNT.
        leads = lead_list(
            workspace=self.workspace, filters=filters, order=order, after=after, limit=limit + 1
        )
        page, more = leads[:limit], len(leads) > limit
        next_cursor = (
            cursor_encode(keyset=lead_keyset(lead=page[-1], order=order), digest=digest)
            if more
            else None
        )
        return Response(
            {"data": [lead_read_output(lead) for lead in page], "next_cursor": next_cursor}
        )


class LeadDetailApi(LeadApiView):
    parser_classes = [JSONObjectParser]

    def check_permissions(self, request: Request) -> None:
        # Reading needs leads:read; changing or erasing, leads:write.
        writes = request.method in ("PATCH", "DELETE")
        self.required_scope = ApiKeyScope.LEADS_WRITE if writes else ApiKeyScope.LEADS_READ
        super().check_permissions(request)

    @extend_schema(**LEAD_DETAIL_SCHEMA)
    def get(self, request: Request, lead_id: str) -> Response:
        lead = self.get_lead(lead_id)
        return Response({**lead_read_output(lead), **lead_detail_parts(lead=lead)})

    @extend_schema(**LEAD_PATCH_SCHEMA)
    def patch(self, request: Request, lead_id: str) -> Response:
        lead = self.get_lead(lead_id)
        serializer = LeadUpdateInputSerializer(data=strip_nul(request.data))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("setter") is not None:
            data["setter"] = profile_get(workspace=self.workspace, profile_id=data["setter"])
            if data["setter"] is None:
                raise ValidationError({"setter": ["No profile with this id in the workspace."]})
        try:
            lead = lead_edit(lead=lead, data=data)
        except Lead.DoesNotExist:
            raise NotFound(LEAD_NOT_FOUND) from None
        return Response(lead_read_output(lead))

    @extend_schema(**LEAD_DELETE_SCHEMA)
    def delete(self, request: Request, lead_id: str) -> Response:
        lead_erase(lead=self.get_lead(lead_id))
        return Response(status=204)
